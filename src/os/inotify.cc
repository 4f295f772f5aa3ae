#include "os/inotify.h"

#include <fmt/format.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "os/errno_status.h"

namespace cinit::os {
namespace {

constexpr uint32_t kMask = IN_CREATE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE |
                           IN_CLOSE_WRITE | IN_ATTRIB | IN_DELETE_SELF | IN_MOVE_SELF |
                           IN_ONLYDIR;

}  // namespace

Status Inotify::Open(Inotify* inotify) {
  int fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  if (fd < 0) {
    return ErrnoStatus("inotify_init1", errno);
  }
  inotify->fd_.Reset(fd);
  return Status::Ok();
}

Status Inotify::WatchDirectory(const std::string& dir, int* wd) {
  int watch = inotify_add_watch(fd_.get(), dir.c_str(), kMask);
  if (watch < 0) {
    return ErrnoStatus(fmt::format("inotify_add_watch {}", dir), errno);
  }
  *wd = watch;
  return Status::Ok();
}

void Inotify::Remove(int wd) { (void)inotify_rm_watch(fd_.get(), wd); }

bool Inotify::Read(std::vector<InotifyEvent>* out) {
  alignas(struct inotify_event) char buf[4096];
  ssize_t n;
  do {
    n = read(fd_.get(), buf, sizeof(buf));
  } while (n < 0 && errno == EINTR);
  if (n <= 0) {
    return false;  // EAGAIN: nothing pending
  }
  for (ssize_t at = 0; at + static_cast<ssize_t>(sizeof(inotify_event)) <= n;) {
    inotify_event header;
    std::memcpy(&header, buf + at, sizeof(header));
    InotifyEvent event;
    event.wd = header.wd;
    event.overflow = (header.mask & IN_Q_OVERFLOW) != 0;
    event.self_gone =
        (header.mask & (IN_DELETE_SELF | IN_MOVE_SELF | IN_UNMOUNT | IN_IGNORED)) != 0;
    if (header.len > 0) {
      const char* name = buf + at + sizeof(inotify_event);
      event.name.assign(name, strnlen(name, header.len));
    }
    out->push_back(std::move(event));
    at += static_cast<ssize_t>(sizeof(inotify_event) + header.len);
  }
  return true;
}

PathInfo StatPath(const std::string& path) {
  PathInfo info;
  struct stat st {};
  if (stat(path.c_str(), &st) == 0) {
    info.kind = S_ISDIR(st.st_mode) ? PathKind::kDirectory : PathKind::kOther;
    return info;
  }
  if (errno != ENOENT && errno != ENOTDIR) {
    info.error = errno;
  }
  info.dangling_link = lstat(path.c_str(), &st) == 0 && S_ISLNK(st.st_mode);
  return info;
}

}  // namespace cinit::os
