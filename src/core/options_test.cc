#include "options.h"

#include <doctest/doctest.h>

#include <csignal>
#include <map>

namespace cinit {
namespace {

struct Parsed {
  Status status;
  Options options;
};

Parsed ParseAs(Personality personality, std::vector<std::string_view> args,
               std::map<std::string, std::string> env = {}) {
  Parsed parsed;
  parsed.status = ParseOptions(
      args,
      [&](std::string_view name) -> std::optional<std::string> {
        auto it = env.find(std::string(name));
        return it == env.end() ? std::nullopt : std::optional(it->second);
      },
      &parsed.options, personality);
  return parsed;
}

Parsed Parse(std::vector<std::string_view> args,
             std::map<std::string, std::string> env = {}) {
  return ParseAs(Personality::kCinit, std::move(args), std::move(env));
}

using Words = std::vector<std::string>;

}  // namespace

TEST_SUITE("options") {
  TEST_CASE("the command starts at the first word that is not an option") {
    auto p = Parse({"-v", "sh", "-c", "exit 3"});
    REQUIRE(p.status.ok());
    CHECK(p.options.command == Words{"sh", "-c", "exit 3"});
    CHECK(p.options.verbosity == 2);
  }

  TEST_CASE("-- ends the options, so a command may start with a dash") {
    auto p = Parse({"--", "-weird", "--help"});
    REQUIRE(p.status.ok());
    CHECK(p.options.command == Words{"-weird", "--help"});
    CHECK_FALSE(p.options.show_help);
  }

  TEST_CASE("a lone dash is a command, not an option") {
    auto p = Parse({"-"});
    REQUIRE(p.status.ok());
    CHECK(p.options.command == Words{"-"});
  }

  TEST_CASE("verbosity: -v, -vv, --verbose stack and stop at debug") {
    CHECK(Parse({"-vv", "x"}).options.verbosity == 3);
    CHECK(Parse({"-v", "--verbose", "x"}).options.verbosity == 3);
    CHECK(Parse({"-vvvvv", "x"}).options.verbosity == 3);
    CHECK(Parse({"x"}).options.verbosity == 1);
  }

  TEST_CASE("CINIT_VERBOSITY sets the base level and flags add to it") {
    CHECK(Parse({"x"}, {{"CINIT_VERBOSITY", "0"}}).options.verbosity == 0);
    CHECK(Parse({"-v", "x"}, {{"CINIT_VERBOSITY", "0"}}).options.verbosity == 1);
    auto bad = Parse({"x"}, {{"CINIT_VERBOSITY", "loud"}});
    CHECK_FALSE(bad.status.ok());
    CHECK(bad.status.message().find("CINIT_VERBOSITY") != std::string::npos);
  }

  TEST_CASE("--kill-timeout takes milliseconds, as a separate word or after =") {
    CHECK(Parse({"--kill-timeout", "300", "x"}).options.cluster.kill_timeout.count() ==
          300);
    CHECK(Parse({"--kill-timeout=0", "x"}).options.cluster.kill_timeout.count() == 0);
    CHECK(Parse({"x"}).options.cluster.kill_timeout.count() == 1600);
  }

  TEST_CASE("bad --kill-timeout values are usage errors") {
    for (std::string_view bad : {"abc", "-1", "", "12ms", "99999999999999999999"}) {
      CAPTURE(bad);
      auto p = Parse({"--kill-timeout", bad, "x"});
      CHECK_FALSE(p.status.ok());
    }
    CHECK_FALSE(Parse({"--kill-timeout"}).status.ok());
    CHECK_FALSE(Parse({"--kill-timeoutx", "1", "x"}).status.ok());
  }

  TEST_CASE("unknown options are rejected with the option named") {
    auto p = Parse({"--frobnicate", "x"});
    CHECK_FALSE(p.status.ok());
    CHECK(p.status.message().find("--frobnicate") != std::string::npos);
    CHECK_FALSE(Parse({"-x", "x"}).status.ok());
  }

  TEST_CASE("no command is an error unless help or version is asked for") {
    CHECK_FALSE(Parse({}).status.ok());
    CHECK_FALSE(Parse({"-v"}).status.ok());
    CHECK(Parse({"--help"}).options.show_help);
    CHECK(Parse({"-h"}).status.ok());
    CHECK(Parse({"-V"}).options.show_version);
    CHECK(Parse({"--version"}).status.ok());
  }

  TEST_CASE("-s is accepted for tini compatibility") {
    auto p = Parse({"-s", "x"});
    REQUIRE(p.status.ok());
    CHECK(p.options.command == Words{"x"});
  }

  TEST_CASE("options after the command belong to the command") {
    auto p = Parse({"node", "--kill-timeout", "5", "-v"});
    REQUIRE(p.status.ok());
    CHECK(p.options.command == Words{"node", "--kill-timeout", "5", "-v"});
    CHECK(p.options.cluster.kill_timeout.count() == 1600);
  }

  TEST_CASE("-i takes N, 0, max and -K, in every spelling") {
    CHECK(*Parse({"-i", "4", "node", "a.js"}).options.instances == 4);
    CHECK(*Parse({"-i", "max", "x"}).options.instances == 0);
    CHECK(*Parse({"-i0", "x"}).options.instances == 0);
    CHECK(*Parse({"-i", "-1", "x"}).options.instances == -1);
    CHECK(*Parse({"-i-2", "x"}).options.instances == -2);
    CHECK(*Parse({"--instances=3", "x"}).options.instances == 3);
    CHECK_FALSE(Parse({"x"}).options.instances);
    for (std::string_view bad : {"two", "", "1.5", "99999", "max2"}) {
      CAPTURE(bad);
      CHECK_FALSE(Parse({"-i", bad, "x"}).status.ok());
    }
  }

  TEST_CASE("cluster timeouts and limits, flags beating PM2_ environment") {
    auto p = Parse({"-i", "2", "--graceful-timeout", "100", "--min-uptime", "50",
                    "--max-restarts", "4", "x"},
                   {{"PM2_GRACEFUL_TIMEOUT", "9000"}});
    REQUIRE(p.status.ok());
    CHECK(p.options.cluster.graceful_timeout.count() == 100);
    CHECK(p.options.cluster.min_uptime.count() == 50);
    CHECK(p.options.cluster.max_restarts == 4);
    CHECK(Parse({"-i", "2", "x"}, {{"PM2_GRACEFUL_TIMEOUT", "9000"}})
              .options.cluster.graceful_timeout.count() == 9000);
    CHECK(Parse({"x"}).options.cluster.graceful_timeout.count() == 8000);
    CHECK_FALSE(Parse({"x"}, {{"PM2_GRACEFUL_TIMEOUT", "soon"}}).status.ok());
  }

  TEST_CASE("--drain-delay and CINIT_DRAIN_DELAY, cluster mode only") {
    CHECK(Parse({"-i", "2", "x"}).options.cluster.drain_delay.count() == 0);
    auto p =
        Parse({"-i", "2", "--drain-delay", "1500", "x"}, {{"CINIT_DRAIN_DELAY", "9"}});
    REQUIRE(p.status.ok());
    CHECK(p.options.cluster.drain_delay.count() == 1500);
    CHECK(Parse({"-i", "2", "x"}, {{"CINIT_DRAIN_DELAY", "3000"}})
              .options.cluster.drain_delay.count() == 3000);
    CHECK_FALSE(Parse({"-i", "2", "--drain-delay", "soon", "x"}).status.ok());
    CHECK_FALSE(Parse({"-i", "2", "x"}, {{"CINIT_DRAIN_DELAY", "-1"}}).status.ok());
    auto single = Parse({"--drain-delay", "100", "x"});
    CHECK_FALSE(single.status.ok());
    CHECK(single.status.message() == "--drain-delay needs cluster mode (-i N)");
    // The variable serves every command of an image: single mode ignores it.
    CHECK(Parse({"x"}, {{"CINIT_DRAIN_DELAY", "100"}}).status.ok());
  }

  TEST_CASE("--stop-signal takes a name or a number") {
    CHECK(Parse({"--stop-signal", "SIGINT", "x"}).options.cluster.stop_signal == 2);
    CHECK(Parse({"--stop-signal", "quit", "x"}).options.cluster.stop_signal == 3);
    CHECK(Parse({"x"}).options.cluster.stop_signal == 15);
    CHECK_FALSE(Parse({"--stop-signal", "SIGNOPE", "x"}).status.ok());
  }

  TEST_CASE("--instance-var and PM2_PROCESS_INSTANCE_VAR must be variable names") {
    CHECK(Parse({"--instance-var", "WORKER_ID", "x"}).options.instance_var ==
          "WORKER_ID");
    CHECK(Parse({"x"}, {{"PM2_PROCESS_INSTANCE_VAR", "ID"}}).options.instance_var ==
          "ID");
    CHECK(Parse({"x"}).options.instance_var == "NODE_APP_INSTANCE");
    CHECK_FALSE(Parse({"--instance-var", "A=B", "x"}).status.ok());
    CHECK_FALSE(Parse({"--instance-var", "1X", "x"}).status.ok());
  }

  TEST_CASE("--log-format") {
    CHECK_FALSE(Parse({"x"}).options.log_json);
    CHECK(Parse({"--log-format", "json", "x"}).options.log_json);
    CHECK_FALSE(Parse({"--log-format=text", "x"}).options.log_json);
    CHECK_FALSE(Parse({"--log-format", "xml", "x"}).status.ok());
  }

  TEST_CASE("--balance") {
    CHECK_FALSE(Parse({"x"}).options.balance_reuseport);
    CHECK(Parse({"--balance", "reuseport", "x"}).options.balance_reuseport);
    CHECK_FALSE(Parse({"--balance=shared", "x"}).options.balance_reuseport);
    CHECK_FALSE(Parse({"--balance", "random", "x"}).status.ok());
  }

  TEST_CASE("--share") {
    CHECK(Parse({"-i", "2", "x"}).options.share == ShareMode::kAuto);
    CHECK(Parse({"-i", "2", "--share", "seccomp", "x"}).options.share ==
          ShareMode::kSeccomp);
    CHECK(Parse({"-i", "2", "--share=shim", "x"}).options.share == ShareMode::kShim);
    CHECK(Parse({"-i", "2", "--share", "none", "x"}).options.share == ShareMode::kNone);
    auto bad = Parse({"-i", "2", "--share", "ptrace", "x"});
    CHECK_FALSE(bad.status.ok());
    CHECK(bad.status.message().find("auto, seccomp, shim, none") != std::string::npos);
    // Single mode shares no port.
    CHECK_FALSE(Parse({"--share", "shim", "x"}).status.ok());
  }

  TEST_CASE("--ipc") {
    CHECK(Parse({"--ipc", "node", "x"}).options.ipc == IpcMode::kNode);
    CHECK(Parse({"--ipc=none", "x"}).options.ipc == IpcMode::kNone);
    CHECK(Parse({"x"}).options.ipc == IpcMode::kAuto);
    CHECK_FALSE(Parse({"--ipc", "json", "x"}).status.ok());
  }

  TEST_CASE("--listen addresses") {
    auto p = Parse({"-i", "2", "--listen", "127.0.0.1:8080", "--listen", "[::1]:9",
                    "--listen", ":80", "x"});
    REQUIRE(p.status.ok());
    REQUIRE(p.options.listen.size() == 3);
    CHECK(p.options.listen[0] == ListenAddress{"127.0.0.1", 8080});
    CHECK(p.options.listen[1] == ListenAddress{"::1", 9});
    CHECK(p.options.listen[2] == ListenAddress{"", 80});
    CHECK(ParseListenAddress("3000") == ListenAddress{"", 3000});
    for (std::string_view bad : {"localhost:80", "1.2.3.4:0", "1.2.3.4:65536", "[::1:80",
                                 "::1:80", "1.2.3:80", ""}) {
      CAPTURE(bad);
      CHECK_FALSE(ParseListenAddress(bad));
    }
    CHECK_FALSE(Parse({"--listen", ":80", "x"}).status.ok());  // needs -i
  }

  TEST_CASE("reload options, flags beating PM2_GRACEFUL_LISTEN_TIMEOUT") {
    auto p = Parse({"-i", "2", "--listen-timeout", "500", "--reload-batch", "2",
                    "--strict-reload", "--control", "/tmp/ctl", "x"},
                   {{"PM2_GRACEFUL_LISTEN_TIMEOUT", "9000"}});
    REQUIRE(p.status.ok());
    CHECK(p.options.cluster.listen_timeout.count() == 500);
    CHECK(p.options.cluster.reload_batch == 2);
    CHECK(p.options.cluster.strict_reload);
    CHECK(p.options.control_path == "/tmp/ctl");
    auto defaults = Parse({"x"}, {{"PM2_GRACEFUL_LISTEN_TIMEOUT", "9000"}});
    CHECK(defaults.options.cluster.listen_timeout.count() == 9000);
    CHECK(Parse({"x"}).options.cluster.listen_timeout.count() == 3000);
    CHECK(Parse({"x"}).options.control_path == "/run/cinit/control");
    CHECK(Parse({"--control", "none", "x"}).options.control_path.empty());
    CHECK_FALSE(Parse({"--reload-batch", "0", "x"}).status.ok());
    CHECK_FALSE(Parse({"--control=", "x"}).status.ok());
    CHECK_FALSE(Parse({"x"}, {{"PM2_GRACEFUL_LISTEN_TIMEOUT", "-5"}}).status.ok());
  }

  TEST_CASE("--reload-on-change: absolute paths, normalized, distinct, bounded") {
    auto p = Parse({"-i", "2", "--reload-on-change", "/app/config/",
                    "--reload-on-change=/etc//x.json", "--reload-on-change",
                    "/app/config", "node", "app.js"});
    REQUIRE(p.status.ok());
    CHECK(p.options.reload_on_change == Words{"/app/config", "/etc/x.json"});
    CHECK(Parse({"-i", "2", "node"}).options.reload_on_change.empty());
    CHECK(Parse({"-i", "2", "--reload-on-change", "config.json", "node"})
              .status.message() ==
          "--reload-on-change: 'config.json' is not an absolute path");
    CHECK_FALSE(Parse({"-i", "2", "--reload-on-change", "/a/../b", "node"}).status.ok());
    CHECK(Parse({"--reload-on-change", "/app", "node"}).status.message() ==
          "--reload-on-change needs cluster mode (-i N)");
    std::vector<std::string> words = {"-i", "1"};
    for (int i = 0; i < 17; ++i) {
      words.push_back("--reload-on-change");
      words.push_back("/p" + std::to_string(i));
    }
    words.push_back("node");
    std::vector<std::string_view> args(words.begin(), words.end());
    CHECK(Parse(args).status.message() == "--reload-on-change: at most 16 paths");
    args.erase(args.end() - 3, args.end() - 1);  // 16 of them
    CHECK(Parse(args).status.ok());
  }

  TEST_CASE("tini's flags: -g -e -p -w -l and grouped short flags") {
    auto p = Parse({"-g", "-e", "143", "-e3", "-p", "SIGUSR1", "-w", "--", "x"});
    REQUIRE(p.status.ok());
    CHECK(p.options.signal_group);
    CHECK(p.options.zero_exit.test(143));
    CHECK(p.options.zero_exit.test(3));
    CHECK(p.options.zero_exit.count() == 2);
    CHECK(p.options.parent_death_signal == SIGUSR1);
    CHECK(p.options.warn_on_reap);
    CHECK_FALSE(p.options.setsid);
    CHECK(p.options.command == Words{"x"});
    auto grouped = Parse({"-gwvv", "x"});
    REQUIRE(grouped.status.ok());
    CHECK(grouped.options.signal_group);
    CHECK(grouped.options.warn_on_reap);
    CHECK(grouped.options.verbosity == 3);
    CHECK(Parse({"-l"}).options.show_license);
    CHECK(Parse({"--license"}).status.ok());
  }

  TEST_CASE("bad values of -e and -p are usage errors") {
    for (std::vector<std::string_view> bad :
         {std::vector<std::string_view>{"-e", "256", "x"},
          {"-e", "-1", "x"},
          {"-e", "x"},
          {"-e"},
          {"-p", "SIGNOPE", "x"},
          {"-p"},
          {"-r", "15", "x"},
          {"-r", "1:32", "x"},
          {"-yolo", "x"}}) {
      auto p = Parse(bad);
      CHECK_FALSE(p.status.ok());
      CHECK(p.status.message().find('\n') == std::string::npos);
    }
  }

  TEST_CASE("TINI_ variables: process group, verbosity, subreaper") {
    CHECK(Parse({"x"}, {{"TINI_KILL_PROCESS_GROUP", ""}}).options.signal_group);
    CHECK(Parse({"x"}, {{"TINI_VERBOSITY", "3"}}).options.verbosity == 3);
    CHECK(Parse({"x"}, {{"TINI_VERBOSITY", "0"}}).options.verbosity == 0);
    CHECK(Parse({"x"}, {{"TINI_VERBOSITY", "4"}}).options.verbosity == 3);
    CHECK_FALSE(Parse({"x"}, {{"TINI_VERBOSITY", "loud"}}).status.ok());
    CHECK(Parse({"x"}, {{"TINI_SUBREAPER", ""}}).status.ok());
    CHECK(Parse({"-v", "x"}, {{"TINI_VERBOSITY", "0"}}).options.verbosity == 1);
  }

  TEST_CASE("dumb-init's flags: rewrite, single child, session mode") {
    auto p =
        Parse({"-r", "15:3", "--rewrite", "2:0", "--rewrite=10:12", "--setsid", "x"});
    REQUIRE(p.status.ok());
    CHECK(p.options.rewrite.Apply(15) == 3);
    CHECK(p.options.rewrite.Apply(2) == 0);
    CHECK(p.options.rewrite.Apply(10) == 12);
    CHECK(p.options.setsid);
    CHECK(p.options.signal_group);
    CHECK(p.options.job_control);
    CHECK(p.options.rewrite.Apply(SIGTSTP) == SIGSTOP);
    CHECK(p.options.rewrite.Apply(SIGTTIN) == SIGSTOP);
    auto own = Parse({"--setsid", "-r", "TSTP:HUP", "x"});
    CHECK(own.options.rewrite.Apply(SIGTSTP) == SIGHUP);
    CHECK(own.options.rewrite.Apply(SIGTTOU) == SIGSTOP);
    auto single = Parse({"--setsid", "-c", "x"});
    CHECK_FALSE(single.options.setsid);
    CHECK_FALSE(single.options.signal_group);
    CHECK(Parse({"x"}, {{"DUMB_INIT_SETSID", "1"}}).options.setsid);
    CHECK_FALSE(Parse({"x"}, {{"DUMB_INIT_SETSID", ""}}).options.setsid);
    CHECK(Parse({"x"}, {{"DUMB_INIT_DEBUG", "1"}}).options.verbosity == 3);
    CHECK(Parse({"x"}, {{"DUMB_INIT_DEBUG", "0"}}).options.verbosity == 1);
  }

  TEST_CASE("cinit's defaults: the child alone, no session, no job control") {
    auto p = Parse({"x"});
    CHECK_FALSE(p.options.signal_group);
    CHECK_FALSE(p.options.setsid);
    CHECK_FALSE(p.options.job_control);
    CHECK(p.options.rewrite == SignalRewrite());
    CHECK(p.options.zero_exit.none());
    CHECK(p.options.parent_death_signal == 0);
  }

  TEST_CASE("single-mode flags are refused with -i but --rewrite and -p are not") {
    for (std::string_view flag : {"-g", "-w", "--setsid"}) {
      CAPTURE(flag);
      CHECK_FALSE(Parse({"-i", "2", flag, "x"}).status.ok());
    }
    CHECK_FALSE(Parse({"-i", "2", "-e", "1", "x"}).status.ok());
    auto p = Parse({"-i", "2", "-r", "10:12", "-p", "TERM", "x"});
    REQUIRE(p.status.ok());
    CHECK(p.options.rewrite.Apply(10) == 12);
    auto dumb = ParseAs(Personality::kDumbInit, {"-i", "2", "x"});
    CHECK(dumb.status.ok());
  }

  TEST_CASE("the personality comes from argv[0]'s basename") {
    CHECK(PersonalityFromArgv0("tini") == Personality::kTini);
    CHECK(PersonalityFromArgv0("/sbin/tini") == Personality::kTini);
    CHECK(PersonalityFromArgv0("/usr/bin/tini-static") == Personality::kTini);
    CHECK(PersonalityFromArgv0("/usr/local/bin/docker-init") == Personality::kTini);
    CHECK(PersonalityFromArgv0("dumb-init") == Personality::kDumbInit);
    CHECK(PersonalityFromArgv0("/usr/bin/dumb-init") == Personality::kDumbInit);
    CHECK(PersonalityFromArgv0("cinit") == Personality::kCinit);
    CHECK(PersonalityFromArgv0("/cinit") == Personality::kCinit);
    CHECK(PersonalityFromArgv0("") == Personality::kCinit);
    CHECK(PersonalityFromArgv0("tini.sh") == Personality::kCinit);
  }

  TEST_CASE("as docker-init: Docker's command line") {
    auto p = ParseAs(Personality::kTini, {"--", "nginx", "-g", "daemon off"});
    REQUIRE(p.status.ok());
    CHECK(p.options.command == Words{"nginx", "-g", "daemon off"});
    CHECK_FALSE(p.options.signal_group);
    CHECK(p.options.personality == Personality::kTini);
  }

  TEST_CASE("as tini: its flags, its verbosity, options stop at the command") {
    auto p = ParseAs(Personality::kTini, {"-vvv", "-e", "0", "sh", "-c", "exit 0"});
    REQUIRE(p.status.ok());
    CHECK(p.options.verbosity == 3);
    CHECK(p.options.command == Words{"sh", "-c", "exit 0"});
    CHECK(ParseAs(Personality::kTini, {"-g", "x"}).options.signal_group);
    CHECK_FALSE(ParseAs(Personality::kTini, {"x"}).options.job_control);
  }

  TEST_CASE("as dumb-init: session mode and job control by default, -v is debug") {
    auto p = ParseAs(Personality::kDumbInit, {"x"});
    REQUIRE(p.status.ok());
    CHECK(p.options.setsid);
    CHECK(p.options.signal_group);
    CHECK(p.options.job_control);
    CHECK(p.options.rewrite.Apply(SIGTSTP) == SIGSTOP);
    CHECK(ParseAs(Personality::kDumbInit, {"-v", "x"}).options.verbosity == 3);
    auto single = ParseAs(Personality::kDumbInit, {"--single-child", "x"});
    CHECK_FALSE(single.options.setsid);
    CHECK_FALSE(single.options.signal_group);
    CHECK(single.options.job_control);  // dumb-init -c still stops with its child
    CHECK(single.options.rewrite.Apply(SIGTSTP) == SIGTSTP);
    auto env = ParseAs(Personality::kDumbInit, {"x"}, {{"DUMB_INIT_SETSID", "0"}});
    CHECK_FALSE(env.options.setsid);
    auto c_then_v = ParseAs(Personality::kDumbInit, {"-vc", "x"});
    REQUIRE(c_then_v.status.ok());
    CHECK_FALSE(c_then_v.options.setsid);
  }

  TEST_CASE("usage errors exit 2 as cinit, 1 under a peer's name") {
    CHECK(UsageExitCode(Personality::kCinit) == 2);
    CHECK(UsageExitCode(Personality::kTini) == 1);
    CHECK(UsageExitCode(Personality::kDumbInit) == 1);
  }

  TEST_CASE("version text: tini's prefix for docker info, cinit's own otherwise") {
    CHECK(VersionText(Personality::kTini).starts_with("tini version "));
    CHECK(VersionText(Personality::kDumbInit).starts_with("dumb-init v"));
    CHECK(VersionText(Personality::kCinit) == "cinit " CINIT_VERSION "\n");
    CHECK(LicenseText().starts_with("cinit "));
  }
}

}  // namespace cinit

namespace cinit {

TEST_SUITE("options") {
  TEST_CASE("sizes: bytes or K, M, G (1024-based), and --max-memory needs 1M at least") {
    CHECK(ParseSize("300M") == 300ull << 20);
    CHECK(ParseSize("1g") == 1ull << 30);
    CHECK(ParseSize("512K") == 512ull << 10);
    CHECK(ParseSize("1048576") == 1ull << 20);
    CHECK_FALSE(ParseSize(""));
    CHECK_FALSE(ParseSize("M"));
    CHECK_FALSE(ParseSize("-1M"));
    CHECK_FALSE(ParseSize("1.5G"));
    CHECK_FALSE(ParseSize("2048G"));  // above 1 TiB
    CHECK_FALSE(ParseSize("300MB"));
    auto ok = Parse({"-i", "2", "--max-memory", "300M", "node", "a.js"});
    REQUIRE(ok.status.ok());
    CHECK(ok.options.cluster.max_memory == 300ull << 20);
    auto small = Parse({"-i", "2", "--max-memory", "1000", "node"});
    CHECK_FALSE(small.status.ok());
    CHECK(small.status.message().find("at least 1M") != std::string::npos);
  }
}

}  // namespace cinit
