// shim_protocol.h: the wire format between cinit and its LD_PRELOAD shim
// (cinit_shim.so), version 1. A plain C header (C11 or later, C++17 or later):
// constants and fixed-size message structs only, no functions.
//
// The shim lets an unmodified, dynamically linked program that calls bind() on
// the cluster's TCP port use a listening socket that cinit owns: every worker
// gets the same socket, so the port stays open while cinit lives, also across
// rolling reloads. The shim fails open: whenever cinit cannot be asked or does
// not answer, the program gets the real bind() it asked for.
//
// ---------------------------------------------------------------------------
// Channel
//
//   cinit creates one socketpair(AF_UNIX, SOCK_SEQPACKET) per worker and
//   passes one end to the worker, not close-on-exec, named by the environment
//   variable CINIT_SHIM_FD=<decimal fd>, next to LD_PRELOAD=<path of the shim>.
//   cinit keeps the other end and reads it.
//
//   SOCK_SEQPACKET because it keeps message boundaries (one sendmsg() is one
//   recvmsg(), so fixed-size structs need no framing and no partial-read
//   logic in a libc-free shim) and is connection-oriented (the reader sees EOF
//   when the other side has gone away).
//
//   Everything a worker execs inherits both variables and the fd (`sh -c` ->
//   python3, or whatever the program spawns), so one channel may carry
//   messages from several processes. They are told apart by `pid`.
//
// Messages
//
//   Every message is one SEQPACKET datagram that starts with
//   struct cinit_shim_header. Integers are in the host's byte order (both ends
//   run on the same machine), except BIND's `addr`, which is in network byte
//   order as in struct sockaddr_in{,6}. `magic` is 'C','I','S','H' in memory
//   (0x48534943 read as a little-endian u32). A receiver accepts a message
//   only when magic, version and type are known and the datagram length is
//   exactly sizeof() the struct for that type; anything else is ignored (a
//   HELLO) or declined (a BIND, see below).
//
//   HELLO (shim -> cinit, on the channel; struct cinit_shim_hello)
//     Sent once per process image that loads the shim, from its ELF
//     constructor, before main(). Non-blocking: dropped if the channel is
//     full. It exists because a preload can fail silently: glibc prints an
//     error and runs the program without the shim when the object cannot be
//     loaded; musl ignores LD_PRELOAD in secure mode; static binaries (and Go)
//     never load it. cinit should warn when a worker it expects to bind the
//     shared port sends no HELLO within a few seconds of its start.
//
//   BIND (shim -> cinit, on the channel; struct cinit_shim_bind_request)
//     Sent from bind(fd, addr, len) when all of these hold:
//       - the shim found a usable CINIT_SHIM_FD (an AF_UNIX SOCK_SEQPACKET
//         socket) at load time, and it still is one;
//       - addr is AF_INET or AF_INET6, len covers the whole sockaddr, and the
//         port is not 0 (port 0 asks for a private ephemeral port);
//       - the socket's SO_DOMAIN equals addr's family and (SO_TYPE,
//         SO_PROTOCOL) is (SOCK_STREAM, IPPROTO_TCP) or (SOCK_DGRAM,
//         IPPROTO_UDP);
//       - the socket has no local port yet (getsockname), i.e. a real bind
//         would not fail with EINVAL.
//     Every other bind() (AF_UNIX paths, port 0, other families, types or
//     protocols, no channel) is the real bind syscall, unchanged.
//     The datagram carries exactly one fd by SCM_RIGHTS: one end of a fresh
//     socketpair(AF_UNIX, SOCK_SEQPACKET), the reply channel. The shim closes
//     its copy of that end right after sending and waits for the REPLY on the
//     other end. A private pair per request routes each reply to the thread
//     that asked, with no lock and no request id, even when several processes
//     and threads share the inherited channel.
//
//   REPLY (cinit -> shim, on the reply channel; struct cinit_shim_reply)
//     error == 0: exactly one fd is attached by SCM_RIGHTS, the socket to
//       use. It must have the requested family and type (the shim checks
//       SO_DOMAIN and SO_TYPE and declines a mismatch); for SOCK_STREAM it is
//       normally already listening. The shim sets O_NONBLOCK on it when the
//       caller's socket has it (it never clears it: the open file description
//       is every holder's), dup3()s it over the
//       caller's fd (with O_CLOEXEC when the caller's fd had FD_CLOEXEC),
//       closes the received copy, and bind() returns 0.
//     error in 1..4095: bind() fails with errno = error (e.g. EADDRINUSE,
//       EADDRNOTAVAIL or EAFNOSUPPORT when [::] is impossible). Attached fds
//       are closed.
//     cinit answers at most once, then closes its end.
//
//   Declining: cinit may close the reply channel without writing (e.g. the
//   port is not one it shares, or the request's version is unknown). The shim
//   then does the real bind. A dead cinit, a send that fails, a malformed
//   reply, an errno out of range, fds lost to MSG_CTRUNC or a socket of the
//   wrong kind all end the same way: every "don't know" gives the program its
//   unmodified behaviour (fail open). The shim has no timeout: cinit's death
//   closes the reply channel (also while the request is still queued), which
//   ends the wait.
//
// listen()
//   listen() on a socket that is already listening only sets its backlog
//   (Linux). The shared socket has one accept queue for every worker, so a
//   worker's listen(5) (Python's socketserver default) would shrink it for all.
//   The shim therefore makes listen() on a socket it got from cinit
//   (recognised by SO_COOKIE) a no-op returning 0 while it listens, and
//   listen(fd, SOMAXCONN), cinit's own backlog, when it does not (something
//   that bypassed the shim shut it down); any other listen() is the real
//   syscall. The backlog is cinit's to choose.
//
// shutdown()
//   shutdown(SHUT_RD or SHUT_RDWR) of a listener stops the kernel listening on
//   that socket, and the shared socket is every worker's: one worker that
//   stops (WEBrick, socat) would refuse connections for all. On a socket it
//   got from cinit the shim never calls shutdown(); it puts a fresh, unbound
//   socket of the same domain, type and protocol on the caller's fd instead
//   (dup3, keeping the fd's FD_CLOEXEC and its file status flags) and returns
//   0. From the caller's side that socket is a shut-down listener: SO_ACCEPTCONN
//   is 0, accept() fails with EINVAL, poll() reports POLLOUT|POLLHUP. For a
//   datagram socket the fresh one gets the shutdown() itself, which fails
//   with ENOTCONN (unconnected) as the shared one would have, and marks it
//   (reads end, POLLHUP). SHUT_WR alone changes nothing on a listener (Linux),
//   so the shim returns 0 and leaves the fd alone; a `how` other than SHUT_RD,
//   SHUT_WR or SHUT_RDWR is EINVAL. Limits: a thread already blocked in
//   accept() or recv() on that fd keeps waiting on the shared socket (the
//   real shutdown() would wake it with an error), and getsockname() on the
//   fresh socket gives port 0. cinit listens again on a shared socket it
//   finds shut down anyway (workers that bypass the shim), see README.
//
// Versioning
//   `version` is CINIT_SHIM_VERSION in every message. A change of layout or
//   meaning takes a new version; a cinit that knows several versions answers
//   a request in the version it came in. A shim only accepts a REPLY of its
//   own version.
// ---------------------------------------------------------------------------
#ifndef CINIT_SHIM_SHIM_PROTOCOL_H_
#define CINIT_SHIM_SHIM_PROTOCOL_H_

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

