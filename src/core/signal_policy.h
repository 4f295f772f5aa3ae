// SignalPolicy: which signals cinit catches, and what each one means to it.
//
// Pure. cinit blocks every signal it can and consumes them synchronously (a
// signalfd or sigtimedwait); only SIGKILL and SIGSTOP cannot be caught.
//   - The fault signals (SEGV BUS ILL FPE ABRT TRAP SYS) are blocked too, so one
//     sent from outside (`kill -SEGV`) is forwarded like any other signal instead
//     of killing cinit and leaving its child unsupervised, as dumb-init does. A real
//     fault in cinit still kills it: the kernel unblocks a fault it raises itself.
//   - SIGTTIN and SIGTTOU are blocked and also SIG_IGN, so a write to a terminal
//     that cinit no longer owns can never stop PID 1 (tini does the same); what is
//     read of them is dropped, except in dumb-init's job-control mode (supervisor.h).
// Of the caught signals, SIGCHLD means "reap"; every other one is forwarded.
// SignalRewrite is dumb-init's --rewrite table, applied to what is forwarded.
#ifndef CINIT_SIGNAL_POLICY_H_
#define CINIT_SIGNAL_POLICY_H_

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "status.h"

namespace cinit {

enum class SignalDisposition {
  kForward,  // pass it on to the supervised process(es)
  kReap,     // SIGCHLD: collect exited children
  kDefault,  // left at the default action (faults, KILL, STOP)
  kIgnore,   // caught but dropped unless job control is on (TTIN, TTOU)
};

// Returns what cinit does with signo (1..64).
SignalDisposition ClassifySignal(int signo);

// Returns true when cinit blocks signo and reads it from its signalfd.
bool IsCaught(int signo);

// Returns "SIGTERM", "SIGRTMIN+3", or "signal 99" for numbers it does not know.
std::string SignalName(int signo);

// Parses "TERM", "SIGTERM", "sigterm", "15", "SIGRTMIN+2", "RTMAX-1". Returns 0 when
// text names no signal.
int ParseSignal(std::string_view text);

// Highest signal number on Linux.
inline constexpr int kMaxSignal = 64;

// Returns true for SIGTSTP, SIGTTIN and SIGTTOU, the signals a shell's job control
// sends to stop a job.
bool IsJobControlSignal(int signo);

// What cinit forwards for each signal it receives: dumb-init's `-r s:r`. Identity
// unless set; a rewrite to 0 drops the signal. A value type without allocation:
// Apply() is one array read, cheap enough for the forwarding path.
class SignalRewrite {
 public:
  SignalRewrite() { to_.fill(kUnset); }
  // REQUIRES: from in 1..kMaxSignal, to in 0..kMaxSignal.
  void Set(int from, int to) { to_[static_cast<size_t>(from)] = static_cast<int8_t>(to); }
  // Sets from -> to unless a rewrite of from was set before.
  void SetDefault(int from, int to) {
    if (!IsSet(from)) {
      Set(from, to);
    }
  }
  bool IsSet(int from) const { return to_[static_cast<size_t>(from)] != kUnset; }
  // Returns the signal to forward for signo, or 0 to drop it.
  int Apply(int signo) const {
    if (signo < 1 || signo > kMaxSignal) {
      return signo;
    }
    int8_t to = to_[static_cast<size_t>(signo)];
    return to == kUnset ? signo : to;
  }
  bool operator==(const SignalRewrite&) const = default;

 private:
  static constexpr int8_t kUnset = -1;
  std::array<int8_t, kMaxSignal + 1> to_;
};

// Parses one rewrite "FROM:TO" into *rewrite. FROM is a signal cinit forwards
// (number or name: "15", "TERM", "SIGRTMIN+1"); TO is such a signal, SIGSTOP or
// SIGKILL, or 0 to drop FROM. Returns a one-line error for anything else.
Status ParseRewrite(std::string_view spec, SignalRewrite* rewrite);

// Where a forwarded signal goes: the main child, or its whole process group.
// Returns the pid argument for kill(): main_pid, or -main_pid for the group.
inline int ForwardTarget(int main_pid, bool to_group) {
  return to_group ? -main_pid : main_pid;
}

}  // namespace cinit

#endif  // CINIT_SIGNAL_POLICY_H_
