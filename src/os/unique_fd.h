// UniqueFd: owns one file descriptor and closes it on destruction. Move-only.
#ifndef CINIT_OS_UNIQUE_FD_H_
#define CINIT_OS_UNIQUE_FD_H_

#include <unistd.h>

#include <utility>

namespace cinit::os {

class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  UniqueFd(UniqueFd&& other) noexcept : fd_(other.Release()) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept {
    if (this != &other) {
      Reset(other.Release());
    }
    return *this;
  }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  ~UniqueFd() { Reset(); }

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  // Gives up ownership; returns the fd.
  int Release() { return std::exchange(fd_, -1); }
  void Reset(int fd = -1) {
    if (fd_ >= 0) {
      ::close(fd_);  // the fd is gone even when close() reports EINTR on Linux
    }
    fd_ = fd;
  }

 private:
  int fd_ = -1;
};

}  // namespace cinit::os

#endif  // CINIT_OS_UNIQUE_FD_H_
