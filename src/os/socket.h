// Sockets: the pairs that carry worker channels, the listening sockets cinit owns
// and shares with workers, and descriptor passing (SCM_RIGHTS).
//
// Every fd is created close-on-exec and non-blocking, but for the listening
// sockets cinit holds for its workers (Listeners), which cinit never accepts on:
// their mode is the one their workers need (Listeners::Acquire). Spawning places
// the ones a worker needs at fixed numbers (os/process.h).
#ifndef CINIT_OS_SOCKET_H_
#define CINIT_OS_SOCKET_H_

#include <sys/socket.h>
#include <sys/types.h>

#include <cerrno>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "listener.h"
#include "os/unique_fd.h"
#include "status.h"

namespace cinit::os {

enum class PairType {
  kStream,     // Node's IPC channel: a byte stream of lines
  kSeqpacket,  // the shim channel: one datagram per message
};

// socketpair(AF_UNIX, type): both ends close-on-exec and non-blocking.
Status SocketPair(PairType type, UniqueFd* ours, UniqueFd* theirs);

// Sends bytes, with fd attached by SCM_RIGHTS when fd >= 0. Returns bytes sent, or
// -errno (-EAGAIN when the socket is full). Never raises SIGPIPE.
ssize_t SendWithFd(int socket, std::string_view bytes, int fd);

// Reads what is available from a stream socket into buf. Returns bytes read, 0 on
// EOF, or -errno. Descriptors received by mistake are closed.
ssize_t Receive(int socket, char* buf, size_t size);

// Reads one datagram (SOCK_SEQPACKET) and the descriptors that came with it
// (close-on-exec; the caller owns them). Returns its length, 0 on EOF, or -errno.
ssize_t ReceiveDatagram(int socket, char* buf, size_t size, std::vector<UniqueFd>* fds);

// Creates a datagram socket bound to an abstract AF_UNIX name (no file, nothing to
// clean up) with SO_PASSCRED on, for sd_notify. Stores the name for
// $NOTIFY_SOCKET ("@cinit-notify-…") in *name.
Status NotifySocket(UniqueFd* fd, std::string* name);

// Creates a listening SOCK_SEQPACKET socket at a unique abstract AF_UNIX name
// (prefix-<random>), non-blocking and close-on-exec; stores "@prefix-…" in *name.
Status ListeningSeqpacket(std::string_view prefix, UniqueFd* fd, std::string* name);

// Accepts one connection, close-on-exec and non-blocking. Returns it, or -errno
// (-EAGAIN when none is pending).
int Accept(int listener);

// Out of descriptors (accept: EMFILE/ENFILE) a level-triggered listener stays
// readable and the loop would spin on it. The way out is one spare descriptor,
// kept for this: KeepSpareFd() makes it (call when opening a listener);
// ShedConnection() gives it up for a moment to accept the oldest pending
// connection and close it at once, then takes it back. Returns true when a
// connection was shed, false when none was pending or there is no spare.
void KeepSpareFd();
bool ShedConnection(int listener);

// True for the accept() errors that mean "out of descriptors".
inline bool OutOfFds(int error) { return error == EMFILE || error == ENFILE; }

// Sends what fits of bytes without blocking and without SIGPIPE. Returns the
// bytes sent, or -errno (-EAGAIN when the socket is full).
ssize_t SendSome(int socket, std::string_view bytes);

// Who is at the other end of a Unix socket, as the kernel says (SO_PEERCRED at
// connect time, or SCM_CREDENTIALS of a datagram), in cinit's pid namespace.
struct Peer {
  int pid = 0;  // 0: unknown
  int uid = -1;
};

// Accepts one connection (close-on-exec, non-blocking) and its peer. Returns 0,
// or -errno (-EAGAIN when none is pending, -EMFILE when out of descriptors).
int AcceptPeer(int listener, UniqueFd* connection, Peer* peer);

// Reads one sd_notify datagram and its sender. Returns its length, or -errno
// (-EAGAIN when drained).
ssize_t ReceiveNotify(int socket, char* buf, size_t size, Peer* peer);

// Creates, binds and (for TCP) listens the first of candidates that works (the
// order comes from ListenerCandidates, listener.h), non-blocking, for cinit's own
// accept(). Returns it, or the last -errno.
int OpenListener(const std::vector<ListenerSpec>& candidates);

// What Listeners::Repair found wrong with one TCP socket, and what came of it.
struct ListenerRepair {
  std::string key;            // ListenerSpec::Key()
  bool was_listening = true;  // false: shut down (a worker's shutdown(SHUT_RD))
  int backlog_seen = 0;       // when listening: the backlog a worker set
  int backlog = 0;            // cinit's backlog (listen(SOMAXCONN), as capped)
  int error = 0;              // errno of the failed listen(); 0: it listens again
};

// The sockets cinit owns for its workers, created on first request and kept until
// Close, so a port does not close while workers come and go.
class Listeners {
 public:
  // Returns the socket for the first of candidates that cinit holds or can open
  // (creating, binding and, for TCP, listening it the first time), or the last
  // -errno. nonblocking: the socket is made O_NONBLOCK (also one already held),
  // for Node workers, whose libuv accepts on what it is given without setting it
  // (measured: Node 20); else a new socket is blocking, as systemd passes
  // LISTEN_FDS, and one already held keeps its mode.
  int Acquire(const std::vector<ListenerSpec>& candidates, bool nonblocking);
  // Closes cinit's socket fd (the port closes unless a process still has a copy).
  void Close(int fd);
  size_t size() const { return sockets_.size(); }
  // Whether one of the sockets held is the file of this inode (a copy of it in a
  // worker's fd table names the same inode).
  bool HoldsInode(uint64_t inode) const;

  // Every TCP socket held is the one socket of all its workers, so a worker that
  // shuts it down (shutdown(SHUT_RD), on Linux the end of listening) or calls
  // listen(fd, 5) changes it for all. Repair finds both (SO_ACCEPTCONN; the
  // backlog from TCP_INFO) and calls listen(SOMAXCONN) again, which on Linux
  // makes a shut-down socket listen on its port again (a socket bound to port 0
  // is bound to the port it had first) and restores the backlog. Returns one
  // entry per socket that needed it; none when all is well (a few getsockopt()
  // calls per socket, no allocation).
  std::vector<ListenerRepair> Repair();

 private:
  struct Held {
    UniqueFd fd;
    ListenerSpec spec;
    sockaddr_storage address{};  // where it is bound (the real port for port 0)
    socklen_t address_length = 0;
    int backlog = 0;  // as the kernel took listen(SOMAXCONN); 0 for UDP
  };
  std::map<std::string, Held> sockets_;
};

}  // namespace cinit::os

#endif  // CINIT_OS_SOCKET_H_
