// PID-1 chores that happen once, at start-up.
#ifndef CINIT_OS_PID1_H_
#define CINIT_OS_PID1_H_

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "os/unique_fd.h"
#include "status.h"

namespace cinit::os {

// Returns true when cinit is PID 1 of its PID namespace.
bool IsPid1();

// cinit's own pid.
pid_t OwnPid();
// cinit's effective uid.
int OwnUid();

// When cinit is not PID 1, registers it as the child subreaper, so that orphans
// of its child are reparented to it (and reaped) instead of to the real init.
Status BecomeSubreaperUnlessPid1();

// Asks the kernel to send signo to cinit when its parent dies (PR_SET_PDEATHSIG,
// tini -p). cinit catches signo like any other signal and forwards it.
Status SetParentDeathSignal(int signo);

// Gives up cinit's controlling terminal (TIOCNOTTY on stdin, when it is a terminal),
// so that a child in a session of its own can take it (SpawnSpec::new_session).
// When cinit led the terminal's session, the kernel sends SIGHUP and SIGCONT to the
// foreground group, cinit's own: those two are consumed here, not forwarded (they
// would hang up the child as it starts: dumb-init issue 136). Never fails.
void ReleaseControllingTerminal();

// Moves cinit's cwd to "/", so it never pins a mount, and returns a close-on-exec
// O_PATH descriptor of the old one, for children to start there (SpawnSpec::cwd_fd).
// When that descriptor cannot be opened, cinit stays where it is (a child then starts
// in cinit's cwd) and the result is invalid.
UniqueFd LeaveWorkingDirectory();

// chdir("/"); a failure is logged at debug level.
void MoveToRoot();

// Closes every inherited fd above 2, which only the child was meant to have (single
// mode calls this after the spawn).
void CloseInheritedFds();

// Cluster mode, before any worker: CloseInheritedFds, then to "/" (even when the old
// cwd cannot be opened). Returns the old cwd as LeaveWorkingDirectory does, for
// workers spawned later to start there.
UniqueFd DetachFromInheritedState();

// Once started: unmaps the binary's read-only pages (code and constants, clean
// file pages) that start-up faulted in, so that cinit's resident set is what its
// loop runs, not what it ran once. They stay in the page cache; a page the loop
// needs again is a minor fault away (the kernel maps it with its 64 KiB
// fault-around window). Never writable pages: nothing is lost.
void DropStartupPages();
// When the loops call it: a run that ends sooner (`cinit true`) never pays for it.
inline constexpr std::chrono::milliseconds kDropStartupPagesAfter{500};

// Writes bytes to a new read-only file that other processes can open, for the
// bind shim's LD_PRELOAD: in /run/cinit (created 0755 if missing), else /tmp.
// Returns its path, or an error when no directory is writable.
Status WriteSharedFile(std::string_view name, std::span<const unsigned char> bytes,
                       std::string* path);

// Replaces the file at path with contents atomically (a temporary file of the given
// mode renamed over it); creates the parent directory (0755) if missing.
Status ReplaceFile(const std::string& path, std::string_view contents,
                   mode_t mode = 0644);

// Empties the file at path (truncation needs no free block, so it works on a full
// disk), or removes it when it cannot be truncated. For a verdict that can no
// longer be kept current: better none than a stale one.
void EmptyFile(const std::string& path);

// Reads a small file (at most 64 KiB) into *contents.
Status ReadSmallFile(const std::string& path, std::string* contents);

// The wall-clock time (CLOCK_REALTIME), for JSON log lines.
void WallClock(int64_t* seconds, int64_t* nanoseconds);

// Writes a whole line to stderr, retrying short writes and EINTR. The log sink.
void WriteStderr(std::string_view line);

// Writes text to stdout (for --help and --version).
void WriteStdout(std::string_view text);

}  // namespace cinit::os

#endif  // CINIT_OS_PID1_H_
