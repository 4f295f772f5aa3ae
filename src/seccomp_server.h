// SeccompServer: cinit's side of the bind filter (os/seccomp.h), for programs the
// bind shim cannot reach: Go (raw syscalls), static binaries, a tree started with
// `env -i`. Each worker installs the filter before its exec and hands cinit the
// listener; the filter covers everything the worker starts. A trapped bind() of a
// shared port (bind_rule.h, the rule the shim's requests go through too) is
// answered by putting cinit's shared socket in place of the caller's fd; listen()
// on a shared socket leaves cinit's backlog standing; every other call runs as
// made. Every notification is answered, on every path: an unanswered one would
// leave the caller blocked. Appends WorkerReport kListening when a worker got its
// socket. No policy.
#ifndef CINIT_SECCOMP_SERVER_H_
#define CINIT_SECCOMP_SERVER_H_

#include <map>
#include <utility>

#include "event_loop.h"
#include "os/seccomp.h"
#include "os/unique_fd.h"
#include "shared_sockets.h"
#include "worker_table.h"

namespace cinit {

class SeccompServer {
 public:
  SeccompServer(EventLoop* loop, const WorkerTable* table, SharedSockets* sockets)
      : loop_(loop), table_(table), sockets_(sockets) {}
  ~SeccompServer();
  SeccompServer(const SeccompServer&) = delete;
  SeccompServer& operator=(const SeccompServer&) = delete;

  // Builds the filter and checks, once, that a child of cinit can install it.
  // When it cannot, warns once, naming why and the way out, and program() is null.
  void Open();
  // The filter to give workers; nullptr: off.
  const os::SeccompProgram* program() const { return enabled_ ? &program_ : nullptr; }

  // Takes the report end of a worker just spawned with the filter: watches its
  // listener, or warns (once) that the worker runs without it.
  void Add(int worker_id, int slot, int report_end);
  // Closes the worker's listener (the Policy forgot it): a call still trapped
  // then fails with ENOSYS in the caller, as the kernel does for a gone listener.
  void Drop(int worker_id);

 private:
  void OnReady(int fd, uint32_t events, EventQueue* queue);
  // Answers notice; returns whether the worker got a shared socket.
  bool Handle(int listener, int worker_id, const os::SeccompNotice& notice);
  bool HandleBind(int listener, int worker_id, pid_t pid, const os::SeccompNotice& notice,
                  int fd, uint64_t address, uint32_t length);
  void HandleListen(int listener, pid_t pid, const os::SeccompNotice& notice, int fd);
  // Warns (once for cinit's life: a restarted worker would repeat it) that cinit
  // cannot look at pid (errno error).
  void CannotRead(int worker_id, pid_t pid, int error);
  void Close(int fd);

  EventLoop* loop_;
  const WorkerTable* table_;
  SharedSockets* sockets_;
  os::SeccompProgram program_;
  bool enabled_ = false;
  bool install_warned_ = false;
  // Once process_vm_readv or pidfd_getfd was denied (a seccomp profile without
  // CAP_SYS_PTRACE), the /proc ways.
  bool memory_by_proc_ = false;
  bool fds_by_proc_ = false;
  // By listener fd: the worker's id and the listener.
  std::map<int, std::pair<int, os::UniqueFd>> listeners_;
  bool read_warned_ = false;
};

}  // namespace cinit

#endif  // CINIT_SECCOMP_SERVER_H_
