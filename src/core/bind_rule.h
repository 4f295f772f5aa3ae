// BindRule: which bind() of a worker's tree is a bind of the port the workers
// share, and what listen() on a shared socket does. One rule, two front-ends: the
// LD_PRELOAD shim (its BIND message carries these facts: shim_codec.h) and the
// seccomp notifier, which reads them from the process (seccomp_server.h). Pure.
//
// A bind is the shared port's when the address is IPv4 or IPv6 with a port other
// than 0 (0 asks for a private ephemeral port), the socket is of that family and
// TCP or UDP, and it has no local port yet (a real bind would fail with EINVAL,
// and cinit must not swap a socket the program already uses). Everything else
// (AF_UNIX paths, port 0, raw or SCTP sockets, a second bind) is the real bind.
#ifndef CINIT_BIND_RULE_H_
#define CINIT_BIND_RULE_H_

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>

#include "listener.h"

namespace cinit {

// The facts of one bind(fd, addr, len).
struct BindCall {
  // From addr.
  int family = 0;                  // sa_family: AF_INET, AF_INET6, ...
  std::array<uint8_t, 16> addr{};  // network byte order; the first 4 for AF_INET
  int port = 0;                    // host byte order
  // From the socket fd names.
  int domain = 0;    // SO_DOMAIN
  int type = 0;      // SO_TYPE
  int protocol = 0;  // SO_PROTOCOL
  bool v6only = false;
  bool bound = false;  // it already has a local port (getsockname)
};

// Fills family, addr and port of *call from a struct sockaddr of len bytes (as a
// front-end read it from the program). Returns false when it is no IPv4/IPv6
// address of full length: such a bind is the real one.
bool ParseSockaddr(std::span<const uint8_t> bytes, BindCall* call);

// The request to answer with a shared socket, or nullopt: the real bind runs.
std::optional<ListenRequest> SharedBind(const BindCall& call);

// What listen() on a socket does.
enum class ListenVerdict {
  kRealListen,  // not a shared socket: the program's own listen() runs
  kNothing,     // a shared socket that listens: 0, and cinit's backlog stands
  kRelisten,    // a shared socket something shut down: cinit makes it listen again
};
ListenVerdict DecideListen(bool shared, bool listening);

}  // namespace cinit

#endif  // CINIT_BIND_RULE_H_
