// WorkerTable: which live worker is which, by id and by pid, for the sources that
// must tell who is talking to them (the shim server, the notify socket). Filled when
// a worker is spawned and emptied by the Policy's ForgetWorker: a pid is trusted
// only while its worker lives.
#ifndef CINIT_WORKER_TABLE_H_
#define CINIT_WORKER_TABLE_H_

#include <cstdint>
#include <map>
#include <optional>

#include "os/socket.h"

namespace cinit {

class WorkerTable {
 public:
  struct Entry {
    int slot = 0;
    int pid = 0;
    uint64_t start_time = 0;  // of pid, read at Add: tells a reused pid apart
  };

  // own_uid: cinit's effective uid, which its workers start with.
  explicit WorkerTable(int own_uid) : own_uid_(own_uid) {}

  void Add(int worker_id, int slot, int pid);
  void Remove(int worker_id);
  const Entry* Find(int worker_id) const;

  // The live worker whose process tree the peer is in: its pid is the worker's,
  // or one of its ancestors' (up to 8 levels: `sh -c` → npm → node …, read from
  // /proc), and the worker found is the very process cinit started (same start
  // time: not a reused pid), and the peer runs as cinit's uid or the worker's
  // current one. Anything else is no worker's.
  std::optional<int> OfPeer(const os::Peer& peer) const;
  // The uid part of that rule alone, for a sender that is gone: it ran as cinit's
  // uid or as worker's current one.
  bool MaySpeakFor(const os::Peer& peer, const Entry& worker) const;

 private:
  int own_uid_;
  std::map<int, Entry> by_id_;
  std::map<int, int> id_by_pid_;
};

}  // namespace cinit

#endif  // CINIT_WORKER_TABLE_H_
