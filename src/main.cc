// cinit: a container init. main() wires the phases together and runs the loop
// turns; the decisions live in core/supervisor.h and core/cluster.h (pure), the
// syscalls in os/. Start reading at core/events.h, then RunSingle or RunCluster
// below, then supervisor.h or cluster.h.
#include <algorithm>
#include <cstdlib>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "cluster.h"
#include "control.h"
#include "control_fifo.h"
#include "executor.h"
#include "health_server.h"
#include "log.h"
#include "log_relay.h"
#include "options.h"
#include "os/cpu.h"
#include "os/fifo.h"
#include "os/pid1.h"
#include "os/process.h"
#include "os/signal_fd.h"
#include "signal_source.h"
#include "supervisor.h"
#include "worker_kind.h"
#include "workers.h"

namespace cinit {
namespace {

int Fail(int code, std::string_view message) {
  Log(Level::kError, "{}", message);
  return code;
}

std::optional<std::string> GetEnv(std::string_view name) {
  const char* value = std::getenv(std::string(name).c_str());
  return value != nullptr ? std::optional<std::string>(value) : std::nullopt;
}

int RunSingle(const Options& options) {
  os::SpawnSpec spec;
  spec.argv = options.command;
  spec.new_session = options.setsid;
  if (options.setsid) {
    os::ReleaseControllingTerminal();
  }
  pid_t child = 0;
  if (Status s = os::Spawn(spec, &child); !s.ok()) {
    return Fail(kExitStartupError, s.message());
  }
  Log(Level::kDebug, "spawned '{}' as pid {}", options.command.front(), child);
  (void)os::DetachFromInheritedState();

  SupervisorConfig config;
  config.main_pid = child;
  config.kill_timeout = options.cluster.kill_timeout;
  config.self_pid = os::OwnPid();
  config.signal_group = options.signal_group;
  config.job_control = options.job_control;
  config.rewrite = options.rewrite;
  config.zero_exit = options.zero_exit;
  config.warn_on_reap = options.warn_on_reap;
  Supervisor supervisor(config);
  Executor executor;
  Dispatcher dispatcher(&supervisor, &executor);
  // Single mode's loop. There is nothing to watch but signals, so it waits for them
  // with sigtimedwait (one syscall per signal, as tini) instead of epoll + a
  // signalfd: ~4 µs less per forwarded signal, measured (README "Footprint").
  // A signal sent before the spawn is still pending and comes first.
  while (!dispatcher.exit_code()) {
    std::optional<TimePoint> due = supervisor.NextDeadline();
    std::optional<std::chrono::milliseconds> timeout;
    if (due) {
      timeout =
          std::max(std::chrono::milliseconds(0),
                   std::chrono::ceil<std::chrono::milliseconds>(*due - Clock::now()));
    }
    int signo = os::WaitForSignal(timeout);
    const TimePoint now = Clock::now();
    if (signo > 0) {
      dispatcher.queue()->push_back(SignalReceived{signo});
    }
    if (due && *due <= now) {
      dispatcher.queue()->push_back(Tick{});
    }
    dispatcher.Settle(now);
  }
  return *dispatcher.exit_code();
}

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
            TimePoint started, HealthServer* health)
      : options_(options),
        cluster_(cluster),
        cpus_(cpus),
        started_(started),
        health_(health) {}

  void Publish(TimePoint now) {
    if (health_->waiting()) {
      health::Snapshot snapshot;
      snapshot.version = CINIT_VERSION;
      snapshot.cpus = cpus_.cpus;
      snapshot.cpus_how = cpus_.how;
      snapshot.min_ready = options_.min_ready;
      cluster_.FillSnapshot(started_, now, &snapshot);
      health_->Answer(snapshot);
    }
    if (options_.status_path.empty() || status_file_failed_) {
      return;
    }
    // Only the few fields the verdict reads, no full snapshot.
    health::Snapshot readiness;
    readiness.min_ready = options_.min_ready;
    cluster_.FillReadiness(&readiness);
    health::Verdict verdict = health::Judge(readiness);
    if (published_ == verdict) {
      return;
    }
    if (Status s = os::ReplaceFile(options_.status_path, health::RenderVerdict(verdict));
        !s.ok()) {
      Log(Level::kWarning, "no status file for `cinit status`: {}", s.message());
      status_file_failed_ = true;
      return;
    }
    published_ = verdict;
  }

