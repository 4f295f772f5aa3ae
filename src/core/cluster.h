// Cluster: the decisions of cinit in cluster mode (-i N), as a pure state machine.
//
// A Policy (events.h). State: N slots, each holding at most one live worker (a
// process running COMMAND with the slot's index in the instance variable). A worker
// goes kStarting → kOnline (it listens, or said 'ready') → kLeaving (asked to leave:
// Node 'shutdown' + disconnect) and/or kTerminating (the stop signal went to its
// tree) → gone; SIGKILL to its tree ends the wait (see Signals).
//
// A worker is a tree: the process cinit started leads a process group of its own,
// which everything it starts joins unless it leaves (setsid, setpgid). The stop
// signal and SIGKILL go to the group. When the worker's own process has exited,
// the worker stays, "exiting", until its group is empty (CheckTree): whatever is
// left gets the stop signal, and SIGKILL at the stop's deadline (kill_timeout when
// the worker was not being stopped). Only then is the slot free: its restart, the
// next step of a reload and cinit's own exit wait for the whole tree.
//
// Supervision: a worker that exits on its own is replaced under the same slot after
// an exponential backoff (backoff_base × 2^crashes, at most backoff_max). A death
// sooner than min_uptime after start is a crash; max_restarts crashes in a row of one
// slot make cinit give up: it stops every worker and exits kExitGaveUp. While no
// worker has ever been online, never_online_restarts is the limit instead (an app
// that cannot start at all is given up on in about three seconds, and its
// orchestrator's backoff takes over). A spawn that makes no process (fork failed) is
// retried with the same backoff and never gives up.
//
// Signals: SIGTERM/SIGINT stop every worker gracefully, one rule for every kind: it
// is asked to leave in the way it understands (Node: 'shutdown' + disconnect; the
// others: the stop signal to its tree) and has graceful_timeout; a Node worker still
// running then gets the stop signal and kill_timeout more, as pm2's reload does;
// then SIGKILL to the tree. cinit exits 0 if every worker ended before SIGKILL was
// needed, 1 otherwise. A second SIGTERM/SIGINT cuts the wait to kill_timeout.
// Lame duck (drain_delay > 0): SIGTERM/SIGINT first enter kLameDuck, which the
// probes report as not ready ("stopping") while the workers go on serving, and
// supervision goes on as while running (a worker that exits is restarted: traffic
// still arrives, which is what the delay is for); a reload or a scale asked for
// then is refused. The graceful stop above begins at the delay's end (a deadline,
// NextDeadline), or at once on a second SIGTERM/SIGINT.
// SIGHUP is a ReloadRequested. Every other caught signal is forwarded to every live
// worker's own process.
//
// Rolling reload, reload_batch slots at a time (1 by default), in slot order: start
// the slot's replacement (same index, new generation) → wait until it is online, at
// most listen_timeout → only then ask the old worker to leave (and stop it as above)
// → when the old one's tree is gone, the next slot. Safety beyond pm2:
//   - a replacement that exits before it is online aborts the reload: the old
//     workers keep serving, untouched; the result is kept as "failed";
//   - a replacement still silent at listen_timeout is taken as online (pm2's
//     behaviour), or, with strict_reload, stopped, and the reload aborted;
//   - a reload asked for during a reload is merged: the rollout starts over once
//     the slots in flight are done; never two at once, never more than N + batch
//     workers, never fewer than N − batch online ones (the old serve until the new
//     are online).
// A ConfigChanged (--reload-on-change) is debounced (debounce.h: 500 ms after the
// last change, 5 s at most after the first) into one ReloadRequested, whose source
// names the paths that changed.
// "scale N" adds slots, or retires the highest ones gracefully; during a rollout it
// waits for the rollout's end.
#ifndef CINIT_CLUSTER_H_
#define CINIT_CLUSTER_H_

#include <array>
#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "cluster_config.h"
#include "debounce.h"
#include "drain.h"
#include "events.h"
#include "health.h"
#include "signal_policy.h"
#include "wait_status.h"

