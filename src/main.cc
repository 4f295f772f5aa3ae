// cinit: a container init. main() wires the phases together and runs single mode's
// loop; cluster mode's is in cluster_mode.cc, the subcommands in subcommands.cc. The
// decisions live in core/supervisor.h and core/cluster.h (pure), the syscalls in
// os/. Start reading at core/events.h, then RunSingle below or RunCluster, then
// supervisor.h or cluster.h.
#include <algorithm>
#include <cstdlib>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "cluster_mode.h"
#include "executor.h"
#include "log.h"
#include "options.h"
#include "os/log_output.h"
#include "os/pid1.h"
#include "os/process.h"
#include "os/signal_fd.h"
#include "subcommands.h"
#include "supervisor.h"

namespace cinit {
namespace {

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
  // cinit leaves the caller's directory before the spawn, not after it: even a child
  // that looks at once must find cinit in "/" (dumb-init's cwd test). The child goes
  // back to that directory itself, before its exec.
  os::UniqueFd cwd = os::LeaveWorkingDirectory();
  spec.cwd_fd = cwd.get();
  pid_t child = 0;
  if (Status s = os::Spawn(spec, &child); !s.ok()) {
    return LogFailure(kExitStartupError, s.message());
  }
  Log(Level::kDebug, "spawned '{}' as pid {}", options.command.front(), child);
  const bool left = cwd.valid();
  cwd.Reset();
  // The inherited fds were the child's to take: only now can cinit close its copies.
  os::CloseInheritedFds();
  if (!left) {
    os::MoveToRoot();
  }

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
  std::optional<TimePoint> drop_pages_at = Clock::now() + os::kDropStartupPagesAfter;
  while (!dispatcher.exit_code()) {
    std::optional<TimePoint> due = supervisor.NextDeadline();
    if (drop_pages_at && Clock::now() >= *drop_pages_at) {
      os::DropStartupPages();
      drop_pages_at.reset();
    }
    std::optional<TimePoint> wake = due;
    if (drop_pages_at && (!wake || *drop_pages_at < *wake)) {
      wake = drop_pages_at;
    }
    std::optional<std::chrono::milliseconds> timeout;
    if (wake) {
      timeout =
          std::max(std::chrono::milliseconds(0),
                   std::chrono::ceil<std::chrono::milliseconds>(*wake - Clock::now()));
    }
    if (os::LogPending()) {
      os::FlushLog();
      if (os::LogPending() && (!timeout || *timeout > os::kLogRetry)) {
        timeout = os::kLogRetry;
      }
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

int Main(int argc, char** argv) {
  // First: block what we catch, so a signal sent while we start is kept pending
  // and forwarded once the child exists.
  Status blocked = os::BlockCaughtSignals();
  // cinit's own lines never block it (os/log_output.h); main() flushes at the end.
  SetLogSink(&os::WriteLogLine);
  if (!blocked.ok()) {
    return LogFailure(kExitStartupError, blocked.message());
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
    return LogFailure(UsageExitCode(personality), s.message());
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
      return LogFailure(kExitStartupError, s.message());
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
  int code = cinit::kExitStartupError;
  try {
    code = cinit::Main(argc, argv);
  } catch (...) {
    cinit::Log(cinit::Level::kError, "fatal: unexpected exception");
  }
  // What a slow reader of stderr has not taken yet: a bounded wait, then gone.
  cinit::os::FlushLogBeforeExit(std::chrono::milliseconds(1000));
  return code;
}
