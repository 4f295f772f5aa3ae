// cinit: a container init. main() only wires the phases together; the decisions
// live in supervisor.h and cluster.h (pure) and the syscalls in os/. Start reading
// at executor.h, then supervisor.h or cluster.h.
#include <unistd.h>

#include <cstdlib>
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
  config.kill_timeout = options.kill_timeout;
  config.self_pid = getpid();
  config.signal_group = options.signal_group;
  config.job_control = options.job_control;
  config.rewrite = options.rewrite;
  config.zero_exit = options.zero_exit;
  config.warn_on_reap = options.warn_on_reap;
  Supervisor supervisor(config);
  Executor executor(&supervisor);
  return executor.RunSignalsOnly();
}

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

  ClusterConfig config;
  config.workers = count;
  config.node_ipc = ipc.node_ipc;
  config.stop_signal = options.stop_signal;
  config.kill_timeout = options.kill_timeout;
  config.graceful_timeout = options.graceful_timeout;
  config.min_uptime = options.min_uptime;
  config.max_restarts = options.max_restarts;
  config.listen_timeout = options.listen_timeout;
  config.reload_batch = options.reload_batch;
  config.strict_reload = options.strict_reload;
  config.rewrite = options.rewrite;
  Cluster cluster(config);
  Executor executor(&cluster);
  if (Status s = executor.Open(); !s.ok()) {
    return Fail(kExitStartupError, s.message());
  }
  LogRelay relay(executor.loop());
  if (options.log_prefix) {
    if (Status s = relay.Open(); !s.ok()) {
      return Fail(kExitStartupError, s.message());
    }
  }
  Workers workers(
      Workers::Config{options.command, options.instance_var, ipc.node_ipc, options.listen,
                      cwd.get(), !ipc.node_ipc && options.listen.empty(),
                      options.balance_reuseport, options.log_prefix ? &relay : nullptr},

      executor.loop(), [&executor](Event event) { executor.Dispatch(std::move(event)); });
  if (Status s = workers.Open(); !s.ok()) {
    return Fail(kExitStartupError, s.message());
  }
  executor.set_workers(&workers);
  ControlFifo control(executor.loop(),
                      [&executor](Event event) { executor.Dispatch(std::move(event)); });
  if (!options.control_path.empty()) {
    if (Status s = control.Open(options.control_path); !s.ok()) {
      // Reload by SIGHUP still works; a read-only root must not stop the container.
      Log(Level::kWarning, "no control FIFO: {}", s.message());
    }
  }
  auto take_snapshot = [&] {
    health::Snapshot snapshot;
    snapshot.version = CINIT_VERSION;
    snapshot.cpus = cpus.cpus;
    snapshot.cpus_how = cpus.how;
    snapshot.min_ready = options.min_ready;
    cluster.FillSnapshot(started, Clock::now(), &snapshot);
    return snapshot;
  };
  HealthServer health(executor.loop(), take_snapshot);
  // The exec probe's file: rewritten whenever the verdict changes.
  std::optional<health::Verdict> published;
  bool status_file_failed = false;
  if (!options.status_path.empty()) {
    executor.set_after_dispatch([&] {
      // After every event: only the few fields the verdict reads, no full snapshot.
      health::Snapshot readiness;
      readiness.min_ready = options.min_ready;
      cluster.FillReadiness(&readiness);
      health::Verdict verdict = health::Judge(readiness);
      if (published == verdict || status_file_failed) {
        return;
      }
      if (Status s = os::ReplaceFile(options.status_path, health::RenderVerdict(verdict));
          !s.ok()) {
        Log(Level::kWarning, "no status file for `cinit status`: {}", s.message());
        status_file_failed = true;
        return;
      }
      published = verdict;
    });
  }
  if (options.health) {
    if (Status s = health.Open(*options.health); !s.ok()) {
      return Fail(kExitStartupError, s.message());
    }
  }
  std::vector<Action> initial;
  cluster.Start(Clock::now(), &initial);
  return executor.Run(initial);
}

// `cinit ctl [--control PATH] COMMAND...`: writes one line to the control FIFO.
int RunCtl(std::span<const std::string_view> args) {
  std::string path = "/run/cinit/control";
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
  std::string path = "/run/cinit/status.json";
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
