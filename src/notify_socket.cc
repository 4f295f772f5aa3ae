#include "notify_socket.h"

#include "log.h"
#include "notify.h"
#include "os/epoll.h"
#include "os/socket.h"

namespace cinit {

NotifySocket::~NotifySocket() {
  if (fd_.valid()) {
    loop_->Unwatch(fd_.get());
  }
}

void NotifySocket::Open() {
  std::string name;
  if (Status s = os::NotifySocket(&fd_, &name); !s.ok()) {
    Log(Level::kWarning, "no NOTIFY_SOCKET for workers: {}", s.message());
    return;
  }
  if (loop_
          ->Watch(fd_.get(), os::kReadable,
                  [this](uint32_t, EventQueue* queue) { OnReady(queue); })
          .ok()) {
    name_ = std::move(name);
  }
}

void NotifySocket::OnReady(EventQueue* queue) {
  for (int round = 0; round < 16; ++round) {
    char buf[4096];
    os::Peer peer;
    ssize_t n = os::ReceiveNotify(fd_.get(), buf, sizeof(buf), &peer);
    if (n < 0) {
      return;  // EAGAIN (drained); nothing else can fail on a bound datagram socket
    }
    if (!notify::SaysReady(std::string_view(buf, static_cast<size_t>(n)))) {
      continue;
    }
    if (auto worker = table_->OfPeer(peer)) {
      queue->push_back(WorkerReport{*worker, WorkerReport::Kind::kReady});
    } else {
      Log(Level::kWarning,
          "notify socket: ignored READY=1 from pid {} (uid {}), which is "
          "no live worker's",
          peer.pid, peer.uid);
    }
  }
}

}  // namespace cinit
