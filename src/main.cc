// cinit: a container init. main() only wires the phases together; the decisions
// live in supervisor.h (pure) and the syscalls in os/. Start reading at
// executor.h, then supervisor.h.
#include <cstdlib>
#include <string_view>
#include <vector>

#include "executor.h"
#include "log.h"
#include "options.h"
#include "os/pid1.h"
#include "os/process.h"
#include "os/signal_fd.h"

namespace cinit {
namespace {

int Fail(int code, std::string_view message) {
  Log(Level::kError, "{}", message);
  return code;
}

int Main(int argc, char** argv) {
  // First: block what we catch, so a signal sent while we start is kept pending
  // and forwarded once the child exists.
  Status blocked = os::BlockCaughtSignals();
  SetLogSink(&os::WriteStderr);
  if (!blocked.ok()) {
    return Fail(kExitStartupError, blocked.message());
  }

  std::vector<std::string_view> args(argv + 1, argv + argc);
  Options options;
  Status parsed = ParseOptions(args,
                               [](std::string_view name) -> std::optional<std::string> {
                                 const char* value = std::getenv(std::string(name).c_str());
                                 return value ? std::optional<std::string>(value)
                                              : std::nullopt;
                               },
                               &options);
  if (!parsed.ok()) {
    return Fail(kExitUsage, parsed.message());
  }
  if (options.show_help) {
    os::WriteStdout(UsageText());
    return 0;
  }
  if (options.show_version) {
    os::WriteStdout("cinit " CINIT_VERSION "\n");
    return 0;
  }
  SetVerbosity(options.verbosity);

  if (Status s = os::BecomeSubreaperUnlessPid1(); !s.ok()) {
    // Orphans would go to the real init instead; the child itself still works.
    Log(Level::kWarning, "{}: orphaned processes will not be reaped by cinit",
        s.message());
  }

  pid_t child = 0;
  if (Status s = os::Spawn(options.command, &child); !s.ok()) {
    return Fail(kExitStartupError, s.message());
  }
  Log(Level::kDebug, "spawned '{}' as pid {}", options.command.front(), child);
  os::DetachFromInheritedState();

  Executor executor(SupervisorConfig{child, options.kill_timeout});
  if (Status s = executor.Open(); !s.ok()) {
    // Without a signalfd we can neither forward nor reap: end the child too.
    os::SendSignal(child, SIGKILL);
    return Fail(kExitStartupError, s.message());
  }
  return executor.Run();
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
