// Events and Actions: the vocabulary between cinit's shell and its pure core.
//
// The shell (EventLoop + Executor) turns what happens — a signal read from the
// signalfd, children reaped, a worker's IPC message, a deadline reached — into an
// Event and hands it to a Policy with the current time. The Policy answers with
// Actions, which the Executor carries out with syscalls; some report back with
// follow-up Events (ReapChildren → ChildrenReaped, SpawnWorker → WorkerSpawned).
// Two Policies exist: Supervisor (single mode) and Cluster (-i). Both are pure:
// no syscalls, no clock reads.
#ifndef CINIT_EVENTS_H_
#define CINIT_EVENTS_H_

#include <chrono>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace cinit {

using Clock = std::chrono::steady_clock;
using TimePoint = Clock::time_point;

// ---- Events (world -> core) ----

// cinit read signo from its signalfd.
struct SignalReceived {
  int signo;
};

struct ReapedChild {
  int pid;
  int wait_status;  // raw status from waitpid()
};

// Children were reaped (possibly none). none_left: cinit has no children at all
// (waitpid said ECHILD).
struct ChildrenReaped {
  std::vector<ReapedChild> children;
  bool none_left = false;
};

// Time passed; sent when the Policy's NextDeadline() is reached.
struct Tick {};

// A SpawnWorker action succeeded (pid > 0) or failed (pid == 0, error says why).
struct WorkerSpawned {
  int worker_id;
  int pid;
  std::string error;
};

// A worker reported progress over its channel.
struct WorkerReport {
  enum class Kind {
    kBooted,     // Node cluster 'online': the runtime is up, the app may not listen yet
    kListening,  // it listens: Node cluster 'listening', or the bind shim got its socket
    kReady,      // the app said so: process.send('ready') / 'online', sd_notify READY=1
    kChannelClosed,  // its IPC channel reached EOF (Node: after disconnect)
  };
  int worker_id;
  Kind kind;
};

// A rolling reload was asked for (SIGHUP or the control FIFO's "reload").
struct ReloadRequested {
  std::string source;  // for the log: "SIGHUP", "control FIFO"
};

// The control FIFO's "scale N".
struct ScaleRequested {
  int workers;
};

using Event = std::variant<SignalReceived, ChildrenReaped, Tick, WorkerSpawned,
                           WorkerReport, ReloadRequested, ScaleRequested>;

// ---- Actions (core -> world) ----

// Send signo to one process.
struct SendSignal {
  int pid;
  int signo;
};

// Send signo to every other process cinit is responsible for: all processes of
// the PID namespace when cinit is PID 1, its descendants otherwise.
struct SignalEveryone {
  int signo;
};

// Collect every exited child (waitpid loop) and report a ChildrenReaped event.
struct ReapChildren {};

// Start a worker for slot (its index, 0..N-1, goes into the instance variable).
// Reported back as WorkerSpawned.
struct SpawnWorker {
  int worker_id;
  int slot;
};

// Ask a Node worker to leave: the pm2 'shutdown' message, then Node's cluster
// disconnect (it closes its servers and exits once idle).
struct AskWorkerToLeave {
  int worker_id;
};

// Exit cinit with this code.
struct ExitInit {
  int code;
};

using Action = std::variant<SendSignal, SignalEveryone, ReapChildren, SpawnWorker,
                            AskWorkerToLeave, ExitInit>;

// A pure decision-maker driven by the Executor.
class Policy {
 public:
  virtual ~Policy() = default;
  // Appends to *actions what to do about event at time now. (An out-parameter so
  // the loop reuses one buffer: no allocation per signal on the hot path.)
  virtual void Handle(const Event& event, TimePoint now,
                      std::vector<Action>* actions) = 0;
  // Returns when Handle(Tick{}) must next be called, if ever.
  virtual std::optional<TimePoint> NextDeadline() const = 0;
};

}  // namespace cinit

#endif  // CINIT_EVENTS_H_
