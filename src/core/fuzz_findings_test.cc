// Regression tests for what the fuzz targets in fuzz/ found: each case holds the
// input a target reported, reduced, and the behaviour the fix gives.
#include <doctest/doctest.h>

#include <climits>
#include <csignal>

#include "cpu_count.h"
#include "signal_policy.h"
#include "worker_env.h"

namespace cinit {

TEST_SUITE("fuzz_findings") {
  // fuzz/worker_setup: execve() takes environment entries without '='; the entry
  // "LD_PRELOAD" made TakeInheritedEnv throw std::out_of_range, and cluster mode
  // died at start-up ("cinit: fatal: unexpected exception").
  TEST_CASE("an environment entry LD_PRELOAD without a value is dropped, not thrown on") {
    WorkerEnvBase base;
    base.instance_var = "NODE_APP_INSTANCE";
    TakeInheritedEnv({"PATH=/bin", "LD_PRELOAD", "HOME"}, &base);
    CHECK(base.ld_preload.empty());
    CHECK(base.inherited == std::vector<std::string>{"PATH=/bin", "HOME"});
    TakeInheritedEnv({"LD_PRELOAD=/lib/a.so", "LD_PRELOAD"}, &base);
    CHECK(base.ld_preload == "/lib/a.so");
  }

  // fuzz/signal_spec: "RTMIN+2147483647" overflowed int in ParseSignal (UBSan:
  // signed integer overflow); an offset past the real-time range names no signal.
  TEST_CASE("a real-time offset too large for an int names no signal") {
    CHECK(ParseSignal("RTMIN+2147483647") == 0);
    CHECK(ParseSignal("SIGRTMIN+2147483600") == 0);
    CHECK(ParseSignal("RTMAX-2147483647") == 0);
    CHECK(ParseSignal("RTMIN+2") == SIGRTMIN + 2);
    CHECK(ParseSignal("RTMAX-1") == SIGRTMAX - 1);
  }

  // fuzz/cgroup: a quota of more than INT_MAX CPUs (cgroup v2 allows a quota of
  // 2^44 us per 1 ms period) came out negative, and -i max started one worker.
  TEST_CASE("a CPU quota larger than an int is capped, never negative") {
    CHECK(ParseCgroupV2CpuMax("17592186044415 1000") == INT_MAX);
    CHECK(ParseCgroupV2CpuMax("9223372036854775807 1") == INT_MAX);
    CHECK(ParseCgroupV1Quota("17592186044415", "1000") == INT_MAX);
    CHECK(ParseCgroupV2CpuMax("200000 100000") == 2);
  }
}

}  // namespace cinit
