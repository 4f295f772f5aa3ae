#include "cluster_mode.h"

#include <algorithm>
#include <optional>
#include <vector>

#include "cluster.h"
#include "config_watcher.h"
#include "control_fifo.h"
#include "ctl_status.h"
#include "executor.h"
#include "health_server.h"
#include "log.h"
#include "log_relay.h"
#include "os/cpu.h"
#include "os/log_output.h"
#include "os/pid1.h"
#include "os/process.h"
#include "signal_source.h"
#include "worker_kind.h"
#include "workers.h"

namespace cinit {
namespace {

std::optional<TimePoint> Earliest(std::optional<TimePoint> a,
                                  std::optional<TimePoint> b) {
  if (!a || (b && *b < *a)) {
    return b;
  }
  return a;
}

// What cluster mode publishes after every loop turn, once the Policy has settled:
// the exec probe's verdict file (rewritten when the verdict changes) and the
// answers to the probes waiting in the health server.
class Publisher {
 public:
  Publisher(const Options& options, const Cluster& cluster, const CpuLimit& cpus,
            TimePoint started, HealthServer* health, SharedSockets* sockets)
      : options_(options),
        cluster_(cluster),
        cpus_(cpus),
        started_(started),
        health_(health),
        sockets_(sockets) {
    writer_.pid = os::OwnPid();
    writer_.pid_ns = os::PidNamespace();
    // steady_clock is CLOCK_MONOTONIC: `cinit ctl status` reads the same clock.
    writer_.started = std::chrono::duration<double>(started.time_since_epoch()).count();
  }

  void Publish(TimePoint now) {
    const bool probed = health_->waiting();
    if (probed) {
      // Repair first, then judge: a probe must never say ready while a worker
      // has the port shut down, and a socket cinit can make listen again is no
      // reason to say not ready.
      sockets_->Repair();
    }
    // The file first: once an HTTP probe has seen a verdict, the exec probe sees it.
    PublishFile(now);
    if (probed) {
      health::Snapshot snapshot;
      FillFull(now, &snapshot);
      health_->Answer(snapshot);
    }
  }

  // When the status file is to be tried again, after a failed write.
  std::optional<TimePoint> NextDeadline() const { return retry_at_; }

 private:
  void PublishFile(TimePoint now) {
    if (options_.status_path.empty() || (retry_at_ && now < *retry_at_)) {
      return;
    }
    // Only the few fields the verdict reads, no full snapshot.
    // The sockets as the last repair (a worker's exit, a probe) left them.
    health::Snapshot readiness;
    readiness.min_ready = options_.min_ready;
    cluster_.FillReadiness(&readiness);
    FillSockets(&readiness);
    health::Verdict verdict = health::Judge(readiness);
    view_dirty_ = ViewChanged() || view_dirty_;
    if (published_ == verdict && !view_dirty_) {
      return;
    }
    // The verdict and `cinit ctl status`'s view, in one file written at once.
    health::Snapshot view;
    FillFull(now, &view);
    if (Status s = os::ReplaceFile(options_.status_path,
                                   ctl_status::RenderFile(verdict, view, writer_));
        !s.ok()) {
      // ENOSPC, EROFS…: the old verdict must not stand for the new one. An empty
      // file makes `cinit status` say "unknown" (not ready); retried every second.
      if (!retry_at_) {
        os::EmptyFile(options_.status_path);  // before the line that says so
        Log(Level::kWarning,
            "no status file for `cinit status`: {}; it says \"unknown\" until cinit "
            "can write it again (trying every {} ms)",
            s.message(), kRetry.count());
      }
      published_.reset();
      retry_at_ = now + kRetry;
      return;
    }
    if (retry_at_) {
      Log(Level::kInfo, "status file written again: {}", options_.status_path);
      retry_at_.reset();
    }
    published_ = verdict;
    view_dirty_ = false;
  }

  void FillFull(TimePoint now, health::Snapshot* snapshot) const {
    snapshot->version = CINIT_VERSION;
    snapshot->cpus = cpus_.cpus;
    snapshot->cpus_how = cpus_.how;
    snapshot->min_ready = options_.min_ready;
    snapshot->reload_on_change = options_.reload_on_change;
    cluster_.FillSnapshot(started_, now, snapshot);
    FillSockets(snapshot);
  }

  // Whether what `cinit ctl status` shows changed since the last call: a cheap
  // key of it (no strings, the buffers reused), so that an unchanged cluster costs
  // no rendering and no write.
  bool ViewChanged() {
    key_scratch_.clear();
    for (const auto& [id, worker] : cluster_.workers()) {
      key_scratch_.insert(key_scratch_.end(),
                          {id, worker.pid, static_cast<int64_t>(worker.state),
                           worker.exiting() ? 1 : 0, worker.generation,
                           cluster_.slots()[static_cast<size_t>(worker.slot)].restarts});
    }
    const ReloadStatus& reload = cluster_.reload();
    key_scratch_.insert(
        key_scratch_.end(),
        {static_cast<int64_t>(reload.state), reload.slots_done, reload.slots_total,
         reload.generation, static_cast<int64_t>(reload.last_result),
         reload.succeeded + reload.failed, static_cast<int64_t>(cluster_.phase()),
         cluster_.desired_workers()});
    if (key_scratch_ == key_) {
      return false;
    }
    key_.swap(key_scratch_);
    return true;
  }

