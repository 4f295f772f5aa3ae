#include "event_loop.h"

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>

#include "log.h"

namespace cinit {

Status EventLoop::Open() { return os::Epoll::Open(&epoll_); }

Status EventLoop::Watch(int fd, uint32_t events, ReadyCallback callback) {
  Status status = epoll_.Add(fd, events, static_cast<uint64_t>(fd));
  if (status.ok()) {
    callbacks_[fd] = std::move(callback);
  }
  return status;
}

Status EventLoop::Modify(int fd, uint32_t events) {
  return epoll_.Modify(fd, events, static_cast<uint64_t>(fd));
}

Status EventLoop::Unwatch(int fd) {
  callbacks_.erase(fd);
  return epoll_.Remove(fd);
}

void EventLoop::AddTimer(TimePoint when, std::function<void()> callback) {
  timers_.emplace_back(when, std::move(callback));
}

void EventLoop::Run(const DeadlineFn& deadline, const TimeoutCallback& on_deadline) {
  running_ = true;
  std::array<epoll_event, 32> events;
  while (running_) {
    std::optional<TimePoint> wake = deadline();
    if (wake && *wake <= Clock::now()) {
      on_deadline();
      continue;
    }
    if (!timers_.empty()) {
      auto now = Clock::now();
      auto due = std::find_if(timers_.begin(), timers_.end(),
                              [now](const auto& timer) { return timer.first <= now; });
      if (due != timers_.end()) {
        auto callback = std::move(due->second);
        timers_.erase(due);
        callback();
        continue;
      }
      for (const auto& timer : timers_) {
        if (!wake || timer.first < *wake) {
          wake = timer.first;
        }
      }
    }
    std::optional<std::chrono::milliseconds> timeout;
    if (wake) {
      // Round up: waking a little late is fine, waking early spins.
      timeout = std::chrono::ceil<std::chrono::milliseconds>(*wake - Clock::now());
    }
    int n = epoll_.Wait(events, timeout);
    if (n < 0) {
      // Only EBADF/EFAULT/EINVAL are possible: bugs. PID 1 must not die of them.
      Log(Level::kError, "epoll_wait: {}", std::strerror(errno));
      continue;
    }
    for (int i = 0; i < n && running_; ++i) {
      int fd = static_cast<int>(events[static_cast<size_t>(i)].data.u64);
      auto it = callbacks_.find(fd);
      if (it != callbacks_.end()) {
        // A copy (small enough to need no allocation): the callback may Unwatch
        // its own fd, which destroys the stored one.
        ReadyCallback callback = it->second;
        callback(events[static_cast<size_t>(i)].events);
      }
    }
  }
}

}  // namespace cinit
