// ControlFifo: the shell side of the control FIFO. Reads what writers send, parses
// it (control.h) and reports each command as an Event; logs and drops the rest.
// No policy.
#ifndef CINIT_CONTROL_FIFO_H_
#define CINIT_CONTROL_FIFO_H_

#include <functional>
#include <string>

#include "control.h"
#include "event_loop.h"
#include "events.h"
#include "os/unique_fd.h"

namespace cinit {

class ControlFifo {
 public:
  using ReportFn = std::function<void(Event)>;

  ControlFifo(EventLoop* loop, ReportFn report)
      : loop_(loop), report_(std::move(report)) {}
  ~ControlFifo();
  ControlFifo(const ControlFifo&) = delete;
  ControlFifo& operator=(const ControlFifo&) = delete;

  // Creates and watches the FIFO at path.
  Status Open(const std::string& path);

 private:
  void OnReadable();

  EventLoop* loop_;
  ReportFn report_;
  os::UniqueFd fd_;
  control::Parser parser_;
  std::vector<control::Command> commands_;
};

}  // namespace cinit

#endif  // CINIT_CONTROL_FIFO_H_
