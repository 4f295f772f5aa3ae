// SignalPolicy: which signals cinit catches, and what each one means to it.
//
// Pure. cinit blocks every signal it can and consumes them synchronously from a
// signalfd, except:
//   - the synchronous fault signals (SEGV BUS ILL FPE ABRT TRAP SYS): they report
//     cinit's own bugs and must keep their default action;
//   - SIGTTIN and SIGTTOU: ignored, so a write to a terminal that cinit no longer
//     owns can never stop PID 1 (tini does the same);
//   - SIGKILL and SIGSTOP, which cannot be caught.
// Of the caught signals, SIGCHLD means "reap"; every other one is forwarded.
#ifndef CINIT_SIGNAL_POLICY_H_
#define CINIT_SIGNAL_POLICY_H_

#include <string>

namespace cinit {

enum class SignalDisposition {
  kForward,  // pass it on to the supervised process(es)
  kReap,     // SIGCHLD: collect exited children
  kDefault,  // left at the default action (faults, KILL, STOP)
  kIgnore,   // SIG_IGN in cinit (TTIN, TTOU)
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

}  // namespace cinit

#endif  // CINIT_SIGNAL_POLICY_H_
