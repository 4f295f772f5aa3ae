#include "listener.h"

#include <fmt/format.h>

namespace cinit {

std::string ListenerSpec::Key() const {
  std::string host = address.empty() ? (ipv6 ? "[::]" : "0.0.0.0")
                                     : (ipv6 ? "[" + address + "]" : address);
  return fmt::format("{} {}:{}{}{}", transport == Transport::kUdp ? "udp" : "tcp", host,
                     port, ipv6 && !v6only ? " (IPv4 too)" : "",
                     reuseport_slot >= 0
                         ? fmt::format(" (SO_REUSEPORT, worker {})", reuseport_slot)
                         : "");
}

std::vector<ListenerSpec> ListenerCandidates(const ListenRequest& request) {
  using Family = ListenRequest::Family;
  Family family = request.family;
  if (family == Family::kUnspecified && !request.host.empty()) {
    family = request.host.find(':') != std::string::npos ? Family::kIPv6 : Family::kIPv4;
  }
  ListenerSpec spec;
  spec.transport = request.transport;
  spec.address = request.host == "0.0.0.0" || request.host == "::" ? "" : request.host;
  spec.port = request.port;
  spec.v6only = request.v6only;
  spec.reuseport_slot = request.transport == Transport::kTcp && request.port != 0
                            ? request.reuseport_slot
                            : -1;
  spec.ipv6 = family != Family::kIPv4;
  if (family != Family::kUnspecified) {
    if (!spec.ipv6) {
      spec.v6only = false;
    }
    return {spec};
  }
  ListenerSpec ipv4 = spec;
  ipv4.ipv6 = false;
  ipv4.v6only = false;
  return {spec, ipv4};
}

}  // namespace cinit
