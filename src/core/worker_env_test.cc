#include "worker_env.h"

#include <doctest/doctest.h>

#include <algorithm>

namespace cinit {
namespace {

bool Has(const WorkerLaunch& launch, std::string_view entry) {
  return std::find(launch.env.begin(), launch.env.end(), entry) != launch.env.end();
}

size_t CountNamed(const WorkerLaunch& launch, std::string_view name) {
  return static_cast<size_t>(
      std::count_if(launch.env.begin(), launch.env.end(), [name](const std::string& e) {
        return e.starts_with(name) && e.size() > name.size() && e[name.size()] == '=';
      }));
}

}  // namespace

TEST_SUITE("worker_env") {
  TEST_CASE("inherited per-worker variables are replaced, the rest kept") {
    WorkerEnvBase base;
    base.instance_var = "WORKER";
    TakeInheritedEnv({"PATH=/bin", "WORKER=9", "NODE_UNIQUE_ID=4", "LISTEN_FDS=2",
                      "NOTIFY_SOCKET=/run/x", "LD_PRELOAD=/lib/libx.so", "HOME=/root"},
                     &base);
    CHECK(base.inherited == std::vector<std::string>{"PATH=/bin", "HOME=/root"});
    CHECK(base.ld_preload == "/lib/libx.so");
    WorkerLaunch launch = PlanWorker(base, 7, 2);
    CHECK(Has(launch, "WORKER=2"));
    CHECK(CountNamed(launch, "WORKER") == 1);
    CHECK(CountNamed(launch, "NODE_UNIQUE_ID") == 0);
    CHECK(CountNamed(launch, "LISTEN_FDS") == 0);
    CHECK(CountNamed(launch, "NOTIFY_SOCKET") == 0);
    CHECK(Has(launch, "LD_PRELOAD=/lib/libx.so"));
    CHECK(launch.node_channel_fd == -1);
    CHECK(launch.shim_fd == -1);
    CHECK(!launch.set_listen_pid);
  }

  TEST_CASE("fds from 3: listen sockets, then Node's channel, then the shim") {
    WorkerEnvBase base;
    base.instance_var = "NODE_APP_INSTANCE";
    base.listen_ports = {8080, 8443};
    base.node_channel = true;
    base.shim_path = "/run/cinit/shim.so";
    base.shim_socket = "@cinit-shim-1";
    base.notify_socket = "@cinit-notify-1";
    base.ld_preload = "/lib/libx.so";
    WorkerLaunch launch = PlanWorker(base, 5, 0);
    CHECK(Has(launch, "NODE_APP_INSTANCE=0"));
    CHECK(Has(launch, "LISTEN_FDS=2"));
    CHECK(Has(launch, "LISTEN_FDNAMES=8080:8443"));
    CHECK(launch.set_listen_pid);
    CHECK(launch.node_channel_fd == 5);
    CHECK(Has(launch, "NODE_CHANNEL_FD=5"));
    CHECK(Has(launch, "NODE_UNIQUE_ID=5"));
    CHECK(Has(launch, "NODE_CHANNEL_SERIALIZATION_MODE=json"));
    CHECK(launch.shim_fd == 6);
    CHECK(Has(launch, "CINIT_SHIM_FD=6"));
    CHECK(Has(launch, "CINIT_SHIM_SOCKET=@cinit-shim-1"));
    CHECK(Has(launch, "LD_PRELOAD=/run/cinit/shim.so /lib/libx.so"));
    CHECK(CountNamed(launch, "LD_PRELOAD") == 1);
    CHECK(Has(launch, "NOTIFY_SOCKET=@cinit-notify-1"));
  }

  TEST_CASE("without listen sockets the first extra fd is 3") {
    WorkerEnvBase base;
    base.instance_var = "NODE_APP_INSTANCE";
    base.shim_path = "/tmp/shim.so";
    WorkerLaunch launch = PlanWorker(base, 1, 3);
    CHECK(launch.shim_fd == 3);
    CHECK(Has(launch, "LD_PRELOAD=/tmp/shim.so"));
    CHECK(CountNamed(launch, "CINIT_SHIM_SOCKET") == 0);
  }
}

}  // namespace cinit
