// Seccomp: the bind filter cinit puts on workers, and the notifier's side of it.
//
// The filter (built once with libseccomp) hands every bind() and listen() of the
// worker's tree to cinit (SECCOMP_RET_USER_NOTIF) and allows everything else,
// for x86_64, x32 and i386 programs (and any other architecture runs unfiltered).
// The worker installs it itself, in the vfork child right before exec
// (InstallBindFilter), and passes the listener fd back to cinit over a socketpair.
// cinit then answers each notification: CONTINUE (the real call runs), an errno,
// or 0 after putting one of its own sockets in place of the caller's fd (ADDFD).
// A notification that is never answered leaves the caller blocked: answer all.
#ifndef CINIT_OS_SECCOMP_H_
#define CINIT_OS_SECCOMP_H_

#include <linux/filter.h>
#include <sys/types.h>

#include <array>
#include <cstdint>
#include <vector>

#include "os/unique_fd.h"
#include "status.h"

namespace cinit::os {

struct SeccompProgram {
  std::vector<sock_filter> instructions;
  sock_fprog fprog{};  // points into instructions
};

// Builds the bind filter. Fails only when libseccomp does.
Status BuildBindFilter(SeccompProgram* program);

// Whether this process may install the filter with a listener: tried in a
// short-lived vfork child (no exec). Returns 0, or the errno the kernel gave
// (ENOSYS, EINVAL: no such feature; EPERM/EACCES: a profile forbids seccomp;
// EBUSY: another listener is already in the chain, as under nested sandboxes).
int ProbeBindFilter(const SeccompProgram& program);

// In the vfork child: sets no_new_privs, installs program with a new listener
// and sends the listener to report_fd (SCM_RIGHTS, with a 4-byte 0), or a 4-byte
// errno without a descriptor when it could not. Async-signal-safe; returns the
// errno (0: installed).
int InstallBindFilter(const SeccompProgram& program, int report_fd);

// cinit's side of that report: the listener, or *child_error. Non-blocking (the
// child has exec'd or exited when vfork returns). A missing report is EPROTO.
void ReceiveListener(int report_end, UniqueFd* listener, int* child_error);

struct SeccompNotice {
  uint64_t id = 0;
  pid_t tid = 0;  // the calling thread, in cinit's PID namespace
  int nr = 0;
  uint32_t arch = 0;
  std::array<uint64_t, 6> args{};
};

// Takes the next notification. Call only when the listener is readable (it would
// block otherwise). Returns 1, 0 when the caller went away meanwhile (ENOENT), or
// -errno.
int ReceiveNotice(int listener, SeccompNotice* notice);
// Whether the notification is still pending (its caller alive and waiting): a
// tid read from it names that caller only while this holds.
bool NoticeValid(int listener, uint64_t id);
// Lets the call run as the program made it.
void ContinueCall(int listener, uint64_t id);
// Answers the call: it returns 0 (error 0) or fails with errno error.
void AnswerCall(int listener, uint64_t id, int error);
// Puts a copy of source in the caller's table at target (replacing what is there;
// close-on-exec when cloexec). Returns 0 or -errno.
int InstallFdInCaller(int listener, uint64_t id, int source, int target, bool cloexec);

}  // namespace cinit::os

#endif  // CINIT_OS_SECCOMP_H_
