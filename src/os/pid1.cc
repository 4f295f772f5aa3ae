#include "os/pid1.h"

#include <fcntl.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <cerrno>

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
