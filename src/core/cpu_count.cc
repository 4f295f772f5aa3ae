#include "cpu_count.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <limits>

namespace cinit {
namespace {

std::string_view Trim(std::string_view text) {
  while (!text.empty() &&
         (text.front() == ' ' || text.front() == '\n' || text.front() == '\t')) {
    text.remove_prefix(1);
  }
  while (!text.empty() &&
         (text.back() == ' ' || text.back() == '\n' || text.back() == '\t')) {
    text.remove_suffix(1);
  }
  return text;
}

std::optional<long long> ToInteger(std::string_view text) {
  long long value = 0;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (text.empty() || ec != std::errc() || ptr != end) {
    return std::nullopt;
  }
  return value;
}

std::optional<int> QuotaToCpus(long long quota, long long period) {
  if (quota <= 0 || period <= 0) {
    return std::nullopt;
  }
  // cgroup v2 allows quotas far above INT_MAX CPUs (2^44 us per 1 ms period).
  return static_cast<int>(
      std::clamp<long long>(quota / period, 1, std::numeric_limits<int>::max()));
}

}  // namespace

std::optional<int> ParseCgroupV2CpuMax(std::string_view text) {
  text = Trim(text);
  auto space = text.find(' ');
  if (space == std::string_view::npos) {
    return std::nullopt;
  }
  std::string_view quota = text.substr(0, space);
  if (quota == "max") {
    return std::nullopt;
  }
  auto q = ToInteger(quota);
  auto p = ToInteger(Trim(text.substr(space + 1)));
  if (!q || !p) {
    return std::nullopt;
  }
  return QuotaToCpus(*q, *p);
}

std::optional<int> ParseCgroupV1Quota(std::string_view quota_text,
                                      std::string_view period_text) {
  auto q = ToInteger(Trim(quota_text));
  auto p = ToInteger(Trim(period_text));
  if (!q || !p) {
    return std::nullopt;
  }
  return QuotaToCpus(*q, *p);
}

CgroupPaths ParseProcCgroup(std::string_view text) {
  CgroupPaths paths;
  while (!text.empty()) {
    auto newline = text.find('\n');
    std::string_view line = text.substr(0, newline);
    text =
        newline == std::string_view::npos ? std::string_view() : text.substr(newline + 1);
    // "hierarchy-ID:controller-list:cgroup-path"
    auto first = line.find(':');
    auto second = first == std::string_view::npos ? first : line.find(':', first + 1);
    if (second == std::string_view::npos) {
      continue;
    }
    std::string_view id = line.substr(0, first);
    std::string_view controllers = line.substr(first + 1, second - first - 1);
    std::string_view path = line.substr(second + 1);
    if (id == "0" && controllers.empty()) {
      paths.v2 = std::string(path);
      continue;
    }
    while (!controllers.empty()) {
      auto comma = controllers.find(',');
      if (controllers.substr(0, comma) == "cpu") {
        paths.v1_cpu = std::string(path);
        break;
      }
      controllers = comma == std::string_view::npos ? std::string_view()
                                                    : controllers.substr(comma + 1);
    }
  }
  return paths;
}

std::vector<std::string> CgroupAncestry(std::string_view path) {
  std::vector<std::string> out;
  std::string current(path.empty() ? "/" : path);
  while (current.size() > 1 && current.back() == '/') {
    current.pop_back();
  }
  for (;;) {
    out.push_back(current);
    if (current == "/") {
      break;
    }
    auto slash = current.rfind('/');
    current = slash == 0 || slash == std::string::npos ? "/" : current.substr(0, slash);
  }
  return out;
}

CpuLimit UsableCpus(int affinity, std::optional<int> quota,
                    std::string_view quota_source) {
  CpuLimit limit;
  affinity = std::max(affinity, 1);
  if (quota && *quota < affinity) {
    limit.cpus = *quota;
    limit.how =
        fmt::format("{} from the CPU quota ({}), below the {} CPUs of the affinity mask",
                    *quota, quota_source, affinity);
  } else if (quota) {
    limit.cpus = affinity;
    limit.how = fmt::format("{} from the affinity mask (CPU quota {}: {})", affinity,
                            *quota, quota_source);
  } else {
    limit.cpus = affinity;
    limit.how = fmt::format("{} from the affinity mask (no CPU quota)", affinity);
  }
  return limit;
}

int ResolveInstances(int requested, int usable) {
  if (requested > 0) {
    return requested;
  }
  return std::max(1, usable + requested);
}

}  // namespace cinit
