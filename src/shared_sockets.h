// SharedSockets: the listening sockets cinit owns for its workers, opened on first
// request, so a port stays open while workers come and go (a restart, a reload).
// Every way of asking goes through the one rule of listener.h.
//
// Bounded: a socket is in use while a live worker has asked for it; once none has
// (its workers were forgotten), it is kept for the next one, but at most
// kMaxUnused such sockets are kept (the least recently asked for goes first). The
// --listen sockets are kept for cinit's life.
//
// Every TCP socket is the one listener of all its workers, so a worker that
// bypasses the bind shim (a --listen program, a static binary) can shut it down
// or shrink its backlog for all. Repair() puts it back (os::Listeners::Repair);
// the shell calls it after every worker exit and before it answers a probe.
#ifndef CINIT_SHARED_SOCKETS_H_
#define CINIT_SHARED_SOCKETS_H_

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "listener.h"
#include "options.h"
#include "os/socket.h"

namespace cinit {

class SharedSockets {
 public:
  // reuseport: --balance reuseport (one SO_REUSEPORT socket per worker slot).
  explicit SharedSockets(bool reuseport) : reuseport_(reuseport) {}

  // Opens the --listen sockets, in order. A failure is a start-up failure.
  Status OpenListen(const std::vector<ListenAddress>& addresses);
  // The --listen sockets, in order: the workers' fds 3, 4, …
  const std::vector<int>& listen_fds() const { return listen_fds_; }

  static constexpr size_t kMaxUnused = 16;

  // The socket for worker_id of slot asking for request: its slot's own under
  // --balance reuseport, else the one all share. Returns it, or -errno.
  // nonblocking: see os::Listeners::Acquire (Node workers need it; the bind shim
  // sets the app's own mode, and --listen sockets are blocking).
  int Acquire(ListenRequest request, int slot, int worker_id, bool nonblocking);
  // worker_id is gone: its sockets are unused unless another live worker asked.
  void Release(int worker_id);
  // Whether the socket of this inode is one cinit holds for its workers.
  bool Holds(uint64_t inode) const { return inode != 0 && listeners_.HoldsInode(inode); }
  // How many sockets cinit holds for its workers (the --listen ones included).
  size_t held() const { return listeners_.size(); }

  // Makes every TCP socket listen again with cinit's backlog where a worker
  // shut it down or shrank its backlog. Logs a warning for each socket found
  // shut down (once while listening again keeps failing) and counts each one
  // that listens again; a restored backlog is logged at info level.
  void Repair();
  // Shut-down sockets that Repair made listen again, since cinit started.
  uint64_t restored() const { return restored_; }
  // The keys of the sockets that do not listen, as the last Repair left them.
  const std::vector<std::string>& not_listening() const { return not_listening_; }

 private:
  struct Use {
    std::set<int> workers;  // live workers that asked for it
    uint64_t last = 0;      // when it was last asked for (a counter)
  };
  void Trim();

  bool reuseport_;
  os::Listeners listeners_;
  std::vector<int> listen_fds_;  // owned by listeners_
  std::map<int, Use> uses_;      // by fd; not the --listen sockets
  uint64_t clock_ = 0;
  uint64_t restored_ = 0;
  std::vector<std::string> not_listening_;
};

}  // namespace cinit

#endif  // CINIT_SHARED_SOCKETS_H_
