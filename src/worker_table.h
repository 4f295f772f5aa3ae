// WorkerTable: which live worker is which, by id and by pid, for the sources that
// must tell who is talking to them (the shim server, the notify socket). Filled when
// a worker is spawned and emptied by the Policy's ForgetWorker: a pid is trusted
// only while its worker lives.
#ifndef CINIT_WORKER_TABLE_H_
#define CINIT_WORKER_TABLE_H_

#include <map>
#include <optional>

namespace cinit {

class WorkerTable {
 public:
  struct Entry {
    int slot = 0;
    int pid = 0;
  };

  void Add(int worker_id, int slot, int pid);
  void Remove(int worker_id);
  const Entry* Find(int worker_id) const;

  // The live worker whose process tree holds pid: pid itself, or one of its
  // ancestors (up to 8 levels: `sh -c` → npm → node …), read from /proc.
  std::optional<int> OfPid(int pid) const;

 private:
  std::map<int, Entry> by_id_;
  std::map<int, int> id_by_pid_;
};

}  // namespace cinit

#endif  // CINIT_WORKER_TABLE_H_
