// What every fuzz target in fuzz/ shares: a check that stops the run with a message,
// and small helpers for cutting an input into the pieces a parser takes.
//
// A failed FUZZ_CHECK aborts, so libFuzzer records the input as a crash. An exception
// needs nothing special: one that escapes LLVMFuzzerTestOneInput terminates the
// process, which is a crash too (parsers of outside bytes never throw).
#ifndef CINIT_FUZZ_FUZZ_SUPPORT_H_
#define CINIT_FUZZ_FUZZ_SUPPORT_H_

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#define FUZZ_CHECK(cond)                                                                 \
  do {                                                                                   \
    if (!(cond)) {                                                                       \
      std::fprintf(stderr, "%s:%d: FUZZ_CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
      std::abort();                                                                      \
    }                                                                                    \
  } while (false)

namespace cinit::fuzz {

inline std::string_view AsText(const uint8_t* data, size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

// Splits text at every sep (an empty piece between two seps is kept).
inline std::vector<std::string_view> Split(std::string_view text, char sep) {
  std::vector<std::string_view> pieces;
  for (;;) {
    size_t at = text.find(sep);
    pieces.push_back(text.substr(0, at));
    if (at == std::string_view::npos) {
      return pieces;
    }
    text.remove_prefix(at + 1);
  }
}

// Chunk sizes for feeding a stream piecewise, derived from the input itself so a
// crash reproduces: a small linear congruential sequence, 1..max_chunk bytes each.
class Chunker {
 public:
  Chunker(std::string_view seed_text, size_t max_chunk) : max_chunk_(max_chunk) {
    for (char c : seed_text.substr(0, 16)) {
      state_ = state_ * 131 + static_cast<unsigned char>(c);
    }
  }
  size_t Next() {
    state_ = state_ * 6364136223846793005ULL + 1442695040888963407ULL;
    return 1 + static_cast<size_t>((state_ >> 33) % max_chunk_);
  }

 private:
  uint64_t state_ = 0x9e3779b97f4a7c15ULL;
  size_t max_chunk_;
};

// True when text is well-formed UTF-8 (RFC 3629: no overlong forms, no surrogates,
// nothing above U+10FFFF).
inline bool IsUtf8(std::string_view text) {
  size_t i = 0;
  while (i < text.size()) {
    auto byte = [&](size_t k) { return static_cast<unsigned char>(text[k]); };
    unsigned char lead = byte(i);
    size_t extra = 0;
    uint32_t code = 0;
    if (lead < 0x80) {
      ++i;
      continue;
    } else if (lead >= 0xc2 && lead <= 0xdf) {
      extra = 1;
      code = lead & 0x1fu;
    } else if (lead >= 0xe0 && lead <= 0xef) {
      extra = 2;
      code = lead & 0x0fu;
    } else if (lead >= 0xf0 && lead <= 0xf4) {
      extra = 3;
      code = lead & 0x07u;
    } else {
      return false;
    }
    if (i + extra >= text.size()) {  // the sequence is cut off
      return false;
    }
    for (size_t k = 1; k <= extra; ++k) {
      if ((byte(i + k) & 0xc0u) != 0x80u) {
        return false;
      }
      code = (code << 6) | (byte(i + k) & 0x3fu);
    }
    if ((extra == 2 && (code < 0x800 || (code >= 0xd800 && code <= 0xdfff))) ||
        (extra == 3 && (code < 0x10000 || code > 0x10ffff))) {
      return false;
    }
    i += extra + 1;
  }
  return true;
}

}  // namespace cinit::fuzz

#endif  // CINIT_FUZZ_FUZZ_SUPPORT_H_
