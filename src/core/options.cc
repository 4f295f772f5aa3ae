#include "options.h"

#include <arpa/inet.h>  // inet_pton: a pure parser, no syscall
#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <csignal>

#include "signal_policy.h"
#include "watch_plan.h"

namespace cinit {
namespace {

constexpr std::string_view kUsage =
    "Usage: cinit [OPTIONS] [--] COMMAND [ARG...]\n"
    "\n"
    "Runs COMMAND as the child of a container init: forwards signals to it, reaps\n"
    "every zombie, and exits with its status (128+N if it was killed by signal N).\n"
    "With -i, runs a cluster of COMMAND workers sharing the container's ports.\n"
    "\n"
    "Options:\n"
    "  -h, --help               print this help and exit\n"
    "  -V, --version            print the version and exit\n"
    "  -v, --verbose            log more (repeatable: info, debug); env "
    "CINIT_VERBOSITY=0..3\n"
    "      --kill-timeout MS    time between the stop signal and SIGKILL (default 1600)\n"
    "      --log-format F       cinit's own log lines: text (default) or json\n"
    "      --log-prefix         cluster mode: '[k] ' before each line a worker writes\n"
    "  -s                       accepted for tini compatibility (subreaper is "
    "automatic)\n"
    "  -l, --license            print cinit's licence situation and exit\n"
    "\n"
    "Single mode (tini's and dumb-init's options):\n"
    "  -g, --process-group      forward signals to the child's process group, not the\n"
    "                           child alone (env TINI_KILL_PROCESS_GROUP)\n"
    "      --setsid             dumb-init's session mode: the child in a session of its\n"
    "                           own, signals to its group, job control stops cinit too\n"
    "                           (env DUMB_INIT_SETSID=1)\n"
    "  -c, --single-child       signals to the child alone, no session (the default;\n"
    "                           env DUMB_INIT_SETSID=0)\n"
    "  -r, --rewrite FROM:TO    forward signal FROM as TO; TO 0 drops it (repeatable;\n"
    "                           also applies to what cluster workers are sent)\n"
    "  -e, --success-code CODE  exit 0 when the child exits with CODE (repeatable)\n"
    "  -p, --parent-death-signal SIG  have SIG sent to cinit when its parent dies\n"
    "  -w, --warn-reaped        warn for every process reaped other than the child\n"
    "\n"
    "Cluster mode:\n"
    "  -i, --instances N        N workers; 0 or 'max': one per usable CPU (affinity and\n"
    "                           cgroup quota); -K: usable CPUs minus K (at least 1)\n"
    "      --instance-var NAME  variable holding the worker's index (NODE_APP_INSTANCE;\n"
    "                           env PM2_PROCESS_INSTANCE_VAR)\n"
    "      --ipc auto|node|none Node IPC channel for workers (auto: when COMMAND is "
    "node\n"
    "                           or a script run by node)\n"
    "      --listen ADDR:PORT   open this TCP socket and pass it to every worker as\n"
    "                           LISTEN_FDS (repeatable; ':PORT' is every address)\n"
    "      --balance shared|reuseport  one socket for all workers (default), or one\n"
    "                           SO_REUSEPORT socket per worker (see README)\n"
    "      --share auto|seccomp|shim|none  how other programs' bind() of the port\n"
    "                           reaches cinit: the LD_PRELOAD shim, a seccomp filter\n"
    "                           (Go, static binaries; sets no_new_privs), both\n"
    "                           (auto, the default), or neither (see README)\n"
    "      --stop-signal SIG    signal that stops a worker, to its process group\n"
    "                           (default SIGTERM)\n"
    "      --graceful-timeout MS  time a worker has to exit once asked ('shutdown'\n"
    "                           for Node, the stop signal for others) before SIGKILL\n"
    "                           (default 8000; env PM2_GRACEFUL_TIMEOUT)\n"
    "      --drain-delay MS     after SIGTERM: not ready at once, workers serve MS more\n"
    "                           before the graceful stop (default 0; env\n"
    "                           CINIT_DRAIN_DELAY)\n"
    "      --min-uptime MS      a worker dying sooner counts as a crash (default 1000)\n"
    "      --max-restarts N     crashes in a row before cinit gives up (default 10;\n"
    "                           4 while no worker has ever been online)\n"
    "      --max-memory SIZE    replace a worker whose tree's memory (PSS) stays above\n"
    "                           SIZE (300M, 1G) for 3 s, gracefully (default: off)\n"
    "\n"
    "Rolling reload (SIGHUP, or 'reload' written to the control FIFO):\n"
    "      --listen-timeout MS  time a new worker has to come online (default 3000;\n"
    "                           env PM2_GRACEFUL_LISTEN_TIMEOUT)\n"
    "      --reload-batch N     workers replaced at a time (default 1)\n"
    "      --strict-reload      abort when a new worker is not online in time (default:\n"
    "                           take it as online and go on, as pm2 does)\n"
    "      --control PATH       control FIFO (default /run/cinit/control; 'none': off)\n"
    "      --reload-on-change PATH  reload when this file or directory changes\n"
    "                           (repeatable, absolute; debounced: 500 ms quiet, 5 s at\n"
    "                           most; follows Kubernetes ConfigMap/Secret updates)\n"
    "\n"
    "Probes (cluster mode):\n"
    "      --health ADDR:PORT   serve /livez /readyz /status /metrics over HTTP\n"
    "      --min-ready N        workers online for /readyz to say 200 (default 1)\n"
    "      --status-file PATH   the probes' verdict for `cinit status` (default\n"
    "                           /run/cinit/status.json; 'none': off)\n"
    "\n"
    "Subcommand:\n"
    "  cinit ctl [--control PATH] reload|scale N   write a command to the control FIFO\n"
    "  cinit status [--status-file PATH] --ready|--live   exit 0 if ready (live), else "
    "1\n";

// Upper bound for durations given in milliseconds: one day.
constexpr long long kMaxMillis = 24LL * 3600 * 1000;

// Parses a decimal integer in [min, max].
std::optional<long long> ParseInteger(std::string_view text, long long min,
                                      long long max) {
  long long value = 0;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (text.empty() || ec != std::errc() || ptr != end || value < min || value > max) {
    return std::nullopt;
  }
  return value;
}

Status ParseMillis(std::string_view flag, std::string_view value,
                   std::chrono::milliseconds* out) {
  auto ms = ParseInteger(value, 0, kMaxMillis);
  if (!ms) {
    return Status::Error(fmt::format("{}: '{}' is not a number of milliseconds (0..{})",
                                     flag, value, kMaxMillis));
  }
  *out = std::chrono::milliseconds(*ms);
  return Status::Ok();
}

Status ParseInstances(std::string_view value, Options* out) {
  if (value == "max") {
    out->instances = 0;
    return Status::Ok();
  }
  auto n = ParseInteger(value, -4096, 4096);
  if (!n) {
    return Status::Error(
        fmt::format("-i: '{}' is not a worker count (N, 0 or 'max' for one per CPU, -K "
                    "for CPUs minus K)",
                    value));
  }
  out->instances = static_cast<int>(*n);
  return Status::Ok();
}

bool IsValidEnvName(std::string_view name) {
  if (name.empty() || (name[0] >= '0' && name[0] <= '9')) {
    return false;
  }
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
           c == '_';
  });
}

