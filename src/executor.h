// Executor: turns the Supervisor's Actions into syscalls, and what they report back
// into new Events. Holds no policy.
//
// Owns the signalfd and wires it to the EventLoop; owns the Supervisor. Run()
// returns cinit's exit code once the Supervisor says ExitInit.
#ifndef CINIT_EXECUTOR_H_
#define CINIT_EXECUTOR_H_

#include <optional>

#include "event_loop.h"
#include "os/signal_fd.h"
#include "supervisor.h"

namespace cinit {

class Executor {
 public:
  explicit Executor(SupervisorConfig config) : supervisor_(config) {}

  // Sets up the signalfd and the loop. A failure here is a start-up failure.
  Status Open();

  // Runs the loop; returns the exit code for cinit.
  int Run();

 private:
  void OnSignalFdReady();
  // Feeds event to the Supervisor and applies the resulting actions, and the
  // actions of any events those produce, until nothing is left.
  void Dispatch(Event event);
  void Apply(const Action& action);

  Supervisor supervisor_;
  EventLoop loop_;
  os::SignalFd signal_fd_;
  // Scratch buffers, reused so that forwarding a signal allocates nothing.
  std::vector<int> signals_;
  std::vector<Event> pending_;  // FIFO of events still to feed to the Supervisor
  std::vector<Action> actions_;
  std::optional<int> exit_code_;
};

}  // namespace cinit

#endif  // CINIT_EXECUTOR_H_
