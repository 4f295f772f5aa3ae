#include "subcommands.h"

#include <fmt/format.h>

#include <string>

#include "control.h"
#include "health.h"
#include "log.h"
#include "options.h"
#include "os/fifo.h"
#include "os/pid1.h"

namespace cinit {
namespace {

int Usage(std::string_view message) { return LogFailure(kExitUsage, message); }

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
