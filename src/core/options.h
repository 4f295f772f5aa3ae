// Options: the command line and environment of cinit, parsed into a value.
//
// Pure: reads only its arguments. Grammar:
//   cinit [OPTIONS] [--] COMMAND [ARG...]
// Option parsing stops at the first word that is not an option (or after "--"), so
// the command's own flags are never taken for cinit's. Flags beat environment
// variables. See README "Command line" for the user-facing table.
#ifndef CINIT_OPTIONS_H_
#define CINIT_OPTIONS_H_

#include <bitset>
#include <chrono>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "cluster_config.h"
#include "signal_policy.h"
#include "status.h"

namespace cinit {

// How cluster workers talk to cinit.
enum class IpcMode {
  kAuto,  // Node's IPC channel when COMMAND is node or a node script, else none
  kNode,  // always give workers Node's IPC channel (NODE_CHANNEL_FD)
  kNone,  // never
};

// How a non-Node worker without --listen gets the shared port when it binds it
// (README "Sharing the port").
enum class ShareMode {
  kAuto,     // both below: the shim for libc's bind(), the filter for the rest
  kSeccomp,  // the seccomp bind filter only (no LD_PRELOAD)
  kShim,     // the LD_PRELOAD shim only (no filter, no no_new_privs)
  kNone,     // neither: workers bind for themselves
};

// Whose command line cinit speaks: its own, or a peer's, chosen by the name it was
// invoked as (argv[0]: a symlink or a copy named tini, docker-init, dumb-init).
// Every personality accepts every option; what differs are the defaults and the
// meaning of a few flags (see PersonalityFromArgv0 and README "Called by another
// name").
enum class Personality {
  kCinit,
  kTini,  // tini, tini-static, docker-init (Docker's --init runs `docker-init -- CMD`)
  kDumbInit,  // dumb-init: session mode by default, -v is debug, job control stops cinit
};

// A TCP address for --listen: host is empty for "every address" (dual-stack).
struct ListenAddress {
  std::string host;  // "", "0.0.0.0", "::", "127.0.0.1", … (no brackets)
  int port = 0;
  bool operator==(const ListenAddress&) const = default;
};

// Where cinit keeps its control FIFO and the exec probe's verdict unless told
// otherwise; `cinit ctl` and `cinit status` look there too.
inline constexpr std::string_view kDefaultControlPath = "/run/cinit/control";
inline constexpr std::string_view kDefaultStatusPath = "/run/cinit/status.json";

// "300M", "1G", "512K" or a number of bytes (K, M, G are 1024-based, as pm2's
// max_memory_restart): the bytes, or nullopt. 1 byte to 1 TiB.
std::optional<uint64_t> ParseSize(std::string_view text);

struct Options {
  std::vector<std::string>
      command;              // COMMAND and its arguments; empty only with help/version
  int verbosity = 1;        // 0 error .. 3 debug
  bool log_json = false;    // --log-format json: one JSON object per line
  bool log_prefix = false;  // cluster mode: "[k] " before each line workers write
  bool show_help = false;
  bool show_version = false;
  bool show_license = false;  // -l

  // Single mode, tini's and dumb-init's options.
  Personality personality = Personality::kCinit;
  // Forwarded signals go to the child's whole process group (tini -g,
  // TINI_KILL_PROCESS_GROUP; implied by session mode), not to the child alone.
  bool signal_group = false;
  // dumb-init's session mode (--setsid, dumb-init's default, DUMB_INIT_SETSID=1): the
  // child starts a session of its own (and takes cinit's terminal), signals go to its
  // group, and SIGTSTP/SIGTTIN/SIGTTOU become SIGSTOP unless rewritten.
  bool setsid = false;
  // On SIGTSTP/SIGTTIN/SIGTTOU: forward (after the rewrite), then stop cinit itself, so
  // a shell's job control suspends cinit with its child (dumb-init). Off: TSTP is
  // forwarded and TTIN/TTOU dropped, and cinit is never stopped (tini).
  bool job_control = false;
  SignalRewrite rewrite;        // -r/--rewrite FROM:TO (single and cluster mode)
  std::bitset<256> zero_exit;   // -e CODE: the main child's code CODE makes cinit exit 0
  int parent_death_signal = 0;  // -p SIG: prctl(PR_SET_PDEATHSIG) on cinit; 0: none
  bool warn_on_reap = false;    // -w: warn for every process reaped but the main child

  // Cluster mode (-i). Absent: single mode.
  //   N > 0: N workers; 0: one per usable CPU; -K: usable CPUs minus K (at least 1).
  std::optional<int> instances;
  std::string instance_var = "NODE_APP_INSTANCE";
  IpcMode ipc = IpcMode::kAuto;
  std::vector<ListenAddress> listen;  // sockets handed to workers as LISTEN_FDS
  // How workers share a port: one socket (one accept queue) for all, or one
  // SO_REUSEPORT socket per worker slot.
  bool balance_reuseport = false;
  ShareMode share = ShareMode::kAuto;  // --share
  // Stop signal, timeouts, restarts and the rolling reload (its kill_timeout is
  // single mode's too). workers and node_ipc are decided at start-up.
  ClusterConfig cluster;
  std::string control_path{kDefaultControlPath};  // empty: no control FIFO
  // --reload-on-change: files or directories whose change is a (debounced) rolling
  // reload; normalized, distinct, at most watch::kMaxPaths (watch_plan.h).
  std::vector<std::string> reload_on_change;

  // Health endpoint (cluster mode): HTTP on this address; absent: off.
  std::optional<ListenAddress> health;
  int min_ready = 1;  // workers online for /readyz to answer 200
  // Where cinit keeps the probes' verdict for `cinit status` (exec probes); empty: off.
  std::string status_path{kDefaultStatusPath};
};

// Looks up an environment variable; returns nullopt when it is not set.
using EnvLookup = std::function<std::optional<std::string>(std::string_view name)>;

// Returns the personality for argv[0]: its basename "tini", "tini-static" or
// "docker-init" gives kTini, "dumb-init" kDumbInit, anything else kCinit.
Personality PersonalityFromArgv0(std::string_view argv0);

// Parses args (argv without argv[0]) and the environment into *options, with the
// defaults of personality. Returns a failed Status with a one-line message on a
// usage error.
Status ParseOptions(std::span<const std::string_view> args, const EnvLookup& env,
                    Options* options, Personality personality = Personality::kCinit);

// Parses "HOST:PORT", "[V6]:PORT", ":PORT" or "PORT" (port 1..65535).
std::optional<ListenAddress> ParseListenAddress(std::string_view text);

// The text printed by --help.
std::string_view UsageText();

// The text printed by -l: cinit's licence situation.
std::string_view LicenseText();

// What --version prints for personality. As tini (Docker's docker-init), it starts
// with "tini version " because `docker info` parses that.
std::string VersionText(Personality personality);

// Exit code for a usage error under personality: 2 for cinit, 1 as tini and
// dumb-init (theirs).
int UsageExitCode(Personality personality);

// Exit code for usage errors (bad flags, no command).
inline constexpr int kExitUsage = 2;
// Exit code for cinit's own fatal start-up errors (e.g. fork failed).
inline constexpr int kExitStartupError = 1;

}  // namespace cinit

#endif  // CINIT_OPTIONS_H_
