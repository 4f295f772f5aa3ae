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

  TEST_CASE("fault signals keep their default action, KILL and STOP cannot be caught") {
    for (int signo :
         {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT, SIGTRAP, SIGSYS, SIGKILL, SIGSTOP}) {
      CAPTURE(signo);
      CHECK(ClassifySignal(signo) == SignalDisposition::kDefault);
      CHECK_FALSE(IsCaught(signo));
    }
  }

  TEST_CASE("terminal job-control signals are ignored so cinit is never stopped") {
    CHECK(ClassifySignal(SIGTTIN) == SignalDisposition::kIgnore);
    CHECK(ClassifySignal(SIGTTOU) == SignalDisposition::kIgnore);
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
