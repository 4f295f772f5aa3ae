#include "os/pid1.h"

#include <fcntl.h>
#include <link.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "log.h"
#include "os/errno_status.h"
#include "os/log_output.h"

namespace cinit::os {

bool IsPid1() { return getpid() == 1; }

pid_t OwnPid() { return getpid(); }
int OwnUid() { return static_cast<int>(geteuid()); }

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

Status SetParentDeathSignal(int signo) {
  if (prctl(PR_SET_PDEATHSIG, static_cast<unsigned long>(signo), 0, 0, 0) != 0) {
    return ErrnoStatus("prctl(PR_SET_PDEATHSIG)", errno);
  }
  return Status::Ok();
}

void ReleaseControllingTerminal() {
  if (!isatty(STDIN_FILENO)) {
    return;
  }
  sigset_t pending_before;
  sigemptyset(&pending_before);
  sigpending(&pending_before);
  const bool leader = getsid(0) == getpid();
  if (ioctl(STDIN_FILENO, TIOCNOTTY) != 0) {
    Log(Level::kDebug, "TIOCNOTTY: {}", std::strerror(errno));
    return;
  }
  if (!leader) {
    return;
  }
  // The kernel signalled the foreground group during the ioctl, so what it sent is
  // pending now; a SIGHUP or SIGCONT that was pending before came from someone else
  // and is left for the loop.
  sigset_t handoff;
  sigemptyset(&handoff);
  for (int signo : {SIGHUP, SIGCONT}) {
    if (sigismember(&pending_before, signo) == 0) {
      sigaddset(&handoff, signo);
    }
  }
  timespec zero{};
  int signo = 0;
  while ((signo = sigtimedwait(&handoff, nullptr, &zero)) > 0) {
    Log(Level::kDebug, "ignored signal {} of the terminal hand-off", signo);
  }
}

void DropStartupPages() {
  dl_iterate_phdr(
      [](dl_phdr_info* info, size_t, void*) -> int {
        const uintptr_t page = static_cast<uintptr_t>(sysconf(_SC_PAGESIZE));
        for (int i = 0; i < info->dlpi_phnum; ++i) {
          const ElfW(Phdr)& segment = info->dlpi_phdr[i];
          if (segment.p_type != PT_LOAD || (segment.p_flags & PF_W) != 0) {
            continue;
          }
          uintptr_t begin = (info->dlpi_addr + segment.p_vaddr) & ~(page - 1);
          uintptr_t end =
              (info->dlpi_addr + segment.p_vaddr + segment.p_memsz + page - 1) &
              ~(page - 1);
          // The executable's own mapping: madvise's argument is an address.
          madvise(reinterpret_cast<void*>(begin), end - begin, MADV_DONTNEED);
        }
        return 1;  // the first object is the executable itself
      },
      nullptr);
}

void MoveToRoot() {
  if (chdir("/") != 0) {
    Log(Level::kDebug, "chdir(\"/\"): {}", std::strerror(errno));
  }
}

UniqueFd LeaveWorkingDirectory() {
  UniqueFd cwd(open(".", O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (cwd.valid()) {
    MoveToRoot();
  } else {
    Log(Level::kDebug, "open(\".\"): {}", std::strerror(errno));
  }
  return cwd;
}

void CloseInheritedFds() {
  // Every inherited fd goes, but the writer of cinit's own log lines.
  const int keep = LogOutputFd();
  bool closed =
      keep < 0 ? close_range(3, ~0U, 0) == 0
               : (keep == 3 || close_range(3, static_cast<unsigned>(keep) - 1, 0) == 0) &&
                     close_range(static_cast<unsigned>(keep) + 1, ~0U, 0) == 0;
  if (!closed) {
    Log(Level::kDebug, "close_range: {}", std::strerror(errno));
  }
}

UniqueFd DetachFromInheritedState() {
  CloseInheritedFds();
  UniqueFd cwd(open(".", O_PATH | O_DIRECTORY | O_CLOEXEC));
  MoveToRoot();
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
  std::string_view contents(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  std::string errors;
  for (std::string_view dir : {"/run/cinit", "/tmp"}) {
    std::string candidate = fmt::format("{}/{}", dir, name);
    Status s = ReplaceFile(candidate, contents, 0444);
    if (s.ok()) {
      *path = candidate;
      return s;
    }
    errors += (errors.empty() ? "" : "; ") + s.message();
  }
  return Status::Error(errors);
}

Status ReplaceFile(const std::string& path, std::string_view contents, mode_t mode) {
  if (auto slash = path.rfind('/'); slash != std::string::npos && slash > 0) {
    mkdir(path.substr(0, slash).c_str(), 0755);  // EEXIST is fine; open tells the rest
  }
  // A name of its own: another cinit (sharing /run, in tests) may write the same path.
  uint64_t nonce = 0;
  if (getrandom(&nonce, sizeof(nonce), GRND_NONBLOCK) != sizeof(nonce)) {
    nonce = reinterpret_cast<uintptr_t>(&nonce);
  }
  std::string temp = fmt::format("{}.{:016x}", path, nonce);
  int fd = open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode);
  if (fd < 0) {
    return ErrnoStatus(fmt::format("open {}", temp), errno);
  }
  bool written = WriteAllBytes(
      fd, reinterpret_cast<const unsigned char*>(contents.data()), contents.size());
  close(fd);
  if (!written || rename(temp.c_str(), path.c_str()) != 0) {
    int error = errno;
    unlink(temp.c_str());
    return ErrnoStatus(fmt::format("write {}", path), error);
  }
  return Status::Ok();
}

void EmptyFile(const std::string& path) {
  if (truncate(path.c_str(), 0) != 0 && errno != ENOENT) {
    unlink(path.c_str());
  }
}

Status ReadSmallFile(const std::string& path, std::string* contents) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return ErrnoStatus(path, errno);
  }
  contents->clear();
  char buf[4096];
  for (;;) {
    ssize_t n = read(fd, buf, sizeof(buf));
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0 || contents->size() > 65536) {
      break;
    }
    contents->append(buf, static_cast<size_t>(n));
  }
  close(fd);
  return Status::Ok();
}

void WallClock(int64_t* seconds, int64_t* nanoseconds) {
  timespec now{};
  clock_gettime(CLOCK_REALTIME, &now);
  *seconds = now.tv_sec;
  *nanoseconds = now.tv_nsec;
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
