#include "control.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>

namespace cinit::control {
namespace {

std::string_view Trim(std::string_view text) {
  auto blank = [](char c) { return c == ' ' || c == '\t' || c == '\r'; };
  while (!text.empty() && blank(text.front())) {
    text.remove_prefix(1);
  }
  while (!text.empty() && blank(text.back())) {
    text.remove_suffix(1);
  }
  return text;
}

// Shows a bad line in a log without flooding it or printing control bytes.
std::string Quote(std::string_view line) {
  std::string out;
  for (char c : line.substr(0, 40)) {
    out += (c >= 0x20 && c < 0x7f) ? c : '?';
  }
  return line.size() > 40 ? out + "..." : out;
}

}  // namespace

Command ParseLine(std::string_view line) {
  line = Trim(line);
  if (std::any_of(line.begin(), line.end(), [](char c) {
        return static_cast<unsigned char>(c) < 0x20 && c != '\t';
      })) {
    return Invalid{fmt::format("'{}' holds control characters", Quote(line))};
  }
  if (line == "reload") {
    return Reload{};
  }
  if (line.starts_with("scale ") || line.starts_with("scale\t")) {
    std::string_view number = Trim(line.substr(6));
    int workers = 0;
    auto [ptr, ec] =
        std::from_chars(number.data(), number.data() + number.size(), workers);
    if (number.empty() || ec != std::errc() || ptr != number.data() + number.size() ||
        workers < 1 || workers > 4096) {
      return Invalid{
          fmt::format("'{}': scale takes a worker count from 1 to 4096", Quote(line))};
    }
    return Scale{workers};
  }
  return Invalid{
      fmt::format("unknown command '{}' (commands: reload, scale N)", Quote(line))};
}

void Parser::Feed(std::string_view bytes, std::vector<Command>* commands) {
  lines_.clear();
  dropped_at_.clear();
  splitter_.Feed(bytes, &lines_, &dropped_at_);
  // Report everything in the order it was written, dropped lines included.
  size_t next_drop = 0;
  for (size_t i = 0; i <= lines_.size(); ++i) {
    while (next_drop < dropped_at_.size() && dropped_at_[next_drop] == i) {
      commands->push_back(Invalid{fmt::format("a line longer than {} bytes", kMaxLine)});
      ++next_drop;
    }
    if (i < lines_.size() && !Trim(lines_[i]).empty()) {
      commands->push_back(ParseLine(lines_[i]));
    }
  }
}

}  // namespace cinit::control
