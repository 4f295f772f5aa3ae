// Fuzz target: the status file as `cinit ctl status` reads it (ctl_status::Parse in
// src/core/ctl_status.h) and renders it. Any file content parses without throwing;
// a view it accepts renders as text and as JSON without throwing, and the JSON is
// valid; a file written by RenderFile from a snapshot of fuzzed workers parses back
// with the same workers.
#include <fuzzer/FuzzedDataProvider.h>

#include <nlohmann/json.hpp>
#include <string>

#include "ctl_status.h"
#include "fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  namespace ctl = cinit::ctl_status;
  namespace health = cinit::health;
  std::string_view text = cinit::fuzz::AsText(data, size);
  if (auto view = ctl::Parse(text)) {
    (void)ctl::RenderText(*view, 1e6, "");
    std::string json = ctl::RenderJson(*view, 1e6);
    FUZZ_CHECK(nlohmann::json::accept(json));
  }

  FuzzedDataProvider in(data, size);
  health::Snapshot snapshot;
  snapshot.desired_workers = in.ConsumeIntegralInRange<int>(0, 64);
  const int count = in.ConsumeIntegralInRange<int>(0, 8);
  for (int i = 0; i < count; ++i) {
    health::WorkerView worker;
    worker.instance = in.ConsumeIntegralInRange<int>(0, 4096);
    worker.pid = in.ConsumeIntegralInRange<int>(1, 1 << 22);
    worker.state = in.ConsumeRandomLengthString(16);
    worker.generation = in.ConsumeIntegralInRange<int>(1, 1 << 20);
    worker.restarts = in.ConsumeIntegralInRange<int>(0, 1 << 20);
    snapshot.workers.push_back(worker);
  }
  snapshot.reload_last_message = in.ConsumeRemainingBytesAsString();
  health::Verdict verdict;
  std::string file = ctl::RenderFile(verdict, snapshot, ctl::Writer{1, "pid:[1]", 0});
  auto read = ctl::Parse(file);
  FUZZ_CHECK(read.has_value());
  FUZZ_CHECK(read->workers.size() == snapshot.workers.size());
  for (size_t i = 0; i < read->workers.size(); ++i) {
    FUZZ_CHECK(read->workers[i].pid == snapshot.workers[i].pid);
    FUZZ_CHECK(read->workers[i].generation == snapshot.workers[i].generation);
  }
  return 0;
}
