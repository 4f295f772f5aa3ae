#include "cluster_mode.h"

#include <algorithm>
#include <optional>
#include <vector>

#include "cluster.h"
#include "config_watcher.h"
#include "control_fifo.h"
#include "executor.h"
#include "health_server.h"
#include "log.h"
#include "log_relay.h"
#include "os/cpu.h"
#include "os/log_output.h"
#include "os/pid1.h"
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
        sockets_(sockets) {}

  void Publish(TimePoint now) {
    if (health_->waiting()) {
      // Repair first, then judge: a probe must never say ready while a worker
      // has the port shut down, and a socket cinit can make listen again is no
      // reason to say not ready.
      sockets_->Repair();
      health::Snapshot snapshot;
      snapshot.version = CINIT_VERSION;
      snapshot.cpus = cpus_.cpus;
      snapshot.cpus_how = cpus_.how;
      snapshot.min_ready = options_.min_ready;
      snapshot.reload_on_change = options_.reload_on_change;
      cluster_.FillSnapshot(started_, now, &snapshot);
      FillSockets(&snapshot);
      health_->Answer(snapshot);
    }
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
    if (published_ == verdict) {
      return;
    }
    if (Status s = os::ReplaceFile(options_.status_path, health::RenderVerdict(verdict));
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
  }

  // When the status file is to be tried again, after a failed write.
  std::optional<TimePoint> NextDeadline() const { return retry_at_; }

 private:
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
  Workers workers(
      Workers::Config{options.command, options.instance_var, ipc.node_ipc, options.listen,
                      cwd.get(), !ipc.node_ipc && options.listen.empty(),
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
  config.shim = workers.has_shim();
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
