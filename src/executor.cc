#include "executor.h"

#include <sys/epoll.h>

#include "log.h"
#include "os/process.h"
#include "workers.h"

namespace cinit {

Status Executor::Open() {
  if (Status s = loop_.Open(); !s.ok()) {
    return s;
  }
  if (Status s = os::SignalFd::Open(&signal_fd_); !s.ok()) {
    return s;
  }
  return loop_.Watch(signal_fd_.fd(), EPOLLIN, [this](uint32_t) { OnSignalFdReady(); });
}

int Executor::Run(const std::vector<Action>& initial) {
  pending_.clear();
  for (const Action& action : initial) {
    Apply(action);
  }
  // Follow-ups of the initial actions (spawn results) go to the Policy now.
  std::vector<Event> follow_ups;
  follow_ups.swap(pending_);
  for (Event& event : follow_ups) {
    Dispatch(std::move(event));
  }
  // A child may have exited before the signalfd existed; its SIGCHLD is still
  // pending and the first read finds it, so no explicit reap is needed here.
  loop_.Run([this] { return policy_->NextDeadline(); }, [this] { Dispatch(Tick{}); });
  return exit_code_.value_or(1);
}

int Executor::RunSignalsOnly() {
  while (!exit_code_) {
    std::optional<std::chrono::milliseconds> timeout;
    if (auto when = policy_->NextDeadline()) {
      auto now = Clock::now();
      if (*when <= now) {
        Dispatch(Tick{});
        continue;
      }
      timeout = std::chrono::ceil<std::chrono::milliseconds>(*when - now);
    }
    int signo = os::WaitForSignal(timeout);
    Dispatch(signo > 0 ? Event(SignalReceived{signo}) : Event(Tick{}));
  }
  return *exit_code_;
}

void Executor::OnSignalFdReady() {
  signals_.clear();
  signal_fd_.ReadAll(&signals_);
  for (int signo : signals_) {
    Dispatch(SignalReceived{signo});
  }
}

void Executor::Dispatch(Event event) {
  pending_.clear();
  pending_.push_back(std::move(event));
  // Apply() may append follow-up events (a reap's results) while we walk.
  for (size_t i = 0; i < pending_.size() && !exit_code_; ++i) {
    Event next = std::move(pending_[i]);
    actions_.clear();
    policy_->Handle(next, Clock::now(), &actions_);
    for (const Action& action : actions_) {
      Apply(action);
    }
  }
  if (after_dispatch_ && !exit_code_) {
    after_dispatch_();
  }
}

void Executor::Apply(const Action& action) {
  std::visit(
      [&](const auto& a) {
        using T = std::decay_t<decltype(a)>;
        if constexpr (std::is_same_v<T, SendSignal>) {
          os::SendSignal(a.pid, a.signo);
        } else if constexpr (std::is_same_v<T, SignalEveryone>) {
          os::SignalEveryone(a.signo);
        } else if constexpr (std::is_same_v<T, ReapChildren>) {
          pending_.push_back(os::ReapAll());
        } else if constexpr (std::is_same_v<T, SpawnWorker>) {
          if (workers_ != nullptr) {
            pending_.push_back(workers_->Spawn(a.worker_id, a.slot));
          }
        } else if constexpr (std::is_same_v<T, AskWorkerToLeave>) {
          if (workers_ != nullptr) {
            workers_->AskToLeave(a.worker_id);
          }
        } else if constexpr (std::is_same_v<T, ExitInit>) {
          exit_code_ = a.code;
          loop_.Stop();
        }
      },
      action);
}

}  // namespace cinit
