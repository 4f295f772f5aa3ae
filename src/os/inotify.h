// Inotify: a close-on-exec, non-blocking inotify instance watching directories for
// the changes --reload-on-change counts, and the stat(2) of a path. Plain values
// out; what they mean is the core's (watch_plan.h).
//
// The events watched, and why: IN_CREATE, IN_MOVED_TO, IN_MOVED_FROM, IN_DELETE
// (an entry appears, is renamed in or out — an editor's or the kubelet's atomic
// rename —, or goes), IN_CLOSE_WRITE (a write is complete; IN_MODIFY would fire
// for every write() of a file being written), IN_ATTRIB (chmod, touch, a link
// count: `touch config.json` asks for a reload), and for the directory itself
// IN_DELETE_SELF and IN_MOVE_SELF (its watch must move). IN_ONLYDIR: a watch is
// only ever on a directory, even if one replaced it between stat and watch.
#ifndef CINIT_OS_INOTIFY_H_
#define CINIT_OS_INOTIFY_H_

#include <string>
#include <vector>

#include "os/unique_fd.h"
#include "status.h"

namespace cinit::os {

struct InotifyEvent {
  int wd = -1;            // the watch; -1 with overflow
  bool overflow = false;  // IN_Q_OVERFLOW: the kernel's queue was full, events lost
  // The watched directory itself was deleted, moved or unmounted, or its watch
  // ended (IN_DELETE_SELF, IN_MOVE_SELF, IN_UNMOUNT, IN_IGNORED).
  bool self_gone = false;
  std::string name;  // the entry of the directory, for the others
};

class Inotify {
 public:
  static Status Open(Inotify* inotify);
  int fd() const { return fd_.get(); }

  // Watches the directory dir; *wd is its watch, the same for the same directory.
  Status WatchDirectory(const std::string& dir, int* wd);
  // Ends watch wd (an IN_IGNORED for it follows; a gone watch is no error).
  void Remove(int wd);
  // Reads at most one buffer (4 KiB) of events and appends them to *out; returns
  // false when nothing was pending. Never blocks.
  bool Read(std::vector<InotifyEvent>* out);

 private:
  UniqueFd fd_;
};

enum class PathKind { kMissing, kDirectory, kOther };
struct PathInfo {
  PathKind kind = PathKind::kMissing;
  bool dangling_link = false;  // missing, but a symlink by that name exists
  int error = 0;               // stat's errno when it failed but not with ENOENT
};
// stat(2) of path, following symlinks.
PathInfo StatPath(const std::string& path);

}  // namespace cinit::os

#endif  // CINIT_OS_INOTIFY_H_
