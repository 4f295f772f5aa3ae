#include "os/fifo.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "os/errno_status.h"

namespace cinit::os {
namespace {

// mkdir -p of path's parent directory. Returns the first directory that could
// not be made and why, so that a read-only /run is reported as that, not as
// mkfifo's ENOENT.
Status MakeParents(const std::string& path) {
  for (size_t slash = path.find('/', 1); slash != std::string::npos;
       slash = path.find('/', slash + 1)) {
    std::string directory = path.substr(0, slash);
    if (mkdir(directory.c_str(), 0755) != 0 && errno != EEXIST) {
      int error = errno;
      struct stat st {};
      if (stat(directory.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
        return ErrnoStatus(fmt::format("mkdir {} (for {})", directory, path), error);
      }
    }
  }
  return Status::Ok();
}

}  // namespace

Status OpenControlFifo(const std::string& path, UniqueFd* fd) {
  if (Status s = MakeParents(path); !s.ok()) {
    return s;
  }
  if (mkfifo(path.c_str(), 0600) != 0 && errno != EEXIST) {
    return ErrnoStatus(fmt::format("mkfifo {}", path), errno);
  }
  struct stat st {};
  if (lstat(path.c_str(), &st) != 0) {
    return ErrnoStatus(fmt::format("stat {}", path), errno);
  }
  if (!S_ISFIFO(st.st_mode)) {
    return Status::Error(fmt::format("{} exists and is not a FIFO", path));
  }
  int opened = open(path.c_str(), O_RDWR | O_NONBLOCK | O_CLOEXEC);
  if (opened < 0) {
    return ErrnoStatus(fmt::format("open {}", path), errno);
  }
  fchmod(opened, 0600);  // an existing FIFO may have other modes
  fd->Reset(opened);
  return Status::Ok();
}

namespace {

// Opens the FIFO at path for writing, without blocking: it succeeds only while a
// process reads it (cinit holds it open for reading as long as it runs).
Status OpenWriter(const std::string& path, UniqueFd* out) {
  int fd = open(path.c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENXIO) {
      return Status::Error(fmt::format("nothing is reading {}: is cinit running?", path));
    }
    if (errno == ENOENT) {
      return Status::Error(fmt::format(
          "no control FIFO at {}: is cinit running in cluster mode (-i)?", path));
    }
    return ErrnoStatus(fmt::format("open {}", path), errno);
  }
  UniqueFd owned(fd);
  struct stat st {};
  if (fstat(fd, &st) != 0 || !S_ISFIFO(st.st_mode)) {
    // A regular file there must not be overwritten with a command.
    return Status::Error(
        fmt::format("{} is not a FIFO: is cinit running in cluster mode (-i)?", path));
  }
  *out = std::move(owned);
  return Status::Ok();
}

}  // namespace

Status ProbeControlFifo(const std::string& path) {
  UniqueFd fd;
  return OpenWriter(path, &fd);
}

Status WriteControlLine(const std::string& path, std::string_view line) {
  UniqueFd owned;
  if (Status s = OpenWriter(path, &owned); !s.ok()) {
    return s;
  }
  const int fd = owned.get();
  std::string text = std::string(line) + "\n";
  // One write of less than PIPE_BUF bytes is atomic: never interleaved with another
  // writer's line.
  ssize_t n = write(fd, text.data(), text.size());
  if (n != static_cast<ssize_t>(text.size())) {
    return n < 0 ? ErrnoStatus(fmt::format("write {}", path), errno)
                 : Status::Error(fmt::format("short write to {}", path));
  }
  return Status::Ok();
}

}  // namespace cinit::os
