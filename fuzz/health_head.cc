// Fuzz target: the health server's request parser, ParseHead (src/core/health.h),
// on whatever a client sends, and Respond/Serialize on what it accepts, with a
// snapshot whose strings also come from the input (a cgroup path, a reload message:
// bytes that need not be UTF-8). Nothing throws; a complete head gives the same
// answer whatever follows it; every response is well framed; /status is JSON.
#include <fuzzer/FuzzedDataProvider.h>

#include <nlohmann/json.hpp>
#include <string>

#include "fuzz_support.h"
#include "health.h"

namespace {

namespace health = cinit::health;

health::Snapshot MakeSnapshot(FuzzedDataProvider* in) {
  health::Snapshot s;
  s.version = in->ConsumeRandomLengthString(16);
  s.mode = in->ConsumeBool() ? "cluster" : "single";
  s.uptime = in->ConsumeFloatingPointInRange<double>(0, 1e9);
  s.cpus = in->ConsumeIntegralInRange(1, 4096);
  s.cpus_how = in->ConsumeRandomLengthString(64);
  s.desired_workers = in->ConsumeIntegralInRange(0, 4096);
  s.online_workers = in->ConsumeIntegralInRange(0, 4096);
  s.min_ready = in->ConsumeIntegralInRange(0, 4096);
  s.stopping = in->ConsumeBool();
  s.giving_up = in->ConsumeBool();
  s.reload_state = in->ConsumeBool() ? "rolling" : "idle";
  s.reload_slot = in->ConsumeIntegral<int>();
  s.reload_slots = in->ConsumeIntegral<int>();
  s.reload_generation = in->ConsumeIntegral<int>();
  s.reload_last_result = in->ConsumeRandomLengthString(16);
  s.reload_last_message = in->ConsumeRandomLengthString(64);
  s.reloads_succeeded = in->ConsumeIntegral<uint64_t>();
  s.reloads_failed = in->ConsumeIntegral<uint64_t>();
  s.restarts = in->ConsumeIntegral<uint64_t>();
  s.orphans_reaped = in->ConsumeIntegral<uint64_t>();
  s.signals_forwarded = in->ConsumeIntegral<uint64_t>();
  int workers = in->ConsumeIntegralInRange(0, 4);
  for (int i = 0; i < workers; ++i) {
    health::WorkerView w;
    w.instance = in->ConsumeIntegral<int>();
    w.pid = in->ConsumeIntegral<int>();
    w.state = in->ConsumeRandomLengthString(12);
    w.generation = in->ConsumeIntegral<int>();
    w.restarts = in->ConsumeIntegral<int>();
    w.started_at = in->ConsumeFloatingPoint<double>();
    if (in->ConsumeBool()) {
      w.online_at = in->ConsumeFloatingPoint<double>();
    }
    s.workers.push_back(std::move(w));
  }
  return s;
}

void CheckResponse(const health::Response& response) {
  std::string wire = response.Serialize();
  size_t head_end = wire.find("\r\n\r\n");
  FUZZ_CHECK(head_end != std::string::npos);
  std::string head = wire.substr(0, head_end + 4);
  FUZZ_CHECK(head.starts_with("HTTP/1.1 " + std::to_string(response.status) + " "));
  FUZZ_CHECK(head.find("\r\nContent-Length: " + std::to_string(response.body.size()) +
                       "\r\n") != std::string::npos);
  FUZZ_CHECK(head.find("\r\nConnection: close\r\n") != std::string::npos);
  FUZZ_CHECK(wire.size() ==
             head.size() + (response.head_only ? 0 : response.body.size()));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider in(data, size);
  std::string buffer = in.ConsumeRandomLengthString(3 * health::kMaxHead);
  health::Parsed parsed = health::ParseHead(buffer);

  bool complete = buffer.find("\r\n\r\n") != std::string::npos ||
                  buffer.find("\n\n") != std::string::npos;
  if (complete) {
    FUZZ_CHECK(parsed.kind != health::Parsed::Kind::kIncomplete);
    // Bytes after the head (a body, a pipelined request) change nothing.
    health::Parsed longer = health::ParseHead(buffer + "GET / HTTP/1.1\r\n\r\n\xff");
    FUZZ_CHECK(longer.kind == parsed.kind && longer.why == parsed.why &&
               longer.request.method == parsed.request.method &&
               longer.request.path == parsed.request.path);
  } else if (buffer.size() <= health::kMaxHead) {
    FUZZ_CHECK(parsed.kind == health::Parsed::Kind::kIncomplete);
  }

  health::Snapshot snapshot = MakeSnapshot(&in);
  switch (parsed.kind) {
    case health::Parsed::Kind::kIncomplete:
      FUZZ_CHECK(parsed.why.empty());
      break;
    case health::Parsed::Kind::kBad: {
      FUZZ_CHECK(!parsed.why.empty());
      health::Response response = health::BadRequest(parsed.why);
      FUZZ_CHECK(response.status == 400);
      CheckResponse(response);
      break;
    }
    case health::Parsed::Kind::kOk: {
      const health::Request& request = parsed.request;
      FUZZ_CHECK(!request.method.empty());
      for (char c : request.method) {
        FUZZ_CHECK(c >= 'A' && c <= 'Z');
      }
      FUZZ_CHECK(request.path.starts_with("/"));
      FUZZ_CHECK(request.path.find_first_of("? \n") == std::string::npos);
      health::Response response = health::Respond(request, snapshot);
      FUZZ_CHECK(response.status == 200 || response.status == 404 ||
                 response.status == 405 || response.status == 503);
      FUZZ_CHECK(
          response.head_only ==
          (request.method == "HEAD" && response.status != 404 && response.status != 405));
      if (request.path == "/status" && response.status == 200) {
        auto json = nlohmann::json::parse(response.body, nullptr, false);
        FUZZ_CHECK(json.is_object());
      }
      CheckResponse(response);
      break;
    }
  }
  return 0;
}
