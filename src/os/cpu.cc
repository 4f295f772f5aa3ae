#include "os/cpu.h"

#include <fcntl.h>
#include <sched.h>
#include <unistd.h>

#include <cerrno>
#include <optional>
#include <string>

namespace cinit::os {
namespace {

std::optional<std::string> ReadSmallFile(const std::string& path) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return std::nullopt;
  }
  std::string text;
  char buf[4096];
  for (;;) {
    ssize_t n = read(fd, buf, sizeof(buf));
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0 || text.size() > 65536) {
      break;
    }
    text.append(buf, static_cast<size_t>(n));
  }
  close(fd);
  return text;
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
  CgroupPaths paths = ParseProcCgroup(ReadSmallFile("/proc/self/cgroup").value_or(""));
  if (!paths.v2.empty()) {
    for (const auto& dir : CgroupAncestry(paths.v2)) {
      std::string file =
          "/sys/fs/cgroup" + (dir == "/" ? std::string() : dir) + "/cpu.max";
      if (auto text = ReadSmallFile(file)) {
        Consider(&quota, ParseCgroupV2CpuMax(*text), "cgroup v2 " + file);
      }
    }
  }
  if (!paths.v1_cpu.empty()) {
    for (const char* mount : {"/sys/fs/cgroup/cpu,cpuacct", "/sys/fs/cgroup/cpu"}) {
      for (const auto& dir : CgroupAncestry(paths.v1_cpu)) {
        std::string base = mount + (dir == "/" ? std::string() : dir);
        auto q = ReadSmallFile(base + "/cpu.cfs_quota_us");
        auto p = ReadSmallFile(base + "/cpu.cfs_period_us");
        if (q && p) {
          Consider(&quota, ParseCgroupV1Quota(*q, *p), "cgroup v1 " + base);
        }
      }
    }
  }
  return UsableCpus(AffinityCount(), quota.cpus, quota.source);
}

}  // namespace cinit::os
