// Workers: the shell side of cluster mode's processes. Carries out the Policy's
// SpawnWorker, AskWorkerToLeave and ForgetWorker; owns what the workers share and
// the protocol sources that listen to them. No policy: the Cluster decides.
//
// How a worker gets the shared port, by kind (one source each):
//   Node workers:   Node's IPC channel; cinit answers queryServer (node_channels.h)
//   other programs: the bind shim turns bind() into a request (shim_server.h),
//                   and the seccomp filter hands cinit the bind() the shim could
//                   not see (seccomp_server.h)
//   --listen:       the sockets are passed as LISTEN_FDS (worker_env.h)
//   and any worker: sd_notify READY=1 to $NOTIFY_SOCKET marks it online
//                   (notify_socket.h)
// A worker's id, slot and pid are kept once, in the WorkerTable, from its spawn
// until the Policy forgets it.
#ifndef CINIT_WORKERS_H_
#define CINIT_WORKERS_H_

#include <string>
#include <vector>

#include "event_loop.h"
#include "events.h"
#include "node_channels.h"
#include "notify_socket.h"
#include "options.h"
#include "seccomp_server.h"
#include "shared_sockets.h"
#include "shim_server.h"
#include "worker_env.h"
#include "worker_table.h"

namespace cinit {

class LogRelay;

class Workers {
 public:
  struct Config {
    std::vector<std::string> command;
    std::string instance_var;
    bool node_ipc = false;
    std::vector<ListenAddress> listen;
    int cwd_fd = -1;         // where workers start (cinit itself moved to "/")
    bool bind_shim = false;  // preload the bind shim (non-Node workers without --listen)
    bool bind_filter = false;        // the seccomp bind filter (the same workers)
    bool balance_reuseport = false;  // one SO_REUSEPORT socket per slot (--balance)
    LogRelay* relay = nullptr;       // --log-prefix: workers' stdout/stderr go here
  };

  Workers(Config config, EventLoop* loop);

  // Opens the --listen sockets (a failure is a start-up failure) and the shim's
  // file and socket (failures there are warnings). Each worker's notify socket is
  // opened by Spawn.
  Status Open();
  // Whether workers load the bind shim (it was asked for and could be written).
  bool has_shim() const { return !shim_.path().empty(); }
  // Whether workers get the seccomp bind filter (asked for, and it works here).
  bool has_bind_filter() const { return seccomp_.program() != nullptr; }

  // Starts the worker worker_id in slot. Returns the WorkerSpawned event.
  WorkerSpawned Spawn(int worker_id, int slot);
  // Sends 'shutdown' and Node's cluster disconnect to a Node worker.
  void AskToLeave(int worker_id);
  // Drops everything kept for the worker: its channels, its pid. Then repairs
  // the shared sockets (SharedSockets::Repair): a worker that exits may have
  // shut one down on its way out.
  void Forget(int worker_id);
  // The sockets the workers share; Repair() them before reporting on them.
  SharedSockets& sockets() { return sockets_; }

 private:
  Config config_;
  WorkerEnvBase env_;
  WorkerTable table_;
  SharedSockets sockets_;
  NodeChannels node_;
  ShimServer shim_;
  SeccompServer seccomp_;
  NotifySocket notify_;
};

}  // namespace cinit

#endif  // CINIT_WORKERS_H_
