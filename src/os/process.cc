#include "os/process.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <initializer_list>
#include <optional>
#include <unordered_map>

#include "log.h"
#include "os/errno_status.h"
#include "os/seccomp.h"
#include "signal_policy.h"

namespace cinit::os {
namespace {

// Writes pid in decimal over the spaces reserved after "LISTEN_PID=".
void FillPid(char* digits, size_t room, pid_t pid) {
  char text[16];
  size_t n = 0;
  unsigned value = static_cast<unsigned>(pid);
  do {
    text[n++] = static_cast<char>('0' + value % 10);
    value /= 10;
  } while (value != 0 && n < sizeof(text));
  for (size_t i = 0; i < room; ++i) {
    digits[i] = i < n ? text[n - 1 - i] : '\0';
  }
}

// strerror() may translate (and allocate); the vfork'd child must not.
const char* DescribeErrno(int error) {
  const char* text = strerrordesc_np(error);
  return text != nullptr ? text : "unknown error";
}

// Writes parts to stderr, from the vfork'd child: plain concatenation,
// not snprintf (keeps printf's machinery out of the binary and allocates nothing).
void ChildSays(std::initializer_list<const char*> parts) {
  char message[512];
  size_t len = 0;
  for (const char* part : parts) {
    size_t n = std::min(strlen(part), sizeof(message) - len);
    std::memcpy(message + len, part, n);
    len += n;
  }
  ssize_t ignored = write(STDERR_FILENO, message, len);
  (void)ignored;
}

// Runs in the child between vfork and exec, on cinit's memory: only syscalls, no
// allocation, never returns.
[[noreturn]] void ExecChild(const SpawnSpec& spec, char* const* argv, char* const* envp,
                            char* listen_pid_digits, size_t listen_pid_room) {
  // Own process group, so a terminal's Ctrl-C and Ctrl-Z reach the child and not
  // cinit. Done here, not in the parent, so the terminal is handed over before
  // exec whichever of the two runs first.
  if (spec.new_session) {
    // A session of its own (dumb-init): it leads its process group, and takes the
    // terminal as its controlling one if no session holds it any more.
    setsid();
    if (spec.take_terminal && isatty(STDIN_FILENO)) {
      ioctl(STDIN_FILENO, TIOCSCTTY, 0);
    }
  } else {
    setpgid(0, 0);
  }
  if (!spec.new_session && spec.take_terminal && isatty(STDIN_FILENO)) {
    // SIGTTOU is still ignored here (inherited from cinit), so a child in a
    // background group may take the terminal without being stopped.
    tcsetpgrp(STDIN_FILENO, getpgrp());
  }
  struct sigaction action {};
  sigemptyset(&action.sa_mask);
  action.sa_handler = SIG_DFL;
  for (int signo = 1; signo <= kMaxSignal; ++signo) {
    if (signo != SIGKILL && signo != SIGSTOP) {
      sigaction(signo, &action, nullptr);  // EINVAL for libc-reserved ones: fine
    }
  }
  sigset_t empty;
  sigemptyset(&empty);
  sigprocmask(SIG_SETMASK, &empty, nullptr);

  // Before the fds move (the report socket may sit on one of their target
  // numbers). A failure is reported to cinit; the program runs without it.
  if (spec.seccomp != nullptr) {
    InstallBindFilter(*spec.seccomp, spec.seccomp_report_fd);
  }
  // Before the fds move: cwd_fd may sit on one of their target numbers.
  if (spec.cwd_fd >= 0 && fchdir(spec.cwd_fd) != 0) {
    _exit(kExitCannotExecute);
  }
  // Move the given fds to 3, 4, …: first out of the way, above every target (a
  // source may sit on a target number), then into place; dup2 clears FD_CLOEXEC
  // on the copy. Staging just above the targets needs only count spare fds, so
  // any RLIMIT_NOFILE that fits cinit's own fds fits this.
  int staged[kMaxSpawnFds];
  const size_t count = spec.fds.size();
  for (size_t i = 0; i < count; ++i) {
    staged[i] = fcntl(spec.fds[i], F_DUPFD_CLOEXEC, 3 + static_cast<int>(count));
    if (staged[i] < 0) {
      ChildSays(
          {"cinit: cannot pass '", argv[0], "' its descriptors: ", DescribeErrno(errno),
           errno == EMFILE ? " (RLIMIT_NOFILE is too low for cinit and its workers)\n"
                           : "\n"});
      _exit(kExitCannotExecute);
    }
  }
  // stdout and stderr first: their sources are close-on-exec pipe ends that no
  // target below can have replaced (they were staged above the targets or are >= 3).
  if (spec.stdout_fd >= 0) {
    dup2(spec.stdout_fd, STDOUT_FILENO);
  }
  if (spec.stderr_fd >= 0) {
    dup2(spec.stderr_fd, STDERR_FILENO);
  }
  for (size_t i = 0; i < count; ++i) {
    dup2(staged[i], 3 + static_cast<int>(i));
    close(staged[i]);
  }
  if (listen_pid_digits != nullptr) {
    FillPid(listen_pid_digits, listen_pid_room, getpid());
  }
  if (envp != nullptr) {
    execvpe(argv[0], argv, envp);
  } else {
    execvp(argv[0], argv);
  }
  int error = errno;
  ChildSays({"cinit: cannot execute '", argv[0], "': ", DescribeErrno(error), "\n"});
  _exit(error == ENOENT || error == ENOTDIR ? kExitNotFound : kExitCannotExecute);
}

// vfork, not fork: the child borrows cinit's memory until it execs, so nothing is
// copied and no copy-on-write fault is taken on the way (measured: a shorter start
// than fork). That is safe because ExecChild makes only syscalls, allocates nothing
// and ends in exec or _exit; cinit is single-threaded and waits meanwhile. A
// function of its own, so no local of the caller lives across the vfork.
[[gnu::noinline]] pid_t VforkExec(const SpawnSpec& spec, char* const* argv,
                                  char* const* envp, char* listen_pid_digits,
                                  size_t listen_pid_room) {
  pid_t child = vfork();
  if (child == 0) {
    ExecChild(spec, argv, envp, listen_pid_digits, listen_pid_room);
  }
  return child;
}

// Field `field` (1-based, as proc(5) numbers them; 4 or more) of /proc/PID/stat.
std::optional<uint64_t> ReadStatField(pid_t pid, int field) {
  char path[32] = "/proc/";
  auto [end, ec] = std::to_chars(path + 6, path + sizeof(path) - 6, pid);
  std::memcpy(end, "/stat", 6);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return std::nullopt;
  }
  char buf[1024];
  ssize_t n = read(fd, buf, sizeof(buf) - 1);
  close(fd);
  if (n <= 0) {
    return std::nullopt;
  }
  // "pid (comm) state ppid ...": comm may contain spaces and ')', so parse from
  // the last ')'. Field 3 (state) follows it.
  std::string_view stat(buf, static_cast<size_t>(n));
  size_t close_paren = stat.rfind(')');
  if (close_paren == std::string_view::npos) {
    return std::nullopt;
  }
  std::string_view rest = stat.substr(close_paren + 1);
  for (int at = 3;; ++at) {
    size_t start = rest.find_first_not_of(' ');
    if (start == std::string_view::npos) {
      return std::nullopt;
    }
    rest = rest.substr(start);
    size_t stop = std::min(rest.find(' '), rest.size());
    if (at == field) {
      uint64_t value = 0;
      auto [ptr, error] = std::from_chars(rest.data(), rest.data() + stop, value);
      return error == std::errc() ? std::optional(value) : std::nullopt;
    }
    rest = rest.substr(stop);
  }
}

pid_t ReadParent(pid_t pid) {
  std::optional<uint64_t> ppid = ReadStatField(pid, 4);
  return ppid ? static_cast<pid_t>(*ppid) : -1;
}

}  // namespace

