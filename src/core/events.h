// Events and Actions: the vocabulary between cinit's shell and its pure core.
//
// Data flows one way. Sources (the signalfd, workers' channels, the shim server,
// the notify socket, the control FIFO, the config watcher) append Events to one
// EventQueue; once per loop turn the shell reads the clock once and feeds each Event,
// with that time, to a Policy, which answers with Actions; the Executor carries them out
// with syscalls, and some report back as follow-up Events at the end of the same queue
// (ReapChildren -> ChildrenReaped, SpawnWorker -> WorkerSpawned, CheckTree ->
// TreeChecked, SampleMemory -> MemorySampled). Nothing calls
// back up: a source never calls the Policy or the Executor.
// Two Policies exist: Supervisor (single mode) and Cluster (-i). Both are pure:
// no syscalls, no clock reads.
#ifndef CINIT_EVENTS_H_
#define CINIT_EVENTS_H_

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace cinit {

using Clock = std::chrono::steady_clock;
using TimePoint = Clock::time_point;

// ---- Events (world -> core) ----

// cinit consumed signo (signalfd or sigtimedwait). In cluster mode SIGHUP arrives
// as ReloadRequested instead (ClusterSignalEvent, cluster.h).
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
    kBooted,      // Node cluster 'online': the runtime is up, the app may not listen yet
    kListening,   // it listens: Node cluster 'listening', or the bind shim got its socket
    kReady,       // the app said so: process.send('ready') / 'online', sd_notify READY=1
    kShimLoaded,  // the bind shim said HELLO from a process of the worker's tree
  };
  int worker_id;
  Kind kind;
};

// What asked for a reload, for /status and /metrics.
enum class ReloadTrigger { kSignal, kControl, kConfigChange };

// A rolling reload was asked for (SIGHUP, the control FIFO's "reload", or a
// --reload-on-change PATH that changed and settled).
struct ReloadRequested {
  std::string source;  // for the log: "SIGHUP", "control FIFO", "config change: PATH"
  ReloadTrigger trigger = ReloadTrigger::kSignal;
};

// A --reload-on-change PATH changed (ConfigWatcher). The Cluster debounces these:
// a burst of them is one ReloadRequested, once it has settled (debounce.h).
struct ConfigChanged {
  std::string path;
};

// The control FIFO's "scale N".
struct ScaleRequested {
  int workers;
};

// The answer to CheckTree: whether any process is left in the worker's process
// group.
struct TreeChecked {
  int worker_id;
  bool empty;
};

// The answer to SampleMemory: each worker's tree's memory, in bytes (0: could not
// be read).
struct MemorySampled {
  std::vector<std::pair<int, uint64_t>> workers;  // (worker_id, bytes)
};

using Event = std::variant<SignalReceived, ChildrenReaped, Tick, WorkerSpawned,
                           WorkerReport, ReloadRequested, ScaleRequested, TreeChecked,
                           MemorySampled, ConfigChanged>;

// Events waiting for the Policy, oldest first. Bounded in practice by the sources:
// each reads a bounded amount per wake-up, and each Action adds at most one Event.
using EventQueue = std::vector<Event>;

// ---- Actions (core -> world) ----

// Send signo to one process.
struct SendSignal {
  int pid;
  int signo;
};

// Send signo to a worker's tree: its process group, pgid (the worker's pid: each
// worker leads a group of its own). Should the worker have left its group, the
// signal goes to the process pgid alone.
struct SignalTree {
  int pgid;
  int signo;
};

// Find out whether any process is left in the process group pgid of worker_id.
// Reported back as TreeChecked.
struct CheckTree {
  int worker_id;
  int pgid;
};

// Measure the memory of each worker's tree (its process group pgid): the PSS of
// its processes, summed. Reported back as MemorySampled.
struct SampleMemory {
  std::vector<std::pair<int, int>> workers;  // (worker_id, pgid)
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

// The Policy no longer knows this worker (it was reaped, could not be spawned, or
// survived SIGKILL): the shell drops its channels and its pid, so nothing that
// later claims to be it (a process that got its pid) is trusted.
struct ForgetWorker {
  int worker_id;
};

// Exit cinit with this code.
struct ExitInit {
  int code;
};

using Action =
    std::variant<SendSignal, SignalTree, CheckTree, SampleMemory, SignalEveryone,
                 ReapChildren, SpawnWorker, AskWorkerToLeave, ForgetWorker, ExitInit>;

// A pure decision-maker, fed by the shell one Event at a time.
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
