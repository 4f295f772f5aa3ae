// ConfigWatcher: the --reload-on-change paths, an event source. Owns one inotify
// instance; asks the core (watch_plan.h) what to watch for each path and what an
// inotify event means for it, moves the watches when the plan changes (a missing
// path appears, a watched directory is deleted and re-created), and appends one
// ConfigChanged per changed path per wake-up. The debounce is the Cluster's. No
// policy. At most watch::kMaxPaths paths, each with at most
// watch::kMaxWatchesPerPath watches. Nothing here stops cinit: a path that cannot
// be watched is a warning.
#ifndef CINIT_CONFIG_WATCHER_H_
#define CINIT_CONFIG_WATCHER_H_

#include <map>
#include <string>
#include <vector>

#include "event_loop.h"
#include "events.h"
#include "os/inotify.h"
#include "watch_plan.h"

namespace cinit {

class ConfigWatcher {
 public:
  explicit ConfigWatcher(EventLoop* loop) : loop_(loop) {}
  ~ConfigWatcher();
  ConfigWatcher(const ConfigWatcher&) = delete;
  ConfigWatcher& operator=(const ConfigWatcher&) = delete;

  // Creates the inotify instance and watches paths (normalized, distinct). Fails
  // only when there can be no inotify instance at all; a path that cannot be
  // watched is logged.
  Status Open(const std::vector<std::string>& paths);

 private:
  struct Target {
    std::string path;
    watch::Plan plan;
    std::vector<int> wds;  // one per plan.watches; -1: could not be watched
    bool warned = false;   // a warning was logged since its last full arming
  };

  void OnReadable(EventQueue* queue);
  // Makes target's plan again and moves its watches to it. Returns whether the
  // path itself appeared, went or changed kind since the last plan.
  bool Arm(Target& target);
  // A watch on dir for one user of it; -1 on failure (*error says why).
  int Acquire(const std::string& dir, std::string* error);
  void Release(int wd);

  EventLoop* loop_;
  os::Inotify inotify_;
  std::vector<Target> targets_;
  std::map<int, int> users_;              // watch -> watches of targets_ using it
  std::vector<os::InotifyEvent> events_;  // scratch
};

}  // namespace cinit

#endif  // CINIT_CONFIG_WATCHER_H_
