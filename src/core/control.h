// Control: the line protocol of cinit's control FIFO, parsed. Pure.
//
// Format (version 1): text lines, '\n'-terminated, at most kMaxLine bytes each.
// Leading and trailing blanks are ignored; empty lines are skipped.
//   reload      rolling reload of every worker (the same as SIGHUP)
//   scale N     grow or shrink the cluster to N workers (1..4096)
// Anything else (unknown words, bad numbers, a line longer than kMaxLine, bytes
// that are not printable text) is reported as Invalid, to be logged and ignored.
// A partial line stays buffered until its newline arrives.
#ifndef CINIT_CONTROL_H_
#define CINIT_CONTROL_H_

#include <cstddef>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "line_splitter.h"

namespace cinit::control {

inline constexpr size_t kMaxLine = 256;

struct Reload {};
struct Scale {
  int workers = 0;
};
struct Invalid {
  std::string why;
};
using Command = std::variant<Reload, Scale, Invalid>;

// Parses one line (without its '\n').
Command ParseLine(std::string_view line);

class Parser {
 public:
  // Appends the commands completed by bytes to *commands.
  void Feed(std::string_view bytes, std::vector<Command>* commands);

 private:
  LineSplitter splitter_{kMaxLine};
  std::vector<std::string> lines_;
  std::vector<size_t> dropped_at_;
};

}  // namespace cinit::control

#endif  // CINIT_CONTROL_H_
