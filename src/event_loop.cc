#include "event_loop.h"

#include <array>
#include <cerrno>
#include <cstring>
#include <exception>

#include "log.h"

namespace cinit {

Status EventLoop::Open() { return os::Epoll::Open(&epoll_); }

Status EventLoop::Watch(int fd, uint32_t events, ReadyFn ready) {
  Status status = epoll_.Add(fd, events, static_cast<uint64_t>(fd));
  if (status.ok()) {
    ready_[fd] = std::move(ready);
  }
  return status;
}

Status EventLoop::Modify(int fd, uint32_t events) {
  return epoll_.Modify(fd, events, static_cast<uint64_t>(fd));
}

void EventLoop::Unwatch(int fd) {
  if (ready_.erase(fd) > 0) {
    (void)epoll_.Remove(fd);
  }
}

void EventLoop::Wait(std::optional<TimePoint> until, EventQueue* queue) {
  std::optional<std::chrono::milliseconds> timeout;
  if (until) {
    // Round up: waking a little late is fine, waking early spins.
    timeout =
        std::max(std::chrono::milliseconds(0),
                 std::chrono::ceil<std::chrono::milliseconds>(*until - Clock::now()));
  }
  std::array<epoll_event, 32> events;
  int n = epoll_.Wait(events, timeout);
  if (n < 0) {
    // Only EBADF/EFAULT/EINVAL are possible: bugs. PID 1 must not die of them.
    Log(Level::kError, "epoll_wait: {}", std::strerror(errno));
    return;
  }
  for (int i = 0; i < n; ++i) {
    const epoll_event& event = events[static_cast<size_t>(i)];
    // Looked up each time: an earlier ReadyFn of this batch may have unwatched it.
    auto it = ready_.find(static_cast<int>(event.data.u64));
    if (it != ready_.end()) {
      // A copy: the ReadyFn may unwatch its own fd, which destroys the stored one.
      ReadyFn ready = it->second;
      try {
        ready(event.events, queue);
      } catch (const std::exception& e) {
        // PID 1 goes on without this one source (a connection, a channel): it
        // is no longer watched, and its owner closes it in its own time.
        const int fd = static_cast<int>(event.data.u64);
        Log(Level::kError, "fd {}: {}; no longer watched", fd, e.what());
        Unwatch(fd);
      }
    }
  }
}

}  // namespace cinit
