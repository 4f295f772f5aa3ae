// WatchPlan: what cinit watches for one --reload-on-change PATH, and which of
// what it sees is a change of PATH. Pure: the file system is asked through a
// KindOf the shell passes in; no syscalls.
//
// inotify watches directories, not names, and a watch follows an inode: a file
// replaced by a rename, or a Kubernetes ConfigMap or Secret update, is never seen
// by a watch on the file. So cinit watches directories:
//   - the directory D holding PATH (its parent), for entries named like PATH's
//     last component, and "..data": the kubelet writes a new hidden directory
//     "..2026_…", points a symlink "..data_tmp" at it and renames that over
//     "..data", and the user's files are symlinks "config.json -> ..data/…": the
//     rename of "..data" is the one moment the new content appears;
//   - PATH itself when it is a directory, for every entry but the kubelet's
//     scratch ("..2026_…", "..data_tmp": names starting with ".." other than
//     "..data"). Not recursive: a change deeper down is not seen, a ConfigMap's
//     swap is.
// A PATH whose parent does not exist yet is waited for: the nearest existing
// ancestor directory is watched for the next component of PATH, and the plan is
// made again (re-armed) when that entry appears, goes or is renamed, when a
// watched directory itself is deleted or moved, and after a lost-events overflow.
// Bounded: at most kMaxWatchesPerPath watches per PATH, kMaxPaths PATHs.
#ifndef CINIT_WATCH_PLAN_H_
#define CINIT_WATCH_PLAN_H_

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "status.h"

namespace cinit::watch {

// --reload-on-change flags at most, and the length of one PATH in bytes.
inline constexpr size_t kMaxPaths = 16;
inline constexpr size_t kMaxPathLength = 1024;
inline constexpr size_t kMaxWatchesPerPath = 2;

// Checks a --reload-on-change PATH and stores its normal form in *out: absolute,
// at most kMaxPathLength bytes, no NUL, no "." or ".." component; repeated and
// trailing slashes dropped.
Status Normalize(std::string_view path, std::string* out);

// What a path is, as stat(2) (following symlinks) sees it.
enum class Kind { kMissing, kDirectory, kOther };
using KindOf = std::function<Kind(const std::string& path)>;

// One inotify watch on a directory.
struct Watch {
  std::string dir;
  // The entry of dir that is PATH, or leads to it (a missing PATH's next
  // component); empty: dir is PATH itself, and every entry counts.
  std::string name;
  // dir is PATH's parent: "..data" (a kubelet swap) counts too.
  bool parent = false;
  bool operator==(const Watch&) const = default;
};

struct Plan {
  Kind kind = Kind::kMissing;  // of PATH
  std::vector<Watch> watches;  // at most kMaxWatchesPerPath
  bool operator==(const Plan&) const = default;
};

// The watches for path (normalized). Asks kind_of about path and, while they are
// not directories, its ancestors ("/" is taken as one).
Plan MakePlan(const std::string& path, const KindOf& kind_of);

// What inotify reported for a watch.
enum class What {
  kEntry,     // an entry of the directory was created, written, removed, renamed…
  kSelfGone,  // the directory itself was deleted or moved, or its watch ended
  kOverflow,  // the kernel's queue overflowed: events were lost
};

struct Verdict {
  bool changed = false;  // PATH changed: a reload is due (debounced)
  bool replan = false;   // make the plan again (the watches may have to move)
};

// What an event on watch means for PATH. name: the entry, for kEntry. A PATH
// that appears or goes is found by comparing Plan::kind across a replan.
Verdict Judge(const Watch& watch, What what, std::string_view name);

// Whether name is the kubelet's scratch in a ConfigMap or Secret volume:
// "..2026_12_02_…" or "..data_tmp", not "..data".
bool IsKubeletScratch(std::string_view name);

}  // namespace cinit::watch

#endif  // CINIT_WATCH_PLAN_H_