// One option that takes a value: its names and what to do with the value.
struct ValueOption {
  std::string_view long_name;   // "--kill-timeout"
  std::string_view short_name;  // "-i", or empty
  Status (*apply)(std::string_view value, Options* out);
};

constexpr std::array kValueOptions = {
    ValueOption{"--kill-timeout", "",
                [](std::string_view v, Options* o) {
                  return ParseMillis("--kill-timeout", v, &o->cluster.kill_timeout);
                }},
    ValueOption{"--instances", "-i", &ParseInstances},
    ValueOption{
        "--rewrite", "-r",
        [](std::string_view v, Options* o) { return ParseRewrite(v, &o->rewrite); }},
    ValueOption{"--success-code", "-e",
                [](std::string_view v, Options* o) {
                  auto code = ParseInteger(v, 0, 255);
                  if (!code) {
                    return Status::Error(
                        fmt::format("-e: '{}' is not an exit code (0..255)", v));
                  }
                  o->zero_exit.set(static_cast<size_t>(*code));
                  return Status::Ok();
                }},
    ValueOption{"--parent-death-signal", "-p",
                [](std::string_view v, Options* o) {
                  int signo = ParseSignal(v);
                  if (signo == 0) {
                    return Status::Error(fmt::format("-p: unknown signal '{}'", v));
                  }
                  o->parent_death_signal = signo;
                  return Status::Ok();
                }},
    ValueOption{"--log-format", "",
                [](std::string_view v, Options* o) {
                  if (v != "text" && v != "json") {
                    return Status::Error(
                        fmt::format("--log-format: '{}' is not one of text, json", v));
                  }
                  o->log_json = v == "json";
                  return Status::Ok();
                }},
    ValueOption{"--instance-var", "",
                [](std::string_view v, Options* o) {
                  if (!IsValidEnvName(v)) {
                    return Status::Error(fmt::format(
                        "--instance-var: '{}' is not a valid variable name", v));
                  }
                  o->instance_var = std::string(v);
                  return Status::Ok();
                }},
    ValueOption{"--ipc", "",
                [](std::string_view v, Options* o) {
                  if (v == "auto") {
                    o->ipc = IpcMode::kAuto;
                  } else if (v == "node") {
                    o->ipc = IpcMode::kNode;
                  } else if (v == "none") {
                    o->ipc = IpcMode::kNone;
                  } else {
                    return Status::Error(
                        fmt::format("--ipc: '{}' is not one of auto, node, none", v));
                  }
                  return Status::Ok();
                }},
    ValueOption{"--listen", "",
                [](std::string_view v, Options* o) {
                  auto address = ParseListenAddress(v);
                  if (!address) {
                    return Status::Error(fmt::format(
                        "--listen: '{}' is not HOST:PORT, [V6]:PORT or :PORT", v));
                  }
                  o->listen.push_back(*address);
                  return Status::Ok();
                }},
    ValueOption{"--balance", "",
                [](std::string_view v, Options* o) {
                  if (v != "shared" && v != "reuseport") {
                    return Status::Error(fmt::format(
                        "--balance: '{}' is not one of shared, reuseport", v));
                  }
                  o->balance_reuseport = v == "reuseport";
                  return Status::Ok();
                }},
    ValueOption{"--share", "",
                [](std::string_view v, Options* o) {
                  constexpr std::pair<std::string_view, ShareMode> kModes[] = {
                      {"auto", ShareMode::kAuto},
                      {"seccomp", ShareMode::kSeccomp},
                      {"shim", ShareMode::kShim},
                      {"none", ShareMode::kNone}};
                  for (const auto& [name, mode] : kModes) {
                    if (v == name) {
                      o->share = mode;
                      return Status::Ok();
                    }
                  }
                  return Status::Error(fmt::format(
                      "--share: '{}' is not one of auto, seccomp, shim, none", v));
                }},
    ValueOption{"--stop-signal", "",
                [](std::string_view v, Options* o) {
                  int signo = ParseSignal(v);
                  if (signo == 0) {
                    return Status::Error(
                        fmt::format("--stop-signal: unknown signal '{}'", v));
                  }
                  o->cluster.stop_signal = signo;
                  return Status::Ok();
                }},
    ValueOption{"--graceful-timeout", "",
                [](std::string_view v, Options* o) {
                  return ParseMillis("--graceful-timeout", v,
                                     &o->cluster.graceful_timeout);
                }},
    ValueOption{"--drain-delay", "",
                [](std::string_view v, Options* o) {
                  return ParseMillis("--drain-delay", v, &o->cluster.drain_delay);
                }},
    ValueOption{"--min-uptime", "",
                [](std::string_view v, Options* o) {
                  return ParseMillis("--min-uptime", v, &o->cluster.min_uptime);
                }},
    ValueOption{"--listen-timeout", "",
                [](std::string_view v, Options* o) {
                  return ParseMillis("--listen-timeout", v, &o->cluster.listen_timeout);
                }},
    ValueOption{"--max-memory", "",
                [](std::string_view v, Options* o) {
                  auto bytes = ParseSize(v);
                  if (!bytes || *bytes < (uint64_t{1} << 20)) {
                    return Status::Error(fmt::format(
                        "--max-memory: '{}' is not a size of at least 1M (bytes, or a "
                        "number with K, M or G: 300M)",
                        v));
                  }
                  o->cluster.max_memory = *bytes;
                  return Status::Ok();
                }},
    ValueOption{"--reload-batch", "",
                [](std::string_view v, Options* o) {
                  auto n = ParseInteger(v, 1, 4096);
                  if (!n) {
                    return Status::Error(fmt::format(
                        "--reload-batch: '{}' is not a count from 1 to 4096", v));
                  }
                  o->cluster.reload_batch = static_cast<int>(*n);
                  return Status::Ok();
                }},
    ValueOption{"--control", "",
                [](std::string_view v, Options* o) {
                  if (v.empty()) {
                    return Status::Error("--control needs a path, or 'none'");
                  }
                  o->control_path = v == "none" ? std::string() : std::string(v);
                  return Status::Ok();
                }},
    ValueOption{"--reload-on-change", "",
                [](std::string_view v, Options* o) {
                  std::string path;
                  if (Status s = watch::Normalize(v, &path); !s.ok()) {
                    return s;
                  }
                  auto& paths = o->reload_on_change;
                  if (std::find(paths.begin(), paths.end(), path) != paths.end()) {
                    return Status::Ok();  // the same path twice is watched once
                  }
                  if (paths.size() >= watch::kMaxPaths) {
                    return Status::Error(fmt::format(
                        "--reload-on-change: at most {} paths", watch::kMaxPaths));
                  }
                  paths.push_back(std::move(path));
                  return Status::Ok();
                }},
    ValueOption{"--health", "",
                [](std::string_view v, Options* o) {
                  auto address = ParseListenAddress(v);
                  if (!address) {
                    return Status::Error(fmt::format(
                        "--health: '{}' is not HOST:PORT, [V6]:PORT or :PORT", v));
                  }
                  o->health = *address;
                  return Status::Ok();
                }},
    ValueOption{"--status-file", "",
                [](std::string_view v, Options* o) {
                  if (v.empty()) {
                    return Status::Error("--status-file needs a path, or 'none'");
                  }
                  o->status_path = v == "none" ? std::string() : std::string(v);
                  return Status::Ok();
                }},
    ValueOption{"--min-ready", "",
                [](std::string_view v, Options* o) {
                  auto n = ParseInteger(v, 0, 4096);
                  if (!n) {
                    return Status::Error(
                        fmt::format("--min-ready: '{}' is not a count", v));
                  }
                  o->min_ready = static_cast<int>(*n);
                  return Status::Ok();
                }},
    ValueOption{"--max-restarts", "",
                [](std::string_view v, Options* o) {
                  auto n = ParseInteger(v, 0, 1000000);
                  if (!n) {
                    return Status::Error(
                        fmt::format("--max-restarts: '{}' is not a count", v));
                  }
                  o->cluster.max_restarts = static_cast<int>(*n);
                  return Status::Ok();
                }},
};

