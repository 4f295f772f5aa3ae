// Supervisor: the decisions of cinit in single mode, as a pure state machine.
//
// A Policy (events.h): fed Events with the current time, it answers with Actions
// (forward a signal, reap, signal everyone else, exit). No syscalls, no clock, so
// its tests drive it with scripted events and times.
//
// While the main child lives, every caught signal but SIGCHLD is forwarded to it
// (or to its process group), after the rewrite table; with job control on
// (dumb-init), SIGTSTP/SIGTTIN/SIGTTOU are forwarded and then stop cinit itself.
// Once it is reaped, the Drain (drain.h) ends the rest and cinit exits with the
// main child's status (ExitInfo::ShellCode()). Signals that arrive during the
// drain go to every remaining process.
#ifndef CINIT_SUPERVISOR_H_
#define CINIT_SUPERVISOR_H_

#include <bitset>
#include <chrono>
#include <cstdint>
#include <optional>
#include <vector>

#include "drain.h"
#include "events.h"
#include "signal_policy.h"
#include "wait_status.h"

namespace cinit {

struct SupervisorConfig {
  int main_pid = 0;
  std::chrono::milliseconds kill_timeout{};  // Options::cluster.kill_timeout
  int self_pid = 0;            // cinit's own pid, for job control's self-stop
  bool signal_group = false;   // forward to the main child's process group
  bool job_control = false;    // TSTP/TTIN/TTOU: forward, then stop cinit too
  SignalRewrite rewrite;       // applied to every signal before it is forwarded
  std::bitset<256> zero_exit;  // main child codes that make cinit exit 0 (tini -e)
  bool warn_on_reap = false;   // log every other reaped process as a warning (tini -w)
};

class Supervisor final : public Policy {
 public:
  explicit Supervisor(SupervisorConfig config) : config_(config) {}

  void Handle(const Event& event, TimePoint now, std::vector<Action>* actions) override;
  std::optional<TimePoint> NextDeadline() const override { return drain_.deadline(); }

  bool main_running() const { return !main_exit_; }
  bool done() const { return drain_.done(); }
  uint64_t orphans_reaped() const { return orphans_reaped_; }
  uint64_t signals_forwarded() const { return signals_forwarded_; }

 private:
  void OnSignal(int signo, std::vector<Action>* actions);
  void OnReaped(const ChildrenReaped& reaped, TimePoint now,
                std::vector<Action>* actions);

  SupervisorConfig config_;
  std::optional<ExitInfo> main_exit_;
  Drain drain_;
  uint64_t orphans_reaped_ = 0;
  uint64_t signals_forwarded_ = 0;
};

}  // namespace cinit

#endif  // CINIT_SUPERVISOR_H_