namespace cinit {

struct ReloadStatus {
  enum class State { kIdle, kRolling };
  enum class Result { kNone, kSucceeded, kFailed, kInterrupted };
  State state = State::kIdle;
  int generation = 1;  // of the workers a finished reload leaves
  int slots_done = 0;  // in the current rollout
  int slots_total = 0;
  Result last_result = Result::kNone;
  std::string last_message;  // why the last reload failed, or how it went
  int succeeded = 0;
  int failed = 0;
  // The source of the last reload asked for ("SIGHUP", "control FIFO", "config
  // change: PATH"; empty: none yet), and the requests by trigger (merged ones too).
  std::string last_trigger;
  std::array<uint64_t, 3> triggered{};  // indexed by ReloadTrigger
};

const char* ReloadResultName(ReloadStatus::Result result);

// Exit code when workers crash-loop and cinit gives up.
inline constexpr int kExitGaveUp = 3;
// Exit code of a stop in which some worker had to be SIGKILLed.
inline constexpr int kExitForcedStop = 1;

enum class WorkerState { kStarting, kOnline, kLeaving, kTerminating };

const char* WorkerStateName(WorkerState state);

struct WorkerInfo {
  int id = 0;          // unique for cinit's life; Node sees it as NODE_UNIQUE_ID
  int slot = 0;        // 0..N-1
  int generation = 1;  // bumped by every reload
  int pid = 0;         // 0 until spawned
  WorkerState state = WorkerState::kStarting;
  TimePoint started_at{};
  std::optional<TimePoint> online_at;
  std::optional<TimePoint> deadline;   // of the current stop step, or listen_timeout
  std::optional<TimePoint> hello_due;  // the bind shim has not said HELLO yet
  bool shim_loaded = false;            // the bind shim said HELLO
  bool killed = false;                 // SIGKILL was sent to its tree
  bool tree_signalled = false;         // the stop signal was sent to its tree
  // Its own process has exited (and was reaped) but its tree may not have: the
  // worker stays, "exiting", until nothing is left of its process group.
  std::optional<ExitInfo> exit;
  TimePoint exited_at{};
  std::optional<TimePoint> check_at;         // when to look at its tree again
  bool tree_left = false;                    // a look found processes of its tree left
  bool abandoned = false;                    // its tree survives SIGKILL: stop waiting
  std::chrono::milliseconds stop_budget{0};  // its stop signal's wait before SIGKILL

  // --max-memory: its tree's last sample, and since when it is above the limit.
  uint64_t memory = 0;
  std::optional<TimePoint> over_since;

  bool exiting() const { return exit.has_value(); }
};

struct SlotInfo {
  int index = 0;
  std::optional<int> worker_id;  // its live worker
  // A reload's replacement, until it is online and takes the slot over: the one
  // record of "a replacement is in flight".
  std::optional<int> incoming_id;
  bool retiring = false;  // removed by "scale": no restart, gone once empty
  int restarts = 0;       // replacements after an exit on its own
  int crashes_in_a_row = 0;
  int spawn_failures = 0;  // failed spawns in a row (fork/vfork: EAGAIN, ENOMEM…)
  std::optional<TimePoint> restart_at;
  // --max-memory: the incoming worker replaces one that went over the limit
  // (recycled_id), until that one is gone; replacements in a row that went over
  // again soon, and when the next may start (the backoff).
  bool recycling = false;
  std::optional<int> recycled_id;
  int memory_in_a_row = 0;
  std::optional<TimePoint> recycle_not_before;
};

// The Event a signal becomes in cluster mode, at its first hop: SIGHUP is a
// ReloadRequested (as the control FIFO's "reload" is), every other signal a
// SignalReceived.
Event ClusterSignalEvent(int signo);

class Cluster final : public Policy {
 public:
  // kRunning → (kLameDuck, drain_delay) → kStopping (workers asked to leave) →
  // kDraining (every worker gone; the final drain of the rest) → exit.
  enum class Phase { kRunning, kLameDuck, kStopping, kDraining };

