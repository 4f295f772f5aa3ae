#include "shared_sockets.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>

#include "log.h"

namespace cinit {

Status SharedSockets::OpenListen(const std::vector<ListenAddress>& addresses) {
  for (const auto& address : addresses) {
    ListenRequest request;
    request.host = address.host;
    request.port = address.port;
    int fd = listeners_.Acquire(ListenerCandidates(request), /*nonblocking=*/false);
    if (fd < 0) {
      return Status::Error(fmt::format("--listen {}:{}: {}", address.host, address.port,
                                       std::strerror(-fd)));
    }
    listen_fds_.push_back(fd);
  }
  return Status::Ok();
}

int SharedSockets::Acquire(ListenRequest request, int slot, int worker_id,
                           bool nonblocking) {
  request.reuseport_slot = reuseport_ ? slot : -1;
  int fd = listeners_.Acquire(ListenerCandidates(request), nonblocking);
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

void SharedSockets::Repair() {
  std::vector<os::ListenerRepair> repairs = listeners_.Repair();
  if (repairs.empty() && not_listening_.empty()) {
    return;
  }
  std::vector<std::string> still_down;
  for (const os::ListenerRepair& repair : repairs) {
    const bool was_down = std::find(not_listening_.begin(), not_listening_.end(),
                                    repair.key) != not_listening_.end();
    if (repair.was_listening) {
      Log(Level::kInfo, "{}: a worker set its backlog to {}; back to cinit's {}",
          repair.key, repair.backlog_seen, repair.backlog);
    } else if (repair.error == 0) {
      ++restored_;
      Log(Level::kWarning,
          "{}: not listening (a worker shut it down); cinit made it listen again",
          repair.key);
    } else {
      still_down.push_back(repair.key);
      if (!was_down) {
        Log(Level::kWarning,
            "{}: not listening (a worker shut it down), and cinit cannot make it "
            "listen again: {}; /readyz says 503 until it can",
            repair.key, std::strerror(repair.error));
      }
    }
  }
  not_listening_ = std::move(still_down);
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
