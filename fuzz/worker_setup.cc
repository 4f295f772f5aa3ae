// Fuzz target: what cinit reads to set a cluster worker up: its own environment
// (TakeInheritedEnv, src/core/worker_env.h; entries are whatever the runtime passed
// to execve, with or without '=') and the first line of COMMAND's file (DecideNodeIpc,
// src/core/worker_kind.h). The input is NUL-separated: argv0, the shebang line, then
// environment entries. Nothing throws; each variable cinit sets per worker appears
// once in a worker's environment, and LD_PRELOAD keeps what was inherited.
#include <algorithm>
#include <string>
#include <vector>

#include "fuzz_support.h"
#include "options.h"
#include "worker_env.h"
#include "worker_kind.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::vector<std::string_view> words =
      cinit::fuzz::Split(cinit::fuzz::AsText(data, size), '\0');
  std::string_view argv0 = words[0];
  std::string_view shebang = words.size() > 1 ? words[1] : std::string_view();
  for (auto mode :
       {cinit::IpcMode::kAuto, cinit::IpcMode::kNode, cinit::IpcMode::kNone}) {
    cinit::IpcDecision decision = cinit::DecideNodeIpc(mode, argv0, shebang);
    FUZZ_CHECK(!decision.why.empty());
    if (mode != cinit::IpcMode::kAuto) {
      FUZZ_CHECK(decision.node_ipc == (mode == cinit::IpcMode::kNode));
    }
  }

  std::vector<std::string_view> environ;
  for (size_t i = 2; i < words.size(); ++i) {
    environ.push_back(words[i]);
  }
  cinit::WorkerEnvBase base;
  base.instance_var = "NODE_APP_INSTANCE";
  base.listen_ports = {8080};
  base.notify_socket = "@cinit-notify";
  base.node_channel = size % 2 == 0;
  base.shim_path = size % 3 == 0 ? "" : "/run/cinit/shim.so";
  base.shim_socket = "@cinit-shim";
  cinit::TakeInheritedEnv(environ, &base);
  cinit::WorkerLaunch launch = cinit::PlanWorker(base, 7, 2);

  auto count = [&](std::string_view name) {
    return std::count_if(launch.env.begin(), launch.env.end(), [&](const std::string& e) {
      return std::string_view(e).substr(0, e.find('=')) == name;
    });
  };
  FUZZ_CHECK(count("NODE_APP_INSTANCE") == 1);
  FUZZ_CHECK(count("LISTEN_FDS") == 1);
  FUZZ_CHECK(count("LISTEN_PID") == 0);  // set after fork, for the child's pid
  FUZZ_CHECK(count("NOTIFY_SOCKET") == 1);
  FUZZ_CHECK(count("NODE_CHANNEL_FD") == (base.node_channel ? 1 : 0));
  FUZZ_CHECK(count("CINIT_SHIM_FD") == (base.shim_path.empty() ? 0 : 1));
  FUZZ_CHECK(count("LD_PRELOAD") <= 1);
  if (!base.ld_preload.empty()) {
    auto it =
        std::find_if(launch.env.begin(), launch.env.end(),
                     [](const std::string& e) { return e.starts_with("LD_PRELOAD="); });
    FUZZ_CHECK(it != launch.env.end() && it->ends_with(base.ld_preload));
  }
  return 0;
}
