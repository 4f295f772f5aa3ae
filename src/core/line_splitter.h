// LineSplitter: a byte stream cut into lines, with a bound on the line length.
// Pure. Used for Node's IPC channel (node_ipc.h) and the control FIFO (control.h).
#ifndef CINIT_LINE_SPLITTER_H_
#define CINIT_LINE_SPLITTER_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace cinit {

// Splits a byte stream into lines, keeping at most max_line bytes of a partial
// line. A longer line is dropped whole (counted in dropped()); the stream
// resynchronises at the next '\n'.
class LineSplitter {
 public:
  explicit LineSplitter(size_t max_line) : max_line_(max_line) {}

  // Appends every complete line in bytes (without '\n') to *lines. When
  // dropped_at is given, each dropped line that ends in bytes appends there the
  // index in *lines where it would have been, so callers can report it in order.
  void Feed(std::string_view bytes, std::vector<std::string>* lines,
            std::vector<size_t>* dropped_at = nullptr);

  uint64_t dropped() const { return dropped_; }
  size_t buffered() const { return partial_.size(); }

 private:
  size_t max_line_;
  std::string partial_;
  bool discarding_ = false;
  uint64_t dropped_ = 0;
};

}  // namespace cinit

#endif  // CINIT_LINE_SPLITTER_H_
