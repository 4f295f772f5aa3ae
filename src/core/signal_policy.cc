#include "signal_policy.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <csignal>
#include <string_view>

namespace cinit {
namespace {

struct NamedSignal {
  int signo;
  std::string_view name;  // without the "SIG" prefix
};

constexpr std::array kSignals = {
    NamedSignal{SIGHUP, "HUP"},   NamedSignal{SIGINT, "INT"},
    NamedSignal{SIGQUIT, "QUIT"}, NamedSignal{SIGILL, "ILL"},
    NamedSignal{SIGTRAP, "TRAP"}, NamedSignal{SIGABRT, "ABRT"},
    NamedSignal{SIGBUS, "BUS"},   NamedSignal{SIGFPE, "FPE"},
    NamedSignal{SIGKILL, "KILL"}, NamedSignal{SIGUSR1, "USR1"},
    NamedSignal{SIGSEGV, "SEGV"}, NamedSignal{SIGUSR2, "USR2"},
    NamedSignal{SIGPIPE, "PIPE"}, NamedSignal{SIGALRM, "ALRM"},
    NamedSignal{SIGTERM, "TERM"}, NamedSignal{SIGSTKFLT, "STKFLT"},
    NamedSignal{SIGCHLD, "CHLD"}, NamedSignal{SIGCONT, "CONT"},
    NamedSignal{SIGSTOP, "STOP"}, NamedSignal{SIGTSTP, "TSTP"},
    NamedSignal{SIGTTIN, "TTIN"}, NamedSignal{SIGTTOU, "TTOU"},
    NamedSignal{SIGURG, "URG"},   NamedSignal{SIGXCPU, "XCPU"},
    NamedSignal{SIGXFSZ, "XFSZ"}, NamedSignal{SIGVTALRM, "VTALRM"},
    NamedSignal{SIGPROF, "PROF"}, NamedSignal{SIGWINCH, "WINCH"},
    NamedSignal{SIGIO, "IO"},     NamedSignal{SIGPWR, "PWR"},
    NamedSignal{SIGSYS, "SYS"},
};

// glibc reserves the two lowest real-time signals for its threads; SIGRTMIN is
// a function call there. cinit is Linux/glibc-or-musl: 34..64 are the portable
// real-time range for both (musl reserves 32..34).
int RtMin() { return SIGRTMIN; }
int RtMax() { return SIGRTMAX; }

}  // namespace

SignalDisposition ClassifySignal(int signo) {
  switch (signo) {
    case SIGCHLD:
      return SignalDisposition::kReap;
    case SIGTTIN:
    case SIGTTOU:
      return SignalDisposition::kIgnore;
    case SIGKILL:
    case SIGSTOP:
      return SignalDisposition::kDefault;
    default:
      break;
  }
  if (signo < 1 || signo > kMaxSignal || (signo > SIGSYS && signo < RtMin())) {
    return SignalDisposition::kDefault;  // not a signal, or reserved by libc
  }
  return SignalDisposition::kForward;
}

bool IsCaught(int signo) { return ClassifySignal(signo) != SignalDisposition::kDefault; }

bool IsJobControlSignal(int signo) {
  return signo == SIGTSTP || signo == SIGTTIN || signo == SIGTTOU;
}

Status ParseRewrite(std::string_view spec, SignalRewrite* rewrite) {
  auto bad = [&](std::string_view why) {
    return Status::Error(fmt::format(
        "--rewrite: '{}' {} (FROM:TO, e.g. 15:3 or TERM:QUIT; TO 0 drops)", spec, why));
  };
  size_t colon = spec.find(':');
  if (colon == std::string_view::npos) {
    return bad("has no ':'");
  }
  std::string_view from_text = spec.substr(0, colon);
  std::string_view to_text = spec.substr(colon + 1);
  int from = ParseSignal(from_text);
  if (from == 0) {
    return bad("does not start with a signal");
  }
  if (ClassifySignal(from) != SignalDisposition::kForward && !IsJobControlSignal(from)) {
    return bad(
        fmt::format("rewrites {}, which cinit does not forward", SignalName(from)));
  }
  int to = to_text == "0" ? 0 : ParseSignal(to_text);
  if (to_text != "0" && (to == 0 || (ClassifySignal(to) == SignalDisposition::kDefault &&
                                     to != SIGSTOP && to != SIGKILL))) {
    return bad("does not end with a signal or 0");
  }
  rewrite->Set(from, to);
  return Status::Ok();
}

std::string SignalName(int signo) {
  for (const auto& s : kSignals) {
    if (s.signo == signo) {
      return fmt::format("SIG{}", s.name);
    }
  }
  if (signo == RtMin()) {
    return "SIGRTMIN";
  }
  if (signo == RtMax()) {
    return "SIGRTMAX";
  }
  if (signo > RtMin() && signo < RtMax()) {
    return fmt::format("SIGRTMIN+{}", signo - RtMin());
  }
  return fmt::format("signal {}", signo);
}

int ParseSignal(std::string_view text) {
  auto number = [](std::string_view digits) -> int {
    int value = 0;
    const char* end = digits.data() + digits.size();
    auto [ptr, ec] = std::from_chars(digits.data(), end, value);
    return (digits.empty() || ec != std::errc() || ptr != end) ? -1 : value;
  };
  if (int n = number(text); n >= 1 && n <= kMaxSignal) {
    return n;
  }
  std::string upper(text);
  std::transform(upper.begin(), upper.end(), upper.begin(),
                 [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  std::string_view name = upper;
  if (name.starts_with("SIG")) {
    name.remove_prefix(3);
  }
  for (const auto& s : kSignals) {
    if (s.name == name) {
      return s.signo;
    }
  }
  auto relative = [&](std::string_view base, int origin, int sign) -> int {
    if (!name.starts_with(base)) {
      return 0;
    }
    std::string_view rest = name.substr(base.size());
    if (rest.empty()) {
      return origin;
    }
    if (rest[0] != (sign > 0 ? '+' : '-')) {
      return 0;
    }
    int offset = number(rest.substr(1));
    if (offset < 0 || offset > RtMax() - RtMin()) {
      return 0;  // also keeps origin + offset from overflowing
    }
    return origin + sign * offset;
  };
  if (int signo = relative("RTMIN", RtMin(), +1)) {
    return signo;
  }
  return relative("RTMAX", RtMax(), -1);
}

}  // namespace cinit
