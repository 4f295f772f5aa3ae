#include "health.h"

#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

namespace cinit {
namespace {

health::Snapshot Ready(int online = 2) {
  health::Snapshot s;
  s.version = "0.1.0";
  s.mode = "cluster";
  s.desired_workers = 2;
  s.online_workers = online;
  s.min_ready = 1;
  s.reload_state = "idle";
  s.reload_last_result = "none";
  s.workers = {{0, 10, "online", 1, 0, 0.5, 0.9, std::nullopt},
               {1, 11, "starting", 1, 2, 0.6, std::nullopt, std::nullopt}};
  return s;
}

health::Response Get(std::string_view path, const health::Snapshot& s,
                     std::string_view method = "GET") {
  health::Request request{std::string(method), std::string(path)};
  return health::Respond(request, s);
}

}  // namespace

TEST_SUITE("health") {
  TEST_CASE("request heads: complete, incomplete, bad") {
    auto ok = health::ParseHead("GET /readyz?x=1 HTTP/1.1\r\nHost: a\r\n\r\n");
    REQUIRE(ok.kind == health::Parsed::Kind::kOk);
    CHECK(ok.request.method == "GET");
    CHECK(ok.request.path == "/readyz");
    CHECK(health::ParseHead("GET /livez HTTP/1.0\n\n").kind == health::Parsed::Kind::kOk);
    CHECK(health::ParseHead("GET /livez HTTP/1.1\r\nHost:").kind ==
          health::Parsed::Kind::kIncomplete);
    for (std::string_view bad :
         {"GARBAGE\r\n\r\n", "GET livez HTTP/1.1\r\n\r\n", "GET /livez HTTP/2\r\n\r\n",
          "get /livez HTTP/1.1\r\n\r\n", "GET /a b HTTP/1.1\r\n\r\n", "\r\n\r\n"}) {
      CAPTURE(bad);
      CHECK(health::ParseHead(bad).kind == health::Parsed::Kind::kBad);
    }
    std::string endless(health::kMaxHead + 1, 'a');
    CHECK(health::ParseHead(endless).kind == health::Parsed::Kind::kBad);
  }

  TEST_CASE("/livez is 200 unless cinit gives up") {
    CHECK(Get("/livez", Ready()).status == 200);
    auto s = Ready();
    s.giving_up = true;
    CHECK(Get("/livez", s).status == 503);
  }

  TEST_CASE("/readyz follows min_ready and stopping, with a reason") {
    CHECK(Get("/readyz", Ready(1)).status == 200);
    auto none = Get("/readyz", Ready(0));
    CHECK(none.status == 503);
    CHECK(none.body.find("0 of 2") != std::string::npos);
    auto s = Ready(2);
    s.min_ready = 2;
    CHECK(Get("/readyz", s).status == 200);
    s.stopping = true;
    auto stopping = Get("/readyz", s);
    CHECK(stopping.status == 503);
    CHECK(stopping.body == "stopping\n");
  }

  TEST_CASE("/readyz is 503 while a shared socket does not listen, /livez stays 200") {
    auto s = Ready(2);
    s.sockets_not_listening = {"tcp 0.0.0.0:8080"};
    auto one = Get("/readyz", s);
    CHECK(one.status == 503);
    CHECK(one.body == "shared socket not listening: tcp 0.0.0.0:8080\n");
    CHECK(Get("/livez", s).status == 200);
    s.sockets_not_listening.push_back("tcp [::]:8443 (IPv4 too)");
    CHECK(Get("/readyz", s).body ==
          "shared socket not listening: tcp 0.0.0.0:8080 (and 1 more)\n");
    s.stopping = true;
    CHECK(Get("/readyz", s).body == "stopping\n");
    // The exec probe judges the same way.
    s.stopping = false;
    CHECK_FALSE(health::Judge(s).ready);
    s.sockets_not_listening.clear();
    CHECK(health::Judge(s).ready);
  }

  TEST_CASE("the shared sockets' repairs are counted in /metrics and /status") {
    auto s = Ready();
    s.shared_sockets_restored = 3;
    s.sockets_not_listening = {"tcp 127.0.0.1:80"};
    auto metrics = Get("/metrics", s).body;
    CHECK(metrics.find("# TYPE cinit_shared_socket_restored_total counter\n") !=
          std::string::npos);
    CHECK(metrics.find("\ncinit_shared_socket_restored_total 3\n") != std::string::npos);
    auto json = nlohmann::json::parse(Get("/status", s).body);
    CHECK(json["shared_sockets"]["restored"] == 3);
    CHECK(json["shared_sockets"]["not_listening"] ==
          nlohmann::json::array({"tcp 127.0.0.1:80"}));
    auto idle = nlohmann::json::parse(Get("/status", Ready()).body);
    CHECK(idle["shared_sockets"]["restored"] == 0);
    CHECK(idle["shared_sockets"]["not_listening"].empty());
  }

  TEST_CASE("the verdict round-trips through the exec probe's file") {
    for (int online : {0, 2}) {
      auto verdict = health::Judge(Ready(online));
      auto parsed = health::ParseVerdict(health::RenderVerdict(verdict));
      REQUIRE(parsed);
      CHECK(*parsed == verdict);
      CHECK(parsed->ready == (online > 0));
    }
    CHECK_FALSE(health::ParseVerdict("garbage"));
    CHECK_FALSE(health::ParseVerdict("{\"live\":true}"));
  }

  TEST_CASE("/status is JSON with the workers") {
    auto response = Get("/status", Ready());
    CHECK(response.content_type == "application/json");
    auto json = nlohmann::json::parse(response.body);
    CHECK(json["mode"] == "cluster");
    CHECK(json["workers"].size() == 2);
    CHECK(json["workers"][0]["pid"] == 10);
    CHECK(json["workers"][1]["online_at"].is_null());
    CHECK(json["reload"]["state"] == "idle");
  }

  TEST_CASE("strings that are not UTF-8 are replaced, never thrown on") {
    // A cgroup path (cpus_how) or a reason may hold any bytes: /status and the
    // verdict file must still be written, with U+FFFD in their place.
    health::Snapshot snapshot = Ready();
    snapshot.cpus_how = "cgroup /kubepods/\xff\xfe";
    snapshot.reload_last_message = "bad \xc3";
    health::Response response;
    CHECK_NOTHROW(response = Get("/status", snapshot));
    CHECK(response.status == 200);
    auto json = nlohmann::json::parse(response.body);
    CHECK(json["cpus"]["how"] == "cgroup /kubepods/\xef\xbf\xbd\xef\xbf\xbd");
    health::Verdict verdict;
    verdict.ready_reason = "\xff";
    std::string text;
    CHECK_NOTHROW(text = health::RenderVerdict(verdict));
    CHECK(health::ParseVerdict(text).has_value());
  }

  TEST_CASE("/metrics is Prometheus text") {
    auto response = Get("/metrics", Ready());
    CHECK(response.content_type.starts_with("text/plain; version=0.0.4"));
    CHECK(response.body.find("cinit_workers{state=\"online\"} 1\n") != std::string::npos);
    CHECK(response.body.find("# TYPE cinit_reloads_total counter\n") !=
          std::string::npos);
  }

  TEST_CASE("/status and /metrics say what asked for reloads") {
    health::Snapshot snapshot = Ready();
    snapshot.reload_last_trigger = "config change: /app/config";
    snapshot.reloads_triggered = {2, 1, 3};
    snapshot.reload_on_change = {"/app/config"};
    auto json = nlohmann::json::parse(Get("/status", snapshot).body);
    CHECK(json["reload"]["last_trigger"] == "config change: /app/config");
    CHECK(json["reload"]["triggered"]["signal"] == 2);
    CHECK(json["reload"]["triggered"]["control"] == 1);
    CHECK(json["reload"]["triggered"]["file"] == 3);
    CHECK(json["reload"]["on_change"] == nlohmann::json::array({"/app/config"}));
    std::string metrics = Get("/metrics", snapshot).body;
    CHECK(metrics.find("# TYPE cinit_reloads_triggered_total counter\n") !=
          std::string::npos);
    CHECK(metrics.find("cinit_reloads_triggered_total{source=\"signal\"} 2\n") !=
          std::string::npos);
    CHECK(metrics.find("cinit_reloads_triggered_total{source=\"control\"} 1\n") !=
          std::string::npos);
    CHECK(metrics.find("cinit_reloads_triggered_total{source=\"file\"} 3\n") !=
          std::string::npos);
  }

  TEST_CASE("unknown paths 404, other methods 405, HEAD has no body") {
    CHECK(Get("/", Ready()).status == 404);
    CHECK(Get("/livez", Ready(), "POST").status == 405);
    auto head = Get("/livez", Ready(), "HEAD");
    std::string wire = head.Serialize();
    CHECK(wire.find("Content-Length: 3\r\n") != std::string::npos);
    CHECK(wire.ends_with("\r\n\r\n"));
    CHECK(health::BadRequest("x").status == 400);
  }
}

}  // namespace cinit
