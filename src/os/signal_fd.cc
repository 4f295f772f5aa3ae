#include "os/signal_fd.h"

#include <sys/signalfd.h>

#include <algorithm>
#include <array>
#include <cerrno>

#include "os/errno_status.h"
#include "signal_policy.h"

namespace cinit::os {

sigset_t CaughtSignals() {
  sigset_t set;
  sigemptyset(&set);
  for (int signo = 1; signo <= kMaxSignal; ++signo) {
    if (IsCaught(signo)) {
      sigaddset(&set, signo);
    }
  }
  return set;
}

Status BlockCaughtSignals() {
  sigset_t set = CaughtSignals();
  if (sigprocmask(SIG_SETMASK, &set, nullptr) != 0) {
    return ErrnoStatus("sigprocmask", errno);
  }
  struct sigaction action {};
  sigemptyset(&action.sa_mask);
  action.sa_handler = SIG_IGN;
  if (sigaction(SIGTTIN, &action, nullptr) != 0 ||
      sigaction(SIGTTOU, &action, nullptr) != 0) {
    return ErrnoStatus("sigaction(SIGTTIN/SIGTTOU)", errno);
  }
  action.sa_handler = SIG_DFL;
  if (sigaction(SIGCHLD, &action, nullptr) != 0) {
    return ErrnoStatus("sigaction(SIGCHLD)", errno);
  }
  return Status::Ok();
}

int WaitForSignal(std::optional<std::chrono::milliseconds> timeout) {
  static const sigset_t set = CaughtSignals();
  timespec ts{};
  if (timeout) {
    auto ms = std::max<std::chrono::milliseconds::rep>(timeout->count(), 0);
    ts.tv_sec = static_cast<time_t>(ms / 1000);
    ts.tv_nsec = static_cast<long>((ms % 1000) * 1000000);
  }
  for (;;) {
    int signo = sigtimedwait(&set, nullptr, timeout ? &ts : nullptr);
    if (signo > 0) {
      return signo;
    }
    if (errno == EAGAIN) {
      return 0;
    }
    // EINTR: a signal outside the set (none is caught) or a stop/continue; retry.
  }
}

Status SignalFd::Open(SignalFd* signal_fd) {
  sigset_t set = CaughtSignals();
  int fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
  if (fd < 0) {
    return ErrnoStatus("signalfd", errno);
  }
  signal_fd->fd_.Reset(fd);
  return Status::Ok();
}

void SignalFd::ReadAll(std::vector<int>* out) {
  std::array<signalfd_siginfo, 16> infos;
  for (;;) {
    ssize_t n = read(fd_.get(), infos.data(), sizeof(infos));
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      return;  // EAGAIN: drained
    }
    size_t count = static_cast<size_t>(n) / sizeof(signalfd_siginfo);
    for (size_t i = 0; i < count; ++i) {
      out->push_back(static_cast<int>(infos[i].ssi_signo));
    }
    if (count < infos.size()) {
      return;
    }
  }
}

}  // namespace cinit::os