  void FillSockets(health::Snapshot* snapshot) const {
    snapshot->shared_sockets_restored = sockets_->restored();
    snapshot->sockets_not_listening = sockets_->not_listening();
  }

  const Options& options_;
  const Cluster& cluster_;
  const CpuLimit& cpus_;
  TimePoint started_;
  HealthServer* health_;
  SharedSockets* sockets_;
  static constexpr std::chrono::milliseconds kRetry{1000};
  std::optional<health::Verdict> published_;
  ctl_status::Writer writer_;
  std::vector<int64_t> key_;
  std::vector<int64_t> key_scratch_;
  bool view_dirty_ = true;
  std::optional<TimePoint> retry_at_;
};

}  // namespace

int RunCluster(const Options& options) {
  const TimePoint started = Clock::now();
  int requested = *options.instances;
  int count = requested;
  const CpuLimit cpus = os::ReadUsableCpus();
  if (requested <= 0) {
    count = ResolveInstances(requested, cpus.cpus);
    Log(Level::kInfo, "usable CPUs: {}; -i {} gives {} worker(s)", cpus.how, requested,
        count);
  }
  IpcDecision ipc = DecideNodeIpc(options.ipc, options.command.front(),
                                  os::ReadShebang(options.command.front()));
  Log(Level::kInfo, "{} worker(s) of '{}'; Node IPC channel: {} ({})", count,
      options.command.front(), ipc.node_ipc ? "yes" : "no", ipc.why);
  os::UniqueFd cwd = os::DetachFromInheritedState();

  // The sources, each owning its fds in the one loop.
  EventLoop loop;
  if (Status s = loop.Open(); !s.ok()) {
    return LogFailure(kExitStartupError, s.message());
  }
  SignalSource signals(&loop);
  if (Status s = signals.Open(); !s.ok()) {
    return LogFailure(kExitStartupError, s.message());
  }
  LogRelay relay(&loop);
  if (options.log_prefix) {
    if (Status s = relay.Open(); !s.ok()) {
      return LogFailure(kExitStartupError, s.message());
    }
  }
  // Non-Node workers without --listen bind the port themselves: the shim and the
  // filter (--share) turn that into cinit's socket.
  const bool shares =
      !ipc.node_ipc && options.listen.empty() && options.share != ShareMode::kNone;
  Workers workers(
      Workers::Config{options.command, options.instance_var, ipc.node_ipc, options.listen,
                      cwd.get(), shares && options.share != ShareMode::kSeccomp,
                      shares && options.share != ShareMode::kShim,
                      options.balance_reuseport, options.log_prefix ? &relay : nullptr},
      &loop);
  if (Status s = workers.Open(); !s.ok()) {
    return LogFailure(kExitStartupError, s.message());
  }
  ControlFifo control(&loop);
  if (!options.control_path.empty()) {
    if (Status s = control.Open(options.control_path); !s.ok()) {
      // Reload by SIGHUP still works; a read-only root must not stop the container.
      Log(Level::kWarning, "no control FIFO: {}", s.message());
    }
  }
  ConfigWatcher config_watcher(&loop);
  if (!options.reload_on_change.empty()) {
    if (Status s = config_watcher.Open(options.reload_on_change); !s.ok()) {
      // No inotify instance (fs.inotify.max_user_instances): reloads still come by
      // SIGHUP and the control FIFO.
      Log(Level::kWarning, "no --reload-on-change: {}", s.message());
    }
  }
  HealthServer health(&loop);
  if (options.health) {
    if (Status s = health.Open(*options.health); !s.ok()) {
      return LogFailure(kExitStartupError, s.message());
    }
  }

  // The policy, and the way back from its actions.
  ClusterConfig config = options.cluster;
  config.workers = count;
  config.node_ipc = ipc.node_ipc;
  // A worker's missing HELLO means a collision only where no filter catches its
  // bind().
  config.shim = workers.has_shim() && !workers.has_bind_filter();
  config.rewrite = options.rewrite;
  Cluster cluster(config);
  Executor executor(&workers);
  Dispatcher dispatcher(&cluster, &executor);
  Publisher publisher(options, cluster, cpus, started, &health, &workers.sockets());

  std::vector<Action> initial;
  cluster.Start(Clock::now(), &initial);
  for (const Action& action : initial) {
    executor.Apply(action, dispatcher.queue());
  }
  dispatcher.Settle(Clock::now());
  std::optional<TimePoint> drop_pages_at = Clock::now() + os::kDropStartupPagesAfter;
  // One loop turn: wait, read the clock once, settle the queue, publish.
  while (!dispatcher.exit_code()) {
    publisher.Publish(Clock::now());
    const std::optional<TimePoint> due = cluster.NextDeadline();
    std::optional<TimePoint> wake =
        Earliest(health.NextDeadline(), publisher.NextDeadline());
    os::FlushLog();
    if (os::LogPending()) {
      wake = Earliest(wake, Clock::now() + os::kLogRetry);
    }
    if (drop_pages_at && Clock::now() >= *drop_pages_at) {
      os::DropStartupPages();
      drop_pages_at.reset();
    }
    wake = Earliest(wake, drop_pages_at);
    loop.Wait(Earliest(due, wake), dispatcher.queue());
    const TimePoint now = Clock::now();
    if (due && *due <= now) {
      dispatcher.queue()->push_back(Tick{});
    }
    health.Expire(now);
    dispatcher.Settle(now);
  }
  return *dispatcher.exit_code();
}

}  // namespace cinit
