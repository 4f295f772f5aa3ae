#include "options.h"

#include <doctest/doctest.h>

#include <map>

namespace cinit {
namespace {

struct Parsed {
  Status status;
  Options options;
};

Parsed Parse(std::vector<std::string_view> args,
             std::map<std::string, std::string> env = {}) {
  Parsed parsed;
  parsed.status = ParseOptions(
      args,
      [&](std::string_view name) -> std::optional<std::string> {
        auto it = env.find(std::string(name));
        return it == env.end() ? std::nullopt : std::optional(it->second);
      },
      &parsed.options);
  return parsed;
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
}

}  // namespace cinit
