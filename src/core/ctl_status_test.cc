#include "ctl_status.h"

#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

namespace cinit::ctl_status {
namespace {

health::Snapshot TwoWorkers() {
  health::Snapshot s;
  s.version = "1.2.3";
  s.desired_workers = 2;
  s.online_workers = 2;
  s.reload_state = "idle";
  s.reload_generation = 3;
  s.reload_last_result = "succeeded";
  s.reload_last_message = "2 worker(s) replaced";
  s.workers = {{0, 12, "online", 3, 1, 10.0, 10.5, std::nullopt},
               {1, 13, "starting", 3, 0, 70.0, {}, std::nullopt}};
  return s;
}

}  // namespace

TEST_SUITE("ctl_status") {
  TEST_CASE("the status file round-trips the view and stays a v1 verdict") {
    health::Verdict verdict{true, true, "ok", "ok: 2 of 2 worker(s) online"};
    std::string text = RenderFile(verdict, TwoWorkers(), Writer{1, "pid:[4026]", 500.25});
    CHECK(health::ParseVerdict(text) == verdict);  // `cinit status` reads it as before
    auto view = Parse(text);
    REQUIRE(view);
    CHECK(view->version == "1.2.3");
    CHECK(view->writer.pid == 1);
    CHECK(view->writer.pid_ns == "pid:[4026]");
    CHECK(view->writer.started == doctest::Approx(500.25));
    CHECK(view->reload_generation == 3);
    REQUIRE(view->workers.size() == 2);
    CHECK(view->workers[1].pid == 13);
    CHECK(view->workers[1].state == "starting");
    CHECK_FALSE(view->workers[1].online_at);
    CHECK(*view->workers[0].online_at == doctest::Approx(10.5));
  }

  TEST_CASE("a v1 file, garbage and other JSON are no view") {
    CHECK_FALSE(Parse(health::RenderVerdict({true, false, "ok", "stopping"})));
    CHECK_FALSE(Parse("not json"));
    CHECK_FALSE(Parse("[1,2]"));
    CHECK_FALSE(Parse(R"({"cinit":{},"cluster":{}})"));  // no verdict
    auto odd = Parse(
        R"({"live":true,"ready":false,"cinit":{"pid":"x"},"cluster":{"workers":[1,{"pid":5}]}})");
    REQUIRE(odd);  // wrong types are zeros, never an exception
    CHECK(odd->writer.pid == 0);
    REQUIRE(odd->workers.size() == 1);
    CHECK(odd->workers[0].pid == 5);
  }

  TEST_CASE("the text view: one line per worker, uptimes from the writer's start") {
    auto view = Parse(RenderFile({true, true, "ok", "ok: 2 of 2 worker(s) online"},
                                 TwoWorkers(), Writer{1, "", 1000}));
    REQUIRE(view);
    view->workers[0].memory = 43 * 1024 * 1024 + 300 * 1024;
    std::string text = RenderText(*view, 1000 + 75.9, "");
    CHECK(text.find(
              "cinit 1.2.3 (pid 1), up 1m15s: ready (ok: 2 of 2 worker(s) online)") == 0);
    CHECK(
        text.find("reload: idle, generation 3, last: succeeded (2 worker(s) replaced)") !=
        std::string::npos);
    CHECK(text.find(
              "0         12       online          3    1m05s         1   43.2 MiB\n") !=
          std::string::npos);
    CHECK(text.find(
              "1         13       starting        3       5s         0          -\n") !=
          std::string::npos);
    CHECK(RenderText(*view, 1000, "not in cinit's PID namespace")
              .find("memory: not in cinit's PID namespace\n") != std::string::npos);
  }

  TEST_CASE("the JSON view has the same workers, with uptime and memory_bytes") {
    auto view = Parse(
        RenderFile({true, false, "ok", "stopping"}, TwoWorkers(), Writer{7, "", 100}));
    REQUIRE(view);
    view->workers[1].memory = 4096;
    auto json = nlohmann::json::parse(RenderJson(*view, 200));
    CHECK(json["pid"] == 7);
    CHECK(json["ready"] == false);
    CHECK(json["workers"].size() == 2);
    CHECK(json["workers"][0]["memory_bytes"].is_null());
    CHECK(json["workers"][1]["memory_bytes"] == 4096);
    CHECK(json["workers"][1]["uptime"].get<double>() == doctest::Approx(30));
    CHECK(json["reload"]["generation"] == 3);
  }

  TEST_CASE("durations and sizes for people") {
    CHECK(FormatDuration(-3) == "0s");
    CHECK(FormatDuration(59.9) == "59s");
    CHECK(FormatDuration(125) == "2m05s");
    CHECK(FormatDuration(7380) == "2h03m");
    CHECK(FormatDuration(86400 * 5 + 7200) == "5d02h");
    CHECK(FormatBytes(812 * 1024) == "812 KiB");
    CHECK(FormatBytes(uint64_t{1024} * 1024 * 1024 * 3 / 2) == "1.5 GiB");
  }
}

}  // namespace cinit::ctl_status
