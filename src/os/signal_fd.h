// Signal blocking and the signalfd through which cinit consumes signals.
//
// BlockCaughtSignals() must be the first thing main() does: from then on every
// signal cinit catches stays pending until the loop reads it, so nothing sent
// during start-up (before or while the child is spawned) is lost.
#ifndef CINIT_OS_SIGNAL_FD_H_
#define CINIT_OS_SIGNAL_FD_H_

#include <signal.h>

#include <chrono>
#include <optional>
#include <vector>

#include "os/unique_fd.h"
#include "status.h"

namespace cinit::os {

// Returns the set of signals cinit catches (SignalPolicy's IsCaught()).
sigset_t CaughtSignals();

// Blocks CaughtSignals() and sets SIGTTIN/SIGTTOU to SIG_IGN and SIGCHLD to
// SIG_DFL (an inherited SIG_IGN would make the kernel reap children for us and
// hide their exit status). Async-signal-safe in effect: only sigaction/sigprocmask.
Status BlockCaughtSignals();

// Waits until one of CaughtSignals() is pending and consumes it (sigtimedwait).
// Returns its number, or 0 when timeout (nullopt: forever) passed first. For loops
// that wait for nothing but signals; EINTR is retried.
int WaitForSignal(std::optional<std::chrono::milliseconds> timeout);

class SignalFd {
 public:
  // Creates a non-blocking, close-on-exec signalfd for CaughtSignals().
  static Status Open(SignalFd* signal_fd);

  int fd() const { return fd_.get(); }

  // Reads every pending signal; appends their numbers to out in arrival order.
  // Never blocks.
  void ReadAll(std::vector<int>* out);

 private:
  UniqueFd fd_;
};

}  // namespace cinit::os

#endif  // CINIT_OS_SIGNAL_FD_H_
