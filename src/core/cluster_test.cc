#include "cluster.h"

#include <doctest/doctest.h>

#include <csignal>
#include <set>

#include "log.h"

namespace cinit {
namespace {

using std::chrono::milliseconds;

const TimePoint t0{};
int Exited(int code) { return (code & 0xff) << 8; }

ClusterConfig Config(int workers, bool node_ipc = true) {
  ClusterConfig config;
  config.workers = workers;
  config.node_ipc = node_ipc;
  config.kill_timeout = milliseconds(1000);
  config.graceful_timeout = milliseconds(5000);
  config.min_uptime = milliseconds(1000);
  config.max_restarts = 3;
  return config;
}

// Drives a Cluster like the Executor does: spawn actions get pids 100+id, and a
// worker's tree is empty once its process is reaped unless its pgid is in `left`.
struct Harness {
  Cluster cluster;
  std::vector<Action> last;
  std::set<int> left;  // process groups with processes left in them

  explicit Harness(ClusterConfig config) : cluster(config) {}

  std::vector<Action> Start(TimePoint now = t0) {
    last.clear();
    cluster.Start(now, &last);
    FeedFollowUps(now, 0);
    return last;
  }
  std::vector<Action> Handle(const Event& event, TimePoint now) {
    last.clear();
    cluster.Handle(event, now, &last);
    FeedFollowUps(now, 0);
    return last;
  }
  // Answers every SpawnWorker in `last` from `from` on with WorkerSpawned{pid = 100 +
  // id}, and every CheckTree with TreeChecked, appending what they cause.
  void FeedFollowUps(TimePoint now, size_t from) {
    for (size_t i = from; i < last.size(); ++i) {
      Action action = last[i];
      std::vector<Action> more;
      if (const auto* spawn = std::get_if<SpawnWorker>(&action)) {
        cluster.Handle(WorkerSpawned{spawn->worker_id, 100 + spawn->worker_id, {}}, now,
                       &more);
      } else if (const auto* check = std::get_if<CheckTree>(&action)) {
        cluster.Handle(TreeChecked{check->worker_id, left.count(check->pgid) == 0}, now,
                       &more);
      }
      last.insert(last.end(), more.begin(), more.end());
    }
  }
  int PidOfSlot(int slot) const {
    const auto& s = cluster.slots()[static_cast<size_t>(slot)];
    REQUIRE(s.worker_id);
    return cluster.workers().at(*s.worker_id).pid;
  }
  int IdOfSlot(int slot) const {
    const auto& s = cluster.slots()[static_cast<size_t>(slot)];
    REQUIRE(s.worker_id);
    return *s.worker_id;
  }
};

template <typename T>
std::vector<T> All(const std::vector<Action>& actions) {
  std::vector<T> out;
  for (const auto& action : actions) {
    if (const T* a = std::get_if<T>(&action)) {
      out.push_back(*a);
    }
  }
  return out;
}

void AllOnline(Harness& h, TimePoint now) {
  std::vector<int> ids;
  for (const auto& [id, worker] : h.cluster.workers()) {
    if (worker.state == WorkerState::kStarting) {
      ids.push_back(id);
    }
  }
  for (int id : ids) {
    h.Handle(WorkerReport{id, WorkerReport::Kind::kListening}, now);
  }
}

}  // namespace

TEST_SUITE("cluster") {
  TEST_CASE("start spawns one worker per slot, each with its index") {
    Harness h(Config(3));
    auto actions = h.Start();
    auto spawns = All<SpawnWorker>(actions);
    REQUIRE(spawns.size() == 3);
    for (int i = 0; i < 3; ++i) {
      CHECK(spawns[static_cast<size_t>(i)].slot == i);
    }
    CHECK(h.cluster.workers().size() == 3);
    CHECK(h.PidOfSlot(2) == 103);
  }

  TEST_CASE("a worker is online once it listens or says ready") {
    Harness h(Config(2));
    h.Start();
    CHECK(h.cluster.online_workers() == 0);
    h.Handle(WorkerReport{h.IdOfSlot(0), WorkerReport::Kind::kBooted}, t0);
    CHECK(h.cluster.online_workers() == 0);
    h.Handle(WorkerReport{h.IdOfSlot(0), WorkerReport::Kind::kListening}, t0);
    h.Handle(WorkerReport{h.IdOfSlot(1), WorkerReport::Kind::kReady},
             t0 + milliseconds(5));
    CHECK(h.cluster.online_workers() == 2);
    CHECK(h.cluster.workers().at(h.IdOfSlot(1)).online_at == t0 + milliseconds(5));
  }

  TEST_CASE("a worker that dies is replaced in the same slot after a backoff") {
    Harness h(Config(2));
    h.Start();
    int old_pid = h.PidOfSlot(1);
    auto actions =
        h.Handle(ChildrenReaped{{{old_pid, Exited(1)}}, false}, t0 + milliseconds(5000));
    CHECK(All<SpawnWorker>(actions).empty());
    auto deadline = h.cluster.NextDeadline();
    REQUIRE(deadline);
    CHECK(*deadline == t0 + milliseconds(5000 + 100));  // ran long enough: no crash
    auto respawn = h.Handle(Tick{}, *deadline);
    auto spawns = All<SpawnWorker>(respawn);
    REQUIRE(spawns.size() == 1);
    CHECK(spawns[0].slot == 1);
    CHECK(h.PidOfSlot(1) != old_pid);
    CHECK(h.cluster.slots()[1].restarts == 1);
  }

  TEST_CASE("crashes right after start back off exponentially, then cinit gives up") {
    Harness h(Config(2));
    h.Start();
    TimePoint now = t0;
    milliseconds expected_delay(200);
    for (int crash = 1; crash <= 3; ++crash) {
      CAPTURE(crash);
      int pid = h.PidOfSlot(0);
      now += milliseconds(10);
      h.Handle(ChildrenReaped{{{pid, Exited(1)}}, false}, now);
      auto deadline = h.cluster.NextDeadline();
      REQUIRE(deadline);
      CHECK(*deadline - now == expected_delay);
      now = *deadline;
      h.Handle(Tick{}, now);
      expected_delay *= 2;
    }
    // The fourth crash in a row is one more than max_restarts = 3.
    int pid = h.PidOfSlot(0);
    auto actions =
        h.Handle(ChildrenReaped{{{pid, Exited(1)}}, false}, now + milliseconds(10));
    CHECK(h.cluster.phase() == Cluster::Phase::kStopping);
    auto leave = All<AskWorkerToLeave>(actions);
    REQUIRE(leave.size() == 1);  // the other slot's worker
    CHECK(leave[0].worker_id == h.IdOfSlot(1));

    SUBCASE("when the rest has stopped, cinit exits 3") {
      auto done = h.Handle(ChildrenReaped{{{h.PidOfSlot(1), Exited(0)}}, true},
                           now + milliseconds(20));
      auto exits = All<ExitInit>(done);
      REQUIRE(exits.size() == 1);
      CHECK(exits[0].code == kExitGaveUp);
    }
  }

  TEST_CASE("a stable run resets the crash count") {
    Harness h(Config(1));
    h.Start();
    TimePoint now = t0 + milliseconds(10);
    h.Handle(ChildrenReaped{{{h.PidOfSlot(0), Exited(1)}}, false}, now);
    CHECK(h.cluster.slots()[0].crashes_in_a_row == 1);
    now = *h.cluster.NextDeadline();
    h.Handle(Tick{}, now);
    now += milliseconds(5000);  // lived past min_uptime
    h.Handle(ChildrenReaped{{{h.PidOfSlot(0), Exited(1)}}, false}, now);
    CHECK(h.cluster.slots()[0].crashes_in_a_row == 0);
    CHECK(*h.cluster.NextDeadline() - now == milliseconds(100));
  }

  TEST_CASE("SIGTERM asks Node workers to leave, then escalates on the timeouts") {
    Harness h(Config(2));
    h.Start();
    auto actions = h.Handle(SignalReceived{SIGTERM}, t0);
    CHECK(All<AskWorkerToLeave>(actions).size() == 2);
    CHECK(All<SendSignal>(actions).empty());
    CHECK(h.cluster.phase() == Cluster::Phase::kStopping);
    CHECK(*h.cluster.NextDeadline() == t0 + milliseconds(5000));

    SUBCASE("both leave in time: exit 0 after the drain") {
      h.Handle(ChildrenReaped{{{h.PidOfSlot(0), Exited(0)}}, false},
               t0 + milliseconds(50));
      auto done =
          h.Handle(ChildrenReaped{{{102, Exited(0)}}, true}, t0 + milliseconds(60));
      auto exits = All<ExitInit>(done);
      REQUIRE(exits.size() == 1);
      CHECK(exits[0].code == 0);
    }

    SUBCASE("one stays: stop signal after graceful_timeout, SIGKILL after kill_timeout") {
      h.Handle(ChildrenReaped{{{101, Exited(0)}}, false}, t0 + milliseconds(50));
      auto term = h.Handle(Tick{}, t0 + milliseconds(5000));
      auto signals = All<SignalTree>(term);
      REQUIRE(signals.size() == 1);
      CHECK(signals[0].pgid == 102);
      CHECK(signals[0].signo == SIGTERM);
      CHECK(*h.cluster.NextDeadline() == t0 + milliseconds(6000));  // kill_timeout more
      auto kill = h.Handle(Tick{}, t0 + milliseconds(6000));
      signals = All<SignalTree>(kill);
      REQUIRE(signals.size() == 1);
      CHECK(signals[0].signo == SIGKILL);
      CHECK(All<SendSignal>(kill).empty());
      auto done = h.Handle(ChildrenReaped{{{102, 9}}, true}, t0 + milliseconds(6001));
      auto exits = All<ExitInit>(done);
      REQUIRE(exits.size() == 1);
      CHECK(exits[0].code == kExitForcedStop);
    }

    SUBCASE("a second SIGTERM sends the stop signal, and SIGKILL after kill_timeout") {
      auto again = h.Handle(SignalReceived{SIGTERM}, t0 + milliseconds(10));
      auto signals = All<SignalTree>(again);
      REQUIRE(signals.size() == 2);
      CHECK(signals[0].signo == SIGTERM);
      CHECK(*h.cluster.NextDeadline() == t0 + milliseconds(1010));
      auto kill = h.Handle(Tick{}, t0 + milliseconds(1010));
      CHECK(All<SignalTree>(kill).size() == 2);
      CHECK(All<SignalTree>(kill)[0].signo == SIGKILL);
    }
  }

  TEST_CASE("non-Node workers get the stop signal straight away") {
    ClusterConfig config = Config(1, /*node_ipc=*/false);
    config.stop_signal = SIGINT;
    Harness h(config);
    h.Start();
    auto actions = h.Handle(SignalReceived{SIGTERM}, t0);
    auto signals = All<SignalTree>(actions);
    REQUIRE(signals.size() == 1);
    CHECK(signals[0].signo == SIGINT);
    CHECK(signals[0].pgid == h.PidOfSlot(0));  // its process group
    CHECK(All<AskWorkerToLeave>(actions).empty());
    // The same drain time as a Node worker's.
    CHECK(*h.cluster.NextDeadline() == t0 + milliseconds(5000));
  }

  TEST_CASE("a worker that exits during the stop is not restarted") {
    Harness h(Config(1));
    h.Start();
    h.Handle(SignalReceived{SIGINT}, t0);
    h.Handle(ChildrenReaped{{{101, Exited(1)}}, false}, t0 + milliseconds(1));
    CHECK(h.cluster.workers().empty());
    for (const auto& slot : h.cluster.slots()) {
      CHECK_FALSE(slot.restart_at);
    }
  }

  TEST_CASE("other signals go to every live worker, SIGHUP kills nothing") {
    Harness h(Config(3));
    h.Start();
    auto actions = h.Handle(SignalReceived{SIGUSR2}, t0);
    auto signals = All<SendSignal>(actions);
    CHECK(signals.size() == 3);
    for (const auto& s : signals) {
      CHECK(s.signo == SIGUSR2);
    }
    auto hup = h.Handle(ClusterSignalEvent(SIGHUP), t0);
    CHECK(All<SendSignal>(hup).empty());
    CHECK(All<AskWorkerToLeave>(hup).empty());
    CHECK(All<SpawnWorker>(hup).size() == 1);  // the reload's first replacement
    CHECK(h.cluster.phase() == Cluster::Phase::kRunning);
  }

  TEST_CASE("orphans are reaped and counted, workers untouched") {
    Harness h(Config(1));
    h.Start();
    auto actions = h.Handle(ChildrenReaped{{{555, Exited(0)}}, false}, t0);
    CHECK(actions.empty());
    CHECK(h.cluster.orphans_reaped() == 1);
    CHECK(h.cluster.workers().size() == 1);
  }

  TEST_CASE("a failed spawn is retried with a backoff and never counts as a crash") {
    ClusterConfig config = Config(3);
    config.max_restarts = 2;
    Harness h(config);
    h.Start();
    AllOnline(h, t0);
    // Slot 2's worker dies; every respawn then fails (fork: EAGAIN under a pids
    // limit), many more times than max_restarts.
    int pid = h.PidOfSlot(2);
    h.Handle(ChildrenReaped{{{pid, Exited(0)}}, false}, t0 + std::chrono::seconds(5));
    TimePoint now = t0 + std::chrono::seconds(5);
    std::vector<milliseconds> delays;
    for (int attempt = 0; attempt < 8; ++attempt) {
      REQUIRE(h.cluster.NextDeadline());
      TimePoint due = *h.cluster.NextDeadline();
      delays.push_back(std::chrono::duration_cast<milliseconds>(due - now));
      now = due;
      std::vector<Action> actions;
      h.cluster.Handle(Tick{}, now, &actions);
      auto spawns = All<SpawnWorker>(actions);
      REQUIRE(spawns.size() == 1);
      CHECK(spawns[0].slot == 2);
      actions.clear();
      h.cluster.Handle(
          WorkerSpawned{spawns[0].worker_id, 0, "fork: Resource temporarily unavailable"},
          now, &actions);
      CHECK(All<ForgetWorker>(actions).size() == 1);
      CHECK(All<SendSignal>(actions).empty());  // nobody is stopped
    }
    CHECK(h.cluster.phase() == Cluster::Phase::kRunning);
    CHECK(h.cluster.slots()[2].crashes_in_a_row == 0);
    CHECK(h.cluster.slots()[2].spawn_failures == 8);
    CHECK(h.cluster.online_workers() == 2);
    for (size_t i = 2; i < delays.size(); ++i) {
      CHECK(delays[i] >= delays[i - 1]);  // backs off
    }
    // The spawn works again: the count resets.
    TimePoint due = *h.cluster.NextDeadline();
    h.Handle(Tick{}, due);
    CHECK(h.cluster.slots()[2].worker_id);
    CHECK(h.cluster.slots()[2].spawn_failures == 0);
  }

  TEST_CASE("SIGHUP is a reload at the first hop, every other signal a signal") {
    CHECK(std::get<ReloadRequested>(ClusterSignalEvent(SIGHUP)).source == "SIGHUP");
    CHECK(std::get<SignalReceived>(ClusterSignalEvent(SIGUSR1)).signo == SIGUSR1);
    CHECK(std::get<SignalReceived>(ClusterSignalEvent(SIGTERM)).signo == SIGTERM);
  }

  TEST_CASE("a reaped worker is forgotten, and the shell is told") {
    Harness h(Config(2));
    h.Start();
    int id = h.IdOfSlot(1);
    int pid = h.PidOfSlot(1);
    auto actions = h.Handle(ChildrenReaped{{{pid, Exited(1)}}, false}, t0);
    auto forgotten = All<ForgetWorker>(actions);
    REQUIRE(forgotten.size() == 1);
    CHECK(forgotten[0].worker_id == id);
    CHECK(h.cluster.workers().count(id) == 0);
    // An orphan is nobody's worker: nothing to forget.
    CHECK(All<ForgetWorker>(h.Handle(ChildrenReaped{{{999, Exited(0)}}, false}, t0))
              .empty());
  }

  TEST_CASE("a worker that survives SIGKILL is forgotten when cinit stops waiting") {
    Harness h(Config(1, /*node_ipc=*/false));
    h.Start();
    int id = h.IdOfSlot(0);
    h.Handle(SignalReceived{SIGTERM}, t0);
    h.Handle(Tick{}, t0 + milliseconds(5000));  // graceful_timeout: SIGKILL
    auto actions = h.Handle(Tick{}, t0 + milliseconds(5000) + Drain::kKillWait);
    auto forgotten = All<ForgetWorker>(actions);
    REQUIRE(forgotten.size() == 1);
    CHECK(forgotten[0].worker_id == id);
  }

  TEST_CASE("the bind shim's HELLO is awaited by a deadline in the policy") {
    ClusterConfig config = Config(2, /*node_ipc=*/false);
    config.shim = true;
    config.shim_hello_wait = milliseconds(3000);
    Harness h(config);
    h.Start();
    REQUIRE(h.cluster.NextDeadline());
    CHECK(*h.cluster.NextDeadline() == t0 + milliseconds(3000));
    h.Handle(WorkerReport{h.IdOfSlot(0), WorkerReport::Kind::kShimLoaded}, t0);
    h.Handle(WorkerReport{h.IdOfSlot(1), WorkerReport::Kind::kShimLoaded}, t0);
    CHECK_FALSE(h.cluster.NextDeadline());  // both said HELLO: nothing to wait for

    Harness silent(config);
    silent.Start();
    auto actions = silent.Handle(Tick{}, t0 + milliseconds(3000));
    CHECK(actions.empty());  // only a warning in the log: the worker keeps running
    CHECK_FALSE(silent.cluster.NextDeadline());
    CHECK(silent.cluster.workers().size() == 2);
  }
}

namespace {

std::string* captured = nullptr;
void CaptureLine(std::string_view line) {
  if (captured != nullptr) {
    captured->append(line);
  }
}

// Captures cinit's log lines for one scope.
struct LogCapture {
  std::string text;
  LogCapture() {
    captured = &text;
    SetLogSink(&CaptureLine);
  }
  ~LogCapture() {
    SetLogSink(nullptr);
    captured = nullptr;
  }
};

}  // namespace

TEST_SUITE("worker trees") {
  TEST_CASE("a worker whose process exits is gone only once its process group is") {
    Harness h(Config(2, /*node_ipc=*/false));
    h.Start();
    AllOnline(h, t0);
    const int id = h.IdOfSlot(1);
    const int pid = h.PidOfSlot(1);
    h.left.insert(pid);  // `npm start`: npm died, its node child serves on
    TimePoint now = t0 + std::chrono::seconds(5);
    auto actions = h.Handle(ChildrenReaped{{{pid, Exited(1)}}, false}, now);
    auto checks = All<CheckTree>(actions);
    REQUIRE(checks.size() == 1);
    CHECK(checks[0].pgid == pid);
    auto signals = All<SignalTree>(actions);
    REQUIRE(signals.size() == 1);  // what is left gets the stop signal
    CHECK(signals[0].pgid == pid);
    CHECK(signals[0].signo == SIGTERM);
    CHECK(All<ForgetWorker>(actions).empty());
    CHECK(All<SpawnWorker>(actions).empty());
    CHECK(h.cluster.workers().count(id) == 1);  // the slot is not free
    CHECK(h.cluster.online_workers() == 1);
    CHECK(h.cluster.trees_left() == 1);
    health::Snapshot snapshot;
    h.cluster.FillSnapshot(t0, now, &snapshot);
    CHECK(snapshot.trees_left == 1);
    bool exiting = false;
    for (const auto& view : snapshot.workers) {
      exiting = exiting || (view.pid == pid && view.state == "exiting");
    }
    CHECK(exiting);

    SUBCASE("it is looked at again every 100 ms, and freed once its group is empty") {
      REQUIRE(h.cluster.NextDeadline());
      CHECK(*h.cluster.NextDeadline() == now + milliseconds(100));
      auto look = h.Handle(Tick{}, now + milliseconds(100));
      CHECK(All<CheckTree>(look).size() == 1);
      CHECK(All<SignalTree>(look).empty());  // signalled once
      h.left.erase(pid);
      auto gone = h.Handle(Tick{}, now + milliseconds(200));
      REQUIRE(All<ForgetWorker>(gone).size() == 1);
      CHECK(All<ForgetWorker>(gone)[0].worker_id == id);
      CHECK(h.cluster.slots()[1].restart_at);  // now it is replaced, with a backoff
    }

    SUBCASE("what is still left after kill_timeout gets SIGKILL") {
      auto kill = h.Handle(Tick{}, now + milliseconds(1000));
      auto killed = All<SignalTree>(kill);
      REQUIRE(killed.size() == 1);
      CHECK(killed[0].signo == SIGKILL);
      CHECK(killed[0].pgid == pid);
      SUBCASE("and if even that survives, cinit stops waiting after kKillWait") {
        auto last = h.Handle(Tick{}, now + milliseconds(1000) + Drain::kKillWait);
        CHECK(All<ForgetWorker>(last).size() == 1);
        CHECK(h.cluster.workers().count(id) == 0);
      }
    }
  }

  TEST_CASE("a reload's next slot waits until the old worker's whole tree is gone") {
    Harness h(Config(2, /*node_ipc=*/false));
    h.Start();
    AllOnline(h, t0);
    const int old0 = h.PidOfSlot(0);
    h.left.insert(old0);
    auto hup = h.Handle(ClusterSignalEvent(SIGHUP), t0);
    const int incoming = All<SpawnWorker>(hup)[0].worker_id;
    auto online = h.Handle(WorkerReport{incoming, WorkerReport::Kind::kListening}, t0);
    auto stop = All<SignalTree>(online);
    REQUIRE(stop.size() == 1);
    CHECK(stop[0].pgid == old0);  // the stop signal goes to the group
    // The old worker's own process exits; its group does not.
    auto reaped =
        h.Handle(ChildrenReaped{{{old0, Exited(0)}}, false}, t0 + milliseconds(10));
    CHECK(All<SpawnWorker>(reaped).empty());  // slot 1 is not replaced yet
    CHECK(All<SignalTree>(reaped).empty());   // its group had the stop signal already
    h.left.erase(old0);
    auto next =
        h.Handle(ChildrenReaped{{{4242, Exited(0)}}, false}, t0 + milliseconds(20));
    CHECK(All<ForgetWorker>(next).size() == 1);
    REQUIRE(All<SpawnWorker>(next).size() == 1);
    CHECK(All<SpawnWorker>(next)[0].slot == 1);
  }

  TEST_CASE("what a stopping worker leaves behind has the rest of the stop's time") {
    Harness h(Config(1, /*node_ipc=*/true));
    h.Start();
    AllOnline(h, t0);
    const int pid = h.PidOfSlot(0);
    h.left.insert(pid);
    h.Handle(SignalReceived{SIGTERM}, t0);  // 'shutdown': graceful_timeout 5000 ms
    auto reaped =
        h.Handle(ChildrenReaped{{{pid, Exited(0)}}, false}, t0 + milliseconds(10));
    auto signals = All<SignalTree>(reaped);
    REQUIRE(signals.size() == 1);  // only the Node process had 'shutdown'
    CHECK(signals[0].signo == SIGTERM);
    CHECK(All<ExitInit>(reaped).empty());  // cinit waits for the tree
    auto kill = h.Handle(Tick{}, t0 + milliseconds(5000));
    REQUIRE(All<SignalTree>(kill).size() == 1);
    CHECK(All<SignalTree>(kill)[0].signo == SIGKILL);
    h.left.erase(pid);
    auto done = h.Handle(ChildrenReaped{{{4242, 9}}, true}, t0 + milliseconds(5001));
    REQUIRE(All<ExitInit>(done).size() == 1);
    CHECK(All<ExitInit>(done)[0].code == kExitForcedStop);
  }

  TEST_CASE("forwarded signals go to each worker's own process, not its group") {
    Harness h(Config(2, /*node_ipc=*/false));
    h.Start();
    auto actions = h.Handle(SignalReceived{SIGUSR1}, t0);
    CHECK(All<SendSignal>(actions).size() == 2);
    CHECK(All<SignalTree>(actions).empty());
  }
}

namespace {

ClusterConfig MemoryConfig(int workers) {
  ClusterConfig config = Config(workers);
  config.max_memory = 300ull << 20;
  config.memory_every = milliseconds(1000);
  config.memory_over_for = milliseconds(3000);
  return config;
}

// One sample: slot -> bytes for each slot's current worker.
MemorySampled Sample(const Harness& h, std::vector<uint64_t> by_slot) {
  MemorySampled sampled;
  for (size_t i = 0; i < by_slot.size(); ++i) {
    sampled.workers.emplace_back(h.IdOfSlot(static_cast<int>(i)), by_slot[i]);
  }
  return sampled;
}

constexpr uint64_t kMiB = 1ull << 20;

}  // namespace

TEST_SUITE("max memory") {
  TEST_CASE("memory is sampled every memory_every for every worker's group") {
    Harness h(MemoryConfig(2));
    h.Start();
    REQUIRE(h.cluster.NextDeadline());
    CHECK(*h.cluster.NextDeadline() == t0 + milliseconds(1000));
    auto tick = h.Handle(Tick{}, t0 + milliseconds(1000));
    auto samples = All<SampleMemory>(tick);
    REQUIRE(samples.size() == 1);
    REQUIRE(samples[0].workers.size() == 2);
    CHECK(samples[0].workers[0].second == h.PidOfSlot(0));  // its process group
    CHECK(*h.cluster.NextDeadline() == t0 + milliseconds(2000));
    Harness off(Config(2));
    off.Start();
    CHECK_FALSE(off.cluster.NextDeadline());  // no --max-memory, no sampling
  }

  TEST_CASE("a worker above the limit for memory_over_for is replaced gracefully") {
    Harness h(MemoryConfig(2));
    h.Start();
    AllOnline(h, t0);
    const int old1 = h.IdOfSlot(1);
    const int untouched = h.IdOfSlot(0);
    h.Handle(Sample(h, {50 * kMiB, 310 * kMiB}), t0 + milliseconds(1000));
    auto early = h.Handle(Sample(h, {50 * kMiB, 320 * kMiB}), t0 + milliseconds(3000));
    CHECK(All<SpawnWorker>(early).empty());  // over for 2 s only
    auto due = h.Handle(Sample(h, {50 * kMiB, 330 * kMiB}), t0 + milliseconds(4000));
    auto spawns = All<SpawnWorker>(due);
    REQUIRE(spawns.size() == 1);
    CHECK(spawns[0].slot == 1);
    CHECK(All<AskWorkerToLeave>(due).empty());  // not before its replacement is online
    CHECK(h.cluster.memory_restarts() == 1);
    const int incoming = spawns[0].worker_id;
    CHECK(h.cluster.workers().at(incoming).generation ==
          h.cluster.workers().at(old1).generation);  // no new generation: same code
    auto online = h.Handle(WorkerReport{incoming, WorkerReport::Kind::kListening},
                           t0 + milliseconds(4100));
    auto leave = All<AskWorkerToLeave>(online);
    REQUIRE(leave.size() == 1);
    CHECK(leave[0].worker_id == old1);
    CHECK(h.IdOfSlot(1) == incoming);
    CHECK(h.IdOfSlot(0) == untouched);
    h.Handle(ChildrenReaped{{{100 + old1, Exited(0)}}, false}, t0 + milliseconds(4500));
    CHECK_FALSE(h.cluster.slots()[1].recycling);
    CHECK(h.cluster.workers().count(old1) == 0);
    CHECK(h.cluster.reload().succeeded == 0);  // not a reload
  }

  TEST_CASE("a sample under the limit starts the clock over") {
    Harness h(MemoryConfig(1));
    h.Start();
    AllOnline(h, t0);
    h.Handle(Sample(h, {310 * kMiB}), t0 + milliseconds(1000));
    h.Handle(Sample(h, {290 * kMiB}), t0 + milliseconds(2000));
    h.Handle(Sample(h, {310 * kMiB}), t0 + milliseconds(3000));
    auto not_yet = h.Handle(Sample(h, {310 * kMiB}), t0 + milliseconds(5000));
    CHECK(All<SpawnWorker>(not_yet).empty());
    auto now = h.Handle(Sample(h, {310 * kMiB}), t0 + milliseconds(6000));
    CHECK(All<SpawnWorker>(now).size() == 1);
  }

  TEST_CASE("replacements that outgrow the limit again back off") {
    Harness h(MemoryConfig(1));
    h.Start();
    AllOnline(h, t0);
    TimePoint now = t0;
    std::vector<milliseconds> gaps;
    TimePoint last_spawn = t0;
    for (int round = 0; round < 3; ++round) {
      // Over the limit from now on, sampled every second, until it is replaced.
      for (int i = 0; i < 120; ++i) {
        now += milliseconds(1000);
        auto actions = h.Handle(Sample(h, {400 * kMiB}), now);
        auto spawns = All<SpawnWorker>(actions);
        if (!spawns.empty()) {
          gaps.push_back(std::chrono::duration_cast<milliseconds>(now - last_spawn));
          last_spawn = now;
          const int old = h.IdOfSlot(0);
          h.Handle(WorkerReport{spawns[0].worker_id, WorkerReport::Kind::kListening},
                   now);
          h.Handle(ChildrenReaped{{{100 + old, Exited(0)}}, false}, now);
          break;
        }
      }
    }
    REQUIRE(gaps.size() == 3);
    CHECK(gaps[1] >= milliseconds(10000));  // the first replacement's backoff
    CHECK(gaps[2] >= milliseconds(20000));  // doubled
  }

  TEST_CASE("one slot at a time (reload_batch), and a reload waits for it") {
    Harness h(MemoryConfig(2));
    h.Start();
    AllOnline(h, t0);
    h.Handle(Sample(h, {310 * kMiB, 310 * kMiB}), t0);
    auto due = h.Handle(Sample(h, {310 * kMiB, 310 * kMiB}), t0 + milliseconds(3000));
    REQUIRE(All<SpawnWorker>(due).size() == 1);
    CHECK(All<SpawnWorker>(due)[0].slot == 0);
    const int incoming = All<SpawnWorker>(due)[0].worker_id;
    auto hup = h.Handle(ClusterSignalEvent(SIGHUP), t0 + milliseconds(3100));
    CHECK(All<SpawnWorker>(hup).empty());  // deferred
    CHECK(h.cluster.reload().state == ReloadStatus::State::kIdle);
    const int old0 = h.IdOfSlot(0);
    h.Handle(WorkerReport{incoming, WorkerReport::Kind::kListening},
             t0 + milliseconds(3200));
    auto done = h.Handle(ChildrenReaped{{{100 + old0, Exited(0)}}, false},
                         t0 + milliseconds(3300));
    CHECK(h.cluster.reload().state == ReloadStatus::State::kRolling);  // now it runs
    CHECK(All<SpawnWorker>(done).size() == 1);
  }

  TEST_CASE("a replacement that dies before it is online leaves the old one serving") {
    Harness h(MemoryConfig(1));
    h.Start();
    AllOnline(h, t0);
    const int old = h.IdOfSlot(0);
    h.Handle(Sample(h, {310 * kMiB}), t0);
    auto due = h.Handle(Sample(h, {310 * kMiB}), t0 + milliseconds(3000));
    const int incoming = All<SpawnWorker>(due)[0].worker_id;
    auto crash = h.Handle(ChildrenReaped{{{100 + incoming, Exited(1)}}, false},
                          t0 + milliseconds(3100));
    CHECK(All<AskWorkerToLeave>(crash).empty());
    CHECK(All<SpawnWorker>(crash).empty());
    CHECK(h.IdOfSlot(0) == old);
    CHECK_FALSE(h.cluster.slots()[0].recycling);
    CHECK(h.cluster.phase() == Cluster::Phase::kRunning);
  }
}

TEST_SUITE("crash loops") {
  TEST_CASE("an app that never came online is given up on after never_online_restarts") {
    ClusterConfig config = Config(2);
    config.max_restarts = 10;
    config.never_online_restarts = 4;
    Harness h(config);
    h.Start();
    LogCapture log;
    TimePoint now = t0;
    TimePoint first = t0 + milliseconds(10);
    for (int crash = 1; crash <= 4; ++crash) {
      now += milliseconds(10);
      h.Handle(ChildrenReaped{{{h.PidOfSlot(0), Exited(1)}}, false}, now);
      REQUIRE(h.cluster.phase() == Cluster::Phase::kRunning);
      now = *h.cluster.NextDeadline();
      h.Handle(Tick{}, now);
    }
    now += milliseconds(10);
    h.Handle(ChildrenReaped{{{h.PidOfSlot(0), Exited(1)}}, false}, now);
    CHECK(h.cluster.giving_up());
    // Backoffs of 200 + 400 + 800 + 1600 ms, and five runs of 10 ms.
    CHECK(now - first == milliseconds(3040));
    CHECK(log.text.find("no worker has ever been online") != std::string::npos);
    CHECK(log.text.find("the last one exited with 1") != std::string::npos);
  }

  TEST_CASE("a slot crash-looping after the app was online keeps max_restarts") {
    ClusterConfig config = Config(2);
    config.max_restarts = 6;
    config.never_online_restarts = 2;
    Harness h(config);
    h.Start();
    AllOnline(h, t0);
    TimePoint now = t0;
    int crashes = 0;
    while (h.cluster.phase() == Cluster::Phase::kRunning && crashes < 20) {
      now += milliseconds(10);
      h.Handle(ChildrenReaped{{{h.PidOfSlot(1), Exited(1)}}, false}, now);
      ++crashes;
      if (h.cluster.phase() == Cluster::Phase::kRunning) {
        now = *h.cluster.NextDeadline();
        h.Handle(Tick{}, now);
      }
    }
    CHECK(crashes == 7);
  }

  TEST_CASE("the give-up line names the last exit and its likely cause") {
    ClusterConfig config = Config(1, /*node_ipc=*/false);
    config.never_online_restarts = 0;
    SUBCASE("127: not found") {
      Harness h(config);
      h.Start();
      LogCapture log;
      h.Handle(ChildrenReaped{{{h.PidOfSlot(0), Exited(127)}}, false}, t0);
      CHECK(h.cluster.giving_up());
      CHECK(log.text.find("exited with 127: the command was not found") !=
            std::string::npos);
    }
    SUBCASE("a signal") {
      Harness h(config);
      h.Start();
      LogCapture log;
      h.Handle(ChildrenReaped{{{h.PidOfSlot(0), SIGSEGV}}, false}, t0);
      CHECK(log.text.find("killed by SIGSEGV") != std::string::npos);
    }
  }

  TEST_CASE(
      "a worker without the shim that exits at once while another runs gets a hint") {
    ClusterConfig config = Config(2, /*node_ipc=*/false);
    config.shim = true;
    Harness h(config);
    h.Start();
    LogCapture log;
    // A static program (Go): no HELLO from either; worker 0 bound the port itself,
    // so cinit does not know it serves, and worker 1 fails with EADDRINUSE at once.
    h.Handle(ChildrenReaped{{{h.PidOfSlot(1), Exited(1)}}, false}, t0 + milliseconds(30));
    CHECK(log.text.find("EADDRINUSE") != std::string::npos);
    CHECK(log.text.find("--listen") != std::string::npos);
    const size_t once = log.text.size();
    h.Handle(Tick{}, *h.cluster.NextDeadline());
    h.Handle(ChildrenReaped{{{h.PidOfSlot(1), Exited(1)}}, false},
             t0 + milliseconds(300));
    CHECK(log.text.find("EADDRINUSE", once) == std::string::npos);  // said once
  }
}

TEST_SUITE("reload") {
  TEST_CASE("SIGHUP replaces one slot at a time, the new online before the old leaves") {
    Harness h(Config(2));
    h.Start();
    AllOnline(h, t0);
    int old0 = h.IdOfSlot(0);
    int old1 = h.IdOfSlot(1);
    size_t most_workers = 0;

    auto hup = h.Handle(ClusterSignalEvent(SIGHUP), t0);
    auto spawns = All<SpawnWorker>(hup);
    REQUIRE(spawns.size() == 1);
    CHECK(spawns[0].slot == 0);
    CHECK(h.cluster.reload().state == ReloadStatus::State::kRolling);
    CHECK(h.IdOfSlot(0) == old0);  // still the old one's until the new is online
    most_workers = std::max(most_workers, h.cluster.workers().size());

    // The new worker is online: only now is the old one asked to leave.
    auto online =
        h.Handle(WorkerReport{spawns[0].worker_id, WorkerReport::Kind::kListening},
                 t0 + milliseconds(100));
    auto leave = All<AskWorkerToLeave>(online);
    REQUIRE(leave.size() == 1);
    CHECK(leave[0].worker_id == old0);
    CHECK(All<SpawnWorker>(online).empty());  // slot 1 waits for the old 0 to exit
    CHECK(h.IdOfSlot(0) == spawns[0].worker_id);
    most_workers = std::max(most_workers, h.cluster.workers().size());

    auto exited = h.Handle(ChildrenReaped{{{100 + old0, Exited(0)}}, false},
                           t0 + milliseconds(200));
    auto next = All<SpawnWorker>(exited);
    REQUIRE(next.size() == 1);
    CHECK(next[0].slot == 1);
    CHECK(h.cluster.reload().slots_done == 1);

    auto ready = h.Handle(WorkerReport{next[0].worker_id, WorkerReport::Kind::kReady},
                          t0 + milliseconds(300));
    REQUIRE(All<AskWorkerToLeave>(ready).size() == 1);
    CHECK(All<AskWorkerToLeave>(ready)[0].worker_id == old1);
    most_workers = std::max(most_workers, h.cluster.workers().size());
    h.Handle(ChildrenReaped{{{100 + old1, Exited(0)}}, false}, t0 + milliseconds(400));

    CHECK(h.cluster.reload().state == ReloadStatus::State::kIdle);
    CHECK(h.cluster.reload().last_result == ReloadStatus::Result::kSucceeded);
    CHECK(h.cluster.reload().generation == 2);
    CHECK(most_workers <= 3);  // N + batch
    CHECK(h.cluster.online_workers() == 2);
    for (const auto& [id, worker] : h.cluster.workers()) {
      CHECK(worker.generation == 2);
    }
  }

  TEST_CASE("a replacement that exits before it is online aborts, the old keep serving") {
    Harness h(Config(2));
    h.Start();
    AllOnline(h, t0);
    int old0 = h.IdOfSlot(0);
    int old1 = h.IdOfSlot(1);
    auto hup = h.Handle(ClusterSignalEvent(SIGHUP), t0);
    int incoming = All<SpawnWorker>(hup)[0].worker_id;
    auto crash = h.Handle(ChildrenReaped{{{100 + incoming, Exited(1)}}, false},
                          t0 + milliseconds(50));
    CHECK(All<AskWorkerToLeave>(crash).empty());
    CHECK(All<SendSignal>(crash).empty());
    CHECK(All<SpawnWorker>(crash).empty());
    CHECK(h.IdOfSlot(0) == old0);
    CHECK(h.IdOfSlot(1) == old1);
    CHECK(h.cluster.online_workers() == 2);
    CHECK(h.cluster.reload().last_result == ReloadStatus::Result::kFailed);
    CHECK(h.cluster.reload().last_message.find("before it was online") !=
          std::string::npos);
    CHECK_FALSE(h.cluster.NextDeadline());  // no restart of the failed replacement

    SUBCASE("the next reload starts afresh") {
      CHECK(All<SpawnWorker>(h.Handle(ClusterSignalEvent(SIGHUP), t0 + milliseconds(60)))
                .size() == 1);
    }
  }

  TEST_CASE("a replacement silent at the listen timeout is taken as online (pm2)") {
    ClusterConfig config = Config(1);
    config.listen_timeout = milliseconds(3000);
    Harness h(config);
    h.Start();
    AllOnline(h, t0);
    int old0 = h.IdOfSlot(0);
    h.Handle(ClusterSignalEvent(SIGHUP), t0);
    CHECK(*h.cluster.NextDeadline() == t0 + milliseconds(3000));
    CHECK(h.Handle(Tick{}, t0 + milliseconds(2999)).empty());
    auto timeout = h.Handle(Tick{}, t0 + milliseconds(3000));
    auto leave = All<AskWorkerToLeave>(timeout);
    REQUIRE(leave.size() == 1);
    CHECK(leave[0].worker_id == old0);
  }

  TEST_CASE("--strict-reload: a silent replacement is stopped and the reload fails") {
    ClusterConfig config = Config(1);
    config.strict_reload = true;
    config.listen_timeout = milliseconds(3000);
    Harness h(config);
    h.Start();
    AllOnline(h, t0);
    int old0 = h.IdOfSlot(0);
    auto hup = h.Handle(ClusterSignalEvent(SIGHUP), t0);
    int incoming = All<SpawnWorker>(hup)[0].worker_id;
    auto timeout = h.Handle(Tick{}, t0 + milliseconds(3000));
    auto signals = All<SignalTree>(timeout);
    REQUIRE(signals.size() == 1);
    CHECK(signals[0].pgid == 100 + incoming);
    CHECK(All<AskWorkerToLeave>(timeout).empty());
    CHECK(h.IdOfSlot(0) == old0);
    CHECK(h.cluster.reload().last_result == ReloadStatus::Result::kFailed);
    // Its exit is expected: no restart, no second abort.
    auto gone =
        h.Handle(ChildrenReaped{{{100 + incoming, 15}}, false}, t0 + milliseconds(3100));
    REQUIRE(All<ForgetWorker>(gone).size() == 1);
    CHECK(All<ForgetWorker>(gone)[0].worker_id == incoming);
    CHECK(All<SpawnWorker>(gone).empty());
  }

  TEST_CASE(
      "a reload asked for during a reload is merged and starts over after the slot") {
    Harness h(Config(2));
    h.Start();
    AllOnline(h, t0);
    auto first = h.Handle(ClusterSignalEvent(SIGHUP), t0);
    auto second = h.Handle(ClusterSignalEvent(SIGHUP), t0 + milliseconds(10));
    CHECK(All<SpawnWorker>(second).empty());  // never two at once
    int new0 = All<SpawnWorker>(first)[0].worker_id;
    int old0 = h.IdOfSlot(0);
    h.Handle(WorkerReport{new0, WorkerReport::Kind::kListening}, t0 + milliseconds(20));
    auto exited =
        h.Handle(ChildrenReaped{{{100 + old0, Exited(0)}}, false}, t0 + milliseconds(30));
    // Starts over at slot 0, with a newer generation.
    auto spawns = All<SpawnWorker>(exited);
    REQUIRE(spawns.size() == 1);
    CHECK(spawns[0].slot == 0);
    CHECK(h.cluster.workers().at(spawns[0].worker_id).generation == 3);
    CHECK(h.cluster.workers().size() <= 3);
  }

  TEST_CASE("SIGTERM during a reload stops everything, the replacement too") {
    Harness h(Config(2));
    h.Start();
    AllOnline(h, t0);
    h.Handle(ClusterSignalEvent(SIGHUP), t0);
    CHECK(h.cluster.workers().size() == 3);
    auto stop = h.Handle(SignalReceived{SIGTERM}, t0 + milliseconds(10));
    CHECK(All<AskWorkerToLeave>(stop).size() == 3);
    CHECK(h.cluster.reload().last_result == ReloadStatus::Result::kInterrupted);
    CHECK(h.cluster.phase() == Cluster::Phase::kStopping);
  }

  TEST_CASE("batches replace reload_batch slots at a time") {
    ClusterConfig config = Config(4);
    config.reload_batch = 2;
    Harness h(config);
    h.Start();
    AllOnline(h, t0);
    auto hup = h.Handle(ClusterSignalEvent(SIGHUP), t0);
    auto spawns = All<SpawnWorker>(hup);
    REQUIRE(spawns.size() == 2);
    CHECK(spawns[0].slot == 0);
    CHECK(spawns[1].slot == 1);
    CHECK(h.cluster.workers().size() == 6);  // N + batch, never more
  }

  TEST_CASE(
      "a slot waiting for its restart is skipped: the restart is of the new generation") {
    Harness h(Config(2));
    h.Start();
    AllOnline(h, t0);
    h.Handle(ChildrenReaped{{{h.PidOfSlot(0), Exited(1)}}, false},
             t0 + milliseconds(5000));
    auto hup = h.Handle(ClusterSignalEvent(SIGHUP), t0 + milliseconds(5001));
    auto spawns = All<SpawnWorker>(hup);
    REQUIRE(spawns.size() == 1);
    CHECK(spawns[0].slot == 1);
  }
}

TEST_SUITE("scale") {
  TEST_CASE("scale up adds slots, scale down retires the highest gracefully") {
    Harness h(Config(2));
    h.Start();
    AllOnline(h, t0);
    auto up = h.Handle(ScaleRequested{3}, t0);
    auto spawns = All<SpawnWorker>(up);
    REQUIRE(spawns.size() == 1);
    CHECK(spawns[0].slot == 2);
    CHECK(h.cluster.slots().size() == 3);

    auto down = h.Handle(ScaleRequested{1}, t0 + milliseconds(10));
    auto leave = All<AskWorkerToLeave>(down);
    CHECK(leave.size() == 2);
    int pid1 = h.PidOfSlot(1);
    int pid2 = h.PidOfSlot(2);
    h.Handle(ChildrenReaped{{{pid1, Exited(0)}, {pid2, Exited(0)}}, false},
             t0 + milliseconds(20));
    CHECK(h.cluster.slots().size() == 1);
    CHECK(h.cluster.workers().size() == 1);
    CHECK_FALSE(h.cluster.NextDeadline());  // no restarts of retired slots
  }

  TEST_CASE("scale up while retired workers are still leaving refills every slot") {
    Harness h(Config(4));
    h.Start();
    AllOnline(h, t0);
    int pid2 = h.PidOfSlot(2);
    int pid3 = h.PidOfSlot(3);
    h.Handle(ScaleRequested{2}, t0 + milliseconds(10));
    // Back to 4 before the two asked to leave have gone.
    auto up = h.Handle(ScaleRequested{4}, t0 + milliseconds(20));
    CHECK(All<SpawnWorker>(up).empty());  // their slots are still taken
    auto gone = h.Handle(ChildrenReaped{{{pid2, Exited(0)}, {pid3, Exited(0)}}, false},
                         t0 + milliseconds(30));
    auto spawns = All<SpawnWorker>(gone);
    REQUIRE(spawns.size() == 2);
    CHECK(spawns[0].slot == 2);
    CHECK(spawns[1].slot == 3);
    CHECK(h.cluster.workers().size() == 4);
  }

  TEST_CASE("scale during a reload waits for the reload's end") {
    Harness h(Config(1));
    h.Start();
    AllOnline(h, t0);
    auto hup = h.Handle(ClusterSignalEvent(SIGHUP), t0);
    CHECK(All<SpawnWorker>(h.Handle(ScaleRequested{2}, t0)).empty());
    int incoming = All<SpawnWorker>(hup)[0].worker_id;
    int old = h.IdOfSlot(0);
    h.Handle(WorkerReport{incoming, WorkerReport::Kind::kListening},
             t0 + milliseconds(5));
    auto done =
        h.Handle(ChildrenReaped{{{100 + old, Exited(0)}}, false}, t0 + milliseconds(10));
    auto spawns = All<SpawnWorker>(done);
    REQUIRE(spawns.size() == 1);
    CHECK(spawns[0].slot == 1);
  }
  TEST_CASE(
      "--drain-delay: SIGTERM turns not ready at once, the stop waits for the delay") {
    ClusterConfig config = Config(2);
    config.drain_delay = milliseconds(1500);
    Harness h(config);
    h.Start();
    AllOnline(h, t0);
    auto actions = h.Handle(SignalReceived{SIGTERM}, t0 + milliseconds(10));
    CHECK(actions.empty());  // nobody is asked to leave yet
    CHECK(h.cluster.phase() == Cluster::Phase::kLameDuck);
    health::Snapshot readiness;
    h.cluster.FillReadiness(&readiness);
    CHECK(readiness.stopping);
    CHECK(readiness.lame_duck);
    CHECK_FALSE(health::Judge(readiness).ready);
    CHECK(h.cluster.online_workers() == 2);  // still serving
    CHECK(*h.cluster.NextDeadline() == t0 + milliseconds(1510));
    CHECK(All<AskWorkerToLeave>(h.Handle(Tick{}, t0 + milliseconds(1509))).empty());
    auto stop = h.Handle(Tick{}, t0 + milliseconds(1510));
    CHECK(All<AskWorkerToLeave>(stop).size() == 2);
    CHECK(h.cluster.phase() == Cluster::Phase::kStopping);
    CHECK_FALSE(h.cluster.lame_duck_until());
    // The graceful stop as without the delay: graceful_timeout from its start.
    CHECK(*h.cluster.NextDeadline() == t0 + milliseconds(1510 + 5000));
  }

  TEST_CASE("--drain-delay: a second SIGTERM or SIGINT starts the stop at once") {
    for (int second : {SIGTERM, SIGINT}) {
      ClusterConfig config = Config(2);
      config.drain_delay = milliseconds(20000);
      Harness h(config);
      h.Start();
      AllOnline(h, t0);
      h.Handle(SignalReceived{SIGINT}, t0);
      auto stop = h.Handle(SignalReceived{second}, t0 + milliseconds(100));
      CHECK(All<AskWorkerToLeave>(stop).size() == 2);
      CHECK(h.cluster.phase() == Cluster::Phase::kStopping);
      CHECK(*h.cluster.NextDeadline() == t0 + milliseconds(100 + 5000));
      // A third hurries everyone, as a second does without the delay.
      auto hurry = h.Handle(SignalReceived{second}, t0 + milliseconds(200));
      CHECK(All<SignalTree>(hurry).size() == 2);
    }
  }

  TEST_CASE("--drain-delay: a reload or a scale asked for during the delay is refused") {
    ClusterConfig config = Config(2);
    config.drain_delay = milliseconds(1000);
    Harness h(config);
    h.Start();
    AllOnline(h, t0);
    h.Handle(SignalReceived{SIGTERM}, t0);
    CHECK(All<SpawnWorker>(h.Handle(ClusterSignalEvent(SIGHUP), t0 + milliseconds(1)))
              .empty());
    CHECK(All<SpawnWorker>(h.Handle(ReloadRequested{"control FIFO"}, t0)).empty());
    CHECK(All<SpawnWorker>(h.Handle(ScaleRequested{4}, t0)).empty());
    CHECK(h.cluster.reload().state == ReloadStatus::State::kIdle);
    CHECK(h.cluster.slots().size() == 2);
    CHECK(h.cluster.phase() == Cluster::Phase::kLameDuck);
  }

  TEST_CASE("--drain-delay: a worker that exits during the delay is restarted") {
    ClusterConfig config = Config(2);
    config.drain_delay = milliseconds(3000);
    Harness h(config);
    h.Start();
    AllOnline(h, t0);
    h.Handle(SignalReceived{SIGTERM}, t0 + milliseconds(5000));
    h.Handle(ChildrenReaped{{{h.PidOfSlot(1), Exited(1)}}, false},
             t0 + milliseconds(5100));
    const auto& slot = h.cluster.slots()[1];
    REQUIRE(slot.restart_at);
    CHECK(*slot.restart_at == t0 + milliseconds(5200));
    auto respawn = h.Handle(Tick{}, t0 + milliseconds(5200));
    auto spawns = All<SpawnWorker>(respawn);
    REQUIRE(spawns.size() == 1);
    CHECK(spawns[0].slot == 1);
    // Not stopped as it starts: it serves until the delay ends, then leaves with the
    // rest.
    CHECK(All<SignalTree>(respawn).empty());
    auto stop = h.Handle(Tick{}, t0 + milliseconds(8000));
    CHECK(All<AskWorkerToLeave>(stop).size() == 2);
  }

  TEST_CASE("--drain-delay 0 (the default) stops at once, as before") {
    Harness h(Config(1));
    h.Start();
    auto actions = h.Handle(SignalReceived{SIGTERM}, t0);
    CHECK(All<AskWorkerToLeave>(actions).size() == 1);
    CHECK(h.cluster.phase() == Cluster::Phase::kStopping);
  }

  TEST_CASE("a burst of config changes is one reload, once it has settled") {
    Harness h(Config(1, /*node_ipc=*/false));
    h.Start();
    AllOnline(h, t0);
    CHECK(All<SpawnWorker>(h.Handle(ConfigChanged{"/app/config"}, t0)).empty());
    CHECK(h.cluster.NextDeadline() == t0 + Debounce::kQuiet);
    h.Handle(ConfigChanged{"/app/config"}, t0 + milliseconds(100));
    h.Handle(ConfigChanged{"/etc/app.json"}, t0 + milliseconds(200));
    CHECK(h.cluster.NextDeadline() == t0 + milliseconds(200) + Debounce::kQuiet);
    CHECK(All<SpawnWorker>(h.Handle(Tick{}, t0 + milliseconds(699))).empty());
    auto reload = h.Handle(Tick{}, t0 + milliseconds(700));
    REQUIRE(All<SpawnWorker>(reload).size() == 1);
    CHECK(h.cluster.reload().state == ReloadStatus::State::kRolling);
    CHECK(h.cluster.reload().last_trigger == "config change: /app/config, /etc/app.json");
    CHECK(
        h.cluster.reload().triggered[static_cast<size_t>(ReloadTrigger::kConfigChange)] ==
        1);
    CHECK(All<SpawnWorker>(h.Handle(Tick{}, t0 + milliseconds(2000))).empty());
    health::Snapshot snapshot;
    h.cluster.FillSnapshot(t0, t0 + milliseconds(2000), &snapshot);
    CHECK(snapshot.reload_last_trigger == "config change: /app/config, /etc/app.json");
    CHECK(snapshot.reloads_triggered[2] == 1);
  }

  TEST_CASE("a config change during a reload is merged into it") {
    Harness h(Config(1, /*node_ipc=*/false));
    h.Start();
    AllOnline(h, t0);
    auto hup = h.Handle(ClusterSignalEvent(SIGHUP), t0);
    REQUIRE(All<SpawnWorker>(hup).size() == 1);
    h.Handle(ConfigChanged{"/app/config"}, t0 + milliseconds(10));
    CHECK(All<SpawnWorker>(h.Handle(Tick{}, t0 + milliseconds(510))).empty());
    CHECK(h.cluster.reload().last_trigger == "config change: /app/config");
    CHECK(h.cluster.reload().triggered[0] == 1);  // the SIGHUP
    CHECK(h.cluster.reload().triggered[2] == 1);
  }

  TEST_CASE("config changes while stopping are ignored") {
    Harness h(Config(1, /*node_ipc=*/false));
    h.Start();
    AllOnline(h, t0);
    h.Handle(SignalReceived{SIGTERM}, t0);
    h.Handle(ConfigChanged{"/app/config"}, t0 + milliseconds(1));
    auto tick = h.Handle(Tick{}, t0 + milliseconds(600));
    CHECK(All<SpawnWorker>(tick).empty());
    CHECK(h.cluster.reload().triggered[2] == 0);
  }
}

}  // namespace cinit
