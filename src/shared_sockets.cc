#include "shared_sockets.h"

#include <fmt/format.h>

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

int SharedSockets::Acquire(ListenRequest request, int slot) {
  request.reuseport_slot = reuseport_ ? slot : -1;
  return listeners_.Acquire(ListenerCandidates(request));
}

}  // namespace cinit
