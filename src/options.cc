#include "options.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>

namespace cinit {
namespace {

constexpr std::string_view kUsage =
    "Usage: cinit [OPTIONS] [--] COMMAND [ARG...]\n"
    "\n"
    "Runs COMMAND as the child of a container init: forwards signals to it, reaps\n"
    "every zombie, and exits with its status (128+N if it was killed by signal N).\n"
    "\n"
    "Options:\n"
    "  -h, --help             print this help and exit\n"
    "  -V, --version          print the version and exit\n"
    "  -v, --verbose          log more (repeatable: info, debug); env CINIT_VERBOSITY=0..3\n"
    "      --kill-timeout MS  after COMMAND exits, SIGTERM the remaining processes and\n"
    "                         SIGKILL them after MS milliseconds (default 1600)\n"
    "  -s                     accepted for tini compatibility; cinit always registers\n"
    "                         as child subreaper when it is not PID 1\n";

// Parses a non-negative decimal integer no larger than max.
std::optional<long long> ParseCount(std::string_view text, long long max) {
  long long value = 0;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (text.empty() || ec != std::errc() || ptr != end || value < 0 || value > max) {
    return std::nullopt;
  }
  return value;
}

// Upper bound for durations given in milliseconds: one day.
constexpr long long kMaxMillis = 24LL * 3600 * 1000;

}  // namespace

std::string_view UsageText() { return kUsage; }

Status ParseOptions(std::span<const std::string_view> args, const EnvLookup& env,
                    Options* options) {
  Options out;
  if (auto text = env("CINIT_VERBOSITY")) {
    auto level = ParseCount(*text, 3);
    if (!level) {
      return Status::Error(
          fmt::format("CINIT_VERBOSITY must be 0, 1, 2 or 3, not '{}'", *text));
    }
    out.verbosity = static_cast<int>(*level);
  }

  size_t i = 0;
  // Returns the value of an option that takes one: "--opt=V" or "--opt V".
  auto take_value = [&](std::string_view name,
                        std::string_view word) -> std::optional<std::string_view> {
    if (word.size() > name.size() && word[name.size()] == '=') {
      return word.substr(name.size() + 1);
    }
    if (i + 1 < args.size()) {
      return args[++i];
    }
    return std::nullopt;
  };

  for (; i < args.size(); ++i) {
    std::string_view word = args[i];
    if (word == "--") {
      ++i;
      break;
    }
    if (word.size() < 2 || word[0] != '-') {
      break;  // the command starts here
    }
    if (word == "-h" || word == "--help") {
      out.show_help = true;
    } else if (word == "-V" || word == "--version") {
      out.show_version = true;
    } else if (word == "--verbose") {
      out.verbosity = std::min(out.verbosity + 1, 3);
    } else if (word == "-s") {
      // tini's "register as subreaper": cinit always does when not PID 1.
    } else if (word.starts_with("--kill-timeout") &&
               (word.size() == 14 || word[14] == '=')) {
      auto value = take_value("--kill-timeout", word);
      if (!value) {
        return Status::Error("--kill-timeout needs a value in milliseconds");
      }
      auto ms = ParseCount(*value, kMaxMillis);
      if (!ms) {
        return Status::Error(fmt::format(
            "--kill-timeout: '{}' is not a number of milliseconds (0..{})", *value,
            kMaxMillis));
      }
      out.kill_timeout = std::chrono::milliseconds(*ms);
    } else if (word[1] != '-' && word.find_first_not_of('v', 1) == std::string_view::npos) {
      out.verbosity = std::min(out.verbosity + static_cast<int>(word.size() - 1), 3);
    } else {
      return Status::Error(
          fmt::format("unknown option '{}' (try 'cinit --help')", word));
    }
  }

  for (; i < args.size(); ++i) {
    out.command.emplace_back(args[i]);
  }
  if (out.command.empty() && !out.show_help && !out.show_version) {
    return Status::Error("no command given (usage: cinit [OPTIONS] [--] COMMAND [ARG...])");
  }
  *options = std::move(out);
  return Status::Ok();
}

}  // namespace cinit