// Name of the environment variable that carries the channel's fd number.
#define CINIT_SHIM_ENV "CINIT_SHIM_FD"
// Name of the environment variable naming cinit's shim socket ("@name": an
// abstract AF_UNIX SOCK_SEQPACKET socket cinit listens on). A process in which
// CINIT_SHIM_FD is not an open channel (a parent closed it: Node's child_process
// passes only stdio, so `npm start` -> node loses it) connects there instead and
// speaks the same protocol on that connection. cinit tells workers apart by the
// connecting process's pid (SO_PEERCRED) and its ancestry.
#define CINIT_SHIM_SOCKET_ENV "CINIT_SHIM_SOCKET"

// 'C','I','S','H' in memory on a little-endian host.
#define CINIT_SHIM_MAGIC 0x48534943u
#define CINIT_SHIM_VERSION 1u

// Values of cinit_shim_header.type.
#define CINIT_SHIM_TYPE_HELLO 1u
#define CINIT_SHIM_TYPE_BIND 2u
#define CINIT_SHIM_TYPE_REPLY 3u

// Largest errno a REPLY may carry (the kernel's MAX_ERRNO).
#define CINIT_SHIM_MAX_ERRNO 4095

struct cinit_shim_header {
  uint32_t magic;    // CINIT_SHIM_MAGIC
  uint16_t version;  // CINIT_SHIM_VERSION
  uint16_t type;     // CINIT_SHIM_TYPE_*
  int32_t pid;       // the sender's pid (getpid(), not a thread id)
};

