#include "drain.h"

#include <csignal>

#include "log.h"

namespace cinit {

void Drain::Start(TimePoint now, std::chrono::milliseconds kill_timeout, int exit_code,
                  bool none_left, std::vector<Action>* actions) {
  exit_code_ = exit_code;
  kill_timeout_ = kill_timeout;
  if (none_left) {
    Finish(actions);
    return;
  }
  Log(Level::kInfo, "sending SIGTERM to the remaining processes ({} ms before SIGKILL)",
      kill_timeout.count());
  stage_ = Stage::kTerminating;
  deadline_ = now + kill_timeout;
  actions->push_back(SignalEveryone{SIGTERM});
  // A stopped process acts on SIGTERM only once it runs again.
  actions->push_back(SignalEveryone{SIGCONT});
  // Look right away: there may be nothing left but zombies.
  actions->push_back(ReapChildren{});
}

void Drain::OnReaped(bool none_left, std::vector<Action>* actions) {
  if ((stage_ == Stage::kTerminating || stage_ == Stage::kKilling) && none_left) {
    Finish(actions);
  }
}

void Drain::OnTick(TimePoint now, std::vector<Action>* actions) {
  if (!deadline_ || now < *deadline_) {
    return;
  }
  if (stage_ == Stage::kTerminating) {
    Log(Level::kWarning, "processes still running {} ms after SIGTERM: sending SIGKILL",
        kill_timeout_.count());
    stage_ = Stage::kKilling;
    deadline_ = now + kKillWait;
    actions->push_back(SignalEveryone{SIGKILL});
    // SIGKILL'd processes may already be zombies by the time we look.
    actions->push_back(ReapChildren{});
  } else if (stage_ == Stage::kKilling) {
    Log(Level::kWarning, "processes still present {} ms after SIGKILL: exiting anyway",
        kKillWait.count());
    Finish(actions);
  }
}

void Drain::Finish(std::vector<Action>* actions) {
  stage_ = Stage::kDone;
  deadline_.reset();
  actions->push_back(ExitInit{exit_code_});
}

}  // namespace cinit