// Choices the peers' variables and flags make, settled after all are read.
struct ModeChoices {
  std::optional<bool> setsid;  // --setsid / -c, DUMB_INIT_SETSID
  bool group = false;          // -g, TINI_KILL_PROCESS_GROUP
  // Single-mode flags given explicitly (rejected with -i).
  std::string_view single_only;
  // Cluster-mode flags given explicitly (rejected without -i; their variables are
  // only ignored there, since an image's ENV serves every command).
  std::string_view cluster_only;
};

// Environment defaults, applied before the flags (which beat them). The peers'
// variables are honoured under every name, so that an image's ENV keeps working
// when only the ENTRYPOINT's first word changes.
Status ApplyEnvironment(const EnvLookup& env, Options* out, ModeChoices* mode) {
  if (auto text = env("TINI_VERBOSITY")) {
    // tini's levels are cinit's (0 errors .. 3 debug); tini's 4 (trace) is debug.
    auto level = ParseInteger(*text, 0, 1000);
    if (!level) {
      return Status::Error(
          fmt::format("TINI_VERBOSITY must be a number, not '{}'", *text));
    }
    out->verbosity = static_cast<int>(std::min<long long>(*level, 3));
  }
  if (env("DUMB_INIT_DEBUG") == "1") {
    out->verbosity = 3;
  }
  if (env("TINI_KILL_PROCESS_GROUP")) {
    mode->group = true;  // presence, as in tini
  }
  if (auto text = env("DUMB_INIT_SETSID")) {
    if (*text == "0") {
      mode->setsid = false;
    } else if (*text == "1") {
      mode->setsid = true;
    }  // dumb-init reads only "0"; anything else leaves the default
  }
  if (auto text = env("CINIT_VERBOSITY")) {
    auto level = ParseInteger(*text, 0, 3);
    if (!level) {
      return Status::Error(
          fmt::format("CINIT_VERBOSITY must be 0, 1, 2 or 3, not '{}'", *text));
    }
    out->verbosity = static_cast<int>(*level);
  }
  if (auto text = env("PM2_GRACEFUL_TIMEOUT")) {
    if (Status s =
            ParseMillis("PM2_GRACEFUL_TIMEOUT", *text, &out->cluster.graceful_timeout);
        !s.ok()) {
      return s;
    }
  }
  if (auto text = env("CINIT_DRAIN_DELAY")) {
    if (Status s = ParseMillis("CINIT_DRAIN_DELAY", *text, &out->cluster.drain_delay);
        !s.ok()) {
      return s;
    }
  }
  if (auto text = env("PM2_GRACEFUL_LISTEN_TIMEOUT")) {
    if (Status s = ParseMillis("PM2_GRACEFUL_LISTEN_TIMEOUT", *text,
                               &out->cluster.listen_timeout);
        !s.ok()) {
      return s;
    }
  }
  if (auto text = env("PM2_PROCESS_INSTANCE_VAR")) {
    if (!IsValidEnvName(*text)) {
      return Status::Error(fmt::format(
          "PM2_PROCESS_INSTANCE_VAR: '{}' is not a valid variable name", *text));
    }
    out->instance_var = *text;
  }
  return Status::Ok();
}

}  // namespace

