// Fuzz target: the exec probe's file (`cinit status` reads it: ParseVerdict in
// src/core/health.h) and its writer RenderVerdict. Any file content parses without
// throwing; a verdict it accepts renders and parses back to itself; a verdict with
// reasons of any bytes renders to a file ParseVerdict accepts.
#include <fuzzer/FuzzedDataProvider.h>

#include <string>

#include "fuzz_support.h"
#include "health.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  namespace health = cinit::health;
  std::string_view text = cinit::fuzz::AsText(data, size);
  if (auto verdict = health::ParseVerdict(text)) {
    FUZZ_CHECK(cinit::fuzz::IsUtf8(verdict->live_reason));
    FUZZ_CHECK(cinit::fuzz::IsUtf8(verdict->ready_reason));
    auto again = health::ParseVerdict(health::RenderVerdict(*verdict));
    FUZZ_CHECK(again && *again == *verdict);
  }

  FuzzedDataProvider in(data, size);
  health::Verdict made;
  made.live = in.ConsumeBool();
  made.ready = in.ConsumeBool();
  made.live_reason = in.ConsumeRandomLengthString(256);
  made.ready_reason = in.ConsumeRemainingBytesAsString();
  std::string file = health::RenderVerdict(made);
  FUZZ_CHECK(file.ends_with("\n") && file.find('\n') == file.size() - 1);
  auto read = health::ParseVerdict(file);
  FUZZ_CHECK(read.has_value());
  FUZZ_CHECK(read->live == made.live && read->ready == made.ready);
  if (cinit::fuzz::IsUtf8(made.live_reason) && cinit::fuzz::IsUtf8(made.ready_reason)) {
    FUZZ_CHECK(*read == made);
  }
  return 0;
}
