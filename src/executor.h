// Executor: carries out a Policy's Actions with syscalls, and appends what they
// report back (a reap's results, a spawn's pid) to the EventQueue as follow-up
// Events. Holds no policy, owns no loop and no descriptor: worker actions go to
// Workers (workers.h), everything else to os/.
#ifndef CINIT_EXECUTOR_H_
#define CINIT_EXECUTOR_H_

#include <optional>
#include <vector>

#include "events.h"
#include "os/process.h"

namespace cinit {

class Workers;

class Executor {
 public:
  // workers: cluster mode's; nullptr in single mode, which has no worker actions.
  explicit Executor(Workers* workers = nullptr) : workers_(workers) {}

  void Apply(const Action& action, EventQueue* queue);

  // Set once an ExitInit was applied.
  const std::optional<int>& exit_code() const { return exit_code_; }

 private:
  Workers* workers_;
  std::vector<os::Reaped> reaped_;  // scratch, reused: a reap allocates once
  std::optional<int> exit_code_;
};

// The queue between the sources and the Policy, and the second half of every loop
// turn, the same in both modes: sources append Events to queue(); Settle(now) feeds
// each to the Policy at now (the caller reads the clock once per turn) and applies
// its Actions, whose follow-up Events join the end of the queue, until the queue is
// empty or an ExitInit was applied.
class Dispatcher {
 public:
  Dispatcher(Policy* policy, Executor* executor) : policy_(policy), executor_(executor) {}

  EventQueue* queue() { return &queue_; }
  void Settle(TimePoint now);
  const std::optional<int>& exit_code() const { return executor_->exit_code(); }

 private:
  Policy* policy_;
  Executor* executor_;
  EventQueue queue_;
  std::vector<Action> actions_;  // scratch, reused: forwarding a signal allocates nothing
};

}  // namespace cinit

#endif  // CINIT_EXECUTOR_H_
