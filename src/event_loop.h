// EventLoop: epoll dispatch plus one deadline, the heart of cinit's shell.
//
// Sources register an fd with a callback; Run() waits for readiness or for the
// deadline that the caller's NextDeadline function names, and calls back. It holds
// no policy: what a signal or a deadline means is decided by the Supervisor, which
// the Executor drives from these callbacks. Single-threaded; callbacks run on the
// loop and must not block.
#ifndef CINIT_EVENT_LOOP_H_
#define CINIT_EVENT_LOOP_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <unordered_map>
#include <utility>
#include <vector>

#include "os/epoll.h"
#include "status.h"
#include "supervisor.h"

namespace cinit {

class EventLoop {
 public:
  using ReadyCallback = std::function<void(uint32_t events)>;
  using DeadlineFn = std::function<std::optional<TimePoint>()>;
  using TimeoutCallback = std::function<void()>;

  // Creates the epoll instance. Throws nothing; returns a failed Status on error.
  Status Open();

  // Calls callback whenever fd has any of events. REQUIRES: fd not yet watched.
  Status Watch(int fd, uint32_t events, ReadyCallback callback);
  // Changes the events watched on fd.
  Status Modify(int fd, uint32_t events);
  Status Unwatch(int fd);

  // Calls callback once, at when (or soon after). Timers are few (one per starting
  // worker at most): kept in a plain vector.
  void AddTimer(TimePoint when, std::function<void()> callback);

  // Runs until Stop(). Before each wait asks deadline() when to wake, and calls
  // on_deadline() when that time has come.
  void Run(const DeadlineFn& deadline, const TimeoutCallback& on_deadline);

  void Stop() { running_ = false; }

 private:
  os::Epoll epoll_;
  std::unordered_map<int, ReadyCallback> callbacks_;
  std::vector<std::pair<TimePoint, std::function<void()>>> timers_;
  bool running_ = false;
};

}  // namespace cinit

#endif  // CINIT_EVENT_LOOP_H_
