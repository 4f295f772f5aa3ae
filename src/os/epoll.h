// Epoll: a close-on-exec epoll instance. Add/Modify/Remove never block; Wait blocks
// until an fd is ready or the timeout passes, and retries EINTR itself.
#ifndef CINIT_OS_EPOLL_H_
#define CINIT_OS_EPOLL_H_

#include <sys/epoll.h>

#include <chrono>
#include <optional>
#include <span>

#include "os/unique_fd.h"
#include "status.h"

namespace cinit::os {

// What a watched fd is ready for (Add/Modify and the events Wait reports).
inline constexpr uint32_t kReadable = EPOLLIN;
inline constexpr uint32_t kWritable = EPOLLOUT;
inline constexpr uint32_t kPeerClosed = EPOLLRDHUP;  // the peer shut its writing side
inline constexpr uint32_t kClosedOrError = EPOLLHUP | EPOLLRDHUP | EPOLLERR;

class Epoll {
 public:
  // Creates the instance; check valid() or the Status from Open().
  static Status Open(Epoll* epoll);

  Status Add(int fd, uint32_t events, uint64_t data);
  Status Modify(int fd, uint32_t events, uint64_t data);
  Status Remove(int fd);

  // Waits for events; timeout nullopt means forever. Returns the number of events
  // stored in out (0 on timeout), or -1 with errno set on a real error.
  int Wait(std::span<epoll_event> out, std::optional<std::chrono::milliseconds> timeout);

 private:
  UniqueFd fd_;
};

}  // namespace cinit::os

#endif  // CINIT_OS_EPOLL_H_
