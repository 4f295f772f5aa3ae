#include "signal_source.h"

#include "cluster.h"
#include "os/epoll.h"

namespace cinit {

SignalSource::~SignalSource() {
  if (signal_fd_.fd() >= 0) {
    loop_->Unwatch(signal_fd_.fd());
  }
}

Status SignalSource::Open() {
  if (Status s = os::SignalFd::Open(&signal_fd_); !s.ok()) {
    return s;
  }
  return loop_->Watch(signal_fd_.fd(), os::kReadable,
                      [this](uint32_t, EventQueue* queue) { OnReady(queue); });
}

void SignalSource::OnReady(EventQueue* queue) {
  signals_.clear();
  signal_fd_.ReadAll(&signals_);
  for (int signo : signals_) {
    queue->push_back(ClusterSignalEvent(signo));
  }
}

}  // namespace cinit