 private:
  const Options& options_;
  const Cluster& cluster_;
  const CpuLimit& cpus_;
  TimePoint started_;
  HealthServer* health_;
  std::optional<health::Verdict> published_;
  bool status_file_failed_ = false;
};

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
    return Fail(kExitStartupError, s.message());
  }
  SignalSource signals(&loop);
  if (Status s = signals.Open(); !s.ok()) {
    return Fail(kExitStartupError, s.message());
  }
  LogRelay relay(&loop);
  if (options.log_prefix) {
    if (Status s = relay.Open(); !s.ok()) {
      return Fail(kExitStartupError, s.message());
    }
  }
  Workers workers(
      Workers::Config{options.command, options.instance_var, ipc.node_ipc, options.listen,
                      cwd.get(), !ipc.node_ipc && options.listen.empty(),
                      options.balance_reuseport, options.log_prefix ? &relay : nullptr},
      &loop);
  if (Status s = workers.Open(); !s.ok()) {
    return Fail(kExitStartupError, s.message());
  }
  ControlFifo control(&loop);
  if (!options.control_path.empty()) {
    if (Status s = control.Open(options.control_path); !s.ok()) {
      // Reload by SIGHUP still works; a read-only root must not stop the container.
      Log(Level::kWarning, "no control FIFO: {}", s.message());
    }
  }
  HealthServer health(&loop);
  if (options.health) {
    if (Status s = health.Open(*options.health); !s.ok()) {
      return Fail(kExitStartupError, s.message());
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
  Publisher publisher(options, cluster, cpus, started, &health);

  std::vector<Action> initial;
  cluster.Start(Clock::now(), &initial);
  for (const Action& action : initial) {
    executor.Apply(action, dispatcher.queue());
  }
  dispatcher.Settle(Clock::now());
  // One loop turn: wait, read the clock once, settle the queue, publish.
  while (!dispatcher.exit_code()) {
    publisher.Publish(Clock::now());
    const std::optional<TimePoint> due = cluster.NextDeadline();
    loop.Wait(Earliest(due, health.NextDeadline()), dispatcher.queue());
    const TimePoint now = Clock::now();
    if (due && *due <= now) {
      dispatcher.queue()->push_back(Tick{});
    }
    health.Expire(now);
    dispatcher.Settle(now);
  }
  return *dispatcher.exit_code();
}

// `cinit ctl [--control PATH] COMMAND...`: writes one line to the control FIFO.
int RunCtl(std::span<const std::string_view> args) {
  std::string path{kDefaultControlPath};
  size_t i = 0;
  if (i < args.size() && args[i].starts_with("--control")) {
    if (args[i].starts_with("--control=")) {
      path = std::string(args[i].substr(10));
    } else if (i + 1 < args.size()) {
      path = std::string(args[++i]);
    }
    ++i;
  }
  std::string line;
  for (; i < args.size(); ++i) {
    if (!line.empty()) {
      line += ' ';
    }
    line += args[i];
  }
  // Check here, so a typo is reported to the person typing, not only in cinit's log.
  if (auto command = control::ParseLine(line);
      std::holds_alternative<control::Invalid>(command)) {
    return Fail(kExitUsage,
                fmt::format("ctl: {}", std::get<control::Invalid>(command).why));
  }
  if (Status s = os::WriteControlLine(path, line); !s.ok()) {
    return Fail(kExitStartupError, fmt::format("ctl: {}", s.message()));
  }
  return 0;
}

// `cinit status [--status-file PATH] --ready|--live`: the exec probe. Exits 0 when
// the verdict cinit published says so, 1 otherwise (also when there is none).
int RunStatus(std::span<const std::string_view> args) {
  std::string path{kDefaultStatusPath};
  bool want_ready = true;
  for (size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--ready") {
      want_ready = true;
    } else if (args[i] == "--live") {
      want_ready = false;
    } else if (args[i] == "--status-file" && i + 1 < args.size()) {
      path = std::string(args[++i]);
    } else if (args[i].starts_with("--status-file=")) {
      path = std::string(args[i].substr(14));
    } else {
      return Fail(
          kExitUsage,
          fmt::format("status: unknown argument '{}' (use --ready or --live)", args[i]));
    }
  }
  std::string text;
  if (Status s = os::ReadSmallFile(path, &text); !s.ok()) {
    return Fail(
        1, fmt::format("status: {}: is cinit running in cluster mode?", s.message()));
  }
  auto verdict = health::ParseVerdict(text);
  if (!verdict) {
    return Fail(1, fmt::format("status: {} is not a status file", path));
  }
  bool ok = want_ready ? verdict->ready : verdict->live;
  os::WriteStdout((want_ready ? verdict->ready_reason : verdict->live_reason) + "\n");
  return ok ? 0 : 1;
}

