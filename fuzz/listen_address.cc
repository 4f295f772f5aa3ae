// Fuzz target: ParseListenAddress (src/core/options.h), the value of --listen and
// --health. What it accepts is a numeric host (or none) and a port in 1..65535, and
// writing it back as HOST:PORT ([V6]:PORT) parses to the same address. The text is an
// argv word, so it holds no NUL byte.
#include <arpa/inet.h>
#include <fmt/format.h>

#include <string>

#include "fuzz_support.h"
#include "options.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text = cinit::fuzz::AsText(data, size);
  if (text.find('\0') != std::string_view::npos) {
    return 0;  // no argv word holds one
  }
  auto address = cinit::ParseListenAddress(text);
  if (!address) {
    return 0;
  }
  FUZZ_CHECK(address->port >= 1 && address->port <= 65535);
  bool v6 = address->host.find(':') != std::string::npos;
  if (!address->host.empty()) {
    unsigned char bytes[16];
    FUZZ_CHECK(inet_pton(v6 ? AF_INET6 : AF_INET, address->host.c_str(), bytes) == 1);
  }
  std::string written = v6 ? fmt::format("[{}]:{}", address->host, address->port)
                           : fmt::format("{}:{}", address->host, address->port);
  auto again = cinit::ParseListenAddress(written);
  FUZZ_CHECK(again && *again == *address);
  return 0;
}
