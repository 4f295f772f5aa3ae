// Options: the command line and environment of cinit, parsed into a value.
//
// Pure: reads only its arguments. Grammar:
//   cinit [OPTIONS] [--] COMMAND [ARG...]
// Option parsing stops at the first word that is not an option (or after "--"), so
// the command's own flags are never taken for cinit's. Flags beat environment
// variables. See README "Command line" for the user-facing table.
#ifndef CINIT_OPTIONS_H_
#define CINIT_OPTIONS_H_

#include <chrono>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "cluster_config.h"
#include "status.h"

namespace cinit {

// How cluster workers talk to cinit.
enum class IpcMode {
  kAuto,  // Node's IPC channel when COMMAND is node or a node script, else none
  kNode,  // always give workers Node's IPC channel (NODE_CHANNEL_FD)
  kNone,  // never
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

struct Options {
  std::vector<std::string>
      command;              // COMMAND and its arguments; empty only with help/version
  int verbosity = 1;        // 0 error .. 3 debug
  bool log_json = false;    // --log-format json: one JSON object per line
  bool log_prefix = false;  // cluster mode: "[k] " before each line workers write
  bool show_help = false;
  bool show_version = false;

  // Cluster mode (-i). Absent: single mode.
  //   N > 0: N workers; 0: one per usable CPU; -K: usable CPUs minus K (at least 1).
  std::optional<int> instances;
  std::string instance_var = "NODE_APP_INSTANCE";
  IpcMode ipc = IpcMode::kAuto;
  std::vector<ListenAddress> listen;  // sockets handed to workers as LISTEN_FDS
  // How workers share a port: one socket (one accept queue) for all, or one
  // SO_REUSEPORT socket per worker slot.
  bool balance_reuseport = false;
  // Stop signal, timeouts, restarts and the rolling reload (its kill_timeout is
  // single mode's too). workers and node_ipc are decided at start-up.
  ClusterConfig cluster;
  std::string control_path{kDefaultControlPath};  // empty: no control FIFO

  // Health endpoint (cluster mode): HTTP on this address; absent: off.
  std::optional<ListenAddress> health;
  int min_ready = 1;  // workers online for /readyz to answer 200
  // Where cinit keeps the probes' verdict for `cinit status` (exec probes); empty: off.
  std::string status_path{kDefaultStatusPath};
};

// Looks up an environment variable; returns nullopt when it is not set.
using EnvLookup = std::function<std::optional<std::string>(std::string_view name)>;

// Parses args (argv without argv[0]) and the environment into *options.
// Returns a failed Status with a one-line message on a usage error.
Status ParseOptions(std::span<const std::string_view> args, const EnvLookup& env,
                    Options* options);

// Parses "HOST:PORT", "[V6]:PORT", ":PORT" or "PORT" (port 1..65535).
std::optional<ListenAddress> ParseListenAddress(std::string_view text);

// The text printed by --help.
std::string_view UsageText();

// Exit code for usage errors (bad flags, no command).
inline constexpr int kExitUsage = 2;
// Exit code for cinit's own fatal start-up errors (e.g. fork failed).
inline constexpr int kExitStartupError = 1;

}  // namespace cinit

#endif  // CINIT_OPTIONS_H_
