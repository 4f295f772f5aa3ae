// The control FIFO: created and read by cinit, written by `cinit ctl` or `echo`.
#ifndef CINIT_OS_FIFO_H_
#define CINIT_OS_FIFO_H_

#include <string>
#include <string_view>

#include "os/unique_fd.h"
#include "status.h"

namespace cinit::os {

// Creates the FIFO at path (mode 0600; the parent directory 0755 if missing) and
// opens it read-write, non-blocking, close-on-exec. Read-write, so that cinit itself
// always holds a writer: writers that come and go never make it see EOF, which on
// a read-only FIFO would make epoll report it readable forever.
Status OpenControlFifo(const std::string& path, UniqueFd* fd);

// Writes one line to the FIFO at path, for `cinit ctl`. Fails with a clear message
// when nothing is reading it (no cinit, or not in cluster mode). Never blocks.
Status WriteControlLine(const std::string& path, std::string_view line);

// Whether a cinit reads the FIFO at path: Ok when one does, else the same clear
// message as WriteControlLine. Writes nothing; never blocks.
Status ProbeControlFifo(const std::string& path);

}  // namespace cinit::os

#endif  // CINIT_OS_FIFO_H_
