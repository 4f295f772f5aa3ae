// Executor: turns a Policy's Actions into syscalls, and what they report back
// into new Events. Holds no policy.
//
// Owns the event loop and the signalfd. In cluster mode it hands SpawnWorker and
// AskWorkerToLeave to Workers (workers.h), whose channel reports come back
// through Dispatch(). Run() returns cinit's exit code once the Policy says
// ExitInit.
#ifndef CINIT_EXECUTOR_H_
#define CINIT_EXECUTOR_H_

#include <functional>
#include <optional>
#include <vector>

#include "event_loop.h"
#include "events.h"
#include "os/signal_fd.h"

namespace cinit {

class Workers;

class Executor {
 public:
  explicit Executor(Policy* policy) : policy_(policy) {}

  // Sets up the loop and the signalfd. A failure here is a start-up failure.
  Status Open();

  EventLoop* loop() { return &loop_; }
  void set_workers(Workers* workers) { workers_ = workers; }
  // Called after every dispatched event, once the Policy has settled (e.g. to
  // publish state that changed).
  void set_after_dispatch(std::function<void()> hook) {
    after_dispatch_ = std::move(hook);
  }

  // Applies initial (the Policy's first decisions), then runs the loop; returns
  // the exit code for cinit.
  int Run(const std::vector<Action>& initial);

  // Single mode's loop. There is nothing to watch but signals, so it waits for them
  // directly with sigtimedwait (one syscall per signal, as tini) instead of epoll +
  // signalfd: ~5 µs less per forwarded signal, measured (README "Footprint").
  // Needs no Open(). Returns the exit code for cinit.
  int RunSignalsOnly();

  // Feeds event to the Policy and applies the resulting actions, and the actions
  // of any events those produce, until nothing is left. Not reentrant: called from
  // loop callbacks only.
  void Dispatch(Event event);

 private:
  void OnSignalFdReady();
  void Apply(const Action& action);

  Policy* policy_;
  Workers* workers_ = nullptr;
  EventLoop loop_;
  os::SignalFd signal_fd_;
  // Scratch buffers, reused so that forwarding a signal allocates nothing.
  std::vector<int> signals_;
  std::vector<Event> pending_;  // FIFO of events still to feed to the Policy
  std::vector<Action> actions_;
  std::optional<int> exit_code_;
  std::function<void()> after_dispatch_;
};

}  // namespace cinit

#endif  // CINIT_EXECUTOR_H_
