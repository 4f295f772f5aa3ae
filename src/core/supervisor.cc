#include "supervisor.h"

#include <csignal>

#include "log.h"
#include "signal_policy.h"

namespace cinit {

void Supervisor::Handle(const Event& event, TimePoint now, std::vector<Action>* actions) {
  if (drain_.done()) {
    return;
  }
  if (const auto* signal = std::get_if<SignalReceived>(&event)) {
    OnSignal(signal->signo, actions);
  } else if (const auto* reaped = std::get_if<ChildrenReaped>(&event)) {
    OnReaped(*reaped, now, actions);
  } else if (std::holds_alternative<Tick>(event)) {
    drain_.OnTick(now, actions);
  }  // single mode has no workers: worker events cannot happen
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
  if (!main_exit_) {
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
  bool main_just_exited = false;
  for (const auto& child : reaped.children) {
    ExitInfo info = DecodeWaitStatus(child.wait_status);
    if (child.pid == config_.main_pid && !main_exit_) {
      main_exit_ = info;
      main_just_exited = true;
      Log(Level::kInfo, "main child (pid {}) {}", child.pid, info.Describe());
    } else {
      ++orphans_reaped_;
      Log(Level::kDebug, "reaped pid {} ({})", child.pid, info.Describe());
    }
  }
  if (main_just_exited) {
    drain_.Start(now, config_.kill_timeout, main_exit_->ShellCode(), reaped.none_left,
                 actions);
  } else if (main_exit_) {
    drain_.OnReaped(reaped.none_left, actions);
  }
}

}  // namespace cinit