  explicit Cluster(ClusterConfig config);

  // Spawns the first generation. Call once, at start.
  void Start(TimePoint now, std::vector<Action>* actions);

  void Handle(const Event& event, TimePoint now, std::vector<Action>* actions) override;
  std::optional<TimePoint> NextDeadline() const override;

  // ---- read-only view, for logs, status and tests ----
  Phase phase() const { return phase_; }
  const std::vector<SlotInfo>& slots() const { return slots_; }
  const std::map<int, WorkerInfo>& workers() const { return workers_; }
  int online_workers() const;
  uint64_t orphans_reaped() const { return orphans_reaped_; }
  const ReloadStatus& reload() const { return reload_; }
  uint64_t signals_forwarded() const { return signals_forwarded_; }
  uint64_t spawn_failures() const { return spawn_failures_; }
  // Workers whose own process exited with processes of its tree left, which
  // cinit then stopped.
  uint64_t trees_left() const { return trees_left_; }
  // Whether any worker has ever been online.
  bool ever_online() const { return ever_online_; }
  // Workers replaced for going over --max-memory.
  uint64_t memory_restarts() const { return memory_restarts_; }
  // Fills the worker, reload and counter parts of a probe snapshot (health.h).
  // started: when cinit started; now: the current time.
  void FillSnapshot(TimePoint started, TimePoint now, health::Snapshot* out) const;
  // Fills only what health::Judge reads (cheap: no strings, no worker list).
  void FillReadiness(health::Snapshot* out) const;
  int desired_workers() const { return config_.workers; }
  // When the lame duck ends and the graceful stop begins (kLameDuck only).
  std::optional<TimePoint> lame_duck_until() const { return lame_duck_until_; }
  // True once cinit is stopping because workers crash-loop (exit kExitGaveUp).
  bool giving_up() const {
    return phase_ != Phase::kRunning && stop_exit_code_ == kExitGaveUp;
  }

 private:
  void OnSignal(int signo, TimePoint now, std::vector<Action>* actions);
  void OnReaped(const ChildrenReaped& reaped, TimePoint now,
                std::vector<Action>* actions);
  void OnWorkerExit(WorkerInfo worker, const ExitInfo& exit, TimePoint now,
                    std::vector<Action>* actions);
  void OnSpawned(const WorkerSpawned& spawned, TimePoint now,
                 std::vector<Action>* actions);
  void OnReport(const WorkerReport& report, TimePoint now, std::vector<Action>* actions);
  void OnTick(TimePoint now, std::vector<Action>* actions);
  void OnWorkerDeadline(WorkerInfo& worker, TimePoint now, std::vector<Action>* actions);
  // The worker's tree: what is left of it once its own process has exited.
  void OnTreeChecked(const TreeChecked& checked, TimePoint now,
                     std::vector<Action>* actions);
  void Finish(int worker_id, TimePoint now, std::vector<Action>* actions);
  // Whether worker, which exited, likely failed to bind a port another worker holds:
  // the shim never loaded in it (kBindHint).
  bool MayHaveLostTheBind(const WorkerInfo& worker) const;
  // A crash-loop's give-up line: the last exit and its likely cause.
  std::string GiveUpReason(const WorkerInfo& worker, const ExitInfo& exit) const;
  // Drops the worker from workers_ and tells the shell (ForgetWorker).
  void Forget(std::map<int, WorkerInfo>::iterator it, std::vector<Action>* actions);
  bool IsReplacement(const WorkerInfo& worker) const {
    return slots_[static_cast<size_t>(worker.slot)].incoming_id == worker.id;
  }

