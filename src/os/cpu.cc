#include "os/cpu.h"

#include <sched.h>
#include <unistd.h>

#include <optional>
#include <string>

#include "os/pid1.h"

namespace cinit::os {
namespace {

// The file's text, or nullopt when it cannot be read (a missing controller).
std::optional<std::string> ReadText(const std::string& path) {
  std::string text;
  return ReadSmallFile(path, &text).ok() ? std::optional(text) : std::nullopt;
}

int AffinityCount() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof(set), &set) != 0) {
    long online = sysconf(_SC_NPROCESSORS_ONLN);
    return online > 0 ? static_cast<int>(online) : 1;
  }
  return CPU_COUNT(&set);
}

struct Quota {
  std::optional<int> cpus;
  std::string source;
};

void Consider(Quota* best, std::optional<int> cpus, const std::string& source) {
  if (cpus && (!best->cpus || *cpus < *best->cpus)) {
    best->cpus = cpus;
    best->source = source;
  }
}

}  // namespace

CpuLimit ReadUsableCpus() {
  Quota quota;
  CgroupPaths paths = ParseProcCgroup(ReadText("/proc/self/cgroup").value_or(""));
  if (!paths.v2.empty()) {
    for (const auto& dir : CgroupAncestry(paths.v2)) {
      std::string file =
          "/sys/fs/cgroup" + (dir == "/" ? std::string() : dir) + "/cpu.max";
      if (auto text = ReadText(file)) {
        Consider(&quota, ParseCgroupV2CpuMax(*text), "cgroup v2 " + file);
      }
    }
  }
  if (!paths.v1_cpu.empty()) {
    for (const char* mount : {"/sys/fs/cgroup/cpu,cpuacct", "/sys/fs/cgroup/cpu"}) {
      for (const auto& dir : CgroupAncestry(paths.v1_cpu)) {
        std::string base = mount + (dir == "/" ? std::string() : dir);
        auto q = ReadText(base + "/cpu.cfs_quota_us");
        auto p = ReadText(base + "/cpu.cfs_period_us");
        if (q && p) {
          Consider(&quota, ParseCgroupV1Quota(*q, *p), "cgroup v1 " + base);
        }
      }
    }
  }
  return UsableCpus(AffinityCount(), quota.cpus, quota.source);
}

}  // namespace cinit::os
