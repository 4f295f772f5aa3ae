// Supervisor: the decisions of cinit in single mode, as a pure state machine.
//
// The event loop turns the outside world into Events (a signal was read, children
// were reaped, a deadline passed) and feeds them to Handle() with the current time.
// Handle() returns Actions (forward a signal, reap, signal everyone else, exit) that
// the executor turns into syscalls. The Supervisor performs no syscalls and reads no
// clock, so its tests drive it with scripted events and times.
//
// Lifecycle of single mode:
//   kRunning   the main child is alive; caught signals are forwarded to it.
//   kDraining  the main child has exited and other processes remain: they got
//              SIGTERM and SIGCONT; cinit waits until none is left, at most
//              kill_timeout.
//   kKilling   the timeout passed: they got SIGKILL; cinit waits at most
//              kKillWait more, then exits anyway (a process stuck in the kernel
//              must not keep the container alive forever).
//   kDone      Exit was returned.
// The exit code is always the main child's (ExitInfo::ShellCode()).
#ifndef CINIT_SUPERVISOR_H_
#define CINIT_SUPERVISOR_H_

#include <chrono>
#include <cstdint>
#include <optional>
#include <variant>
#include <vector>

#include "wait_status.h"

namespace cinit {

using Clock = std::chrono::steady_clock;
using TimePoint = Clock::time_point;

// ---- Events (world -> core) ----

// cinit read signo from its signalfd.
struct SignalReceived {
  int signo;
};

struct ReapedChild {
  int pid;
  int wait_status;  // raw status from waitpid()
};

// The executor reaped children (possibly none). none_left is true when waitpid()
// reported that cinit has no children at all (ECHILD).
struct ChildrenReaped {
  std::vector<ReapedChild> children;
  bool none_left = false;
};

// Time passed; sent when NextDeadline() is reached.
struct Tick {};

using Event = std::variant<SignalReceived, ChildrenReaped, Tick>;

// ---- Actions (core -> world) ----

// Send signo to one process.
struct SendSignal {
  int pid;
  int signo;
};

// Send signo to every other process cinit is responsible for: all processes of
// the PID namespace when cinit is PID 1, its descendants otherwise.
struct SignalEveryone {
  int signo;
};

// Collect every exited child (waitpid loop) and report a ChildrenReaped event.
struct ReapChildren {};

// Exit cinit with this code.
struct ExitInit {
  int code;
};

using Action = std::variant<SendSignal, SignalEveryone, ReapChildren, ExitInit>;

struct SupervisorConfig {
  int main_pid = 0;
  std::chrono::milliseconds kill_timeout{1600};
};

class Supervisor {
 public:
  enum class Phase { kRunning, kDraining, kKilling, kDone };

  // How long cinit waits for processes after SIGKILL before it exits anyway.
  static constexpr std::chrono::milliseconds kKillWait{2000};

  explicit Supervisor(SupervisorConfig config) : config_(config) {}

  // Appends to *actions what to do about event at time now. (An out-parameter so
  // the loop reuses one buffer: no allocation per signal on the hot path.)
  void Handle(const Event& event, TimePoint now, std::vector<Action>* actions);

  // Returns when Handle(Tick{}) must next be called, if ever.
  std::optional<TimePoint> NextDeadline() const { return deadline_; }

  Phase phase() const { return phase_; }
  // The main child's exit, once it has been reaped.
  const std::optional<ExitInfo>& main_exit() const { return main_exit_; }
  uint64_t orphans_reaped() const { return orphans_reaped_; }
  uint64_t signals_forwarded() const { return signals_forwarded_; }

 private:
  void OnSignal(int signo, std::vector<Action>* actions);
  void OnReaped(const ChildrenReaped& reaped, TimePoint now, std::vector<Action>* actions);
  void OnTick(TimePoint now, std::vector<Action>* actions);
  void Finish(std::vector<Action>* actions);

  SupervisorConfig config_;
  Phase phase_ = Phase::kRunning;
  std::optional<ExitInfo> main_exit_;
  std::optional<TimePoint> deadline_;
  uint64_t orphans_reaped_ = 0;
  uint64_t signals_forwarded_ = 0;
};

}  // namespace cinit

#endif  // CINIT_SUPERVISOR_H_