std::optional<uint64_t> ParseSize(std::string_view text) {
  uint64_t unit = 1;
  if (!text.empty()) {
    switch (text.back()) {
      case 'K':
      case 'k':
        unit = uint64_t{1} << 10;
        break;
      case 'M':
      case 'm':
        unit = uint64_t{1} << 20;
        break;
      case 'G':
      case 'g':
        unit = uint64_t{1} << 30;
        break;
      default:
        break;
    }
    if (unit != 1) {
      text.remove_suffix(1);
    }
  }
  constexpr uint64_t kMax = uint64_t{1} << 40;  // 1 TiB
  auto n = ParseInteger(text, 1, static_cast<int64_t>(kMax));
  if (!n || static_cast<uint64_t>(*n) > kMax / unit) {
    return std::nullopt;
  }
  return static_cast<uint64_t>(*n) * unit;
}

std::string_view UsageText() { return kUsage; }

std::string_view LicenseText() {
  return "cinit " CINIT_VERSION
         "\n"
         "\n"
         "cinit's own source code is not published under an open-source licence yet:\n"
         "its authors have not chosen one, so no licence to copy, change or pass it on\n"
         "is granted beyond what the law allows without one.\n"
         "\n"
         "The static binary contains code of others, under their licences:\n"
         "  glibc          LGPL-2.1-or-later (static linking: the source and build\n"
         "                 scripts of cinit are what lets a user relink it)\n"
         "  libstdc++      GPL-3.0 with the GCC Runtime Library Exception\n"
         "  fmt            MIT, with its exception for embedded object code\n"
         "  nlohmann/json  MIT\n"
         "\n"
         "cinit speaks the command lines of tini and dumb-init (both MIT) but contains\n"
         "no code of either.\n";
}

