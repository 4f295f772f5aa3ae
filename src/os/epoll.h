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