// HELLO: the header alone. 12 bytes, no fd.
struct cinit_shim_hello {
  struct cinit_shim_header header;
};

// BIND: 52 bytes, exactly one fd attached (the reply channel).
struct cinit_shim_bind_request {
  struct cinit_shim_header header;
  int32_t family;     // AF_INET or AF_INET6 (the socket's SO_DOMAIN)
  int32_t socktype;   // SOCK_STREAM or SOCK_DGRAM (SO_TYPE, no flags)
  int32_t protocol;   // IPPROTO_TCP or IPPROTO_UDP (SO_PROTOCOL)
  int32_t v6only;     // IPV6_V6ONLY of the caller's socket (0 or 1); 0 for AF_INET
  uint16_t port;      // host byte order, never 0
  uint16_t reserved;  // 0
  // Network byte order: sin6_addr, or sin_addr in the first 4 bytes and
  // zeros after it.
  uint8_t addr[16];
  uint32_t scope_id;  // sin6_scope_id (link-local addresses); 0 for AF_INET
};

// REPLY: 16 bytes; with error == 0 exactly one fd attached (the socket).
struct cinit_shim_reply {
  struct cinit_shim_header header;  // pid: cinit's pid, informational
  int32_t error;                    // 0, or an errno value in 1..CINIT_SHIM_MAX_ERRNO
};

// The layout is the protocol: pin it.
#ifdef __cplusplus
#define CINIT_SHIM_STATIC_ASSERT(cond, msg) static_assert(cond, msg)
#else
#define CINIT_SHIM_STATIC_ASSERT(cond, msg) _Static_assert(cond, msg)
#endif
CINIT_SHIM_STATIC_ASSERT(sizeof(struct cinit_shim_header) == 12, "header size");
CINIT_SHIM_STATIC_ASSERT(sizeof(struct cinit_shim_hello) == 12, "HELLO size");
CINIT_SHIM_STATIC_ASSERT(sizeof(struct cinit_shim_bind_request) == 52, "BIND size");
CINIT_SHIM_STATIC_ASSERT(offsetof(struct cinit_shim_bind_request, port) == 28,
                         "BIND port offset");
CINIT_SHIM_STATIC_ASSERT(offsetof(struct cinit_shim_bind_request, addr) == 32,
                         "BIND addr offset");
CINIT_SHIM_STATIC_ASSERT(offsetof(struct cinit_shim_bind_request, scope_id) == 48,
                         "BIND scope_id offset");
CINIT_SHIM_STATIC_ASSERT(sizeof(struct cinit_shim_reply) == 16, "REPLY size");
#undef CINIT_SHIM_STATIC_ASSERT

#ifdef __cplusplus
}  // extern "C"
#endif

#endif  // CINIT_SHIM_SHIM_PROTOCOL_H_