int Main(int argc, char** argv) {
  // First: block what we catch, so a signal sent while we start is kept pending
  // and forwarded once the child exists.
  Status blocked = os::BlockCaughtSignals();
  SetLogSink(&os::WriteStderr);
  if (!blocked.ok()) {
    return Fail(kExitStartupError, blocked.message());
  }

  // Called as tini, docker-init or dumb-init (a symlink or a copy): that peer's
  // command line and defaults.
  const Personality personality =
      PersonalityFromArgv0(argc > 0 && argv[0] != nullptr ? argv[0] : "cinit");
  std::vector<std::string_view> args(argv + (argc > 0 ? 1 : 0), argv + argc);
  if (personality == Personality::kCinit && !args.empty() && args[0] == "ctl") {
    return RunCtl(std::span(args).subspan(1));
  }
  if (personality == Personality::kCinit && !args.empty() && args[0] == "status") {
    return RunStatus(std::span(args).subspan(1));
  }
  Options options;
  if (Status s = ParseOptions(args, &GetEnv, &options, personality); !s.ok()) {
    return Fail(UsageExitCode(personality), s.message());
  }
  if (options.show_help) {
    os::WriteStdout(UsageText());
    return 0;
  }
  if (options.show_version) {
    os::WriteStdout(VersionText(personality));
    return 0;
  }
  if (options.show_license) {
    os::WriteStdout(LicenseText());
    return 0;
  }
  SetVerbosity(options.verbosity);
  if (options.log_json) {
    SetLogFormat(LogFormat::kJson, &os::WallClock);
  }
  if (options.parent_death_signal != 0) {
    if (Status s = os::SetParentDeathSignal(options.parent_death_signal); !s.ok()) {
      return Fail(kExitStartupError, s.message());
    }
  }

  if (Status s = os::BecomeSubreaperUnlessPid1(); !s.ok()) {
    // Orphans would go to the real init instead; the child itself still works.
    Log(Level::kWarning, "{}: orphaned processes will not be reaped by cinit",
        s.message());
  }
  return options.instances ? RunCluster(options) : RunSingle(options);
}

}  // namespace
}  // namespace cinit

int main(int argc, char** argv) {
  // Exceptions are only std::bad_alloc in practice; an uncaught one would call
  // std::terminate, which as PID 1 takes the whole container down.
  try {
    return cinit::Main(argc, argv);
  } catch (...) {
    cinit::Log(cinit::Level::kError, "fatal: unexpected exception");
    return cinit::kExitStartupError;
  }
}
