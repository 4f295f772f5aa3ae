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

#include "status.h"

namespace cinit {

struct Options {
  std::vector<std::string> command;  // COMMAND and its arguments; empty only with help/version
  int verbosity = 1;                 // 0 error .. 3 debug
  // After the main child exits: how long the remaining processes get between
  // SIGTERM and SIGKILL.
  std::chrono::milliseconds kill_timeout{1600};
  bool show_help = false;
  bool show_version = false;
};

// Looks up an environment variable; returns nullopt when it is not set.
using EnvLookup = std::function<std::optional<std::string>(std::string_view name)>;

// Parses args (argv without argv[0]) and the environment into *options.
// Returns a failed Status with a one-line message on a usage error.
Status ParseOptions(std::span<const std::string_view> args, const EnvLookup& env,
                    Options* options);

// The text printed by --help.
std::string_view UsageText();

// Exit code for usage errors (bad flags, no command).
inline constexpr int kExitUsage = 2;
// Exit code for cinit's own fatal start-up errors (e.g. fork failed).
inline constexpr int kExitStartupError = 1;

}  // namespace cinit

#endif  // CINIT_OPTIONS_H_
