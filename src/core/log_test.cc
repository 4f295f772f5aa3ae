#include "log.h"

#include <doctest/doctest.h>

#include <nlohmann/json.hpp>
#include <string>

namespace cinit {
namespace {

std::string captured;
void Capture(std::string_view line) { captured += line; }
void FixedClock(int64_t* seconds, int64_t* nanoseconds) {
  *seconds = 1795619262;  // 2026-11-25T15:07:42Z
  *nanoseconds = 123456789;
}

struct Restore {
  ~Restore() {
    SetLogFormat(LogFormat::kText, nullptr);
    SetLogSink(nullptr);
    SetVerbosity(1);
  }
};

}  // namespace

TEST_SUITE("log") {
  TEST_CASE("text lines: prefix, warning marker, levels filtered") {
    Restore restore;
    captured.clear();
    SetLogSink(&Capture);
    SetVerbosity(1);
    Log(Level::kWarning, "worker {} crashed", 3);
    Log(Level::kInfo, "not shown at verbosity 1");
    CHECK(captured == "cinit: warning: worker 3 crashed\n");
  }

  TEST_CASE("JSON lines parse, with an ISO time and escaped text") {
    Restore restore;
    captured.clear();
    SetLogSink(&Capture);
    SetVerbosity(3);
    SetLogFormat(LogFormat::kJson, &FixedClock);
    Log(Level::kDebug, "quote \" backslash \\ newline \n tab \t");
    REQUIRE(captured.back() == '\n');
    auto json = nlohmann::json::parse(captured);
    CHECK(json["time"] == "2026-11-25T15:07:42.123Z");
    CHECK(json["level"] == "debug");
    CHECK(json["message"] == "quote \" backslash \\ newline \n tab \t");
    CHECK(json["fields"].is_object());
  }
}

}  // namespace cinit
