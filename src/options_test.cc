#include "options.h"

#include <doctest/doctest.h>

#include <map>

namespace cinit {
namespace {

struct Parsed {
  Status status;
  Options options;
};

Parsed Parse(std::vector<std::string_view> args, std::map<std::string, std::string> env = {}) {
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
    CHECK(Parse({"--kill-timeout", "300", "x"}).options.kill_timeout.count() == 300);
    CHECK(Parse({"--kill-timeout=0", "x"}).options.kill_timeout.count() == 0);
    CHECK(Parse({"x"}).options.kill_timeout.count() == 1600);
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
    CHECK(p.options.kill_timeout.count() == 1600);
  }
}

}  // namespace cinit
