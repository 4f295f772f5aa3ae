#include "config_watcher.h"

#include <algorithm>
#include <cstring>

#include "log.h"
#include "os/epoll.h"

namespace cinit {
namespace {

watch::Kind KindOnDisk(const std::string& path) {
  switch (os::StatPath(path).kind) {
    case os::PathKind::kDirectory:
      return watch::Kind::kDirectory;
    case os::PathKind::kOther:
      return watch::Kind::kOther;
    case os::PathKind::kMissing:
      break;
  }
  return watch::Kind::kMissing;
}

// Plans made and applied per arming: a path that changes between the stat and the
// watch is planned again, a few times at most (bounded work per event).
constexpr int kArmRounds = 4;
// Inotify reads per wake-up (4 KiB each): the rest waits for the next loop turn.
constexpr int kReadsPerWake = 16;

}  // namespace

ConfigWatcher::~ConfigWatcher() {
  if (inotify_.fd() >= 0) {
    loop_->Unwatch(inotify_.fd());
  }
}

Status ConfigWatcher::Open(const std::vector<std::string>& paths) {
  if (Status s = os::Inotify::Open(&inotify_); !s.ok()) {
    return s;
  }
  for (const std::string& path : paths) {
    os::PathInfo info = os::StatPath(path);
    if (info.dangling_link) {
      // Its target may be anywhere: what is watched is the link's directory, so
      // the link replaced (or "..data" swapped) is seen, its target appearing is not.
      Log(Level::kWarning,
          "--reload-on-change {}: a symlink to nothing; only a change of the link "
          "itself (or of \"..data\" next to it) is seen",
          path);
    } else if (info.error != 0) {
      Log(Level::kWarning, "--reload-on-change {}: {}; watching for it anyway", path,
          std::strerror(info.error));
    } else if (info.kind == os::PathKind::kMissing) {
      Log(Level::kInfo, "--reload-on-change {}: does not exist yet: waiting for it",
          path);
    }
    targets_.push_back(Target{path, {}, {}, false});
    Arm(targets_.back());
    Log(Level::kInfo, "reloading when {} changes", path);
  }
  return loop_->Watch(inotify_.fd(), os::kReadable,
                      [this](uint32_t, EventQueue* queue) { OnReadable(queue); });
}

int ConfigWatcher::Acquire(const std::string& dir, std::string* error) {
  int wd = -1;
  if (Status s = inotify_.WatchDirectory(dir, &wd); !s.ok()) {
    *error = s.message();
    return -1;
  }
  ++users_[wd];
  return wd;
}

void ConfigWatcher::Release(int wd) {
  auto it = users_.find(wd);
  if (it == users_.end()) {
    return;
  }
  if (--it->second <= 0) {
    users_.erase(it);
    inotify_.Remove(wd);
  }
}

bool ConfigWatcher::Arm(Target& target) {
  const bool first = target.wds.empty() && target.plan.watches.empty();
  const watch::Kind before = target.plan.kind;
  std::string error;
  for (int round = 0; round < kArmRounds; ++round) {
    watch::Plan plan = watch::MakePlan(target.path, KindOnDisk);
    // New watches first, then the old ones go: a directory kept in the plan keeps
    // its watch (the same wd) without a gap.
    std::vector<int> wds;
    error.clear();
    for (const watch::Watch& w : plan.watches) {
      wds.push_back(Acquire(w.dir, &error));
    }
    for (int wd : target.wds) {
      if (wd >= 0) {
        Release(wd);
      }
    }
    target.plan = std::move(plan);
    target.wds = std::move(wds);
    // Whatever changed between the stat and the watch is seen by planning again.
    if (watch::MakePlan(target.path, KindOnDisk) == target.plan) {
      break;
    }
  }
  const bool missing_one =
      std::find(target.wds.begin(), target.wds.end(), -1) != target.wds.end();
  if (missing_one && !target.warned) {
    target.warned = true;
    Log(Level::kWarning,
        "--reload-on-change {}: {}; its changes are not seen until it can be watched",
        target.path, error.empty() ? "cannot be watched" : error);
  } else if (!missing_one) {
    target.warned = false;
  }
  return !first && target.plan.kind != before;
}

void ConfigWatcher::OnReadable(EventQueue* queue) {
  std::vector<bool> changed(targets_.size(), false);
  std::vector<bool> replan(targets_.size(), false);
  for (int round = 0; round < kReadsPerWake; ++round) {
    events_.clear();
    if (!inotify_.Read(&events_)) {
      break;
    }
    for (const os::InotifyEvent& event : events_) {
      for (size_t t = 0; t < targets_.size(); ++t) {
        const Target& target = targets_[t];
        for (size_t i = 0; i < target.wds.size(); ++i) {
          if (!event.overflow && target.wds[i] != event.wd) {
            continue;
          }
          watch::What what = event.overflow    ? watch::What::kOverflow
                             : event.self_gone ? watch::What::kSelfGone
                                               : watch::What::kEntry;
          watch::Verdict verdict = watch::Judge(target.plan.watches[i], what, event.name);
          changed[t] = changed[t] || verdict.changed;
          replan[t] = replan[t] || verdict.replan;
        }
      }
      if (event.overflow) {
        Log(Level::kWarning,
            "--reload-on-change: the inotify queue overflowed: taken as a change of "
            "every path");
      }
    }
  }
  for (size_t t = 0; t < targets_.size(); ++t) {
    Target& target = targets_[t];
    if (replan[t]) {
      // A watch that ended (its directory deleted or moved) is dropped before the
      // new plan watches by path again.
      if (Arm(target)) {
        changed[t] = true;
      }
    }
    if (changed[t]) {
      Log(Level::kDebug, "config change: {}", target.path);
      queue->push_back(ConfigChanged{target.path});
    }
  }
}

}  // namespace cinit