std::string VersionText(Personality personality) {
  if (personality == Personality::kTini) {
    // `docker info` runs docker-init --version and reads the third word as tini's
    // version; catatonit answers the same way.
    return "tini version " CINIT_VERSION "_cinit (cinit " CINIT_VERSION ")\n";
  }
  if (personality == Personality::kDumbInit) {
    return "dumb-init v" CINIT_VERSION " (cinit " CINIT_VERSION ")\n";
  }
  return "cinit " CINIT_VERSION "\n";
}

int UsageExitCode(Personality personality) {
  return personality == Personality::kCinit ? kExitUsage : 1;
}

Personality PersonalityFromArgv0(std::string_view argv0) {
  if (auto slash = argv0.rfind('/'); slash != std::string_view::npos) {
    argv0.remove_prefix(slash + 1);
  }
  if (argv0 == "tini" || argv0 == "tini-static" || argv0 == "docker-init") {
    return Personality::kTini;
  }
  if (argv0 == "dumb-init") {
    return Personality::kDumbInit;
  }
  return Personality::kCinit;
}

std::optional<ListenAddress> ParseListenAddress(std::string_view text) {
  ListenAddress address;
  std::string_view port_text = text;
  if (auto colon = text.rfind(':'); colon != std::string_view::npos) {
    std::string_view host = text.substr(0, colon);
    port_text = text.substr(colon + 1);
    if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
      host = host.substr(1, host.size() - 2);
      std::array<unsigned char, 16> v6;
      if (inet_pton(AF_INET6, std::string(host).c_str(), v6.data()) != 1) {
        return std::nullopt;
      }
    } else if (!host.empty()) {
      std::array<unsigned char, 4> v4;
      if (inet_pton(AF_INET, std::string(host).c_str(), v4.data()) != 1) {
        return std::nullopt;  // names are not resolved: no DNS in PID 1
      }
    }
    address.host = std::string(host);
  }
  auto port = ParseInteger(port_text, 1, 65535);
  if (!port) {
    return std::nullopt;
  }
  address.port = static_cast<int>(*port);
  return address;
}

