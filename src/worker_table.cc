#include "worker_table.h"

#include "os/process.h"

namespace cinit {

void WorkerTable::Add(int worker_id, int slot, int pid) {
  by_id_[worker_id] = Entry{slot, pid, os::StartTimeOf(pid)};
  id_by_pid_[pid] = worker_id;
}

void WorkerTable::Remove(int worker_id) {
  auto it = by_id_.find(worker_id);
  if (it == by_id_.end()) {
    return;
  }
  auto pid = id_by_pid_.find(it->second.pid);
  if (pid != id_by_pid_.end() && pid->second == worker_id) {
    id_by_pid_.erase(pid);
  }
  by_id_.erase(it);
}

const WorkerTable::Entry* WorkerTable::Find(int worker_id) const {
  auto it = by_id_.find(worker_id);
  return it == by_id_.end() ? nullptr : &it->second;
}

bool WorkerTable::MaySpeakFor(const os::Peer& peer, const Entry& worker) const {
  return peer.uid == own_uid_ || peer.uid == os::UidOf(worker.pid);
}

std::optional<int> WorkerTable::OfPeer(const os::Peer& peer) const {
  int pid = peer.pid;
  for (int depth = 0; depth < 8 && pid > 1; ++depth) {
    if (auto it = id_by_pid_.find(pid); it != id_by_pid_.end()) {
      const Entry& worker = by_id_.at(it->second);
      if (worker.start_time != 0 && os::StartTimeOf(worker.pid) != worker.start_time) {
        return std::nullopt;  // the worker is gone and its pid is another process's
      }
      if (!MaySpeakFor(peer, worker)) {
        return std::nullopt;
      }
      return it->second;
    }
    pid = os::ParentOf(pid);
  }
  return std::nullopt;
}

}  // namespace cinit
