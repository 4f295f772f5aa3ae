#include "workers.h"

#include "log.h"
#include "log_relay.h"
#include "os/io.h"
#include "os/pid1.h"
#include "os/process.h"
#include "os/socket.h"

namespace cinit {

Workers::Workers(Config config, EventLoop* loop)
    : config_(std::move(config)),
      table_(os::OwnUid()),
      sockets_(config_.balance_reuseport),
      node_(loop, &table_, &sockets_),
      shim_(loop, &table_, &sockets_),
      seccomp_(loop, &table_, &sockets_),
      notify_(loop, &table_) {
  env_.instance_var = config_.instance_var;
  TakeInheritedEnv(os::Environment(), &env_);
  env_.node_channel = config_.node_ipc;
  for (const auto& address : config_.listen) {
    env_.listen_ports.push_back(address.port);
  }
}

Status Workers::Open() {
  if (Status s = sockets_.OpenListen(config_.listen); !s.ok()) {
    return s;
  }
  if (config_.bind_shim) {
    shim_.Open();
    env_.shim_path = shim_.path();
    env_.shim_socket = shim_.socket_name();
  }
  if (config_.bind_filter) {
    seccomp_.Open();
  }
  return Status::Ok();
}

WorkerSpawned Workers::Spawn(int worker_id, int slot) {
  WorkerLaunch launch = PlanWorker(env_, worker_id, slot);
  os::SpawnSpec spec;
  spec.argv = config_.command;
  spec.take_terminal = false;
  spec.cwd_fd = config_.cwd_fd;
  spec.set_listen_pid = launch.set_listen_pid;
  spec.fds = sockets_.listen_fds();
  os::UniqueFd node_ours;
  os::UniqueFd node_theirs;
  if (launch.node_channel_fd >= 0) {
    if (Status s = os::SocketPair(os::PairType::kStream, &node_ours, &node_theirs);
        !s.ok()) {
      return WorkerSpawned{worker_id, 0, s.message()};
    }
    spec.fds.push_back(node_theirs.get());
  }
  os::UniqueFd shim_ours;
  os::UniqueFd shim_theirs;
  if (launch.shim_fd >= 0) {
    if (Status s = os::SocketPair(os::PairType::kSeqpacket, &shim_ours, &shim_theirs);
        !s.ok()) {
      return WorkerSpawned{worker_id, 0, s.message()};
    }
    spec.fds.push_back(shim_theirs.get());
  }
  os::UniqueFd filter_ours;
  os::UniqueFd filter_theirs;
  if (const os::SeccompProgram* program = seccomp_.program(); program != nullptr) {
    if (Status s = os::SocketPair(os::PairType::kSeqpacket, &filter_ours, &filter_theirs);
        !s.ok()) {
      return WorkerSpawned{worker_id, 0, s.message()};
    }
    spec.seccomp = program;
    spec.seccomp_report_fd = filter_theirs.get();
  }
  os::UniqueFd out;
  os::UniqueFd err;
  if (config_.relay != nullptr) {
    if (Status s = config_.relay->AddWorker(slot, &out, &err); !s.ok()) {
      Log(Level::kWarning, "worker {}: output not prefixed: {}", slot, s.message());
    } else {
      spec.stdout_fd = out.get();
      spec.stderr_fd = err.get();
    }
  }
  // A NOTIFY_SOCKET of its own: the socket names the worker (notify_socket.h).
  if (std::string notify = notify_.Add(worker_id); !notify.empty()) {
    launch.env.push_back("NOTIFY_SOCKET=" + notify);
  }
  spec.env = std::move(launch.env);
  pid_t pid = 0;
  if (Status s = os::Spawn(spec, &pid); !s.ok()) {
    return WorkerSpawned{worker_id, 0, s.message()};
  }
  table_.Add(worker_id, slot, pid);
  if (filter_ours.valid()) {
    seccomp_.Add(worker_id, slot, filter_ours.get());
  }
  if (node_ours.valid()) {
    node_.Add(worker_id, std::move(node_ours));
  }
  if (shim_ours.valid()) {
    shim_.Add(worker_id, std::move(shim_ours));
  }
  return WorkerSpawned{worker_id, pid, {}};
}

void Workers::AskToLeave(int worker_id) { node_.AskToLeave(worker_id); }

void Workers::Forget(int worker_id) {
  node_.Drop(worker_id);
  shim_.Drop(worker_id);
  seccomp_.Drop(worker_id);
  notify_.Drop(worker_id);
  table_.Remove(worker_id);
  sockets_.Release(worker_id);
  sockets_.Repair();
}

}  // namespace cinit
