// SignalSource: cluster mode's signals, an event source. Owns the signalfd (the
// signals main() blocked) and appends what each signal means at its first hop
// (ClusterSignalEvent: SIGHUP is a ReloadRequested) to the EventQueue. No policy.
#ifndef CINIT_SIGNAL_SOURCE_H_
#define CINIT_SIGNAL_SOURCE_H_

#include <vector>

#include "event_loop.h"
#include "os/signal_fd.h"

namespace cinit {

class SignalSource {
 public:
  explicit SignalSource(EventLoop* loop) : loop_(loop) {}
  ~SignalSource();
  SignalSource(const SignalSource&) = delete;
  SignalSource& operator=(const SignalSource&) = delete;

  // Creates and watches the signalfd. A failure is a start-up failure. Signals
  // sent before (during the workers' spawn, say) are pending and read first.
  Status Open();

 private:
  void OnReady(EventQueue* queue);

  EventLoop* loop_;
  os::SignalFd signal_fd_;
  std::vector<int> signals_;  // scratch
};

}  // namespace cinit

#endif  // CINIT_SIGNAL_SOURCE_H_
