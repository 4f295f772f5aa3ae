#include "cpu_count.h"

#include <doctest/doctest.h>

namespace cinit {

TEST_SUITE("cpu_count") {
  TEST_CASE("cgroup v2 cpu.max") {
    CHECK_FALSE(ParseCgroupV2CpuMax("max 100000\n"));
    CHECK(ParseCgroupV2CpuMax("200000 100000\n") == 2);
    CHECK(ParseCgroupV2CpuMax("250000 100000") == 2);  // rounded down
    CHECK(ParseCgroupV2CpuMax("50000 100000") == 1);   // at least 1
    CHECK_FALSE(ParseCgroupV2CpuMax(""));
    CHECK_FALSE(ParseCgroupV2CpuMax("garbage"));
    CHECK_FALSE(ParseCgroupV2CpuMax("100 x"));
  }

  TEST_CASE("cgroup v1 quota and period") {
    CHECK_FALSE(ParseCgroupV1Quota("-1\n", "100000\n"));
    CHECK(ParseCgroupV1Quota("300000\n", "100000\n") == 3);
    CHECK(ParseCgroupV1Quota("150000", "100000") == 1);
    CHECK_FALSE(ParseCgroupV1Quota("100000", "0"));
  }

  TEST_CASE("/proc/self/cgroup: v2 path and the v1 cpu controller") {
    auto hybrid = ParseProcCgroup(
        "9:name=systemd:/\n4:memory:/a\n2:cpuacct:/\n1:cpu:/kubepods/pod1\n0::/x/y\n");
    CHECK(hybrid.v2 == "/x/y");
    CHECK(hybrid.v1_cpu == "/kubepods/pod1");
    auto joint = ParseProcCgroup("3:cpu,cpuacct:/docker/abc\n");
    CHECK(joint.v1_cpu == "/docker/abc");
    CHECK(joint.v2.empty());
    auto pure_v2 = ParseProcCgroup("0::/\n");
    CHECK(pure_v2.v2 == "/");
    CHECK(ParseProcCgroup("").v2.empty());
  }

  TEST_CASE("ancestry walks up to the root") {
    CHECK(CgroupAncestry("/a/b") == std::vector<std::string>{"/a/b", "/a", "/"});
    CHECK(CgroupAncestry("/") == std::vector<std::string>{"/"});
    CHECK(CgroupAncestry("") == std::vector<std::string>{"/"});
    CHECK(CgroupAncestry("/a/") == std::vector<std::string>{"/a", "/"});
  }

  TEST_CASE("usable CPUs: the smaller of affinity and quota") {
    CHECK(UsableCpus(48, 2, "cpu.max").cpus == 2);
    CHECK(UsableCpus(2, 8, "cpu.max").cpus == 2);
    CHECK(UsableCpus(4, std::nullopt, "").cpus == 4);
    CHECK(UsableCpus(0, std::nullopt, "").cpus == 1);
    CHECK(UsableCpus(48, 2, "cpu.max").how.find("quota") != std::string::npos);
  }

  TEST_CASE("-i N, 0 and -K") {
    CHECK(ResolveInstances(3, 8) == 3);
    CHECK(ResolveInstances(0, 8) == 8);
    CHECK(ResolveInstances(-1, 8) == 7);
    CHECK(ResolveInstances(-1, 1) == 1);
    CHECK(ResolveInstances(-10, 2) == 1);
  }
}

}  // namespace cinit
