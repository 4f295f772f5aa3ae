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
  const bool job_stop = config_.job_control && IsJobControlSignal(signo);
  switch (ClassifySignal(signo)) {
    case SignalDisposition::kReap:
      actions->push_back(ReapChildren{});
      return;
    case SignalDisposition::kForward:
      break;
    case SignalDisposition::kIgnore:
      if (job_stop) {
        break;
      }
      return;  // TTIN/TTOU: cinit is never stopped by a terminal
    default:
      return;  // never blocked, so never read; nothing to do
  }
  const int out = config_.rewrite.Apply(signo);
  if (out == 0) {
    Log(Level::kDebug, "{} dropped (rewritten to 0)", SignalName(signo));
  } else if (!main_exit_) {
    ++signals_forwarded_;
    const int target = ForwardTarget(config_.main_pid, config_.signal_group);
    Log(Level::kDebug, "forwarding {} to {} {}", SignalName(out),
        config_.signal_group ? "process group" : "pid", config_.main_pid);
    actions->push_back(SendSignal{target, out});
  } else {
    // The main child is gone; whoever is left is being shut down, and the
    // signal (typically a second SIGTERM from the runtime) goes to all of them.
    ++signals_forwarded_;
    Log(Level::kDebug, "forwarding {} to the remaining processes", SignalName(out));
    actions->push_back(SignalEveryone{out});
  }
  if (job_stop && !main_exit_ && config_.self_pid > 1) {
    // A shell's Ctrl-Z (or a background read) stopped the job: cinit stops with it,
    // and the SIGCONT that resumes cinit is forwarded like any signal. As PID 1 the
    // kernel ignores a stop cinit sends itself, so it is not asked for there.
    Log(Level::kDebug, "{}: stopping cinit with its child", SignalName(signo));
    actions->push_back(SendSignal{config_.self_pid, SIGSTOP});
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
      Log(config_.warn_on_reap ? Level::kWarning : Level::kDebug,
          "reaped zombie pid {}, not the main child ({})", child.pid, info.Describe());
    }
  }
  if (main_just_exited) {
    int code = main_exit_->ShellCode();
    if (code >= 0 && code < 256 && config_.zero_exit.test(static_cast<size_t>(code))) {
      Log(Level::kInfo, "exit code {} counts as success (-e): exiting 0", code);
      code = 0;
    }
    drain_.Start(now, config_.kill_timeout, code, reaped.none_left, actions);
  } else if (main_exit_) {
    drain_.OnReaped(reaped.none_left, actions);
  }
}

}  // namespace cinit
