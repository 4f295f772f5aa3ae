#include "control_fifo.h"

#include <cerrno>

#include "log.h"
#include "os/epoll.h"
#include "os/fifo.h"
#include "os/io.h"

namespace cinit {

ControlFifo::~ControlFifo() {
  if (fd_.valid()) {
    loop_->Unwatch(fd_.get());
  }
}

Status ControlFifo::Open(const std::string& path) {
  if (Status s = os::OpenControlFifo(path, &fd_); !s.ok()) {
    return s;
  }
  Log(Level::kInfo, "control FIFO at {} (commands: reload, scale N)", path);
  return loop_->Watch(fd_.get(), os::kReadable,
                      [this](uint32_t, EventQueue* queue) { OnReadable(queue); });
}

void ControlFifo::OnReadable(EventQueue* queue) {
  char buf[4096];
  // Bounded per wake-up: a writer flooding the FIFO cannot starve the loop.
  for (int round = 0; round < 16; ++round) {
    ssize_t n = os::Read(fd_.get(), buf, sizeof(buf));
    if (n <= 0) {
      return;  // EAGAIN: drained. (No EOF: cinit holds a writer itself.)
    }
    commands_.clear();
    parser_.Feed(std::string_view(buf, static_cast<size_t>(n)), &commands_);
    for (const auto& command : commands_) {
      if (std::holds_alternative<control::Reload>(command)) {
        queue->push_back(ReloadRequested{"control FIFO", ReloadTrigger::kControl});
      } else if (const auto* scale = std::get_if<control::Scale>(&command)) {
        queue->push_back(ScaleRequested{scale->workers});
      } else {
        Log(Level::kWarning, "control FIFO: ignoring {}",
            std::get<control::Invalid>(command).why);
      }
    }
  }
}

}  // namespace cinit
