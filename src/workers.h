// Workers: the shell side of cluster mode. Spawns worker processes with their
// environment and descriptors, owns their Node IPC channels and the listening
// sockets they share, and turns what workers say into Events. No policy: the
// Cluster decides; this carries out SpawnWorker and AskWorkerToLeave.
//
// How a worker gets the shared port, by kind:
//   Node workers: Node's IPC channel; cinit answers queryServer (node_ipc.h).
//   --listen: the sockets are passed as LISTEN_FDS (systemd socket activation).
//   Any worker: sd_notify READY=1 to $NOTIFY_SOCKET marks it online.
//   Other programs: the bind shim (shim/shim_protocol.h) preloaded with
//   LD_PRELOAD turns their bind() of a TCP/UDP port into a request to cinit.
// Descriptors a worker gets, from 3 up: the --listen sockets, then its end of the
// Node IPC socketpair (NODE_CHANNEL_FD) or of the shim channel (CINIT_SHIM_FD).
#ifndef CINIT_WORKERS_H_
#define CINIT_WORKERS_H_

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "event_loop.h"
#include "events.h"
#include "node_ipc.h"
#include "options.h"
#include "os/socket.h"
#include "os/unique_fd.h"

namespace cinit {

class Workers {
 public:
  struct Config {
    std::vector<std::string> command;
    std::string instance_var = "NODE_APP_INSTANCE";
    bool node_ipc = false;
    std::vector<ListenAddress> listen;
    int cwd_fd = -1;         // where workers start (cinit itself moved to "/")
    bool bind_shim = false;  // preload the bind shim (non-Node workers without --listen)
    bool balance_reuseport = false;   // one SO_REUSEPORT socket per slot (--balance)
    class LogRelay* relay = nullptr;  // --log-prefix: workers' stdout/stderr go here
  };

  // How long a shim worker has to say HELLO before cinit warns that the shim did
  // not load (a static or setuid program, or LD_PRELOAD removed on the way).
  static constexpr std::chrono::milliseconds kShimHelloWait{3000};
  // Receives Events from worker channels. Called from loop callbacks only, never
  // from inside Spawn() or AskToLeave().
  using ReportFn = std::function<void(Event)>;

  Workers(Config config, EventLoop* loop, ReportFn report);
  ~Workers();
  Workers(const Workers&) = delete;
  Workers& operator=(const Workers&) = delete;

  // Opens the --listen sockets. A failure is a start-up failure.
  Status Open();

  // Starts a worker for slot. Returns the WorkerSpawned event to feed back.
  WorkerSpawned Spawn(int worker_id, int slot);

  // Sends 'shutdown' and Node's cluster disconnect to a Node worker.
  void AskToLeave(int worker_id);

 private:
  struct PidEntry {  // a spawned worker process
    int worker_id;
    int slot;
  };
  struct Outgoing {
    std::string bytes;
    int fd = -1;  // attached with SCM_RIGHTS; not owned (a listener)
  };
  struct Channel {
    int worker_id = 0;
    int slot = 0;
    os::UniqueFd fd;
    LineSplitter splitter{node::kMaxLine};
    std::deque<Outgoing> queue;
    size_t front_offset = 0;                   // bytes of queue.front() already sent
    std::optional<Outgoing> handle_in_flight;  // sent, waiting for NODE_HANDLE_ACK
    int64_t seq = 0;
    bool writable_wanted = false;
  };

  // One shim connection: the worker's inherited channel, or a connection a
  // process of its tree made to the shim socket (after a wrapper such as npm's node
  // closed the inherited fd).
  struct ShimChannel {
    int worker_id = 0;
    int slot = 0;
    os::UniqueFd fd;
  };
  struct ShimWorker {  // what the HELLO check needs to know
    int slot = 0;
    int pid = 0;
    bool hello_seen = false;
  };

  void OnChannelReady(int worker_id, uint32_t events);
  void OnShimReady(int fd);
  void OnShimConnection();
  void WatchShimChannel(int worker_id, int slot, os::UniqueFd fd);
  void OnNotifyReady();
  // The worker whose process tree holds pid (pid itself or an ancestor), if any.
  std::optional<PidEntry> WorkerOfPid(int pid);
  void CheckShimLoaded(int worker_id);
  void OnLine(Channel& channel, std::string_view line);
  void AnswerQuery(Channel& channel, const node::ServerQuery& query);
  void Send(Channel& channel, std::string bytes, int fd = -1);
  void Flush(Channel& channel);
  void CloseChannel(int worker_id);

  Config config_;
  EventLoop* loop_;
  ReportFn report_;
  os::Listeners listeners_;
  std::vector<int> listen_fds_;  // --listen sockets, in order (owned by listeners_)
  std::vector<std::string>
      base_env_;  // cinit's environment minus what it sets per worker
  std::map<int, std::unique_ptr<Channel>> channels_;           // by worker id
  std::map<int, std::unique_ptr<ShimChannel>> shim_channels_;  // by fd
  std::map<int, ShimWorker> shim_workers_;                     // by worker id
  os::UniqueFd shim_listener_;  // abstract SOCK_SEQPACKET socket: CINIT_SHIM_SOCKET
  std::string shim_socket_name_;
  std::string shim_path_;   // the shim's file, once written; empty: no shim
  os::UniqueFd notify_fd_;  // sd_notify socket shared by all workers
  std::map<int, PidEntry> worker_of_pid_;  // spawned pid -> its worker
  std::string ld_preload_;          // LD_PRELOAD cinit inherited, kept after the shim
  std::vector<std::string> lines_;  // scratch
};

}  // namespace cinit

#endif  // CINIT_WORKERS_H_
