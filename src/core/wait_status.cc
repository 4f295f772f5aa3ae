#include "wait_status.h"

#include <fmt/format.h>
#include <sys/wait.h>  // the W* macros only: bit arithmetic, no syscalls

#include "signal_policy.h"

namespace cinit {

ExitInfo DecodeWaitStatus(int status) {
  ExitInfo info;
  if (WIFSIGNALED(status)) {
    info.signo = WTERMSIG(status);
    info.core_dumped = WCOREDUMP(status);
  } else {
    info.code = WEXITSTATUS(status);
  }
  return info;
}

int ExitInfo::ShellCode() const {
  return signo != 0 ? (128 + signo) & 0xff : code & 0xff;
}

std::string ExitInfo::Describe() const {
  if (signo == 0) {
    return fmt::format("exited with {}", code);
  }
  return fmt::format("killed by {}{}", SignalName(signo),
                     core_dumped ? " (core dumped)" : "");
}

}  // namespace cinit
