#include "supervisor.h"

#include <csignal>

#include "log.h"
#include "signal_policy.h"

namespace cinit {

void Supervisor::Handle(const Event& event, TimePoint now, std::vector<Action>* actions) {
  if (phase_ == Phase::kDone) {
    return;
  }
  std::visit(
      [&](const auto& e) {
        using T = std::decay_t<decltype(e)>;
        if constexpr (std::is_same_v<T, SignalReceived>) {
          OnSignal(e.signo, actions);
        } else if constexpr (std::is_same_v<T, ChildrenReaped>) {
          OnReaped(e, now, actions);
        } else {
          OnTick(now, actions);
        }
      },
      event);
}

void Supervisor::OnSignal(int signo, std::vector<Action>* actions) {
  switch (ClassifySignal(signo)) {
    case SignalDisposition::kReap:
      actions->push_back(ReapChildren{});
      return;
    case SignalDisposition::kForward:
      break;
    default:
      return;  // never blocked, so never read; nothing to do
  }
  ++signals_forwarded_;
  if (phase_ == Phase::kRunning) {
    Log(Level::kDebug, "forwarding {} to pid {}", SignalName(signo), config_.main_pid);
    actions->push_back(SendSignal{config_.main_pid, signo});
  } else {
    // The main child is gone; whoever is left is being shut down, and the
    // signal (typically a second SIGTERM from the runtime) goes to all of them.
    Log(Level::kDebug, "forwarding {} to the remaining processes", SignalName(signo));
    actions->push_back(SignalEveryone{signo});
  }
}

void Supervisor::OnReaped(const ChildrenReaped& reaped, TimePoint now,
                          std::vector<Action>* actions) {
  for (const auto& child : reaped.children) {
    ExitInfo info = DecodeWaitStatus(child.wait_status);
    if (child.pid == config_.main_pid && !main_exit_) {
      main_exit_ = info;
      Log(Level::kInfo, "main child (pid {}) {}", child.pid, info.Describe());
    } else {
      ++orphans_reaped_;
      Log(Level::kDebug, "reaped pid {} ({})", child.pid, info.Describe());
    }
  }
  if (!main_exit_) {
    return;
  }
  if (reaped.none_left) {
    Finish(actions);
    return;
  }
  if (phase_ == Phase::kRunning) {
    Log(Level::kInfo, "sending SIGTERM to the remaining processes ({} ms before SIGKILL)",
        config_.kill_timeout.count());
    phase_ = Phase::kDraining;
    deadline_ = now + config_.kill_timeout;
    actions->push_back(SignalEveryone{SIGTERM});
    // A stopped process acts on SIGTERM only once it runs again.
    actions->push_back(SignalEveryone{SIGCONT});
  }
}

void Supervisor::OnTick(TimePoint now, std::vector<Action>* actions) {
  if (!deadline_ || now < *deadline_) {
    return;
  }
  if (phase_ == Phase::kDraining) {
    Log(Level::kWarning, "processes still running {} ms after SIGTERM: sending SIGKILL",
        config_.kill_timeout.count());
    phase_ = Phase::kKilling;
    deadline_ = now + kKillWait;
    actions->push_back(SignalEveryone{SIGKILL});
    // SIGKILL'd processes may already be zombies by the time we look.
    actions->push_back(ReapChildren{});
  } else if (phase_ == Phase::kKilling) {
    Log(Level::kWarning, "processes still present {} ms after SIGKILL: exiting anyway",
        kKillWait.count());
    Finish(actions);
  }
}

void Supervisor::Finish(std::vector<Action>* actions) {
  phase_ = Phase::kDone;
  deadline_.reset();
  actions->push_back(ExitInit{main_exit_ ? main_exit_->ShellCode() : 1});
}

}  // namespace cinit
