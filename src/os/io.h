// Plain descriptor I/O for the shell's sources: reads and writes that never block
// (on non-blocking fds) and retry EINTR, pipes, and cinit's environment.
#ifndef CINIT_OS_IO_H_
#define CINIT_OS_IO_H_

#include <sys/types.h>

#include <string_view>
#include <vector>

#include "os/unique_fd.h"
#include "status.h"

namespace cinit::os {

// read(2): returns the bytes read, 0 at end of file, or -errno (-EAGAIN: nothing
// now).
ssize_t Read(int fd, char* buf, size_t size);

// write(2): returns the bytes written or -errno (-EAGAIN: full).
ssize_t Write(int fd, std::string_view bytes);

// A pipe, both ends close-on-exec, the read end non-blocking (cinit reads it; the
// write end is a child's blocking stdout or stderr).
Status Pipe(UniqueFd* read_end, UniqueFd* write_end);

// When stdio (1 or 2) is a pipe, opens a writer of cinit's own on it (through
// /proc/self/fd), non-blocking and close-on-exec, so O_NONBLOCK is not forced on
// every process sharing the pipe. Returns an invalid fd when stdio is no pipe (a
// terminal, a file) or /proc is missing.
UniqueFd OpenOwnWriter(int stdio);

// cinit's environment, as "NAME=value" views valid for cinit's life.
std::vector<std::string_view> Environment();

}  // namespace cinit::os

#endif  // CINIT_OS_IO_H_
