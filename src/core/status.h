// Status: the result of an operation that can fail, as a small value.
//
// ok() is cheap (an empty string). A failed Status carries one line of text that is
// ready to log after "cinit: ". The core returns Status for bad input; the OS layer
// returns it for failed syscalls, built by os::ErrnoStatus() (src/os/errno_status.h).
// Exceptions never cross a module boundary.
#ifndef CINIT_STATUS_H_
#define CINIT_STATUS_H_

#include <string>
#include <utility>

namespace cinit {

class [[nodiscard]] Status {
 public:
  Status() = default;
  static Status Ok() { return Status(); }
  static Status Error(std::string message) { return Status(std::move(message)); }

  bool ok() const { return message_.empty(); }
  // Returns the message of a failed Status; empty when ok().
  const std::string& message() const { return message_; }

 private:
  explicit Status(std::string message) : message_(std::move(message)) {
    if (message_.empty()) {
      message_ = "unknown error";
    }
  }
  std::string message_;
};

}  // namespace cinit

#endif  // CINIT_STATUS_H_
