// Fuzz target: LineSplitter (src/core/line_splitter.h), which cuts the bytes of Node's
// IPC channel and of the control FIFO into lines. Checked against a model of its
// contract, for a line bound taken from the input and reads of any size.
#include "line_splitter.h"

#include <string>
#include <vector>

#include "fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) {
    return 0;
  }
  size_t max_line = data[0];  // 0..255: small bounds reach the edges quickly
  std::string_view stream = cinit::fuzz::AsText(data + 1, size - 1);

  cinit::LineSplitter splitter(max_line);
  std::vector<std::string> lines;
  std::vector<size_t> dropped_at;
  cinit::fuzz::Chunker chunker(stream, 2 * max_line + 3);
  for (std::string_view rest = stream; !rest.empty();) {
    std::string_view chunk = rest.substr(0, chunker.Next());
    splitter.Feed(chunk, &lines, &dropped_at);
    rest.remove_prefix(chunk.size());
  }

  // The model: complete lines of at most max_line bytes are kept, longer ones are
  // dropped where they stood; the tail is buffered while it fits.
  std::vector<std::string> want_lines;
  std::vector<size_t> want_dropped_at;
  uint64_t want_dropped = 0;
  std::vector<std::string_view> pieces = cinit::fuzz::Split(stream, '\n');
  std::string_view tail = pieces.back();
  pieces.pop_back();
  for (std::string_view line : pieces) {
    if (line.size() > max_line) {
      want_dropped_at.push_back(want_lines.size());
      ++want_dropped;
    } else {
      want_lines.emplace_back(line);
    }
  }
  if (tail.size() > max_line) {
    ++want_dropped;
  }
  FUZZ_CHECK(lines == want_lines);
  FUZZ_CHECK(dropped_at == want_dropped_at);
  FUZZ_CHECK(splitter.dropped() == want_dropped);
  FUZZ_CHECK(splitter.buffered() == (tail.size() > max_line ? 0 : tail.size()));

  // Without dropped_at the lines are the same.
  cinit::LineSplitter plain(max_line);
  std::vector<std::string> plain_lines;
  plain.Feed(stream, &plain_lines);
  FUZZ_CHECK(plain_lines == want_lines);
  return 0;
}
