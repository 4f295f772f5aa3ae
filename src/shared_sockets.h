// SharedSockets: the listening sockets cinit owns for its workers, opened on first
// request and kept for cinit's whole life, so a port never closes while workers
// come and go. Every way of asking goes through the one rule of listener.h.
#ifndef CINIT_SHARED_SOCKETS_H_
#define CINIT_SHARED_SOCKETS_H_

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

  // The socket for a worker of slot asking for request: its slot's own under
  // --balance reuseport, else the one all share. Returns it, or -errno.
  int Acquire(ListenRequest request, int slot);

 private:
  bool reuseport_;
  os::Listeners listeners_;
  std::vector<int> listen_fds_;  // owned by listeners_
};

}  // namespace cinit

#endif  // CINIT_SHARED_SOCKETS_H_
