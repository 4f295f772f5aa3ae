#include "os/seccomp.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/seccomp.h>
#include <seccomp.h>  // libseccomp: builds the program only; cinit loads nothing itself
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <string_view>
#include <vector>

#include "os/errno_status.h"
#include "os/socket.h"

namespace cinit::os {
namespace {

// The kernel refuses flags it does not know with EINVAL: the best first, then
// without WAIT_KILLABLE_RECV (5.19), then without SPEC_ALLOW (4.17). Without
// WAIT_KILLABLE_RECV a signal to the caller (Go's preemption SIGURG) withdraws
// the notification and the call restarts, which is harmless, only slower.
constexpr unsigned kFlagChoices[] = {
    SECCOMP_FILTER_FLAG_NEW_LISTENER | SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV |
        SECCOMP_FILTER_FLAG_SPEC_ALLOW,
    SECCOMP_FILTER_FLAG_NEW_LISTENER | SECCOMP_FILTER_FLAG_SPEC_ALLOW,
    SECCOMP_FILTER_FLAG_NEW_LISTENER,
};

// Installs program with a listener. Returns the listener, or -errno. Raw
// syscalls only: runs in a vfork child.
int Install(const SeccompProgram& program) {
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
    return -errno;
  }
  int error = EINVAL;
  for (unsigned flags : kFlagChoices) {
    long fd = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, &program.fprog);
    if (fd >= 0) {
      return static_cast<int>(fd);
    }
    error = errno;
    if (error != EINVAL) {
      break;
    }
  }
  return -error;
}

// The probe's child writes its verdict here (vfork: it borrows cinit's memory).
volatile int g_probe_result = 0;

[[gnu::noinline]] pid_t VforkProbe(const SeccompProgram& program) {
  pid_t child = vfork();
  if (child == 0) {
    int fd = Install(program);
    g_probe_result = fd >= 0 ? 0 : -fd;
    _exit(0);
  }
  return child;
}

}  // namespace

Status BuildBindFilter(SeccompProgram* program) {
  // libseccomp would ask the kernel what it supports (with seccomp(2) calls a
  // profile may deny, which makes SCMP_ACT_NOTIFY "invalid"); cinit only builds
  // the program, and the probe asks the kernel itself. Level 6: everything 2.5 has.
  seccomp_api_set(6);
  scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
  if (ctx == nullptr) {
    return Status::Error("seccomp_init failed");
  }
  struct Release {
    scmp_filter_ctx ctx;
    ~Release() { seccomp_release(ctx); }
  } release{ctx};
  // A program of an architecture the filter does not know runs unfiltered (the
  // default would kill it).
  int rc = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_ALLOW);
  for (uint32_t arch :
       {static_cast<uint32_t>(SCMP_ARCH_X86), static_cast<uint32_t>(SCMP_ARCH_X32)}) {
    if (rc == 0 && seccomp_arch_exist(ctx, arch) == -EEXIST) {
      rc = seccomp_arch_add(ctx, arch);
    }
  }
  // On i386, libseccomp also catches socketcall(SYS_BIND / SYS_LISTEN, …).
  for (int nr : {SCMP_SYS(bind), SCMP_SYS(listen)}) {
    if (rc == 0) {
      rc = seccomp_rule_add(ctx, SCMP_ACT_NOTIFY, nr, 0);
    }
  }
  if (rc != 0) {
    return ErrnoStatus("building the bind filter", -rc);
  }
  // libseccomp 2.5 exports to a descriptor only: through a memfd.
  int fd = memfd_create("cinit-bind-filter", MFD_CLOEXEC);
  if (fd < 0) {
    return ErrnoStatus("memfd_create", errno);
  }
  UniqueFd memfd(fd);
  if (int error = seccomp_export_bpf(ctx, fd); error != 0) {
    return ErrnoStatus("seccomp_export_bpf", -error);
  }
  const off_t end = lseek(fd, 0, SEEK_END);
  const size_t size = end > 0 ? static_cast<size_t>(end) : 0;
  if (size == 0 || size % sizeof(sock_filter) != 0 ||
      size > BPF_MAXINSNS * sizeof(sock_filter)) {
    return Status::Error("seccomp_export_bpf gave no program");
  }
  program->instructions.resize(size / sizeof(sock_filter));
  if (pread(fd, program->instructions.data(), size, 0) != end) {
    return ErrnoStatus("reading the bind filter", errno);
  }
  program->fprog.len = static_cast<unsigned short>(program->instructions.size());
  program->fprog.filter = program->instructions.data();
  return Status::Ok();
}

