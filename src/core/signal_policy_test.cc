#include "signal_policy.h"

#include <doctest/doctest.h>

#include <csignal>

namespace cinit {

TEST_SUITE("signal_policy") {
  TEST_CASE("the signals a runtime sends are forwarded") {
    for (int signo : {SIGHUP, SIGINT, SIGQUIT, SIGUSR1, SIGUSR2, SIGTERM, SIGWINCH,
                      SIGALRM, SIGCONT, SIGPIPE, SIGTSTP, SIGURG, SIGXCPU, SIGXFSZ,
                      SIGVTALRM, SIGPROF, SIGIO, SIGPWR, SIGSTKFLT}) {
      CAPTURE(signo);
      CHECK(ClassifySignal(signo) == SignalDisposition::kForward);
      CHECK(IsCaught(signo));
    }
  }

  TEST_CASE("every real-time signal is forwarded") {
    for (int signo = SIGRTMIN; signo <= SIGRTMAX; ++signo) {
      CAPTURE(signo);
      CHECK(ClassifySignal(signo) == SignalDisposition::kForward);
    }
  }

  TEST_CASE("SIGCHLD means reap and is never forwarded") {
    CHECK(ClassifySignal(SIGCHLD) == SignalDisposition::kReap);
    CHECK(IsCaught(SIGCHLD));
  }

  TEST_CASE("fault signals sent from outside are caught and forwarded") {
    for (int signo : {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT, SIGTRAP, SIGSYS}) {
      CAPTURE(signo);
      CHECK(ClassifySignal(signo) == SignalDisposition::kForward);
      CHECK(IsCaught(signo));
    }
  }

  TEST_CASE("KILL and STOP cannot be caught") {
    for (int signo : {SIGKILL, SIGSTOP}) {
      CAPTURE(signo);
      CHECK(ClassifySignal(signo) == SignalDisposition::kDefault);
      CHECK_FALSE(IsCaught(signo));
    }
  }

  TEST_CASE("TTIN and TTOU are caught but dropped by default") {
    CHECK(ClassifySignal(SIGTTIN) == SignalDisposition::kIgnore);
    CHECK(ClassifySignal(SIGTTOU) == SignalDisposition::kIgnore);
    CHECK(IsCaught(SIGTTIN));
    CHECK(IsCaught(SIGTTOU));
    CHECK(IsJobControlSignal(SIGTSTP));
    CHECK(IsJobControlSignal(SIGTTIN));
    CHECK(IsJobControlSignal(SIGTTOU));
    CHECK_FALSE(IsJobControlSignal(SIGSTOP));
  }

  TEST_CASE("the rewrite table is the identity until set") {
    SignalRewrite rewrite;
    for (int signo = 1; signo <= kMaxSignal; ++signo) {
      CHECK(rewrite.Apply(signo) == signo);
    }
    rewrite.Set(SIGTERM, SIGQUIT);
    rewrite.Set(SIGINT, 0);
    CHECK(rewrite.Apply(SIGTERM) == SIGQUIT);
    CHECK(rewrite.Apply(SIGINT) == 0);
    CHECK(rewrite.Apply(SIGHUP) == SIGHUP);
    rewrite.SetDefault(SIGTERM, SIGKILL);  // already set: kept
    rewrite.SetDefault(SIGTSTP, SIGSTOP);
    CHECK(rewrite.Apply(SIGTERM) == SIGQUIT);
    CHECK(rewrite.Apply(SIGTSTP) == SIGSTOP);
  }

  TEST_CASE("rewrites parse numbers and names, and 0 drops") {
    SignalRewrite rewrite;
    REQUIRE(ParseRewrite("15:3", &rewrite).ok());
    REQUIRE(ParseRewrite("INT:0", &rewrite).ok());
    REQUIRE(ParseRewrite("SIGUSR1:SIGRTMIN+1", &rewrite).ok());
    REQUIRE(ParseRewrite("1:31", &rewrite).ok());
    REQUIRE(ParseRewrite("TSTP:STOP", &rewrite).ok());
    REQUIRE(ParseRewrite("TTIN:TERM", &rewrite).ok());
    CHECK(rewrite.Apply(SIGTERM) == SIGQUIT);
    CHECK(rewrite.Apply(SIGINT) == 0);
    CHECK(rewrite.Apply(SIGUSR1) == SIGRTMIN + 1);
    CHECK(rewrite.Apply(SIGHUP) == SIGSYS);
    CHECK(rewrite.Apply(SIGTSTP) == SIGSTOP);
    CHECK(rewrite.Apply(SIGTTIN) == SIGTERM);
  }

  TEST_CASE("bad rewrites are one-line errors and change nothing") {
    for (std::string_view bad :
         {"", "herp", "herp:derp", "15", "15::12", "15:derp", "0", "1:32", "0:1", "9:1",
          "KILL:TERM", "CHLD:TERM", "15:65", ":15", "15:"}) {
      CAPTURE(bad);
      SignalRewrite rewrite;
      Status s = ParseRewrite(bad, &rewrite);
      CHECK_FALSE(s.ok());
      CHECK(s.message().find('\n') == std::string::npos);
      CHECK(rewrite == SignalRewrite());
    }
  }

  TEST_CASE("the forward target is the child or its process group") {
    CHECK(ForwardTarget(42, false) == 42);
    CHECK(ForwardTarget(42, true) == -42);
  }

  TEST_CASE("numbers outside 1..64 and libc-reserved signals are not caught") {
    CHECK_FALSE(IsCaught(0));
    CHECK_FALSE(IsCaught(65));
    CHECK_FALSE(IsCaught(-1));
    for (int signo = SIGSYS + 1; signo < SIGRTMIN; ++signo) {
      CHECK_FALSE(IsCaught(signo));
    }
  }

  TEST_CASE("names") {
    CHECK(SignalName(SIGTERM) == "SIGTERM");
    CHECK(SignalName(SIGRTMIN) == "SIGRTMIN");
    CHECK(SignalName(SIGRTMIN + 3) == "SIGRTMIN+3");
    CHECK(SignalName(SIGRTMAX) == "SIGRTMAX");
    CHECK(SignalName(99) == "signal 99");
  }

  TEST_CASE("parsing accepts names with or without SIG, any case, and numbers") {
    CHECK(ParseSignal("TERM") == SIGTERM);
    CHECK(ParseSignal("SIGTERM") == SIGTERM);
    CHECK(ParseSignal("sigint") == SIGINT);
    CHECK(ParseSignal("15") == 15);
    CHECK(ParseSignal("SIGRTMIN+2") == SIGRTMIN + 2);
    CHECK(ParseSignal("RTMAX-1") == SIGRTMAX - 1);
    CHECK(ParseSignal("RTMIN") == SIGRTMIN);
  }

  TEST_CASE("parsing rejects what is not a signal") {
    for (std::string_view bad :
         {"", "0", "65", "-1", "SIG", "TERMX", "RTMIN+99", "RTMIN-1", "RTMAX+1", "1.5"}) {
      CAPTURE(bad);
      CHECK(ParseSignal(bad) == 0);
    }
  }

  TEST_CASE("every name round-trips through ParseSignal") {
    for (int signo = 1; signo <= kMaxSignal; ++signo) {
      if (signo > SIGSYS && signo < SIGRTMIN) {
        continue;
      }
      CAPTURE(signo);
      CHECK(ParseSignal(SignalName(signo)) == signo);
    }
  }
}

}  // namespace cinit
