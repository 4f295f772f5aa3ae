#include "subcommands.h"

#include <fmt/format.h>

#include <chrono>
#include <string>
#include <vector>

#include "control.h"
#include "ctl_status.h"
#include "events.h"
#include "health.h"
#include "log.h"
#include "options.h"
#include "os/fifo.h"
#include "os/pid1.h"
#include "os/process.h"

namespace cinit {
namespace {

int Usage(std::string_view message) { return LogFailure(kExitUsage, message); }

// `cinit ctl [--control PATH] status [--json] [--status-file PATH]`: a person's view
// of the running cluster. cinit is running when it reads its control FIFO (opened
// for writing, nothing written); the view is the status file cinit rewrites whenever
// it changes, so asking costs cinit nothing, and the answer takes a file read and
// one pass over /proc (the workers' memory) here, never a round trip through
// cinit's loop.
int CtlStatus(const std::string& control, std::span<const std::string_view> args) {
  std::string path{kDefaultStatusPath};
  bool json = false;
  for (size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--json") {
      json = true;
    } else if (args[i] == "--status-file" && i + 1 < args.size()) {
      path = std::string(args[++i]);
    } else if (args[i].starts_with("--status-file=")) {
      path = std::string(args[i].substr(14));
    } else {
      return Usage(fmt::format(
          "ctl status: unknown argument '{}' (use --json, --status-file PATH)", args[i]));
    }
  }
  if (Status s = os::ProbeControlFifo(control); !s.ok()) {
    return LogFailure(1,
                      fmt::format("ctl status: cinit is not running: {}", s.message()));
  }
  std::string text;
  if (Status s = os::ReadSmallFile(path, &text); !s.ok()) {
    return LogFailure(1, fmt::format("ctl status: cinit runs, but its status file: {} "
                                     "(started with --status-file none, or elsewhere? "
                                     "pass --status-file PATH)",
                                     s.message()));
  }
  if (text.empty()) {
    return LogFailure(1,
                      "ctl status: cinit cannot write its status file (a full or "
                      "read-only file system); its log says why");
  }
  auto view = ctl_status::Parse(text);
  if (!view) {
    return LogFailure(1, fmt::format("ctl status: {} holds no cluster view (not a "
                                     "status file, or one of an older cinit)",
                                     path));
  }
  // The workers' pids are those of cinit's PID namespace: only from inside it
  // (kubectl exec, docker exec) are they this /proc's.
  std::string note;
  if (view->writer.pid_ns.empty() || view->writer.pid_ns != os::PidNamespace()) {
    note = "not shown: not in cinit's PID namespace (run it in cinit's container)";
  } else {
    std::vector<int> groups;
    for (const auto& worker : view->workers) {
      groups.push_back(worker.pid);
    }
    // The same measure as --max-memory's (os::GroupsMemory).
    std::vector<uint64_t> bytes = os::GroupsMemory(groups);
    for (size_t i = 0; i < view->workers.size(); ++i) {
      if (bytes[i] > 0) {
        view->workers[i].memory = bytes[i];
      }
    }
    note = "PSS summed over each worker's process group (as --max-memory counts)";
  }
  const double now =
      std::chrono::duration<double>(Clock::now().time_since_epoch()).count();
  os::WriteStdout(json ? ctl_status::RenderJson(*view, now)
                       : ctl_status::RenderText(*view, now, note));
  return 0;
}

}  // namespace

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
  if (i < args.size() && args[i] == "status") {
    return CtlStatus(path, args.subspan(i + 1));
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
    return Usage(fmt::format("ctl: {}", std::get<control::Invalid>(command).why));
  }
  if (Status s = os::WriteControlLine(path, line); !s.ok()) {
    return LogFailure(kExitStartupError, fmt::format("ctl: {}", s.message()));
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
      return Usage(
          fmt::format("status: unknown argument '{}' (use --ready or --live)", args[i]));
    }
  }
  std::string text;
  if (Status s = os::ReadSmallFile(path, &text); !s.ok()) {
    return LogFailure(
        1, fmt::format("status: {}: is cinit running in cluster mode?", s.message()));
  }
  if (text.empty()) {
    // cinit emptied it: it could not write its current verdict (a full disk).
    // cinit runs (this probe runs in its container) but its state is unknown.
    os::WriteStdout(want_ready ? "unknown: cinit cannot write its status file\n"
                               : "unknown: cinit cannot write its status file; live\n");
    return want_ready ? 1 : 0;
  }
  auto verdict = health::ParseVerdict(text);
  if (!verdict) {
    return LogFailure(1, fmt::format("status: {} is not a status file", path));
  }
  bool ok = want_ready ? verdict->ready : verdict->live;
  os::WriteStdout((want_ready ? verdict->ready_reason : verdict->live_reason) + "\n");
  return ok ? 0 : 1;
}

}  // namespace cinit
