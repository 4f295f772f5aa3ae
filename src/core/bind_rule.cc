#include "bind_rule.h"

#include <arpa/inet.h>  // inet_ntop: formatting only
#include <netinet/in.h>
#include <sys/socket.h>

#include <cstring>

namespace cinit {
namespace {

uint16_t Port(const uint8_t* network_order) {
  return static_cast<uint16_t>((network_order[0] << 8) | network_order[1]);
}

}  // namespace

bool ParseSockaddr(std::span<const uint8_t> bytes, BindCall* call) {
  if (bytes.size() < sizeof(sa_family_t)) {
    return false;
  }
  sa_family_t family = 0;
  std::memcpy(&family, bytes.data(), sizeof(family));
  call->addr.fill(0);
  if (family == AF_INET && bytes.size() >= sizeof(sockaddr_in)) {
    call->port = Port(bytes.data() + offsetof(sockaddr_in, sin_port));
    std::memcpy(call->addr.data(), bytes.data() + offsetof(sockaddr_in, sin_addr), 4);
  } else if (family == AF_INET6 && bytes.size() >= sizeof(sockaddr_in6)) {
    call->port = Port(bytes.data() + offsetof(sockaddr_in6, sin6_port));
    std::memcpy(call->addr.data(), bytes.data() + offsetof(sockaddr_in6, sin6_addr), 16);
  } else {
    return false;
  }
  call->family = family;
  return true;
}

std::optional<ListenRequest> SharedBind(const BindCall& call) {
  if ((call.family != AF_INET && call.family != AF_INET6) || call.port <= 0 ||
      call.port > 65535 || call.domain != call.family || call.bound) {
    return std::nullopt;
  }
  ListenRequest request;
  if (call.type == SOCK_STREAM && call.protocol == IPPROTO_TCP) {
    request.transport = Transport::kTcp;
  } else if (call.type == SOCK_DGRAM && call.protocol == IPPROTO_UDP) {
    request.transport = Transport::kUdp;
  } else {
    return std::nullopt;
  }
  char text[INET6_ADDRSTRLEN] = {};
  if (inet_ntop(call.family, call.addr.data(), text, sizeof(text)) == nullptr) {
    return std::nullopt;
  }
  request.family = call.family == AF_INET6 ? ListenRequest::Family::kIPv6
                                           : ListenRequest::Family::kIPv4;
  request.host = text;
  request.port = call.port;
  request.v6only = call.family == AF_INET6 && call.v6only;
  return request;
}

ListenVerdict DecideListen(bool shared, bool listening) {
  if (!shared) {
    return ListenVerdict::kRealListen;
  }
  return listening ? ListenVerdict::kNothing : ListenVerdict::kRelisten;
}

}  // namespace cinit
