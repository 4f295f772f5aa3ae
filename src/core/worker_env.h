// WorkerEnv: what a cluster worker finds in its environment and at fds 3, 4, …
// Pure: the shell passes cinit's own environment in and spawns with what comes out.
//
// Descriptors from 3 up, in this order: the --listen sockets (LISTEN_FDS), then the
// worker's end of Node's IPC socketpair (NODE_CHANNEL_FD), then of the shim channel
// (CINIT_SHIM_FD). Variables cinit sets per worker replace inherited ones of the
// same name; an inherited LD_PRELOAD is kept, after the bind shim.
#ifndef CINIT_WORKER_ENV_H_
#define CINIT_WORKER_ENV_H_

#include <string>
#include <string_view>
#include <vector>

namespace cinit {

// What every worker of this cinit shares.
struct WorkerEnvBase {
  // cinit's environment without the variables set per worker (and without
  // LD_PRELOAD, which is kept apart in ld_preload).
  std::vector<std::string> inherited;
  std::string ld_preload;         // the LD_PRELOAD cinit inherited, if any
  std::string instance_var;       // Options::instance_var
  std::vector<int> listen_ports;  // --listen, in order: LISTEN_FDS and their names
  std::string notify_socket;      // NOTIFY_SOCKET ("@…"), empty: none
  std::string shim_path;          // the bind shim's file, empty: no shim
  std::string shim_socket;        // CINIT_SHIM_SOCKET, empty: none
  bool node_channel = false;      // workers get Node's IPC channel
};

// Splits cinit's environment ("NAME=value" entries) into base.inherited and
// base.ld_preload. instance_var must be set first.
void TakeInheritedEnv(const std::vector<std::string_view>& environ, WorkerEnvBase* base);

// One worker's environment and where its descriptors go.
struct WorkerLaunch {
  std::vector<std::string> env;
  int node_channel_fd = -1;  // the fd number the worker finds it at, -1: none
  int shim_fd = -1;
  bool set_listen_pid = false;  // LISTEN_PID must name the child (known after fork)
};

// The environment of the worker with this id (NODE_UNIQUE_ID) in slot (the
// instance variable).
WorkerLaunch PlanWorker(const WorkerEnvBase& base, int worker_id, int slot);

}  // namespace cinit

#endif  // CINIT_WORKER_ENV_H_
