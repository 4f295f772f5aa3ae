#include "os/pid1.h"

#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "log.h"
#include "os/errno_status.h"

namespace cinit::os {

bool IsPid1() { return getpid() == 1; }

Status BecomeSubreaperUnlessPid1() {
  if (IsPid1()) {
    return Status::Ok();
  }
  if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0) {
    return ErrnoStatus("prctl(PR_SET_CHILD_SUBREAPER)", errno);
  }
  Log(Level::kDebug, "not PID 1 (pid {}): registered as child subreaper", getpid());
  return Status::Ok();
}

UniqueFd DetachFromInheritedState() {
  if (close_range(3, ~0U, 0) != 0) {
    Log(Level::kDebug, "close_range: {}", std::strerror(errno));
  }
  UniqueFd cwd(open(".", O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (chdir("/") != 0) {
    Log(Level::kDebug, "chdir(\"/\"): {}", std::strerror(errno));
  }
  return cwd;
}

namespace {
bool WriteAllBytes(int fd, const unsigned char* data, size_t size) {
  while (size > 0) {
    ssize_t n = write(fd, data, size);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      return false;
    }
    data += n;
    size -= static_cast<size_t>(n);
  }
  return true;
}
}  // namespace

Status WriteSharedFile(std::string_view name, std::span<const unsigned char> bytes,
                       std::string* path) {
  mkdir("/run/cinit", 0755);  // EEXIST or no /run: the open below tells
  std::string last_error = "no directory to write to";
  for (std::string dir : {"/run/cinit", "/tmp"}) {
    std::string candidate = dir + "/" + std::string(name);
    // A fresh file each time (another cinit, or an old image, may be there).
    std::string temp = candidate + "." + std::to_string(getpid());
    int fd =
        open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0444);
    if (fd < 0) {
      last_error = fmt::format("{}: {}", temp, std::strerror(errno));
      continue;
    }
    bool written = WriteAllBytes(fd, bytes.data(), bytes.size());
    close(fd);
    if (!written || rename(temp.c_str(), candidate.c_str()) != 0) {
      last_error = fmt::format("{}: {}", candidate, std::strerror(errno));
      unlink(temp.c_str());
      continue;
    }
    *path = candidate;
    return Status::Ok();
  }
  return Status::Error(last_error);
}

namespace {
void WriteAll(int fd, std::string_view text) {
  while (!text.empty()) {
    ssize_t n = write(fd, text.data(), text.size());
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      return;  // nowhere to report a failed log write
    }
    text.remove_prefix(static_cast<size_t>(n));
  }
}
}  // namespace

void WriteStderr(std::string_view line) { WriteAll(STDERR_FILENO, line); }
void WriteStdout(std::string_view text) { WriteAll(STDOUT_FILENO, text); }

}  // namespace cinit::os
