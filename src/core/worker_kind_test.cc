#include "worker_kind.h"

#include <doctest/doctest.h>

namespace cinit {

TEST_SUITE("worker_kind") {
  TEST_CASE("node itself gets the channel") {
    CHECK(DecideNodeIpc(IpcMode::kAuto, "node", "").node_ipc);
    CHECK(DecideNodeIpc(IpcMode::kAuto, "/usr/local/bin/node", "").node_ipc);
    CHECK(DecideNodeIpc(IpcMode::kAuto, "nodejs", "").node_ipc);
  }

  TEST_CASE("a script whose shebang runs node gets the channel") {
    CHECK(DecideNodeIpc(IpcMode::kAuto, "./server.js", "#!/usr/bin/env node").node_ipc);
    CHECK(DecideNodeIpc(IpcMode::kAuto, "./server",
                        "#!/usr/bin/node --max-old-space-size=100")
              .node_ipc);
    CHECK(DecideNodeIpc(IpcMode::kAuto, "./s", "#!/usr/bin/env -S node --inspect")
              .node_ipc);
  }

  TEST_CASE("other programs do not") {
    CHECK_FALSE(DecideNodeIpc(IpcMode::kAuto, "python3", "").node_ipc);
    CHECK_FALSE(DecideNodeIpc(IpcMode::kAuto, "./run.sh", "#!/bin/sh").node_ipc);
    CHECK_FALSE(DecideNodeIpc(IpcMode::kAuto, "./x", "#!/usr/bin/env python3").node_ipc);
    CHECK_FALSE(DecideNodeIpc(IpcMode::kAuto, "sh", "").node_ipc);
  }

  TEST_CASE("package managers are node scripts but must not take the channel") {
    for (std::string_view manager : {"npm", "/usr/bin/npx", "yarn", "pnpm", "corepack"}) {
      CAPTURE(manager);
      auto decision = DecideNodeIpc(IpcMode::kAuto, manager, "#!/usr/bin/env node");
      CHECK_FALSE(decision.node_ipc);
      CHECK(decision.why.find("package manager") != std::string::npos);
    }
  }

  TEST_CASE("--ipc node and --ipc none decide outright") {
    CHECK(DecideNodeIpc(IpcMode::kNode, "python3", "").node_ipc);
    CHECK_FALSE(DecideNodeIpc(IpcMode::kNone, "node", "").node_ipc);
  }
}

}  // namespace cinit
