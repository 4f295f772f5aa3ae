#include "worker_kind.h"

#include <fmt/format.h>

#include <array>

namespace cinit {
namespace {

std::string_view Basename(std::string_view path) {
  auto slash = path.rfind('/');
  return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

bool IsNodeName(std::string_view name) {
  return name == "node" || name == "nodejs" || name.starts_with("node-") ||
         name.starts_with("node2") || name.starts_with("node1");
}

// "#!/usr/bin/env node", "#!/usr/bin/env -S node --x", "#!/usr/local/bin/node".
bool ShebangRunsNode(std::string_view shebang) {
  if (!shebang.starts_with("#!")) {
    return false;
  }
  shebang.remove_prefix(2);
  size_t pos = 0;
  int words = 0;
  while (pos < shebang.size() && words < 4) {
    while (pos < shebang.size() && (shebang[pos] == ' ' || shebang[pos] == '\t')) {
      ++pos;
    }
    size_t end = shebang.find_first_of(" \t\r", pos);
    std::string_view word = shebang.substr(
        pos, end == std::string_view::npos ? std::string_view::npos : end - pos);
    if (word.empty()) {
      break;
    }
    std::string_view name = Basename(word);
    if (IsNodeName(name)) {
      return true;
    }
    if (name != "env" && !word.starts_with("-")) {
      return false;  // another interpreter
    }
    pos = end == std::string_view::npos ? shebang.size() : end;
    ++words;
  }
  return false;
}

constexpr std::array<std::string_view, 5> kPackageManagers = {"npm", "npx", "yarn",
                                                              "pnpm", "corepack"};

}  // namespace

IpcDecision DecideNodeIpc(IpcMode mode, std::string_view argv0,
                          std::string_view shebang) {
  if (mode == IpcMode::kNode) {
    return {true, "--ipc node"};
  }
  if (mode == IpcMode::kNone) {
    return {false, "--ipc none"};
  }
  std::string_view name = Basename(argv0);
  for (auto manager : kPackageManagers) {
    if (name == manager) {
      return {false,
              fmt::format("{} is a package manager: it would keep Node's IPC channel "
                          "for itself, so workers share the port through the bind shim "
                          "(run node directly to use ready/shutdown messages)",
                          name)};
    }
  }
  if (IsNodeName(name)) {
    return {true, fmt::format("{} is node", name)};
  }
  if (ShebangRunsNode(shebang)) {
    return {true, fmt::format("{} is a node script", name)};
  }
  return {false, fmt::format("{} is not node", name)};
}

}  // namespace cinit