Status Spawn(const SpawnSpec& spec, pid_t* pid) {
  if (spec.fds.size() > kMaxSpawnFds) {
    return Status::Error("too many descriptors for a child");
  }
  // Build argv and envp before fork so the child does not allocate.
  std::vector<char*> args;
  args.reserve(spec.argv.size() + 1);
  for (const auto& arg : spec.argv) {
    args.push_back(const_cast<char*>(arg.c_str()));
  }
  args.push_back(nullptr);

  constexpr size_t kPidRoom = 12;
  std::string listen_pid = "LISTEN_PID=" + std::string(kPidRoom, ' ');
  std::vector<char*> env;
  if (spec.env) {
    env.reserve(spec.env->size() + 2);
    for (const auto& entry : *spec.env) {
      env.push_back(const_cast<char*>(entry.c_str()));
    }
    if (spec.set_listen_pid) {
      env.push_back(listen_pid.data());
    }
    env.push_back(nullptr);
  }
  char* pid_digits = spec.env && spec.set_listen_pid ? listen_pid.data() + 11 : nullptr;

  pid_t child =
      VforkExec(spec, args.data(), spec.env ? env.data() : nullptr, pid_digits, kPidRoom);
  if (child < 0) {
    return ErrnoStatus("vfork", errno);
  }
  *pid = child;
  return Status::Ok();
}

