// Remote: reading another process of cinit's tree, for the seccomp notifier. The
// kernel allows it when cinit may ptrace the process (the same uid with no fewer
// capabilities, or CAP_SYS_PTRACE). Two ways, the second for containers whose
// seccomp profile denies process_vm_readv and pidfd_getfd without
// CAP_SYS_PTRACE (Docker's default): /proc/PID/mem, /proc/PID/fd, fdinfo and the
// socket's xattrs.
#ifndef CINIT_OS_REMOTE_H_
#define CINIT_OS_REMOTE_H_

#include <sys/types.h>

#include <cstddef>
#include <cstdint>

#include "os/unique_fd.h"

namespace cinit::os {

// The process (thread group) that thread tid belongs to, or -1.
pid_t ThreadGroupOf(pid_t tid);

// Reads len bytes at address of pid's memory into buf. Returns 0 or -errno.
// *use_proc: process_vm_readv failed with EPERM/ENOSYS once; /proc/PID/mem since.
int ReadRemote(pid_t pid, uint64_t address, void* buf, size_t len, bool* use_proc);

// What cinit can learn of a socket in pid's fd table.
struct RemoteSocket {
  int domain = 0;
  int type = 0;
  int protocol = 0;
  bool v6only = false;  // on the /proc way: the system's default (bindv6only)
  bool bound = false;   // on the /proc way: unknown, false
  bool nonblocking = false;
  bool cloexec = false;
  uint64_t inode = 0;
  bool listening = false;  // SO_ACCEPTCONN; the /proc way: unknown, false
  UniqueFd copy;           // the pidfd_getfd way: cinit's copy of it
};

// Inspects pid's fd. Returns 0, -ENOTSOCK (no socket, or not TCP/UDP on the
// /proc way), or -errno (EPERM/EACCES: cinit may not look at pid).
// *use_proc: pidfd_getfd failed with EPERM/ENOSYS for a process cinit could read
// through /proc: the /proc way since.
int InspectRemoteSocket(pid_t pid, int fd, bool* use_proc, RemoteSocket* socket);

// The inode of fd's file (0 when fstat fails).
uint64_t InodeOf(int fd);

}  // namespace cinit::os

#endif  // CINIT_OS_REMOTE_H_
