// Listener: the one rule that turns "listen on this address" into the sockets to
// try, for every way a listening socket is asked for: --listen, a Node worker's
// queryServer, a bind() the shim forwards, and --health. Pure.
//
// The rule:
//   - the family is the one asked for; when none is (a --listen or --health host, a
//     Node listen() with an address), it follows the host: a ':' in it is IPv6, any
//     other host IPv4, no host at all means every address: IPv6 dual-stack first,
//     IPv4 where the kernel has no IPv6 (as Node does for listen(port));
//   - "0.0.0.0" and "::" are "every address of that family";
//   - with a reuseport slot (--balance reuseport), a TCP socket of a real port is
//     that slot's own SO_REUSEPORT socket; port 0 ("any free port") always stays
//     one socket, or the workers' ports would differ.
#ifndef CINIT_LISTENER_H_
#define CINIT_LISTENER_H_

#include <string>
#include <vector>

namespace cinit {

enum class Transport { kTcp, kUdp };

// One socket to open (or to find among those cinit already holds: Key()).
struct ListenerSpec {
  Transport transport = Transport::kTcp;
  bool ipv6 = false;
  std::string address;  // numeric; empty means every address of the family
  int port = 0;
  bool v6only = false;
  int reuseport_slot = -1;  // >= 0: that slot's own SO_REUSEPORT socket
  // Names the socket: "tcp [::]:8080 (IPv4 too)"; equal keys are one socket.
  std::string Key() const;
  bool operator==(const ListenerSpec&) const = default;
};

struct ListenRequest {
  enum class Family { kUnspecified, kIPv4, kIPv6 };
  Transport transport = Transport::kTcp;
  Family family = Family::kUnspecified;
  std::string host;  // numeric, no brackets; empty: every address
  int port = 0;
  bool v6only = false;
  int reuseport_slot = -1;  // the asking worker's slot under --balance reuseport
};

// The sockets to try for request, in order: the first that opens is the answer.
// One or two (dual-stack IPv6, then IPv4).
std::vector<ListenerSpec> ListenerCandidates(const ListenRequest& request);

}  // namespace cinit

#endif  // CINIT_LISTENER_H_