int ProbeBindFilter(const SeccompProgram& program) {
  g_probe_result = 0;
  pid_t child = VforkProbe(program);
  if (child < 0) {
    return errno;
  }
  int status = 0;
  while (waitpid(child, &status, __WALL) < 0 && errno == EINTR) {
  }
  return g_probe_result;
}

int InstallBindFilter(const SeccompProgram& program, int report_fd) {
  int listener = Install(program);
  int error = listener >= 0 ? 0 : -listener;
  // SendWithFd makes syscalls only: fine in the vfork child.
  SendWithFd(report_fd,
             std::string_view(reinterpret_cast<const char*>(&error), sizeof(error)),
             listener);
  if (listener >= 0) {
    close(listener);  // the worker must not hold its own notifier
  }
  return error;
}

void ReceiveListener(int report_end, UniqueFd* listener, int* child_error) {
  int error = EPROTO;
  std::vector<UniqueFd> fds;
  ssize_t n =
      ReceiveDatagram(report_end, reinterpret_cast<char*>(&error), sizeof(error), &fds);
  if (n != sizeof(error)) {
    error = EPROTO;
  }
  if (error == 0 && fds.size() == 1) {
    *listener = std::move(fds.front());
    *child_error = 0;
  } else {
    *child_error = error != 0 ? error : EPROTO;
  }
}

int ReceiveNotice(int listener, SeccompNotice* notice) {
  seccomp_notif request;
  std::memset(&request, 0, sizeof(request));  // the kernel wants it zeroed
  while (ioctl(listener, SECCOMP_IOCTL_NOTIF_RECV, &request) != 0) {
    if (errno == EINTR) {
      continue;
    }
    return errno == ENOENT ? 0 : -errno;
  }
  notice->id = request.id;
  notice->tid = static_cast<pid_t>(request.pid);
  notice->nr = request.data.nr;
  notice->arch = request.data.arch;
  for (size_t i = 0; i < notice->args.size(); ++i) {
    notice->args[i] = request.data.args[i];
  }
  return 1;
}

bool NoticeValid(int listener, uint64_t id) {
  return ioctl(listener, SECCOMP_IOCTL_NOTIF_ID_VALID, &id) == 0;
}

namespace {

void Respond(int listener, uint64_t id, int error, uint32_t flags) {
  seccomp_notif_resp response{};
  response.id = id;
  response.error = error != 0 ? -error : 0;
  response.val = 0;
  response.flags = flags;
  // ENOENT: the caller is gone (killed meanwhile): nothing to answer.
  while (ioctl(listener, SECCOMP_IOCTL_NOTIF_SEND, &response) != 0 && errno == EINTR) {
  }
}

}  // namespace

void ContinueCall(int listener, uint64_t id) {
  Respond(listener, id, 0, SECCOMP_USER_NOTIF_FLAG_CONTINUE);
}

void AnswerCall(int listener, uint64_t id, int error) { Respond(listener, id, error, 0); }

int InstallFdInCaller(int listener, uint64_t id, int source, int target, bool cloexec) {
  seccomp_notif_addfd addfd{};
  addfd.id = id;
  addfd.flags = SECCOMP_ADDFD_FLAG_SETFD;
  addfd.srcfd = static_cast<uint32_t>(source);
  addfd.newfd = static_cast<uint32_t>(target);
  addfd.newfd_flags = cloexec ? O_CLOEXEC : 0;
  int rc;
  while ((rc = ioctl(listener, SECCOMP_IOCTL_NOTIF_ADDFD, &addfd)) < 0 &&
         errno == EINTR) {
  }
  return rc >= 0 ? 0 : -errno;
}

}  // namespace cinit::os