Status ParseOptions(std::span<const std::string_view> args, const EnvLookup& env,
                    Options* options, Personality personality) {
  Options out;
  out.personality = personality;
  ModeChoices mode;
  if (Status s = ApplyEnvironment(env, &out, &mode); !s.ok()) {
    return s;
  }
  // One-letter flags that take no value; they may be grouped ("-vvv", "-gw").
  auto apply_flag = [&](char flag) {
    switch (flag) {
      case 'h':
        out.show_help = true;
        return true;
      case 'V':
        out.show_version = true;
        return true;
      case 'v':
        // dumb-init has one level of verbosity: debug.
        out.verbosity =
            personality == Personality::kDumbInit ? 3 : std::min(out.verbosity + 1, 3);
        return true;
      case 's':
        return true;  // tini's "register as subreaper": cinit always does when not PID 1
      case 'l':
        out.show_license = true;
        return true;
      case 'g':
        mode.group = true;
        mode.single_only = "-g";
        return true;
      case 'w':
        out.warn_on_reap = true;
        mode.single_only = "-w";
        return true;
      case 'c':
        mode.setsid = false;
        mode.group = false;
        return true;
      default:
        return false;
    }
  };

  size_t i = 0;
  for (; i < args.size(); ++i) {
    std::string_view word = args[i];
    if (word == "--") {
      ++i;
      break;
    }
    if (word.size() < 2 || word[0] != '-') {
      break;  // the command starts here
    }
    if (word == "--help") {
      apply_flag('h');
      continue;
    }
    if (word == "--version") {
      apply_flag('V');
      continue;
    }
    if (word == "--verbose") {
      apply_flag('v');
      continue;
    }
    if (word == "--license") {
      apply_flag('l');
      continue;
    }
    if (word == "--process-group") {
      apply_flag('g');
      continue;
    }
    if (word == "--warn-reaped") {
      apply_flag('w');
      continue;
    }
    if (word == "--single-child") {
      apply_flag('c');
      continue;
    }
    if (word == "--setsid") {
      mode.setsid = true;
      mode.single_only = "--setsid";
      continue;
    }
    if (word == "--strict-reload") {
      out.cluster.strict_reload = true;
      continue;
    }
    if (word == "--log-prefix") {
      out.log_prefix = true;
      continue;
    }
    if (word[1] != '-' &&
        word.find_first_not_of("hVvslgwc", 1) == std::string_view::npos) {
      for (char flag : word.substr(1)) {
        apply_flag(flag);
      }
      continue;
    }

    const ValueOption* match = nullptr;
    std::optional<std::string_view> value;
    for (const auto& option : kValueOptions) {
      const auto& name = option.long_name;
      if (word == name || (!option.short_name.empty() && word == option.short_name)) {
        match = &option;
      } else if (word.size() > name.size() && word.starts_with(name) &&
                 word[name.size()] == '=') {
        match = &option;
        value = word.substr(name.size() + 1);
      } else if (!option.short_name.empty() && word.size() > 2 &&
                 word.starts_with(option.short_name) && option.short_name.size() == 2) {
        match = &option;  // "-i4", "-i-1"
        value = word.substr(2);
      }
      if (match != nullptr) {
        break;
      }
    }
    if (match == nullptr) {
      return Status::Error(fmt::format("unknown option '{}' (try 'cinit --help')", word));
    }
    if (!value) {
      if (i + 1 >= args.size()) {
        return Status::Error(fmt::format("{} needs a value", word));
      }
      value = args[++i];
    }
    if (Status s = match->apply(*value, &out); !s.ok()) {
      return s;
    }
    if (match->short_name == "-e") {
      mode.single_only = "-e";
    }
    if (match->long_name == "--drain-delay" || match->long_name == "--share") {
      mode.cluster_only = match->long_name;
    }
  }

  for (; i < args.size(); ++i) {
    out.command.emplace_back(args[i]);
  }
  if (out.command.empty() && !out.show_help && !out.show_version && !out.show_license) {
    return Status::Error(
        "no command given (usage: cinit [OPTIONS] [--] COMMAND [ARG...])");
  }
  if (!out.instances && !out.listen.empty()) {
    return Status::Error("--listen needs cluster mode (-i N)");
  }
  if (!out.instances && out.log_prefix) {
    return Status::Error("--log-prefix needs cluster mode (-i N)");
  }
  if (!out.instances && !out.reload_on_change.empty()) {
    return Status::Error("--reload-on-change needs cluster mode (-i N)");
  }
  if (!out.instances && out.health) {
    return Status::Error("--health needs cluster mode (-i N)");
  }
  if (!out.instances && !mode.cluster_only.empty()) {
    return Status::Error(fmt::format("{} needs cluster mode (-i N)", mode.cluster_only));
  }
  if (out.instances && !mode.single_only.empty()) {
    return Status::Error(
        fmt::format("{} is for single mode, not with -i", mode.single_only));
  }
  out.setsid = mode.setsid.value_or(personality == Personality::kDumbInit);
  out.signal_group = out.setsid || mode.group;
  out.job_control = out.setsid || personality == Personality::kDumbInit;
  if (out.setsid) {
    // dumb-init's defaults in session mode: a job-control stop stops the whole group
    // (SIGSTOP cannot be caught, so the job really stops), unless rewritten.
    for (int signo : {SIGTSTP, SIGTTIN, SIGTTOU}) {
      out.rewrite.SetDefault(signo, SIGSTOP);
    }
  }
  *options = std::move(out);
  return Status::Ok();
}

}  // namespace cinit
