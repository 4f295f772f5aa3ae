// WaitStatus: what a raw waitpid() status means, and the exit code cinit reports.
//
// Pure. Exit-code policy (the shell's and tini's): a child that exited with N gives N;
// a child killed by signal N gives 128+N (kept in 0..255).
#ifndef CINIT_WAIT_STATUS_H_
#define CINIT_WAIT_STATUS_H_

#include <string>

namespace cinit {

struct ExitInfo {
  int code = 0;   // exit status when signo == 0
  int signo = 0;  // terminating signal, 0 when the child exited normally
  bool core_dumped = false;

  // Returns the exit code a shell would show for this child: code or 128+signo.
  int ShellCode() const;
  // Returns e.g. "exited with 3" or "killed by SIGTERM".
  std::string Describe() const;
};

// Decodes a status from waitpid()/wait4() of a child that terminated.
ExitInfo DecodeWaitStatus(int status);

}  // namespace cinit

#endif  // CINIT_WAIT_STATUS_H_
