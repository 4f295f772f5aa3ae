#include "shared_sockets.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>

namespace cinit {

Status SharedSockets::OpenListen(const std::vector<ListenAddress>& addresses) {
  for (const auto& address : addresses) {
    ListenRequest request;
    request.host = address.host;
    request.port = address.port;
    int fd = listeners_.Acquire(ListenerCandidates(request));
    if (fd < 0) {
      return Status::Error(fmt::format("--listen {}:{}: {}", address.host, address.port,
                                       std::strerror(-fd)));
    }
    listen_fds_.push_back(fd);
  }
  return Status::Ok();
}

int SharedSockets::Acquire(ListenRequest request, int slot, int worker_id) {
  request.reuseport_slot = reuseport_ ? slot : -1;
  int fd = listeners_.Acquire(ListenerCandidates(request));
  if (fd >= 0 &&
      std::find(listen_fds_.begin(), listen_fds_.end(), fd) == listen_fds_.end()) {
    Use& use = uses_[fd];
    use.workers.insert(worker_id);
    use.last = ++clock_;
    Trim();
  }
  return fd;
}

void SharedSockets::Release(int worker_id) {
  for (auto& [fd, use] : uses_) {
    use.workers.erase(worker_id);
  }
  Trim();
}

void SharedSockets::Trim() {
  for (;;) {
    size_t unused = 0;
    auto oldest = uses_.end();
    for (auto it = uses_.begin(); it != uses_.end(); ++it) {
      if (it->second.workers.empty()) {
        ++unused;
        if (oldest == uses_.end() || it->second.last < oldest->second.last) {
          oldest = it;
        }
      }
    }
    if (unused <= kMaxUnused) {
      return;
    }
    listeners_.Close(oldest->first);
    uses_.erase(oldest);
  }
}

}  // namespace cinit
