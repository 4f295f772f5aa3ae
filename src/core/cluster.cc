#include "cluster.h"

#include <algorithm>
#include <csignal>
#include <utility>

#include "log.h"
#include "signal_policy.h"

namespace cinit {

using std::chrono::milliseconds;

const char* WorkerStateName(WorkerState state) {
  switch (state) {
    case WorkerState::kStarting:
      return "starting";
    case WorkerState::kOnline:
      return "online";
    case WorkerState::kLeaving:
      return "leaving";
    case WorkerState::kTerminating:
      return "terminating";
  }
  return "unknown";
}

const char* ReloadResultName(ReloadStatus::Result result) {
  switch (result) {
    case ReloadStatus::Result::kNone:
      return "none";
    case ReloadStatus::Result::kSucceeded:
      return "succeeded";
    case ReloadStatus::Result::kFailed:
      return "failed";
    case ReloadStatus::Result::kInterrupted:
      return "interrupted";
  }
  return "unknown";
}

Cluster::Cluster(ClusterConfig config) : config_(config) {
  slots_.resize(static_cast<size_t>(std::max(config_.workers, 1)));
  for (size_t i = 0; i < slots_.size(); ++i) {
    slots_[i].index = static_cast<int>(i);
  }
}

void Cluster::Start(TimePoint now, std::vector<Action>* actions) {
  for (auto& slot : slots_) {
    SpawnInto(slot, now, actions);
  }
  if (config_.max_memory > 0) {
    memory_at_ = now + config_.memory_every;
  }
}

Event ClusterSignalEvent(int signo) {
  if (signo == SIGHUP) {
    return ReloadRequested{"SIGHUP", ReloadTrigger::kSignal};
  }
  return SignalReceived{signo};
}

namespace {

// How often an exiting worker's tree is looked at (besides after every reap: its
// last process may be no child of cinit's).
constexpr milliseconds kTreeCheckEvery{100};

// --max-memory: after a replacement, the slot's next one waits 10 s × 2^(n − 1), at
// most 5 min, where n counts replacements of workers that had lived less than
// kRecycleStable: an app that outgrows the limit at once is not replaced in a loop.
constexpr milliseconds kRecycleBackoffBase{10000};
constexpr milliseconds kRecycleBackoffMax{300000};
constexpr milliseconds kRecycleStable{600000};

std::string Mebibytes(uint64_t bytes) {
  const uint64_t tenths = (bytes * 10 + (1 << 19)) >> 20;  // fmt has no floats here
  return fmt::format("{}.{} MiB", tenths / 10, tenths % 10);
}

// Why a worker that exits at once, with no HELLO from the shim, while another
// worker runs, likely does so.
constexpr const char* kBindHint =
    "the bind shim never loaded in it while another worker runs: a program the shim "
    "cannot reach (Go, a static or set-uid binary, LD_PRELOAD removed on the way) fails "
    "to bind the shared port (EADDRINUSE); pass it the socket with --listen "
    "(LISTEN_FDS), or run one worker (-i 1)";

}  // namespace

int Cluster::online_workers() const {
  return static_cast<int>(
      std::count_if(workers_.begin(), workers_.end(), [](const auto& entry) {
        return entry.second.state == WorkerState::kOnline && !entry.second.exiting();
      }));
}

void Cluster::FillSnapshot(TimePoint started, TimePoint now,
                           health::Snapshot* out) const {
  auto seconds = [started](TimePoint t) {
    return std::chrono::duration<double>(t - started).count();
  };
  FillReadiness(out);
  out->mode = "cluster";
  out->uptime = seconds(now);
  out->reload_state = reload_.state == ReloadStatus::State::kRolling ? "rolling" : "idle";
  out->reload_slot = reload_.slots_done;
  out->reload_slots = reload_.slots_total;
  out->reload_generation = generation_;
  out->reload_last_result = ReloadResultName(reload_.last_result);
  out->reload_last_message = reload_.last_message;
  out->reloads_succeeded = static_cast<uint64_t>(reload_.succeeded);
  out->reloads_failed = static_cast<uint64_t>(reload_.failed);
  out->reload_last_trigger = reload_.last_trigger;
  out->reloads_triggered = reload_.triggered;
  out->orphans_reaped = orphans_reaped_;
  out->signals_forwarded = signals_forwarded_;
  out->spawn_failures = spawn_failures_;
  out->trees_left = trees_left_;
  out->memory_restarts = memory_restarts_;
  out->restarts = 0;
  for (const auto& slot : slots_) {
    out->restarts += static_cast<uint64_t>(slot.restarts);
  }
  out->workers.clear();
  for (const auto& [id, worker] : workers_) {
    health::WorkerView view;
    view.instance = worker.slot;
    view.pid = worker.pid;
    view.state = worker.exiting() ? "exiting" : WorkerStateName(worker.state);
    view.generation = worker.generation;
    view.restarts = slots_[static_cast<size_t>(worker.slot)].restarts;
    view.started_at = seconds(worker.started_at);
    if (worker.online_at) {
      view.online_at = seconds(*worker.online_at);
    }
    if (config_.max_memory > 0) {
      view.memory = worker.memory;
    }
    out->workers.push_back(view);
  }
}

void Cluster::FillReadiness(health::Snapshot* out) const {
  out->desired_workers = config_.workers;
  out->online_workers = online_workers();
  out->stopping = phase_ != Phase::kRunning;
  out->lame_duck = phase_ == Phase::kLameDuck;
  out->giving_up = giving_up();
}

std::optional<TimePoint> Cluster::NextDeadline() const {
  std::optional<TimePoint> next = drain_.deadline();
  if (phase_ == Phase::kRunning && memory_at_ && (!next || *memory_at_ < *next)) {
    next = memory_at_;
  }
  auto consider = [&next](const std::optional<TimePoint>& when) {
    if (when && (!next || *when < *next)) {
      next = when;
    }
  };
  consider(lame_duck_until_);
  if (phase_ == Phase::kRunning) {
    consider(config_debounce_.deadline());
  }
  for (const auto& slot : slots_) {
    consider(slot.restart_at);
  }
  for (const auto& [id, worker] : workers_) {
    consider(worker.deadline);
    consider(worker.hello_due);
    consider(worker.check_at);
  }
  return next;
}

void Cluster::Handle(const Event& event, TimePoint now, std::vector<Action>* actions) {
  if (drain_.done()) {
    return;
  }
  std::visit(
      [&](const auto& e) {
        using T = std::decay_t<decltype(e)>;
        if constexpr (std::is_same_v<T, SignalReceived>) {
          OnSignal(e.signo, now, actions);
        } else if constexpr (std::is_same_v<T, ChildrenReaped>) {
          OnReaped(e, now, actions);
        } else if constexpr (std::is_same_v<T, Tick>) {
          OnTick(now, actions);
        } else if constexpr (std::is_same_v<T, WorkerSpawned>) {
          OnSpawned(e, now, actions);
        } else if constexpr (std::is_same_v<T, WorkerReport>) {
          OnReport(e, now, actions);
        } else if constexpr (std::is_same_v<T, ReloadRequested>) {
          OnReloadRequested(e, now, actions);
        } else if constexpr (std::is_same_v<T, ScaleRequested>) {
          OnScale(e.workers, now, actions);
        } else if constexpr (std::is_same_v<T, ConfigChanged>) {
          OnConfigChanged(e, now);
        } else if constexpr (std::is_same_v<T, TreeChecked>) {
          OnTreeChecked(e, now, actions);
        } else if constexpr (std::is_same_v<T, MemorySampled>) {
          OnMemorySampled(e, now, actions);
        }
      },
      event);
}

void Cluster::OnSignal(int signo, TimePoint now, std::vector<Action>* actions) {
  switch (ClassifySignal(signo)) {
    case SignalDisposition::kReap:
      actions->push_back(ReapChildren{});
      return;
    case SignalDisposition::kForward:
      break;
    default:
      return;
  }
  if (signo == SIGTERM || signo == SIGINT) {
    if (phase_ == Phase::kRunning && config_.drain_delay.count() > 0) {
      phase_ = Phase::kLameDuck;
      lame_duck_until_ = now + config_.drain_delay;
      Log(Level::kInfo,
          "{}: not ready; {} worker(s) keep serving for {} ms (--drain-delay), then stop "
          "gracefully ({} again: at once)",
          SignalName(signo), workers_.size(), config_.drain_delay.count(),
          SignalName(signo));
    } else if (phase_ == Phase::kRunning || phase_ == Phase::kLameDuck) {
      if (phase_ == Phase::kLameDuck) {
        Log(Level::kInfo, "{} again: the drain delay is cut short", SignalName(signo));
      }
      Log(Level::kInfo, "{}: stopping {} worker(s) gracefully", SignalName(signo),
          workers_.size());
      StopAll(now, 0, actions);
    } else if (phase_ == Phase::kStopping) {
      Log(Level::kInfo, "{} again: SIGKILL in at most {} ms", SignalName(signo),
          config_.kill_timeout.count());
      for (auto& [id, worker] : workers_) {
        StopWorker(worker, now, /*graceful=*/false, actions);
      }
    } else {
      actions->push_back(SignalEveryone{signo});
    }
    return;
  }
  if (phase_ == Phase::kDraining) {
    actions->push_back(SignalEveryone{signo});
    return;
  }
  const int out = config_.rewrite.Apply(signo);
  for (const auto& [id, worker] : workers_) {
    if (worker.pid > 0 && !worker.exiting() && out != 0) {
      actions->push_back(SendSignal{worker.pid, out});
      ++signals_forwarded_;
    }
  }
}

void Cluster::OnReaped(const ChildrenReaped& reaped, TimePoint now,
                       std::vector<Action>* actions) {
  children_left_ = !reaped.none_left;
  for (const auto& child : reaped.children) {
    ExitInfo exit = DecodeWaitStatus(child.wait_status);
    auto it = std::find_if(workers_.begin(), workers_.end(), [&](const auto& entry) {
      return entry.second.pid == child.pid && !entry.second.exiting();
    });
    if (it == workers_.end()) {
      ++orphans_reaped_;
      Log(Level::kDebug, "reaped pid {} ({})", child.pid, exit.Describe());
      continue;
    }
    // Its process group is the rest of its tree: the worker is done when that is
    // empty too (OnTreeChecked).
    it->second.exit = exit;
    it->second.exited_at = now;
    it->second.hello_due.reset();
  }
  // This reap may have emptied the tree of any exiting worker.
  for (const auto& [id, worker] : workers_) {
    if (worker.exiting()) {
      actions->push_back(CheckTree{id, worker.pid});
    }
  }
  if (phase_ == Phase::kDraining) {
    drain_.OnReaped(reaped.none_left, actions);
  }
}

void Cluster::OnTreeChecked(const TreeChecked& checked, TimePoint now,
                            std::vector<Action>* actions) {
  auto it = workers_.find(checked.worker_id);
  if (it == workers_.end() || !it->second.exiting()) {
    return;
  }
  WorkerInfo& worker = it->second;
  if (checked.empty || worker.abandoned) {
    if (!checked.empty) {
      Log(Level::kWarning,
          "worker {} (pid {}): processes of its group survive SIGKILL; no longer waiting "
          "for them",
          worker.slot, worker.pid);
      stop_exit_code_ = stop_exit_code_ == 0 ? kExitForcedStop : stop_exit_code_;
    }
    Finish(worker.id, now, actions);
    return;
  }
  worker.check_at = now + kTreeCheckEvery;
  if (worker.tree_left) {
    return;
  }
  // First sight of what it left behind: a wrapper's child (npm → sh → node), a
  // server's own workers. They are stopped before the slot counts as free.
  worker.tree_left = true;
  ++trees_left_;
  const bool stopping =
      worker.state == WorkerState::kLeaving || worker.state == WorkerState::kTerminating;
  if (!stopping) {
    worker.deadline = now + config_.kill_timeout;
  }
  const long long left_ms =
      worker.deadline
          ? std::chrono::duration_cast<milliseconds>(*worker.deadline - now).count()
          : 0;
  if (worker.killed) {
    Log(Level::kInfo,
        "worker {} (pid {}) {}; waiting at most {} ms for the rest of its process group, "
        "which had SIGKILL",
        worker.slot, worker.pid, worker.exit->Describe(), left_ms);
    return;
  }
  if (worker.tree_signalled) {
    Log(Level::kInfo,
        "worker {} (pid {}) {}; waiting for the rest of its process group (SIGKILL in "
        "{} ms)",
        worker.slot, worker.pid, worker.exit->Describe(), left_ms);
    return;
  }
  Log(stopping ? Level::kInfo : Level::kWarning,
      "worker {} (pid {}) {}, leaving processes of its group behind: sending them {} "
      "(SIGKILL in {} ms)",
      worker.slot, worker.pid, worker.exit->Describe(), SignalName(config_.stop_signal),
      left_ms);
  worker.tree_signalled = true;
  actions->push_back(SignalTree{worker.pid, config_.stop_signal});
}

void Cluster::Finish(int worker_id, TimePoint now, std::vector<Action>* actions) {
  auto it = workers_.find(worker_id);
  if (it == workers_.end()) {
    return;
  }
  WorkerInfo worker = it->second;
  Forget(it, actions);
  OnWorkerExit(worker, *worker.exit, now, actions);
  DropRetiredSlots();
  if (phase_ == Phase::kStopping) {
    MaybeFinishStop(now, !children_left_, actions);
  }
}

void Cluster::OnWorkerExit(WorkerInfo worker, const ExitInfo& exit, TimePoint now,
                           std::vector<Action>* actions) {
  SlotInfo& slot = slots_[static_cast<size_t>(worker.slot)];
  const bool replacement = slot.incoming_id == worker.id;
  if (slot.worker_id == worker.id) {
    slot.worker_id.reset();
  }
  if (replacement) {
    slot.incoming_id.reset();
  }
  bool expected = worker.state == WorkerState::kLeaving ||
                  worker.state == WorkerState::kTerminating || !serving();
  if (expected) {
    Log(Level::kInfo, "worker {} (pid {}) {}", worker.slot, worker.pid, exit.Describe());
    if (worker.killed) {
      stop_exit_code_ = stop_exit_code_ == 0 ? kExitForcedStop : stop_exit_code_;
    }
    const bool recycled = slot.recycled_id == worker.id;
    if (recycled) {
      slot.recycled_id.reset();
      slot.recycling = false;
    }
    // From here on `slot` may dangle: a rollout's end applies a pending "scale",
    // which grows or shrinks slots_.
    if (rollout_) {
      for (const auto& step : rollout_->steps) {
        if (step.old_id == worker.id) {
          StepDone(step.slot, now, actions);  // invalidates `step`: leave the loop
          break;
        }
      }
    }
    if (recycled) {
      Log(Level::kInfo, "worker {}: memory replacement done", worker.slot);
      AfterRecycles(now, actions);
    }
    RefillSlot(worker.slot, now, actions);
    return;
  }
  if (replacement && slot.recycling) {
    FailRecycle(slot,
                fmt::format("the new worker (pid {}) {} before it was online", worker.pid,
                            exit.Describe()),
                now, actions);
    return;
  }
  if (replacement) {
    AbortRollout(fmt::format("the new worker {} (pid {}) {} before it was online",
                             worker.slot, worker.pid, exit.Describe()),
                 now, actions);
    return;
  }
  if (slot.incoming_id) {
    // Its replacement is on the way and takes the slot over: no restart.
    Log(Level::kWarning, "worker {} (pid {}) {} while being replaced", worker.slot,
        worker.pid, exit.Describe());
    if (rollout_) {
      for (auto& step : rollout_->steps) {
        if (step.slot == worker.slot) {
          step.old_id.reset();
        }
      }
    }
    return;
  }
  const auto lived = worker.exited_at - worker.started_at;
  bool crashed = lived < config_.min_uptime;
  Log(Level::kWarning, "worker {} (pid {}) {}{}", worker.slot, worker.pid,
      exit.Describe(),
      crashed ? fmt::format(" {} ms after its start",
                            std::chrono::duration_cast<milliseconds>(lived).count())
              : "");
  // Patience for an app that has served; little for one that never came online.
  const int limit = ever_online_
                        ? config_.max_restarts
                        : std::min(config_.max_restarts, config_.never_online_restarts);
  if (crashed && slot.crashes_in_a_row + 1 > limit) {
    Log(Level::kError,
        "worker {} crashed {} times in a row, each within {} ms of its start{}: giving "
        "up; {}",
        worker.slot, slot.crashes_in_a_row + 1, config_.min_uptime.count(),
        ever_online_ ? "" : ", and no worker has ever been online",
        GiveUpReason(worker, exit));
    StopAll(now, kExitGaveUp, actions);
    return;
  }
  if (crashed && MayHaveLostTheBind(worker) && !bind_hint_given_) {
    bind_hint_given_ = true;
    Log(Level::kWarning, "worker {} (pid {}): {}", worker.slot, worker.pid, kBindHint);
  }
  ScheduleRestart(slot, crashed, now);
}

bool Cluster::MayHaveLostTheBind(const WorkerInfo& worker) const {
  if (!config_.shim || worker.shim_loaded) {
    return false;
  }
  // Another worker of the app runs: it may hold the port the shim could not share
  // (it need not be online to cinit: a Go server binds without the shim).
  return std::any_of(workers_.begin(), workers_.end(), [&](const auto& entry) {
    return entry.first != worker.id && !entry.second.exiting() && entry.second.pid > 0;
  });
}

std::string Cluster::GiveUpReason(const WorkerInfo& worker, const ExitInfo& exit) const {
  std::string last = "the last one " + exit.Describe();
  if (exit.signo == 0 && exit.code == 127) {
    return last + ": the command was not found";
  }
  if (exit.signo == 0 && exit.code == 126) {
    return last + ": the command cannot be executed";
  }
  if (MayHaveLostTheBind(worker)) {
    return last + ": " + kBindHint;
  }
  if (exit.signo != 0) {
    return last + ": it crashed, or something outside cinit killed it";
  }
  return last + ": its own output above says why";
}

void Cluster::ScheduleRestart(SlotInfo& slot, bool crashed, TimePoint now) {
  slot.crashes_in_a_row = crashed ? slot.crashes_in_a_row + 1 : 0;
  ++slot.restarts;
  int shift = std::min(slot.crashes_in_a_row, 20);
  milliseconds delay = std::min<milliseconds>(
      config_.backoff_base * (int64_t{1} << shift), config_.backoff_max);
  slot.restart_at = now + delay;
  Log(Level::kInfo, "restarting worker {} in {} ms", slot.index, delay.count());
}

int Cluster::SpawnInto(SlotInfo& slot, TimePoint now, std::vector<Action>* actions) {
  WorkerInfo worker;
  worker.id = next_worker_id_++;
  worker.slot = slot.index;
  worker.generation = generation_;
  worker.started_at = now;
  workers_[worker.id] = worker;
  slot.worker_id = worker.id;
  slot.restart_at.reset();
  actions->push_back(SpawnWorker{worker.id, slot.index});
  return worker.id;
}

void Cluster::OnSpawned(const WorkerSpawned& spawned, TimePoint now,
                        std::vector<Action>* actions) {
  auto it = workers_.find(spawned.worker_id);
  if (it == workers_.end()) {
    return;
  }
  if (spawned.pid > 0) {
    it->second.pid = spawned.pid;
    slots_[static_cast<size_t>(it->second.slot)].spawn_failures = 0;
    if (config_.shim) {
      it->second.hello_due = now + config_.shim_hello_wait;
    }
    Log(Level::kDebug, "worker {} is pid {}", it->second.slot, spawned.pid);
    if (!serving()) {
      StopWorker(it->second, now, /*graceful=*/false, actions);
    }
    return;
  }
  // No process was made (fork/vfork: EAGAIN under a pids limit, ENOMEM…). Not a
  // crash of the program, so it never counts towards giving up: the slot retries
  // with a backoff for as long as it takes, and the workers that run keep serving.
  WorkerInfo worker = it->second;
  Forget(it, actions);
  ++spawn_failures_;
  SlotInfo& slot = slots_[static_cast<size_t>(worker.slot)];
  if (slot.worker_id == worker.id) {
    slot.worker_id.reset();
  }
  if (slot.incoming_id == worker.id && slot.recycling) {
    slot.incoming_id.reset();
    FailRecycle(slot, "cannot start its replacement: " + spawned.error, now, actions);
    return;
  }
  if (slot.incoming_id == worker.id) {
    slot.incoming_id.reset();
    AbortRollout(
        fmt::format("cannot start the new worker {}: {}", worker.slot, spawned.error),
        now, actions);
    return;
  }
  if (!serving() || slot.retiring) {
    DropRetiredSlots();
    return;
  }
  ++slot.spawn_failures;
  int shift = std::min(slot.spawn_failures - 1, 20);
  milliseconds delay = std::min<milliseconds>(
      config_.backoff_base * (int64_t{1} << shift), config_.backoff_max);
  slot.restart_at = now + delay;
  Log(Level::kWarning, "cannot start worker {}: {}; trying again in {} ms ({} in a row)",
      worker.slot, spawned.error, delay.count(), slot.spawn_failures);
}

void Cluster::RefillSlot(int index, TimePoint now, std::vector<Action>* actions) {
  if (!serving() || index >= static_cast<int>(slots_.size())) {
    return;
  }
  SlotInfo& slot = slots_[static_cast<size_t>(index)];
  if (!slot.retiring && !slot.worker_id && !slot.incoming_id && !slot.restart_at) {
    // Asked to leave, then wanted again ("scale" back up while it drained).
    SpawnInto(slot, now, actions);
  }
}

void Cluster::OnReport(const WorkerReport& report, TimePoint now,
                       std::vector<Action>* actions) {
  auto it = workers_.find(report.worker_id);
  if (it == workers_.end()) {
    return;
  }
  WorkerInfo& worker = it->second;
  switch (report.kind) {
    case WorkerReport::Kind::kListening:
    case WorkerReport::Kind::kReady:
      if (worker.state == WorkerState::kStarting && !worker.exiting()) {
        worker.state = WorkerState::kOnline;
        worker.online_at = now;
        ever_online_ = true;
        Log(Level::kInfo, "worker {} (pid {}) is online ({})", worker.slot, worker.pid,
            report.kind == WorkerReport::Kind::kReady ? "ready" : "listening");
        if (IsReplacement(worker)) {
          HandOver(worker, now, actions);
        }
      }
      break;
    case WorkerReport::Kind::kShimLoaded:
      worker.hello_due.reset();  // every process of its tree says HELLO: the first counts
      worker.shim_loaded = true;
      break;
    case WorkerReport::Kind::kBooted:
      break;
  }
}

void Cluster::OnTick(TimePoint now, std::vector<Action>* actions) {
  if (phase_ == Phase::kDraining) {
    drain_.OnTick(now, actions);
    return;
  }
  // AdvanceStop may drop a worker from workers_: collect first, then act.
  std::vector<int> due;
  for (const auto& [id, worker] : workers_) {
    if (worker.deadline && *worker.deadline <= now) {
      due.push_back(id);
    }
  }
  for (int id : due) {
    if (auto it = workers_.find(id); it != workers_.end()) {
      OnWorkerDeadline(it->second, now, actions);
    }
  }
  for (auto& [id, worker] : workers_) {
    if (worker.check_at && *worker.check_at <= now) {
      worker.check_at.reset();
      actions->push_back(CheckTree{id, worker.pid});
    }
    if (worker.hello_due && *worker.hello_due <= now) {
      worker.hello_due.reset();
      Log(Level::kWarning,
          "worker {} (pid {}): the bind shim did not load (a static or set-uid program, "
          "or LD_PRELOAD removed on the way); if it binds the shared port itself, "
          "workers will collide: use --listen (LISTEN_FDS) or Node's IPC instead",
          worker.slot, worker.pid);
    }
  }
  if (phase_ == Phase::kStopping) {
    MaybeFinishStop(now, !children_left_, actions);
    return;
  }
  if (phase_ == Phase::kLameDuck && lame_duck_until_ && *lame_duck_until_ <= now) {
    Log(Level::kInfo, "drain delay over: stopping {} worker(s) gracefully",
        workers_.size());
    StopAll(now, 0, actions);
    return;
  }
  if (memory_at_ && *memory_at_ <= now) {
    memory_at_ = now + config_.memory_every;
    SampleMemory sample;
    for (const auto& [id, worker] : workers_) {
      if (worker.pid > 0 && !worker.exiting()) {
        sample.workers.emplace_back(id, worker.pid);
      }
    }
    if (!sample.workers.empty()) {
      actions->push_back(std::move(sample));
    }
  }
  for (auto& slot : slots_) {
    if (slot.restart_at && *slot.restart_at <= now && !slot.worker_id && !slot.retiring) {
      SpawnInto(slot, now, actions);
    }
  }
  const int changes = config_debounce_.changes();
  if (config_debounce_.Take(now)) {
    std::string paths = changed_paths_.front();
    for (size_t i = 1; i < changed_paths_.size(); ++i) {
      paths += ", " + changed_paths_[i];
    }
    changed_paths_.clear();
    Log(Level::kDebug, "config change: {} changes settled", changes);
    OnReloadRequested(
        ReloadRequested{"config change: " + paths, ReloadTrigger::kConfigChange}, now,
        actions);
  }
}

void Cluster::OnConfigChanged(const ConfigChanged& changed, TimePoint now) {
  if (phase_ != Phase::kRunning) {
    return;
  }
  if (config_debounce_.changes() == 0) {
    Log(Level::kDebug, "config change seen: {}; reloading once it settles", changed.path);
  }
  config_debounce_.Changed(now);
  // Bounded: the watcher reports only its --reload-on-change paths.
  if (std::find(changed_paths_.begin(), changed_paths_.end(), changed.path) ==
      changed_paths_.end()) {
    changed_paths_.push_back(changed.path);
  }
}

void Cluster::OnWorkerDeadline(WorkerInfo& worker, TimePoint now,
                               std::vector<Action>* actions) {
  if (worker.exiting()) {
    // Its own process is gone; what is left of its tree had its time.
    if (!worker.killed) {
      Log(Level::kWarning,
          "worker {} (pid {}): processes of its group still running: sending SIGKILL",
          worker.slot, worker.pid);
      worker.killed = true;
      worker.deadline = now + Drain::kKillWait;
      actions->push_back(SignalTree{worker.pid, SIGKILL});
    } else {
      worker.deadline.reset();
      worker.abandoned = true;
      actions->push_back(CheckTree{worker.id, worker.pid});
    }
    return;
  }
  if (worker.state != WorkerState::kStarting) {
    AdvanceStop(worker, now, actions);
    return;
  }
  // Only a reload's replacement has a deadline while starting: listen_timeout.
  worker.deadline.reset();
  if (config_.strict_reload && slots_[static_cast<size_t>(worker.slot)].recycling) {
    SlotInfo& slot = slots_[static_cast<size_t>(worker.slot)];
    slot.incoming_id.reset();
    StopWorker(worker, now, /*graceful=*/false, actions);
    FailRecycle(
        slot,
        fmt::format("the new worker (pid {}) was not online {} ms after its start "
                    "(--strict-reload)",
                    worker.pid, config_.listen_timeout.count()),
        now, actions);
    return;
  }
  if (config_.strict_reload) {
    AbortRollout(
        fmt::format("the new worker {} (pid {}) was not online {} ms after its start "
                    "(--strict-reload)",
                    worker.slot, worker.pid, config_.listen_timeout.count()),
        now, actions);
    return;
  }
  Log(Level::kWarning,
      "the new worker {} (pid {}) did not say it was online within {} ms: taking it as "
      "online (pm2's behaviour; --strict-reload aborts instead)",
      worker.slot, worker.pid, config_.listen_timeout.count());
  worker.state = WorkerState::kOnline;
  worker.online_at = now;
  ever_online_ = true;
  HandOver(worker, now, actions);
}

void Cluster::OnReloadRequested(const ReloadRequested& request, TimePoint now,
                                std::vector<Action>* actions) {
  if (phase_ == Phase::kLameDuck) {
    Log(Level::kWarning,
        "{}: reload refused: cinit is stopping (drain delay, workers still serving)",
        request.source);
    return;
  }
  if (phase_ != Phase::kRunning) {
    Log(Level::kInfo, "{}: no reload while stopping", request.source);
    return;
  }
  if (Recycling()) {
    pending_reload_ = request;
    Log(Level::kInfo,
        "{}: the reload starts once the memory replacement in flight is done",
        request.source);
    return;
  }
  reload_.last_trigger = request.source;
  ++reload_.triggered[static_cast<size_t>(request.trigger)];
  if (rollout_) {
    rollout_->again = true;
    Log(Level::kInfo,
        "{}: a reload is in progress; it will start over once the slots in flight are "
        "done",
        request.source);
    return;
  }
  Log(Level::kInfo, "{}: rolling reload of {} worker(s), {} at a time", request.source,
      slots_.size(), config_.reload_batch);
  StartRollout(now, actions);
}

void Cluster::StartRollout(TimePoint now, std::vector<Action>* actions) {
  ++generation_;
  rollout_ = Rollout{};
  for (const auto& slot : slots_) {
    if (!slot.retiring) {
      rollout_->queue.push_back(slot.index);
    }
  }
  reload_.state = ReloadStatus::State::kRolling;
  reload_.slots_done = 0;
  reload_.slots_total = static_cast<int>(rollout_->queue.size());
  AdvanceRollout(now, actions);
}

void Cluster::AdvanceRollout(TimePoint now, std::vector<Action>* actions) {
  while (rollout_ && static_cast<int>(rollout_->steps.size()) < config_.reload_batch &&
         !rollout_->queue.empty()) {
    int index = rollout_->queue.front();
    rollout_->queue.erase(rollout_->queue.begin());
    SlotInfo& slot = slots_[static_cast<size_t>(index)];
    if (!slot.worker_id || slot.retiring) {
      ++reload_.slots_done;  // nothing to replace: its restart is of the new generation
      continue;
    }
    WorkerInfo worker;
    worker.id = next_worker_id_++;
    worker.slot = index;
    worker.generation = generation_;
    worker.started_at = now;
    worker.deadline = now + config_.listen_timeout;
    workers_[worker.id] = worker;
    slot.incoming_id = worker.id;
    rollout_->steps.push_back(Step{index, std::nullopt});
    actions->push_back(SpawnWorker{worker.id, index});
  }
  if (rollout_ && rollout_->steps.empty() && rollout_->queue.empty()) {
    FinishRollout(now, actions);
  }
}

void Cluster::HandOver(WorkerInfo& replacement, TimePoint now,
                       std::vector<Action>* actions) {
  SlotInfo& slot = slots_[static_cast<size_t>(replacement.slot)];
  replacement.deadline.reset();
  std::optional<int> old = slot.worker_id;
  slot.worker_id = replacement.id;
  slot.incoming_id.reset();
  if (slot.recycling) {
    auto it = old ? workers_.find(*old) : workers_.end();
    if (it == workers_.end()) {
      slot.recycling = false;  // the old one is already gone
      AfterRecycles(now, actions);
      return;
    }
    slot.recycled_id = *old;
    Log(Level::kInfo,
        "worker {}: pid {} is online; asking pid {} (over --max-memory) to leave",
        slot.index, replacement.pid, it->second.pid);
    StopWorker(it->second, now, /*graceful=*/true, actions);
    return;
  }
  if (!rollout_) {
    return;  // cannot happen: a replacement exists only during a rollout
  }
  auto step = std::find_if(rollout_->steps.begin(), rollout_->steps.end(),
                           [&](const Step& s) { return s.slot == replacement.slot; });
  if (step == rollout_->steps.end()) {
    return;
  }
  auto it = old ? workers_.find(*old) : workers_.end();
  if (it == workers_.end()) {
    StepDone(replacement.slot, now, actions);
    return;
  }
  step->old_id = *old;
  Log(Level::kInfo, "worker {}: pid {} is online; asking pid {} to leave", slot.index,
      replacement.pid, it->second.pid);
  StopWorker(it->second, now, /*graceful=*/true, actions);
}

void Cluster::StepDone(int slot, TimePoint now, std::vector<Action>* actions) {
  if (!rollout_) {
    return;
  }
  std::erase_if(rollout_->steps, [slot](const Step& s) { return s.slot == slot; });
  ++reload_.slots_done;
  if (rollout_->steps.empty() && rollout_->again && phase_ == Phase::kRunning) {
    Log(Level::kInfo, "starting the reload over, as asked for during it");
    StartRollout(now, actions);
    return;
  }
  AdvanceRollout(now, actions);
}

void Cluster::AbortRollout(std::string why, TimePoint now, std::vector<Action>* actions) {
  if (!rollout_) {
    return;
  }
  Log(Level::kError, "reload aborted: {}; the old workers keep serving", why);
  for (const auto& step : rollout_->steps) {
    SlotInfo& slot = slots_[static_cast<size_t>(step.slot)];
    if (slot.incoming_id) {  // not handed over yet
      auto it = workers_.find(*slot.incoming_id);
      slot.incoming_id.reset();
      if (it != workers_.end()) {
        StopWorker(it->second, now, /*graceful=*/false, actions);
      }
    }
  }
  rollout_.reset();
  reload_.state = ReloadStatus::State::kIdle;
  reload_.last_result = ReloadStatus::Result::kFailed;
  reload_.last_message = std::move(why);
  ++reload_.failed;
  if (auto scale = std::exchange(pending_scale_, std::nullopt)) {
    OnScale(*scale, now, actions);
  }
}

void Cluster::FinishRollout(TimePoint now, std::vector<Action>* actions) {
  rollout_.reset();
  reload_.state = ReloadStatus::State::kIdle;
  reload_.generation = generation_;
  reload_.last_result = ReloadStatus::Result::kSucceeded;
  reload_.last_message = fmt::format("{} worker(s) replaced", reload_.slots_total);
  ++reload_.succeeded;
  Log(Level::kInfo, "reload done: {}", reload_.last_message);
  if (auto scale = std::exchange(pending_scale_, std::nullopt)) {
    OnScale(*scale, now, actions);
  }
}

void Cluster::OnMemorySampled(const MemorySampled& sampled, TimePoint now,
                              std::vector<Action>* actions) {
  if (config_.max_memory == 0) {
    return;
  }
  for (const auto& [id, bytes] : sampled.workers) {
    auto it = workers_.find(id);
    if (it == workers_.end()) {
      continue;
    }
    WorkerInfo& worker = it->second;
    worker.memory = bytes;
    if (bytes > config_.max_memory) {
      if (!worker.over_since) {
        worker.over_since = now;
      }
    } else {
      worker.over_since.reset();
    }
  }
  if (phase_ != Phase::kRunning || rollout_) {
    return;  // a reload replaces every worker anyway
  }
  int in_flight = static_cast<int>(std::count_if(
      slots_.begin(), slots_.end(), [](const SlotInfo& s) { return s.recycling; }));
  for (auto& slot : slots_) {
    if (in_flight >= config_.reload_batch) {
      return;
    }
    if (!slot.worker_id || slot.incoming_id || slot.recycling || slot.retiring ||
        (slot.recycle_not_before && now < *slot.recycle_not_before)) {
      continue;
    }
    WorkerInfo& worker = workers_.at(*slot.worker_id);
    if (worker.state != WorkerState::kOnline || worker.exiting() || !worker.over_since ||
        now - *worker.over_since < config_.memory_over_for) {
      continue;
    }
    Recycle(slot, worker, now, actions);
    ++in_flight;
  }
}

void Cluster::Recycle(SlotInfo& slot, WorkerInfo& old, TimePoint now,
                      std::vector<Action>* actions) {
  slot.memory_in_a_row =
      now - old.started_at < kRecycleStable ? slot.memory_in_a_row + 1 : 1;
  const int shift = std::min(slot.memory_in_a_row - 1, 20);
  const milliseconds backoff = std::min<milliseconds>(
      kRecycleBackoffBase * (int64_t{1} << shift), kRecycleBackoffMax);
  slot.recycle_not_before = now + backoff;
  ++memory_restarts_;
  Log(Level::kWarning,
      "worker {} (pid {}) uses {}, above --max-memory {} for {} ms: replacing it (the "
      "slot's next replacement waits {} s)",
      slot.index, old.pid, Mebibytes(old.memory), Mebibytes(config_.max_memory),
      std::chrono::duration_cast<milliseconds>(now - *old.over_since).count(),
      backoff.count() / 1000);
  WorkerInfo worker;
  worker.id = next_worker_id_++;
  worker.slot = slot.index;
  worker.generation = old.generation;
  worker.started_at = now;
  worker.deadline = now + config_.listen_timeout;
  workers_[worker.id] = worker;
  slot.incoming_id = worker.id;
  slot.recycling = true;
  actions->push_back(SpawnWorker{worker.id, slot.index});
}

void Cluster::FailRecycle(SlotInfo& slot, const std::string& why, TimePoint now,
                          std::vector<Action>* actions) {
  Log(Level::kError,
      "worker {}: memory replacement failed: {}; the old worker keeps serving",
      slot.index, why);
  slot.recycling = false;
  slot.recycled_id.reset();
  AfterRecycles(now, actions);
}

bool Cluster::Recycling() const {
  return std::any_of(slots_.begin(), slots_.end(),
                     [](const SlotInfo& s) { return s.recycling; });
}

void Cluster::AfterRecycles(TimePoint now, std::vector<Action>* actions) {
  if (Recycling() || phase_ != Phase::kRunning) {
    return;
  }
  if (auto request = std::exchange(pending_reload_, std::nullopt)) {
    OnReloadRequested(*request, now, actions);
  } else if (auto scale = std::exchange(pending_scale_, std::nullopt)) {
    OnScale(*scale, now, actions);
  }
}

void Cluster::OnScale(int workers, TimePoint now, std::vector<Action>* actions) {
  if (phase_ != Phase::kRunning) {
    if (phase_ == Phase::kLameDuck) {
      Log(Level::kWarning, "scale {} refused: cinit is stopping (drain delay)", workers);
    }
    return;
  }
  if (rollout_ || Recycling()) {
    pending_scale_ = workers;
    Log(Level::kInfo, "scale {}: after the reload in progress", workers);
    return;
  }
  int current = static_cast<int>(std::count_if(
      slots_.begin(), slots_.end(), [](const SlotInfo& s) { return !s.retiring; }));
  Log(Level::kInfo, "scale: {} -> {} worker(s)", current, workers);
  config_.workers = workers;
  for (int i = 0; i < workers; ++i) {
    if (i >= static_cast<int>(slots_.size())) {
      slots_.push_back(SlotInfo{});
      slots_.back().index = i;
    }
    SlotInfo& slot = slots_[static_cast<size_t>(i)];
    if (slot.retiring) {
      slot.retiring = false;  // growing back while a shrink drains: keep it
    }
    if (!slot.worker_id && !slot.restart_at) {
      SpawnInto(slot, now, actions);
    }
  }
  for (size_t i = static_cast<size_t>(workers); i < slots_.size(); ++i) {
    SlotInfo& slot = slots_[i];
    if (slot.retiring) {
      continue;
    }
    slot.retiring = true;
    slot.restart_at.reset();
    if (slot.worker_id) {
      StopWorker(workers_.at(*slot.worker_id), now, /*graceful=*/true, actions);
    }
  }
  DropRetiredSlots();
}

void Cluster::DropRetiredSlots() {
  while (!slots_.empty() && slots_.back().retiring && !slots_.back().worker_id &&
         !slots_.back().incoming_id) {
    slots_.pop_back();
  }
}

void Cluster::StopAll(TimePoint now, int exit_code, std::vector<Action>* actions) {
  phase_ = Phase::kStopping;
  lame_duck_until_.reset();
  stop_exit_code_ = exit_code;
  if (rollout_) {
    rollout_.reset();
    reload_.state = ReloadStatus::State::kIdle;
    reload_.last_result = ReloadStatus::Result::kInterrupted;
    reload_.last_message = "cinit was stopped during the reload";
  }
  pending_scale_.reset();
  pending_reload_.reset();
  for (auto& slot : slots_) {
    slot.restart_at.reset();
    slot.recycling = false;
    slot.recycled_id.reset();
  }
  for (auto& [id, worker] : workers_) {
    StopWorker(worker, now, /*graceful=*/true, actions);
  }
  MaybeFinishStop(now, !children_left_, actions);
}

void Cluster::StopWorker(WorkerInfo& worker, TimePoint now, bool graceful,
                         std::vector<Action>* actions) {
  if (worker.pid == 0 || worker.killed) {
    return;  // not spawned yet (OnSpawned stops it as soon as it is), or SIGKILLed
  }
  const TimePoint soon = now + config_.kill_timeout;
  const bool in_stop = worker.exiting() || worker.state == WorkerState::kLeaving ||
                       worker.state == WorkerState::kTerminating;
  if (in_stop) {
    if (graceful) {
      return;  // already on its way out: its clock runs on
    }
    // Hurried (a second SIGTERM): at most kill_timeout more.
    worker.deadline = worker.deadline ? std::min(*worker.deadline, soon) : soon;
    if (worker.state == WorkerState::kLeaving && !worker.exiting()) {
      worker.state = WorkerState::kTerminating;
      worker.stop_budget =
          std::chrono::duration_cast<milliseconds>(*worker.deadline - now);
      worker.tree_signalled = true;
      actions->push_back(SignalTree{worker.pid, config_.stop_signal});
    }
    return;
  }
  // One rule for every kind: asked to leave in the way it understands, then
  // graceful_timeout (then, for Node, the stop signal and kill_timeout), SIGKILL.
  worker.stop_budget = graceful ? config_.graceful_timeout : config_.kill_timeout;
  worker.deadline = now + worker.stop_budget;
  if (graceful && config_.node_ipc) {
    worker.state = WorkerState::kLeaving;
    actions->push_back(AskWorkerToLeave{worker.id});
    return;
  }
  worker.state = WorkerState::kTerminating;
  worker.tree_signalled = true;
  actions->push_back(SignalTree{worker.pid, config_.stop_signal});
}

void Cluster::AdvanceStop(WorkerInfo& worker, TimePoint now,
                          std::vector<Action>* actions) {
  if (worker.state == WorkerState::kLeaving) {
    // A Node worker that ignored 'shutdown' (pm2's reload does the same): the stop
    // signal, so its own handler runs, and kill_timeout more.
    Log(Level::kWarning,
        "worker {} (pid {}) still running {} ms after shutdown: sending {}", worker.slot,
        worker.pid, config_.graceful_timeout.count(), SignalName(config_.stop_signal));
    worker.deadline.reset();  // passed: kill_timeout from now
    StopWorker(worker, now, /*graceful=*/false, actions);
    return;
  }
  if (!worker.killed) {
    Log(Level::kWarning,
        "worker {} (pid {}) still running {} ms after {}: sending SIGKILL", worker.slot,
        worker.pid, worker.stop_budget.count(), SignalName(config_.stop_signal));
    worker.killed = true;
    worker.deadline = now + Drain::kKillWait;
    actions->push_back(SignalTree{worker.pid, SIGKILL});
    return;
  }
  // SIGKILL did not end it within kKillWait (stuck in the kernel): stop
  // waiting for it; the drain and cinit's exit will take it down.
  Log(Level::kWarning, "worker {} (pid {}) survives SIGKILL; no longer waiting for it",
      worker.slot, worker.pid);
  worker.deadline.reset();
  stop_exit_code_ = stop_exit_code_ == 0 ? kExitForcedStop : stop_exit_code_;
  Forget(workers_.find(worker.id), actions);  // invalidates `worker`: OnTick looks
                                              // workers up by id
}

void Cluster::Forget(std::map<int, WorkerInfo>::iterator it,
                     std::vector<Action>* actions) {
  actions->push_back(ForgetWorker{it->first});
  workers_.erase(it);
}

void Cluster::MaybeFinishStop(TimePoint now, bool none_left,
                              std::vector<Action>* actions) {
  if (phase_ != Phase::kStopping || !workers_.empty()) {
    return;
  }
  phase_ = Phase::kDraining;
  Log(Level::kInfo, "all workers have stopped");
  drain_.Start(now, config_.kill_timeout, stop_exit_code_, none_left, actions);
}

}  // namespace cinit
