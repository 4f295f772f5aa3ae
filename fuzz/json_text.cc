// Fuzz target: JsonText (src/core/json_text.h), the one way cinit turns JSON into
// text, with strings of any bytes in keys and values (a cgroup path, a worker's key,
// a reload message) and with JSON documents a worker or a file may hold. It never
// throws; what it writes is JSON; UTF-8 text comes back unchanged, anything else
// as U+FFFD; a parsed document round-trips.
#include "json_text.h"

#include <fuzzer/FuzzedDataProvider.h>

#include <nlohmann/json.hpp>
#include <string>

#include "fuzz_support.h"

namespace {

using nlohmann::json;

json Build(FuzzedDataProvider* in, int depth, bool* all_utf8) {
  auto text = [&]() {
    std::string s = in->ConsumeRandomLengthString(40);
    *all_utf8 = *all_utf8 && cinit::fuzz::IsUtf8(s);
    return s;
  };
  switch (depth > 3 ? 0 : in->ConsumeIntegralInRange(0, 5)) {
    case 0:
      return text();
    case 1:
      return in->ConsumeIntegral<int64_t>();
    case 2:
      return in->ConsumeBool();
    case 3:
      return nullptr;
    case 4: {
      json array = json::array();
      for (int n = in->ConsumeIntegralInRange(0, 3); n > 0; --n) {
        array.push_back(Build(in, depth + 1, all_utf8));
      }
      return array;
    }
    default: {
      json object = json::object();
      for (int n = in->ConsumeIntegralInRange(0, 3); n > 0; --n) {
        std::string key = text();
        object[key] = Build(in, depth + 1, all_utf8);
      }
      return object;
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input = cinit::fuzz::AsText(data, size);

  // A document from outside, written out again.
  json parsed = json::parse(input, nullptr, /*allow_exceptions=*/false);
  if (!parsed.is_discarded()) {
    for (int indent : {-1, 2}) {
      std::string text = cinit::JsonText(parsed, indent);
      json again = json::parse(text, nullptr, false);
      FUZZ_CHECK(!again.is_discarded());
      FUZZ_CHECK(again == parsed);
      if (indent < 0) {
        FUZZ_CHECK(text.find('\n') == std::string::npos);  // one line, for logs
      }
    }
  }

  // Values holding bytes of any kind.
  FuzzedDataProvider in(data, size);
  bool all_utf8 = true;
  json value = Build(&in, 0, &all_utf8);
  std::string text = cinit::JsonText(value);
  FUZZ_CHECK(text.find('\n') == std::string::npos);
  FUZZ_CHECK(cinit::fuzz::IsUtf8(text));
  json again = json::parse(text, nullptr, false);
  FUZZ_CHECK(!again.is_discarded());
  if (all_utf8) {
    FUZZ_CHECK(again == value);
  }
  return 0;
}