  // Rolling reload.
  void OnConfigChanged(const ConfigChanged& changed, TimePoint now);
  void OnReloadRequested(const ReloadRequested& request, TimePoint now,
                         std::vector<Action>* actions);
  void StartRollout(TimePoint now, std::vector<Action>* actions);
  void AdvanceRollout(TimePoint now, std::vector<Action>* actions);
  void HandOver(WorkerInfo& replacement, TimePoint now, std::vector<Action>* actions);
  void StepDone(int slot, TimePoint now, std::vector<Action>* actions);
  void AbortRollout(std::string why, TimePoint now, std::vector<Action>* actions);
  void FinishRollout(TimePoint now, std::vector<Action>* actions);

  // --max-memory: samples, and the replacement of a worker over the limit (a
  // one-slot rollout of the same generation).
  void OnMemorySampled(const MemorySampled& sampled, TimePoint now,
                       std::vector<Action>* actions);
  void Recycle(SlotInfo& slot, WorkerInfo& old, TimePoint now,
               std::vector<Action>* actions);
  // The slot's memory replacement failed (it exited or was silent before it was
  // online, or could not be spawned): the old worker keeps serving.
  void FailRecycle(SlotInfo& slot, const std::string& why, TimePoint now,
                   std::vector<Action>* actions);
  bool Recycling() const;
  // Runs what waited for the memory replacements in flight (a reload, a scale).
  void AfterRecycles(TimePoint now, std::vector<Action>* actions);

  // Scaling.
  void OnScale(int workers, TimePoint now, std::vector<Action>* actions);
  void DropRetiredSlots();

  int SpawnInto(SlotInfo& slot, TimePoint now, std::vector<Action>* actions);
  // Spawns into slot index if it is wanted, empty and not waiting for a restart.
  void RefillSlot(int index, TimePoint now, std::vector<Action>* actions);
  void ScheduleRestart(SlotInfo& slot, bool crashed, TimePoint now);
  // Whether workers are supervised (restarted, refilled) as while running: also
  // during the lame duck, when they still serve.
  bool serving() const { return phase_ == Phase::kRunning || phase_ == Phase::kLameDuck; }
  void StopAll(TimePoint now, int exit_code, std::vector<Action>* actions);
  void StopWorker(WorkerInfo& worker, TimePoint now, bool graceful,
                  std::vector<Action>* actions);
  void AdvanceStop(WorkerInfo& worker, TimePoint now, std::vector<Action>* actions);
  void MaybeFinishStop(TimePoint now, bool none_left, std::vector<Action>* actions);

  ClusterConfig config_;
  Phase phase_ = Phase::kRunning;
  std::vector<SlotInfo> slots_;
  std::map<int, WorkerInfo> workers_;  // live workers by id
  int next_worker_id_ = 1;
  int stop_exit_code_ = 0;
  std::optional<TimePoint> lame_duck_until_;
  bool children_left_ = true;  // last reap's view: does cinit still have children?
  Drain drain_;
  uint64_t orphans_reaped_ = 0;
  uint64_t signals_forwarded_ = 0;
  uint64_t spawn_failures_ = 0;
  uint64_t trees_left_ = 0;
  bool ever_online_ = false;
  bool bind_hint_given_ = false;        // kBindHint is said once
  std::optional<TimePoint> memory_at_;  // next SampleMemory (--max-memory)
  uint64_t memory_restarts_ = 0;
  std::optional<ReloadRequested> pending_reload_;  // asked during a memory replacement

  int generation_ = 1;
  ReloadStatus reload_;
  struct Step {
    int slot = 0;
    std::optional<int> old_id;  // the worker being replaced, until it has exited
  };
  struct Rollout {
    std::vector<int> queue;   // slots still to replace, in order
    std::vector<Step> steps;  // slots in flight (at most reload_batch)
    bool again = false;       // another reload was asked for meanwhile
  };
  std::optional<Rollout> rollout_;
  std::optional<int> pending_scale_;
  Debounce config_debounce_;
  std::vector<std::string> changed_paths_;  // in the burst, distinct, first first
};

}  // namespace cinit

#endif  // CINIT_CLUSTER_H_
