// CpuCount: how many CPUs a container may really use, for -i 0 / -i max / -i -K.
//
// Pure: the OS layer (os/cpu.h) reads the files and the affinity mask; this module
// parses and decides. Usable CPUs = min(CPUs in the affinity mask, the tightest CFS
// quota on the path from cinit's cgroup to the root, rounded down), at least 1 —
// the rule libuv's uv_available_parallelism() follows, where pm2 counts the host.
#ifndef CINIT_CPU_COUNT_H_
#define CINIT_CPU_COUNT_H_

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace cinit {

// Parses cgroup v2 "cpu.max" ("max 100000" or "150000 100000"). Returns the quota in
// CPUs rounded down (at least 1), or nullopt for "max" or unparsable text.
std::optional<int> ParseCgroupV2CpuMax(std::string_view text);

// cgroup v1: cpu.cfs_quota_us and cpu.cfs_period_us ("-1" means no quota).
std::optional<int> ParseCgroupV1Quota(std::string_view quota_text,
                                      std::string_view period_text);

// Parses /proc/self/cgroup. Returns the v2 path ("0::/a/b") and the v1 path of the
// controller list containing "cpu" ("4:cpu,cpuacct:/a/b"), either empty if absent.
struct CgroupPaths {
  std::string v2;
  std::string v1_cpu;
};
CgroupPaths ParseProcCgroup(std::string_view text);

// Returns path and each of its parents up to and including "/": "/a/b", "/a", "/".
std::vector<std::string> CgroupAncestry(std::string_view path);

struct CpuLimit {
  int cpus = 1;
  std::string how;  // e.g. "affinity 8, cgroup v2 quota 2 (cpu.max at /sys/fs/cgroup/x)"
};

// Combines an affinity count with the quotas found (already the minimum over the
// ancestry, nullopt when none).
CpuLimit UsableCpus(int affinity, std::optional<int> quota,
                    std::string_view quota_source);

// Resolves -i: n > 0 → n; 0 → usable; -k → usable - k; always at least 1.
int ResolveInstances(int requested, int usable);

}  // namespace cinit

#endif  // CINIT_CPU_COUNT_H_