std::string ReadShebang(const std::string& command) {
  auto first_line = [](const std::string& path) -> std::string {
    int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) {
      return {};
    }
    char buf[256];
    ssize_t n = read(fd, buf, sizeof(buf));
    close(fd);
    if (n < 2 || buf[0] != '#' || buf[1] != '!') {
      return {};
    }
    std::string line(buf, static_cast<size_t>(n));
    return line.substr(0, line.find('\n'));
  };
  if (command.find('/') != std::string::npos) {
    return first_line(command);
  }
  const char* path = getenv("PATH");
  std::string_view dirs = path != nullptr ? path : "/usr/local/bin:/usr/bin:/bin";
  while (true) {
    size_t colon = dirs.find(':');
    std::string dir(dirs.substr(0, colon));
    std::string candidate = (dir.empty() ? "." : dir) + "/" + command;
    if (access(candidate.c_str(), X_OK) == 0) {
      return first_line(candidate);
    }
    if (colon == std::string_view::npos) {
      return {};
    }
    dirs.remove_prefix(colon + 1);
  }
}

pid_t ParentOf(pid_t pid) { return ReadParent(pid); }

uint64_t StartTimeOf(pid_t pid) { return ReadStatField(pid, 22).value_or(0); }

std::string PidNamespace() {
  char buf[64];
  ssize_t n = readlink("/proc/self/ns/pid", buf, sizeof(buf));
  return n > 0 ? std::string(buf, static_cast<size_t>(n)) : std::string();
}

int UidOf(pid_t pid) {
  char path[32] = "/proc/";
  auto [end, ec] = std::to_chars(path + 6, path + sizeof(path) - 7, pid);
  *end = '\0';
  struct stat st {};
  return stat(path, &st) == 0 ? static_cast<int>(st.st_uid) : -1;
}

bool SendSignal(pid_t pid, int signo) {
  if (kill(pid, signo) == 0) {
    return true;
  }
  if (errno == ESRCH) {
    Log(Level::kDebug, "pid {} is gone; {} not delivered", pid, SignalName(signo));
  } else {
    Log(Level::kWarning, "kill({}, {}): {}", pid, SignalName(signo), strerror(errno));
  }
  return false;
}

bool SignalGroup(pid_t pgid, int signo) {
  if (pgid <= 1) {
    return false;  // kill(-1) and kill(0) mean something else entirely
  }
  if (kill(-pgid, signo) == 0) {
    return true;
  }
  if (errno != ESRCH) {
    Log(Level::kWarning, "kill(-{}, {}): {}", pgid, SignalName(signo), strerror(errno));
    return false;
  }
  return SendSignal(pgid, signo);
}

bool GroupExists(pid_t pgid) {
  return pgid > 1 && (kill(-pgid, 0) == 0 || errno == EPERM);
}

