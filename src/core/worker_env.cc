#include "worker_env.h"

#include <fmt/format.h>

namespace cinit {
namespace {

bool IsSetPerWorker(std::string_view name, std::string_view instance_var) {
  return name == instance_var || name == "NODE_UNIQUE_ID" || name == "NODE_CHANNEL_FD" ||
         name == "NODE_CHANNEL_SERIALIZATION_MODE" || name == "LISTEN_FDS" ||
         name == "LISTEN_PID" || name == "LISTEN_FDNAMES" || name == "LD_PRELOAD" ||
         name == "CINIT_SHIM_FD" || name == "CINIT_SHIM_SOCKET" ||
         name == "NOTIFY_SOCKET";
}

}  // namespace

void TakeInheritedEnv(const std::vector<std::string_view>& environ, WorkerEnvBase* base) {
  base->inherited.clear();
  base->ld_preload.clear();
  for (std::string_view entry : environ) {
    std::string_view name = entry.substr(0, entry.find('='));
    if (name == "LD_PRELOAD") {
      if (name.size() < entry.size()) {  // "LD_PRELOAD" without '=' sets nothing
        base->ld_preload = std::string(entry.substr(name.size() + 1));
      }
    } else if (!IsSetPerWorker(name, base->instance_var)) {
      base->inherited.emplace_back(entry);
    }
  }
}

WorkerLaunch PlanWorker(const WorkerEnvBase& base, int worker_id, int slot) {
  WorkerLaunch launch;
  std::vector<std::string>& env = launch.env;
  env.reserve(base.inherited.size() + 10);
  env = base.inherited;
  env.push_back(fmt::format("{}={}", base.instance_var, slot));
  int next_fd = 3;
  if (!base.listen_ports.empty()) {
    env.push_back(fmt::format("LISTEN_FDS={}", base.listen_ports.size()));
    env.push_back(fmt::format("LISTEN_FDNAMES={}", fmt::join(base.listen_ports, ":")));
    launch.set_listen_pid = true;
    next_fd += static_cast<int>(base.listen_ports.size());
  }
  if (!base.notify_socket.empty()) {
    env.push_back("NOTIFY_SOCKET=" + base.notify_socket);
  }
  if (base.node_channel) {
    launch.node_channel_fd = next_fd++;
    env.push_back(fmt::format("NODE_UNIQUE_ID={}", worker_id));
    env.push_back(fmt::format("NODE_CHANNEL_FD={}", launch.node_channel_fd));
    env.push_back("NODE_CHANNEL_SERIALIZATION_MODE=json");
  }
  if (!base.shim_path.empty()) {
    launch.shim_fd = next_fd++;
    env.push_back("LD_PRELOAD=" + base.shim_path +
                  (base.ld_preload.empty() ? "" : " " + base.ld_preload));
    env.push_back(fmt::format("CINIT_SHIM_FD={}", launch.shim_fd));
    if (!base.shim_socket.empty()) {
      env.push_back("CINIT_SHIM_SOCKET=" + base.shim_socket);
    }
  } else if (!base.ld_preload.empty()) {
    env.push_back("LD_PRELOAD=" + base.ld_preload);
  }
  return launch;
}

}  // namespace cinit
