// Fuzz target: the cgroup files cinit reads to count usable CPUs (src/core/
// cpu_count.h): cpu.max, cpu.cfs_quota_us/cpu.cfs_period_us, /proc/self/cgroup. A
// container's files are not cinit's to trust: any content parses without throwing,
// quotas are at least one CPU, the ancestry of any path ends at "/", and the CPU
// count and worker count are never below 1.
#include <fuzzer/FuzzedDataProvider.h>

#include <string>

#include "cpu_count.h"
#include "fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider in(data, size);
  int affinity = in.ConsumeIntegralInRange(-1, 4096);
  int requested = in.ConsumeIntegralInRange(-4096, 4096);  // -i's range
  std::string first = in.ConsumeRandomLengthString(64);
  std::string rest = in.ConsumeRemainingBytesAsString();

  auto v2 = cinit::ParseCgroupV2CpuMax(first);
  FUZZ_CHECK(!v2 || *v2 >= 1);
  auto v1 = cinit::ParseCgroupV1Quota(first, rest);
  FUZZ_CHECK(!v1 || *v1 >= 1);

  cinit::CgroupPaths paths = cinit::ParseProcCgroup(rest);
  for (const std::string& path : {paths.v2, paths.v1_cpu, first}) {
    auto ancestry = cinit::CgroupAncestry(path);
    FUZZ_CHECK(!ancestry.empty() && ancestry.back() == "/");
    FUZZ_CHECK(ancestry.size() <= path.size() + 1);
    for (size_t i = 1; i < ancestry.size(); ++i) {
      // Each is a parent of the one before: a shorter prefix, or the root.
      FUZZ_CHECK(ancestry[i] == "/" || (ancestry[i].size() < ancestry[i - 1].size() &&
                                        ancestry[i - 1].starts_with(ancestry[i])));
    }
  }

  auto limit = cinit::UsableCpus(affinity, v2 ? v2 : v1, first);
  FUZZ_CHECK(limit.cpus >= 1 && !limit.how.empty());
  int workers = cinit::ResolveInstances(requested, limit.cpus);
  FUZZ_CHECK(workers >= 1);
  FUZZ_CHECK(requested <= 0 || workers == requested);
  return 0;
}
