// Fuzz target: the control FIFO's line protocol (src/core/control.h). Whatever is
// written to the FIFO, the parser yields the same commands however the bytes are cut
// into reads, and ParseLine's results keep their promises.
#include <fmt/format.h>

#include <string>
#include <variant>
#include <vector>

#include "control.h"
#include "fuzz_support.h"

namespace {

using cinit::control::Command;
using cinit::control::Invalid;
using cinit::control::Reload;
using cinit::control::Scale;

bool SameCommand(const Command& a, const Command& b) {
  if (a.index() != b.index()) {
    return false;
  }
  if (const auto* scale = std::get_if<Scale>(&a)) {
    return scale->workers == std::get<Scale>(b).workers;
  }
  if (const auto* invalid = std::get_if<Invalid>(&a)) {
    return invalid->why == std::get<Invalid>(b).why;
  }
  return true;
}

bool SameCommands(const std::vector<Command>& a, const std::vector<Command>& b) {
  if (a.size() != b.size()) {
    return false;
  }
  for (size_t i = 0; i < a.size(); ++i) {
    if (!SameCommand(a[i], b[i])) {
      return false;
    }
  }
  return true;
}

std::string_view Trimmed(std::string_view text) {
  size_t begin = text.find_first_not_of(" \t\r");
  if (begin == std::string_view::npos) {
    return {};
  }
  return text.substr(begin, text.find_last_not_of(" \t\r") - begin + 1);
}

// What one line must give.
void CheckLine(std::string_view line, const Command& command) {
  std::string_view trimmed = Trimmed(line);
  if (std::holds_alternative<Reload>(command)) {
    FUZZ_CHECK(trimmed == "reload");
  } else if (const auto* scale = std::get_if<Scale>(&command)) {
    FUZZ_CHECK(scale->workers >= 1 && scale->workers <= 4096);
    FUZZ_CHECK(trimmed.starts_with("scale"));
    // The same count, written plainly, parses to the same command.
    Command again = cinit::control::ParseLine(fmt::format("scale {}", scale->workers));
    FUZZ_CHECK(SameCommand(command, again));
  } else {
    const auto& why = std::get<Invalid>(command).why;
    FUZZ_CHECK(!why.empty());
    // The reason goes to the log as is: printable ASCII only, whatever the line held.
    for (char c : why) {
      FUZZ_CHECK(c >= 0x20 && c < 0x7f);
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input = cinit::fuzz::AsText(data, size);

  // One line, as `cinit ctl` hands it over.
  CheckLine(input, cinit::control::ParseLine(input));

  // The stream in one read.
  cinit::control::Parser whole;
  std::vector<Command> at_once;
  whole.Feed(input, &at_once);

  // The same stream in reads of 1..300 bytes.
  cinit::control::Parser pieces;
  std::vector<Command> piecewise;
  cinit::fuzz::Chunker chunker(input, 300);
  for (std::string_view rest = input; !rest.empty();) {
    std::string_view chunk = rest.substr(0, chunker.Next());
    pieces.Feed(chunk, &piecewise);
    rest.remove_prefix(chunk.size());
  }
  FUZZ_CHECK(SameCommands(at_once, piecewise));

  // A model: every complete line, in order; too long ones are reported, blank ones
  // skipped; the unterminated tail waits for its newline.
  std::vector<Command> expected;
  std::vector<std::string_view> lines = cinit::fuzz::Split(input, '\n');
  lines.pop_back();  // the tail (empty when the input ends with '\n')
  for (std::string_view line : lines) {
    if (line.size() > cinit::control::kMaxLine) {
      expected.push_back(
          Invalid{fmt::format("a line longer than {} bytes", cinit::control::kMaxLine)});
    } else if (!Trimmed(line).empty()) {
      expected.push_back(cinit::control::ParseLine(line));
      CheckLine(line, expected.back());
    }
  }
  FUZZ_CHECK(SameCommands(at_once, expected));
  return 0;
}
