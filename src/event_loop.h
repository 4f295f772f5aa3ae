// EventLoop: epoll for cluster mode's sources. Each source watches its own fds;
// Wait() blocks until one is ready or a deadline passes, and lets the ready
// sources read, which append what they learn to the EventQueue. The loop holds no
// policy and calls nothing but the sources: what an event means is the Policy's,
// and the turn around Wait() is the shell's (shell.h). Single-threaded.
#ifndef CINIT_EVENT_LOOP_H_
#define CINIT_EVENT_LOOP_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <unordered_map>

#include "events.h"
#include "os/epoll.h"
#include "status.h"

namespace cinit {

class EventLoop {
 public:
  // Called when fd is ready: events are os::kReadable etc.; appends to *queue.
  using ReadyFn = std::function<void(uint32_t events, EventQueue* queue)>;

  // Creates the epoll instance.
  Status Open();

  // Calls ready whenever fd has any of events. REQUIRES: fd not yet watched.
  Status Watch(int fd, uint32_t events, ReadyFn ready);
  // Changes the events watched on fd.
  Status Modify(int fd, uint32_t events);
  // Stops watching fd; safe to call from fd's own ReadyFn, and for fds not watched.
  void Unwatch(int fd);

  // Waits until a watched fd is ready or until (nullopt: no deadline), and calls the
  // ReadyFns of the ready fds. At most 32 fds per call: the rest stay ready for the
  // next turn (epoll is level-triggered), so one busy source cannot starve others.
  void Wait(std::optional<TimePoint> until, EventQueue* queue);

 private:
  os::Epoll epoll_;
  std::unordered_map<int, ReadyFn> ready_;
};

}  // namespace cinit

#endif  // CINIT_EVENT_LOOP_H_
