// Fuzz target: the sd_notify datagrams workers send to NOTIFY_SOCKET (SaysReady in
// src/core/notify.h), against the rule it implements: the datagram holds the line
// READY=1.
#include "notify.h"

#include <string>

#include "fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view datagram = cinit::fuzz::AsText(data, size);
  std::string framed = "\n" + std::string(datagram) + "\n";
  bool want = framed.find("\nREADY=1\n") != std::string::npos;
  FUZZ_CHECK(cinit::notify::SaysReady(datagram) == want);
  return 0;
}
