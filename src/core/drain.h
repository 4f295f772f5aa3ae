// Drain: the last phase of cinit's life, shared by both Policies.
//
// When the processes cinit is there for are gone (the main child, or every worker)
// but others remain (daemons, orphans), cinit sends them SIGTERM and SIGCONT, waits
// until none is left, SIGKILLs what remains after kill_timeout, waits at most
// kKillWait more, and exits with the code fixed at Start(). Pure.
#ifndef CINIT_DRAIN_H_
#define CINIT_DRAIN_H_

#include <chrono>
#include <optional>
#include <vector>

#include "events.h"

namespace cinit {

class Drain {
 public:
  // How long cinit waits for processes after SIGKILL before it exits anyway (a
  // process stuck in the kernel must not keep the container alive forever).
  static constexpr std::chrono::milliseconds kKillWait{2000};

  // Begins the drain, to end with exit_code. none_left: no child remains, so cinit
  // exits at once.
  void Start(TimePoint now, std::chrono::milliseconds kill_timeout, int exit_code,
             bool none_left, std::vector<Action>* actions);
  // After a reap during the drain.
  void OnReaped(bool none_left, std::vector<Action>* actions);
  void OnTick(TimePoint now, std::vector<Action>* actions);

  bool done() const { return stage_ == Stage::kDone; }
  std::optional<TimePoint> deadline() const { return deadline_; }

 private:
  enum class Stage { kIdle, kTerminating, kKilling, kDone };
  void Finish(std::vector<Action>* actions);

  Stage stage_ = Stage::kIdle;
  std::chrono::milliseconds kill_timeout_{0};
  int exit_code_ = 0;
  std::optional<TimePoint> deadline_;
};

}  // namespace cinit

#endif  // CINIT_DRAIN_H_
