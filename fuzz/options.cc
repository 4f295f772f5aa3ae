// Fuzz target: cinit's command line and environment (ParseOptions in
// src/core/options.h). The input is an argv split at NUL bytes, argv[0] first (its
// basename picks the personality, as main() does); a word that starts with the byte
// 0x01 is an environment entry NAME=VALUE instead. Parsing never throws, and what it
// accepts keeps the documented ranges and rules.
#include "options.h"

#include <map>
#include <string>
#include <vector>

#include "fuzz_support.h"

namespace {

bool IsEnvName(std::string_view name) {
  if (name.empty() || (name[0] >= '0' && name[0] <= '9')) {
    return false;
  }
  for (char c : name) {
    if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
          c == '_')) {
      return false;
    }
  }
  return true;
}

constexpr long long kDay = 24LL * 3600 * 1000;

void CheckAccepted(const cinit::Options& o, std::span<const std::string_view> args) {
  FUZZ_CHECK(!o.command.empty() || o.show_help || o.show_version || o.show_license);
  // The command is the tail of the arguments, word for word.
  FUZZ_CHECK(o.command.size() <= args.size());
  for (size_t i = 0; i < o.command.size(); ++i) {
    FUZZ_CHECK(o.command[i] == args[args.size() - o.command.size() + i]);
  }
  FUZZ_CHECK(o.verbosity >= 0 && o.verbosity <= 3);
  if (o.instances) {
    FUZZ_CHECK(*o.instances >= -4096 && *o.instances <= 4096);
  } else {
    FUZZ_CHECK(o.listen.empty() && !o.health && !o.log_prefix);
  }
  for (const auto& address : o.listen) {
    FUZZ_CHECK(address.port >= 1 && address.port <= 65535);
  }
  if (o.health) {
    FUZZ_CHECK(o.health->port >= 1 && o.health->port <= 65535);
  }
  FUZZ_CHECK(IsEnvName(o.instance_var));
  FUZZ_CHECK(o.min_ready >= 0 && o.min_ready <= 4096);
  FUZZ_CHECK(o.cluster.reload_batch >= 1 && o.cluster.reload_batch <= 4096);
  FUZZ_CHECK(o.cluster.max_restarts >= 0 && o.cluster.max_restarts <= 1000000);
  for (auto ms : {o.cluster.kill_timeout, o.cluster.graceful_timeout,
                  o.cluster.min_uptime, o.cluster.listen_timeout}) {
    FUZZ_CHECK(ms.count() >= 0 && ms.count() <= kDay);
  }
  FUZZ_CHECK(o.cluster.stop_signal >= 1 && o.cluster.stop_signal <= cinit::kMaxSignal);
  FUZZ_CHECK(o.parent_death_signal >= 0 && o.parent_death_signal <= cinit::kMaxSignal);
  for (int signo = 1; signo <= cinit::kMaxSignal; ++signo) {
    int to = o.rewrite.Apply(signo);
    FUZZ_CHECK(to >= 0 && to <= cinit::kMaxSignal);
  }
  FUZZ_CHECK(!o.setsid || o.signal_group);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::vector<std::string_view> words =
      cinit::fuzz::Split(cinit::fuzz::AsText(data, size), '\0');
  std::string_view argv0 = words.front();
  std::vector<std::string_view> args;
  std::map<std::string, std::string, std::less<>> env;
  for (size_t i = 1; i < words.size(); ++i) {
    std::string_view word = words[i];
    if (word.starts_with('\x01')) {
      word.remove_prefix(1);
      size_t eq = word.find('=');
      if (eq != std::string_view::npos) {
        env[std::string(word.substr(0, eq))] = std::string(word.substr(eq + 1));
      }
    } else {
      args.push_back(word);
    }
  }
  cinit::EnvLookup lookup = [&env](std::string_view name) -> std::optional<std::string> {
    auto it = env.find(name);
    if (it == env.end()) {
      return std::nullopt;
    }
    return it->second;
  };

  cinit::Personality personality = cinit::PersonalityFromArgv0(argv0);
  cinit::Options options;
  cinit::Status status = cinit::ParseOptions(args, lookup, &options, personality);
  if (status.ok()) {
    FUZZ_CHECK(options.personality == personality);
    CheckAccepted(options, args);
    // The same words give the same result.
    cinit::Options again;
    FUZZ_CHECK(cinit::ParseOptions(args, lookup, &again, personality).ok());
    FUZZ_CHECK(again.command == options.command && again.rewrite == options.rewrite &&
               again.listen == options.listen && again.instances == options.instances);
  } else {
    FUZZ_CHECK(!status.message().empty());
    int code = cinit::UsageExitCode(personality);
    FUZZ_CHECK(code == 1 || code == 2);
  }
  FUZZ_CHECK(!cinit::VersionText(personality).empty());
  return 0;
}
