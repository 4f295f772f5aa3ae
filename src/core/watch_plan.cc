#include "watch_plan.h"

#include <fmt/format.h>

namespace cinit::watch {
namespace {

std::string Parent(const std::string& path) {
  size_t slash = path.rfind('/');
  return slash == 0 || slash == std::string::npos ? "/" : path.substr(0, slash);
}

std::string Basename(const std::string& path) { return path.substr(path.rfind('/') + 1); }

}  // namespace

Status Normalize(std::string_view path, std::string* out) {
  if (path.empty() || path.front() != '/') {
    return Status::Error(
        fmt::format("--reload-on-change: '{}' is not an absolute path", path));
  }
  if (path.size() > kMaxPathLength) {
    return Status::Error(
        fmt::format("--reload-on-change: a path longer than {} bytes ({})",
                    kMaxPathLength, path.size()));
  }
  if (path.find('\0') != std::string_view::npos) {
    return Status::Error("--reload-on-change: a path with a NUL byte");
  }
  std::string normal;
  size_t start = 0;
  while (start < path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string_view::npos) {
      end = path.size();
    }
    std::string_view component = path.substr(start, end - start);
    if (component == "." || component == "..") {
      return Status::Error(fmt::format(
          "--reload-on-change: '{}' has a '{}' component: give the path itself", path,
          component));
    }
    if (!component.empty()) {
      normal += '/';
      normal += component;
    }
    start = end + 1;
  }
  *out = normal.empty() ? "/" : normal;
  return Status::Ok();
}

Plan MakePlan(const std::string& path, const KindOf& kind_of) {
  Plan plan;
  plan.kind = kind_of(path);
  if (path == "/") {
    plan.watches.push_back(Watch{"/", "", false});
    return plan;
  }
  // The nearest ancestor that is a directory, and the entry of it towards path.
  std::string child = path;
  std::string dir = Parent(path);
  while (dir != "/" && kind_of(dir) != Kind::kDirectory) {
    child = dir;
    dir = Parent(dir);
  }
  plan.watches.push_back(Watch{dir, Basename(child), child == path});
  if (plan.kind == Kind::kDirectory) {
    plan.watches.push_back(Watch{path, "", false});
  }
  return plan;
}

bool IsKubeletScratch(std::string_view name) {
  return name.size() > 2 && name.starts_with("..") && name != "..data";
}

Verdict Judge(const Watch& watch, What what, std::string_view name) {
  switch (what) {
    case What::kOverflow:
      return Verdict{true, true};  // something may have changed: never miss it
    case What::kSelfGone:
      return Verdict{watch.name.empty(), true};
    case What::kEntry:
      break;
  }
  if (watch.name.empty()) {
    return Verdict{!IsKubeletScratch(name), false};
  }
  if (name == watch.name) {
    // PATH (or the directory on the way to it) appeared, went or was replaced;
    // only PATH's own entry is a change, an ancestor's is found by the replan.
    return Verdict{watch.parent, true};
  }
  if (watch.parent && name == "..data") {
    // The swap; PATH may be a directory through "..data", whose watch must move.
    return Verdict{true, true};
  }
  return Verdict{};
}

}  // namespace cinit::watch