namespace {

// The "Pss:" line of /proc/PID/smaps_rollup in bytes, else the RSS of statm.
uint64_t MemoryOf(pid_t pid) {
  char path[48];
  auto [end, ec] = std::to_chars(path, path + 16, pid);
  std::string dir = "/proc/" + std::string(path, end);
  char buf[4096];
  int fd = open((dir + "/smaps_rollup").c_str(), O_RDONLY | O_CLOEXEC);
  if (fd >= 0) {
    ssize_t n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    if (n > 0) {
      std::string_view text(buf, static_cast<size_t>(n));
      size_t at = text.find("\nPss:");
      if (at != std::string_view::npos) {
        std::string_view rest = text.substr(at + 5);
        rest.remove_prefix(std::min(rest.find_first_not_of(' '), rest.size()));
        uint64_t kib = 0;
        auto [p, error] = std::from_chars(rest.data(), rest.data() + rest.size(), kib);
        if (error == std::errc()) {
          return kib * 1024;
        }
      }
    }
  }
  fd = open((dir + "/statm").c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return 0;
  }
  ssize_t n = read(fd, buf, sizeof(buf) - 1);
  close(fd);
  if (n <= 0) {
    return 0;
  }
  std::string_view text(buf, static_cast<size_t>(n));
  size_t space = text.find(' ');
  if (space == std::string_view::npos) {
    return 0;
  }
  text.remove_prefix(space + 1);
  uint64_t pages = 0;
  auto [p, error] = std::from_chars(text.data(), text.data() + text.size(), pages);
  return error == std::errc() ? pages * static_cast<uint64_t>(sysconf(_SC_PAGESIZE)) : 0;
}

}  // namespace

std::vector<uint64_t> GroupsMemory(const std::vector<pid_t>& pgids) {
  std::vector<uint64_t> total(pgids.size(), 0);
  DIR* proc = opendir("/proc");
  if (proc == nullptr) {
    return total;
  }
  while (dirent* entry = readdir(proc)) {
    pid_t pid = 0;
    const char* name = entry->d_name;
    auto [end, ec] = std::from_chars(name, name + strlen(name), pid);
    if (ec != std::errc() || *end != '\0' || pid <= 0) {
      continue;
    }
    std::optional<uint64_t> group = ReadStatField(pid, 5);
    if (!group) {
      continue;
    }
    auto it = std::find(pgids.begin(), pgids.end(), static_cast<pid_t>(*group));
    if (it != pgids.end()) {
      total[static_cast<size_t>(it - pgids.begin())] += MemoryOf(pid);
    }
  }
  closedir(proc);
  return total;
}

int SignalEveryone(int signo) {
  if (getpid() == 1) {
    // As PID 1 of a namespace, kill(-1) reaches every other process in it.
    if (kill(-1, signo) != 0 && errno != ESRCH) {
      Log(Level::kWarning, "kill(-1, {}): {}", SignalName(signo), strerror(errno));
    }
    return -1;
  }
  // Not PID 1: only our descendants. Build the parent map from /proc once and
  // signal every process whose ancestry leads to us.
  DIR* proc = opendir("/proc");
  if (proc == nullptr) {
    Log(Level::kWarning, "cannot list /proc to find descendants: {}", strerror(errno));
    return 0;
  }
  std::unordered_map<pid_t, pid_t> parent;
  while (dirent* entry = readdir(proc)) {
    char* end = nullptr;
    long pid = strtol(entry->d_name, &end, 10);
    if (end != entry->d_name && *end == '\0' && pid > 0) {
      pid_t ppid = ReadParent(static_cast<pid_t>(pid));
      if (ppid >= 0) {
        parent[static_cast<pid_t>(pid)] = ppid;
      }
    }
  }
  closedir(proc);
  const pid_t self = getpid();
  int count = 0;
  for (const auto& [pid, ppid] : parent) {
    // Walk up at most as many steps as there are processes (guards against a
    // cycle from a racy read).
    pid_t cursor = ppid;
    for (size_t steps = 0; cursor > 1 && cursor != self && steps < parent.size();
         ++steps) {
      auto it = parent.find(cursor);
      cursor = it == parent.end() ? -1 : it->second;
    }
    if (cursor == self && pid != self && kill(pid, signo) == 0) {
      ++count;
    }
  }
  return count;
}

bool ReapAll(std::vector<Reaped>* out) {
  for (;;) {
    int status = 0;
    pid_t pid = waitpid(-1, &status, WNOHANG);
    if (pid > 0) {
      out->push_back(Reaped{pid, status});
      continue;
    }
    if (pid < 0 && errno == EINTR) {
      continue;
    }
    return pid < 0 && errno == ECHILD;
  }
}

}  // namespace cinit::os
