#include "executor.h"

#include <exception>

#include "log.h"
#include "workers.h"

namespace cinit {

void Executor::Apply(const Action& action, EventQueue* queue) {
  std::visit(
      [&](const auto& a) {
        using T = std::decay_t<decltype(a)>;
        if constexpr (std::is_same_v<T, SendSignal>) {
          os::SendSignal(a.pid, a.signo);
        } else if constexpr (std::is_same_v<T, SignalTree>) {
          os::SignalGroup(a.pgid, a.signo);
        } else if constexpr (std::is_same_v<T, CheckTree>) {
          queue->push_back(TreeChecked{a.worker_id, !os::GroupExists(a.pgid)});
        } else if constexpr (std::is_same_v<T, SampleMemory>) {
          std::vector<pid_t> pgids;
          for (const auto& [id, pgid] : a.workers) {
            pgids.push_back(pgid);
          }
          std::vector<uint64_t> bytes = os::GroupsMemory(pgids);
          MemorySampled sampled;
          for (size_t i = 0; i < a.workers.size(); ++i) {
            sampled.workers.emplace_back(a.workers[i].first, bytes[i]);
          }
          queue->push_back(std::move(sampled));
        } else if constexpr (std::is_same_v<T, SignalEveryone>) {
          os::SignalEveryone(a.signo);
        } else if constexpr (std::is_same_v<T, ReapChildren>) {
          reaped_.clear();
          ChildrenReaped event;
          event.none_left = os::ReapAll(&reaped_);
          event.children.reserve(reaped_.size());
          for (const os::Reaped& child : reaped_) {
            event.children.push_back(ReapedChild{child.pid, child.wait_status});
          }
          queue->push_back(std::move(event));
        } else if constexpr (std::is_same_v<T, SpawnWorker>) {
          if (workers_ != nullptr) {
            queue->push_back(workers_->Spawn(a.worker_id, a.slot));
          }
        } else if constexpr (std::is_same_v<T, AskWorkerToLeave>) {
          if (workers_ != nullptr) {
            workers_->AskToLeave(a.worker_id);
          }
        } else if constexpr (std::is_same_v<T, ForgetWorker>) {
          if (workers_ != nullptr) {
            workers_->Forget(a.worker_id);
          }
        } else if constexpr (std::is_same_v<T, ExitInit>) {
          exit_code_ = a.code;
        }
      },
      action);
}

void Dispatcher::Settle(TimePoint now) {
  // Apply() may append follow-up events while we walk: index, not iterators.
  for (size_t i = 0; i < queue_.size() && !exit_code(); ++i) {
    Event event = std::move(queue_[i]);
    actions_.clear();
    try {
      policy_->Handle(event, now, &actions_);
      for (const Action& action : actions_) {
        executor_->Apply(action, &queue_);
        if (exit_code()) {
          break;
        }
      }
    } catch (const std::exception& e) {
      // Out of memory, in practice: this event is lost, PID 1 is not.
      Log(Level::kError, "an event was dropped: {}", e.what());
    }
  }
  queue_.clear();
}

}  // namespace cinit
