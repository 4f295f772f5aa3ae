#include "notify_socket.h"

#include "log.h"
#include "notify.h"
#include "os/epoll.h"
#include "os/process.h"
#include "os/socket.h"

namespace cinit {

NotifySocket::~NotifySocket() {
  for (auto& [id, fd] : sockets_) {
    loop_->Unwatch(fd.get());
  }
}

std::string NotifySocket::Add(int worker_id) {
  os::UniqueFd fd;
  std::string name;
  if (Status s = os::NotifySocket(&fd, &name); !s.ok()) {
    Log(Level::kWarning, "no NOTIFY_SOCKET for worker id {}: {}", worker_id, s.message());
    return {};
  }
  const int number = fd.get();
  if (!loop_
           ->Watch(number, os::kReadable,
                   [this, number, worker_id](uint32_t, EventQueue* queue) {
                     OnReady(number, worker_id, queue);
                   })
           .ok()) {
    return {};
  }
  sockets_[worker_id] = std::move(fd);
  return name;
}

void NotifySocket::Drop(int worker_id) {
  auto it = sockets_.find(worker_id);
  if (it == sockets_.end()) {
    return;
  }
  loop_->Unwatch(it->second.get());
  sockets_.erase(it);
}

void NotifySocket::OnReady(int fd, int worker_id, EventQueue* queue) {
  for (int round = 0; round < 16; ++round) {
    char buf[4096];
    os::Peer peer;
    ssize_t n = os::ReceiveNotify(fd, buf, sizeof(buf), &peer);
    if (n < 0) {
      return;  // EAGAIN (drained); nothing else can fail on a bound datagram socket
    }
    if (!notify::SaysReady(std::string_view(buf, static_cast<size_t>(n)))) {
      continue;
    }
    const WorkerTable::Entry* worker = table_->Find(worker_id);
    bool trusted = false;
    if (worker != nullptr && os::StartTimeOf(peer.pid) != 0) {
      trusted = table_->OfPeer(peer) == worker_id;  // alive: must be of its tree
    } else if (worker != nullptr) {
      trusted = table_->MaySpeakFor(peer, *worker);  // gone: its uid must fit
    }
    if (trusted) {
      queue->push_back(WorkerReport{worker_id, WorkerReport::Kind::kReady});
      continue;
    }
    Log(Level::kWarning,
        "notify socket: ignored READY=1 from pid {} (uid {}), which is not worker id "
        "{}'s",
        peer.pid, peer.uid, worker_id);
  }
}

}  // namespace cinit
