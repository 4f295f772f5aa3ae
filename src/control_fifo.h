// ControlFifo: the shell side of the control FIFO, an event source. Reads what
// writers send, parses it (control.h) and appends each command to the EventQueue
// ("reload" is the same ReloadRequested a SIGHUP becomes); logs and drops the rest.
// No policy.
#ifndef CINIT_CONTROL_FIFO_H_
#define CINIT_CONTROL_FIFO_H_

#include <string>
#include <vector>

#include "control.h"
#include "event_loop.h"
#include "events.h"
#include "os/unique_fd.h"

namespace cinit {

class ControlFifo {
 public:
  explicit ControlFifo(EventLoop* loop) : loop_(loop) {}
  ~ControlFifo();
  ControlFifo(const ControlFifo&) = delete;
  ControlFifo& operator=(const ControlFifo&) = delete;

  // Creates and watches the FIFO at path.
  Status Open(const std::string& path);

 private:
  void OnReadable(EventQueue* queue);

  EventLoop* loop_;
  os::UniqueFd fd_;
  control::Parser parser_;
  std::vector<control::Command> commands_;
};

}  // namespace cinit

#endif  // CINIT_CONTROL_FIFO_H_
