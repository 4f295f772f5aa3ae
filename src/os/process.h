// Processes: spawning the child, signalling, reaping.
//
// Spawn() gives the child a clean slate: its own process group (and the terminal's
// foreground, when stdin is a terminal), every signal disposition at SIG_DFL, an
// empty blocked mask. cinit's own fds are all close-on-exec, so the child sees only
// what cinit inherited. Exec failures are reported by the child itself, on stderr,
// with exit code 127 (not found) or 126 (found but not executable).
#ifndef CINIT_OS_PROCESS_H_
#define CINIT_OS_PROCESS_H_

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "status.h"

namespace cinit::os {

struct SeccompProgram;  // os/seccomp.h

// Exit codes of a child whose exec failed, as in POSIX shells.
inline constexpr int kExitNotFound = 127;
inline constexpr int kExitCannotExecute = 126;

// At most this many descriptors are passed to a child (SpawnSpec::fds).
inline constexpr size_t kMaxSpawnFds = 64;

struct SpawnSpec {
  std::vector<std::string> argv;  // PATH is searched when argv[0] has no '/'
  // The child's whole environment ("NAME=value"); nullopt: cinit's own.
  std::optional<std::vector<std::string>> env;
  // Descriptors the child gets at 3, 4, … in this order (without FD_CLOEXEC).
  std::vector<int> fds;
  // Add LISTEN_PID=<the child's pid> (systemd socket activation: it must name the
  // process that receives the fds, known only after fork).
  bool set_listen_pid = false;
  // Give the child the terminal's foreground process group when stdin is a
  // terminal (single mode; cluster workers share the terminal, so none takes it).
  bool take_terminal = true;
  // Start a new session (setsid) instead of only a process group, and make the
  // terminal on stdin its controlling terminal (TIOCSCTTY) when it is free: dumb-init's
  // session mode. cinit must have let go of the terminal first
  // (ReleaseControllingTerminal in pid1.h).
  bool new_session = false;
  // Directory to start in (an O_PATH fd), or -1 for cinit's own cwd.
  int cwd_fd = -1;
  // Replacements for the child's stdout and stderr (--log-prefix pipes), or -1.
  int stdout_fd = -1;
  int stderr_fd = -1;
  // The bind filter (os/seccomp.h), installed with no_new_privs before exec; its
  // listener, or why there is none, goes to seccomp_report_fd (a close-on-exec
  // socket: ReceiveListener). nullptr: none.
  const SeccompProgram* seccomp = nullptr;
  int seccomp_report_fd = -1;
};

// Forks and execs spec. On success stores the child's pid in *pid.
Status Spawn(const SpawnSpec& spec, pid_t* pid);

// Returns the first line of the file COMMAND resolves to (searching PATH like
// execvp) when it starts with "#!", else an empty string. Never fails.
std::string ReadShebang(const std::string& command);

// Returns pid's parent from /proc, or -1 when it cannot be read.
pid_t ParentOf(pid_t pid);

// pid's start time (clock ticks after boot, /proc/PID/stat field 22): with the
// pid, it names one process for the machine's uptime, so a pid reused by another
// process is told apart. 0 when it cannot be read.
uint64_t StartTimeOf(pid_t pid);

// This process's PID namespace, as /proc/self/ns/pid reads ("pid:[4026531836]");
// empty when it cannot be read.
std::string PidNamespace();

// pid's effective uid (the owner of /proc/PID), or -1 when it cannot be read.
int UidOf(pid_t pid);

// Sends signo to pid. Returns false (and logs at debug) when the process no
// longer exists; other errors are logged as warnings.
bool SendSignal(pid_t pid, int signo);

// Sends signo to the process group pgid; when no process is in it (the process
// pgid left its group), to the process pgid. Returns false when neither exists.
bool SignalGroup(pid_t pgid, int signo);

// Whether any process, a zombie included, is still in the process group pgid.
// A group whose processes cinit may not signal (EPERM) exists.
bool GroupExists(pid_t pgid);

// The memory of each process group in pgids, in bytes: the PSS of its processes
// (/proc/PID/smaps_rollup, which splits pages shared by forked workers among
// them), summed; the RSS for a process whose PSS cannot be read (another uid
// without CAP_SYS_PTRACE). One walk of /proc for all groups. 0 for a group none
// of whose processes could be read.
std::vector<uint64_t> GroupsMemory(const std::vector<pid_t>& pgids);

// Sends signo to every process cinit is responsible for, except itself: as PID 1,
// kill(-1) (every process of the namespace); otherwise every descendant found by
// walking /proc. Returns how many processes were signalled (or -1 for "all" as
// PID 1, where the kernel does not tell).
int SignalEveryone(int signo);

struct Reaped {
  int pid;
  int wait_status;  // raw, from waitpid()
};

// Reaps every exited child without blocking (waitpid(-1, WNOHANG) until 0 or
// ECHILD, because SIGCHLDs merge), appending them to *out. Returns true when cinit
// has no children left at all (ECHILD). Never fails.
bool ReapAll(std::vector<Reaped>* out);

}  // namespace cinit::os

#endif  // CINIT_OS_PROCESS_H_
