#include "workers.h"

#include <sys/epoll.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <span>

#include "log.h"
#include "log_relay.h"
#include "notify.h"
#include "os/pid1.h"
#include "os/process.h"
#include "shim_codec.h"
#ifdef CINIT_HAVE_SHIM
#include "shim/shim_image.h"
#endif

extern char** environ;

namespace cinit {
namespace {

constexpr size_t kReadChunk = 16 * 1024;

bool IsSetPerWorker(std::string_view entry, std::string_view instance_var) {
  auto eq = entry.find('=');
  std::string_view name = entry.substr(0, eq);
  return name == instance_var || name == "NODE_UNIQUE_ID" || name == "NODE_CHANNEL_FD" ||
         name == "NODE_CHANNEL_SERIALIZATION_MODE" || name == "LISTEN_FDS" ||
         name == "LISTEN_PID" || name == "LISTEN_FDNAMES" || name == "LD_PRELOAD" ||
         name == "CINIT_SHIM_FD" || name == "CINIT_SHIM_SOCKET" ||
         name == "NOTIFY_SOCKET";
}

}  // namespace

Workers::Workers(Config config, EventLoop* loop, ReportFn report)
    : config_(std::move(config)), loop_(loop), report_(std::move(report)) {
  for (char** entry = environ; entry != nullptr && *entry != nullptr; ++entry) {
    std::string_view text = *entry;
    if (text.starts_with("LD_PRELOAD=")) {
      ld_preload_ = std::string(text.substr(11));
    }
    if (!IsSetPerWorker(text, config_.instance_var)) {
      base_env_.emplace_back(text);
    }
  }
  if (!ld_preload_.empty()) {
    base_env_.push_back("LD_PRELOAD=" + ld_preload_);  // replaced per shim worker
  }
}

Workers::~Workers() {
  for (auto& [id, channel] : channels_) {
    (void)loop_->Unwatch(channel->fd.get());
  }
  for (auto& [fd, channel] : shim_channels_) {
    (void)loop_->Unwatch(fd);
  }
  if (shim_listener_.valid()) {
    (void)loop_->Unwatch(shim_listener_.get());
  }
  if (notify_fd_.valid()) {
    (void)loop_->Unwatch(notify_fd_.get());
  }
}

Status Workers::Open() {
  for (const auto& address : config_.listen) {
    os::SocketSpec spec;
    spec.type = SOCK_STREAM;
    spec.port = address.port;
    spec.address = address.host;
    spec.family = address.host.find(':') != std::string::npos || address.host.empty()
                      ? AF_INET6
                      : AF_INET;
    int fd = listeners_.Acquire(spec);
    if (fd < 0 && address.host.empty()) {
      spec.family = AF_INET;  // no IPv6 here: every IPv4 address
      fd = listeners_.Acquire(spec);
    }
    if (fd < 0) {
      return Status::Error(fmt::format("--listen {}:{}: {}", address.host, address.port,
                                       std::strerror(-fd)));
    }
    listen_fds_.push_back(fd);
  }
  std::string notify_name;
  if (Status s = os::NotifySocket(&notify_fd_, &notify_name); !s.ok()) {
    Log(Level::kWarning, "no NOTIFY_SOCKET for workers: {}", s.message());
  } else if (Status w = loop_->Watch(notify_fd_.get(), EPOLLIN,
                                     [this](uint32_t) { OnNotifyReady(); });
             w.ok()) {
    base_env_.push_back("NOTIFY_SOCKET=" + notify_name);
  }
#ifdef CINIT_HAVE_SHIM
  if (config_.bind_shim) {
    // Named by content: cinits of other versions sharing /run (tests, or a host's
    // many containers) never replace each other's image under a starting worker.
    std::span<const unsigned char> image = ShimImage();
    uint64_t hash = 14695981039346656037ULL;  // FNV-1a
    for (unsigned char byte : image) {
      hash = (hash ^ byte) * 1099511628211ULL;
    }
    std::string name = fmt::format("cinit_shim-{:016x}.so", hash);
    if (Status s = os::WriteSharedFile(name, image, &shim_path_); !s.ok()) {
      Log(Level::kWarning,
          "cannot write the bind shim ({}): workers will bind their ports themselves",
          s.message());
    } else {
      Log(Level::kDebug, "bind shim at {}", shim_path_);
      // For processes that lost the inherited channel (Node's child_process does
      // not pass fds beyond stdio, so `npm start` → node would): they connect here.
      if (Status l =
              os::ListeningSeqpacket("cinit-shim", &shim_listener_, &shim_socket_name_);
          !l.ok()) {
        Log(Level::kWarning, "no shim socket: {}", l.message());
      } else if (Status w = loop_->Watch(shim_listener_.get(), EPOLLIN,
                                         [this](uint32_t) { OnShimConnection(); });
                 !w.ok()) {
        shim_socket_name_.clear();
      }
    }
  }
#else
  if (config_.bind_shim) {
    Log(Level::kWarning,
        "this build has no bind shim: workers bind their ports themselves");
  }
#endif
  return Status::Ok();
}

WorkerSpawned Workers::Spawn(int worker_id, int slot) {
  os::SpawnSpec spec;
  spec.argv = config_.command;
  spec.take_terminal = false;
  spec.cwd_fd = config_.cwd_fd;
  std::vector<std::string> env = base_env_;
  env.push_back(fmt::format("{}={}", config_.instance_var, slot));
  spec.fds = listen_fds_;
  if (!listen_fds_.empty()) {
    env.push_back(fmt::format("LISTEN_FDS={}", listen_fds_.size()));
    std::string names;
    for (const auto& address : config_.listen) {
      names += fmt::format("{}{}", names.empty() ? "" : ":", address.port);
    }
    env.push_back("LISTEN_FDNAMES=" + names);
    spec.set_listen_pid = true;
  }
  os::UniqueFd ours;
  os::UniqueFd theirs;
  if (config_.node_ipc) {
    if (Status s = os::SocketPair(SOCK_STREAM, &ours, &theirs); !s.ok()) {
      return WorkerSpawned{worker_id, 0, s.message()};
    }
    env.push_back(fmt::format("NODE_UNIQUE_ID={}", worker_id));
    env.push_back(fmt::format("NODE_CHANNEL_FD={}", 3 + spec.fds.size()));
    env.push_back("NODE_CHANNEL_SERIALIZATION_MODE=json");
    spec.fds.push_back(theirs.get());
  }
  os::UniqueFd shim_ours;
  os::UniqueFd shim_theirs;
  if (!shim_path_.empty()) {
    if (Status s = os::SocketPair(SOCK_SEQPACKET, &shim_ours, &shim_theirs); !s.ok()) {
      return WorkerSpawned{worker_id, 0, s.message()};
    }
    std::erase_if(env, [](const std::string& e) { return e.starts_with("LD_PRELOAD="); });
    env.push_back("LD_PRELOAD=" + shim_path_ +
                  (ld_preload_.empty() ? "" : " " + ld_preload_));
    env.push_back(fmt::format("CINIT_SHIM_FD={}", 3 + spec.fds.size()));
    if (!shim_socket_name_.empty()) {
      env.push_back("CINIT_SHIM_SOCKET=" + shim_socket_name_);
    }
    spec.fds.push_back(shim_theirs.get());
  }
  os::UniqueFd out;
  os::UniqueFd err;
  if (config_.relay != nullptr) {
    if (Status s = config_.relay->AddWorker(slot, &out, &err); !s.ok()) {
      Log(Level::kWarning, "worker {}: output not prefixed: {}", slot, s.message());
    } else {
      spec.stdout_fd = out.get();
      spec.stderr_fd = err.get();
    }
  }
  spec.env = std::move(env);
  pid_t pid = 0;
  if (Status s = os::Spawn(spec, &pid); !s.ok()) {
    return WorkerSpawned{worker_id, 0, s.message()};
  }
  if (worker_of_pid_.size() > 4096) {
    std::erase_if(worker_of_pid_,
                  [](const auto& entry) { return !os::IsAlive(entry.first); });
  }
  worker_of_pid_[pid] = PidEntry{worker_id, slot};
  if (shim_ours.valid()) {
    shim_workers_[worker_id] = ShimWorker{slot, pid, false};
    WatchShimChannel(worker_id, slot, std::move(shim_ours));
    loop_->AddTimer(Clock::now() + kShimHelloWait,
                    [this, worker_id] { CheckShimLoaded(worker_id); });
  }
  if (ours.valid()) {
    auto channel = std::make_unique<Channel>();
    channel->worker_id = worker_id;
    channel->slot = slot;
    channel->fd = std::move(ours);
    int fd = channel->fd.get();
    Status watched = loop_->Watch(
        fd, EPOLLIN | EPOLLRDHUP,
        [this, worker_id](uint32_t events) { OnChannelReady(worker_id, events); });
    if (watched.ok()) {
      channels_[worker_id] = std::move(channel);
    } else {
      Log(Level::kWarning, "worker {}: cannot watch its IPC channel: {}", slot,
          watched.message());
    }
  }
  return WorkerSpawned{worker_id, pid, {}};
}

void Workers::AskToLeave(int worker_id) {
  auto it = channels_.find(worker_id);
  if (it == channels_.end()) {
    return;
  }
  Channel& channel = *it->second;
  Send(channel, node::EncodeShutdown());
  Send(channel, node::EncodeDisconnect(channel.seq++));
}

void Workers::WatchShimChannel(int worker_id, int slot, os::UniqueFd fd) {
  int number = fd.get();
  auto channel = std::make_unique<ShimChannel>();
  channel->worker_id = worker_id;
  channel->slot = slot;
  channel->fd = std::move(fd);
  if (loop_->Watch(number, EPOLLIN, [this, number](uint32_t) { OnShimReady(number); })
          .ok()) {
    shim_channels_[number] = std::move(channel);
  }
}

void Workers::OnShimConnection() {
  for (int round = 0; round < 16; ++round) {
    os::UniqueFd connection;
    int pid = 0;
    if (!os::AcceptWithPid(shim_listener_.get(), &connection, &pid)) {
      return;
    }
    if (auto worker = WorkerOfPid(pid)) {
      WatchShimChannel(worker->worker_id, worker->slot, std::move(connection));
    } else {
      Log(Level::kDebug, "shim connection from pid {}, which is no worker's", pid);
    }
  }
}

void Workers::OnShimReady(int fd) {
  auto it = shim_channels_.find(fd);
  if (it == shim_channels_.end()) {
    return;
  }
  const int worker_id = it->second->worker_id;
  const int slot = it->second->slot;
  auto worker = shim_workers_.find(worker_id);
  for (int round = 0; round < 16; ++round) {
    char buf[128];
    std::vector<os::UniqueFd> fds;
    ssize_t n = os::ReceiveDatagram(fd, buf, sizeof(buf), &fds);
    if (n == -EAGAIN) {
      return;
    }
    if (n == 0 || (n < 0 && n != -EMSGSIZE)) {
      // Every process holding this end is gone.
      (void)loop_->Unwatch(fd);
      shim_channels_.erase(fd);
      return;
    }
    shim::Message message =
        n < 0 ? shim::Message(shim::Invalid{"an oversized datagram"})
              : shim::Decode(std::string_view(buf, static_cast<size_t>(n)),
                             static_cast<int>(fds.size()));
    if (const auto* hello = std::get_if<shim::Hello>(&message)) {
      // Every process image of the worker's tree says HELLO (wrappers too): log the
      // first.
      if (worker != shim_workers_.end() && !worker->second.hello_seen) {
        Log(Level::kDebug, "worker {}: bind shim loaded in pid {}", slot, hello->pid);
        worker->second.hello_seen = true;
      }
    } else if (const auto* bind = std::get_if<shim::BindRequest>(&message)) {
      os::SocketSpec spec;
      spec.family = bind->family;
      spec.type = bind->socktype;
      spec.address =
          bind->address == "0.0.0.0" || bind->address == "::" ? "" : bind->address;
      spec.port = bind->port;
      spec.v6only = bind->v6only;
      spec.reuseport_slot =
          config_.balance_reuseport && spec.type == SOCK_STREAM ? slot : -1;
      int socket = listeners_.Acquire(spec);
      const os::UniqueFd& reply_channel = fds.front();
      if (socket >= 0) {
        os::SendWithFd(reply_channel.get(), shim::EncodeReply(0, 0), socket);
        report_(WorkerReport{worker_id, WorkerReport::Kind::kListening});
      } else {
        os::SendWithFd(reply_channel.get(), shim::EncodeReply(-socket, 0), -1);
      }
      // The report may have ended this channel's entry: look again.
      if (shim_channels_.find(fd) == shim_channels_.end()) {
        return;
      }
    } else {
      // fds (a reply channel, if any) close here: the shim falls back to a real bind.
      Log(Level::kWarning, "worker {}: dropping a malformed bind-shim message ({})", slot,
          std::get<shim::Invalid>(message).why);
    }
  }
}

std::optional<Workers::PidEntry> Workers::WorkerOfPid(int pid) {
  // The sender may be the worker or something it runs (`sh -c` → the app).
  for (int depth = 0; depth < 8 && pid > 1; ++depth) {
    if (auto it = worker_of_pid_.find(pid); it != worker_of_pid_.end()) {
      return it->second;
    }
    pid = os::ParentOf(pid);
  }
  return std::nullopt;
}

void Workers::OnNotifyReady() {
  for (int round = 0; round < 16; ++round) {
    char buf[4096];
    int pid = 0;
    ssize_t n = os::ReceiveNotify(notify_fd_.get(), buf, sizeof(buf), &pid);
    if (n < 0) {
      return;  // EAGAIN (drained); nothing else can fail on a bound datagram socket
    }
    if (!notify::SaysReady(std::string_view(buf, static_cast<size_t>(n)))) {
      continue;
    }
    if (auto worker = WorkerOfPid(pid)) {
      report_(WorkerReport{worker->worker_id, WorkerReport::Kind::kReady});
    } else {
      Log(Level::kDebug, "READY=1 from pid {}, which is no worker's", pid);
    }
  }
}

void Workers::CheckShimLoaded(int worker_id) {
  auto it = shim_workers_.find(worker_id);
  if (it == shim_workers_.end()) {
    return;
  }
  ShimWorker worker = it->second;
  shim_workers_.erase(it);  // checked once; later HELLOs need no bookkeeping
  if (worker.hello_seen || !os::IsAlive(worker.pid)) {
    return;
  }
  Log(Level::kWarning,
      "worker {} (pid {}): the bind shim did not load (a static or set-uid program, or "
      "LD_PRELOAD removed on the way); if it binds the shared port itself, workers will "
      "collide: use --listen (LISTEN_FDS) or Node's IPC instead",
      worker.slot, worker.pid);
}

void Workers::OnChannelReady(int worker_id, uint32_t events) {
  auto it = channels_.find(worker_id);
  if (it == channels_.end()) {
    return;
  }
  Channel& channel = *it->second;
  if (events & EPOLLOUT) {
    Flush(channel);
  }
  if (!(events & (EPOLLIN | EPOLLHUP | EPOLLRDHUP | EPOLLERR))) {
    return;
  }
  char buf[kReadChunk];
  // Bounded: at most a few chunks per wake-up, so one chatty worker cannot starve
  // the loop; level-triggered epoll brings us back for the rest.
  for (int round = 0; round < 8; ++round) {
    ssize_t n = os::Receive(channel.fd.get(), buf, sizeof(buf));
    if (n == -EAGAIN) {
      return;
    }
    if (n <= 0) {
      CloseChannel(worker_id);  // EOF: the worker disconnected or exited
      return;
    }
    lines_.clear();
    uint64_t dropped = channel.splitter.dropped();
    channel.splitter.Feed(std::string_view(buf, static_cast<size_t>(n)), &lines_);
    if (channel.splitter.dropped() != dropped) {
      Log(Level::kWarning, "worker channel {}: dropped a message longer than {} bytes",
          worker_id, node::kMaxLine);
    }
    for (const auto& line : lines_) {
      OnLine(channel, line);
      if (channels_.find(worker_id) == channels_.end()) {
        return;
      }
    }
  }
}

void Workers::OnLine(Channel& channel, std::string_view line) {
  node::Message message = node::Parse(line);
  const int id = channel.worker_id;
  std::visit(
      [&](auto& m) {
        using T = std::decay_t<decltype(m)>;
        if constexpr (std::is_same_v<T, node::UserReady>) {
          report_(WorkerReport{id, WorkerReport::Kind::kReady});
        } else if constexpr (std::is_same_v<T, node::ClusterOnline>) {
          report_(WorkerReport{id, WorkerReport::Kind::kBooted});
        } else if constexpr (std::is_same_v<T, node::ServerQuery>) {
          AnswerQuery(channel, m);
        } else if constexpr (std::is_same_v<T, node::ClusterListening>) {
          report_(WorkerReport{id, WorkerReport::Kind::kListening});
        } else if constexpr (std::is_same_v<T, node::ExitedAfterDisconnect>) {
          Send(channel, node::EncodeAck(m.seq, channel.seq++));
        } else if constexpr (std::is_same_v<T, node::HandleAck>) {
          channel.handle_in_flight.reset();
          Flush(channel);
        } else if constexpr (std::is_same_v<T, node::HandleNack>) {
          if (channel.handle_in_flight) {  // the fd did not arrive: send it again
            channel.queue.push_front(*channel.handle_in_flight);
            channel.handle_in_flight.reset();
            Flush(channel);
          }
        } else if constexpr (std::is_same_v<T, node::ClusterClose>) {
          Log(Level::kDebug, "worker channel {}: a server closed", id);
        } else if constexpr (std::is_same_v<T, node::Ignored>) {
          Log(Level::kDebug, "worker channel {}: ignoring {}", id, m.what);
        } else if constexpr (std::is_same_v<T, node::Malformed>) {
          Log(Level::kWarning, "worker channel {}: dropping a malformed message ({})", id,
              m.why);
        }
      },
      message);
}

void Workers::AnswerQuery(Channel& channel, const node::ServerQuery& query) {
  using Type = node::ServerQuery::Type;
  int fd = -EINVAL;
  if (query.type == Type::kPipe) {
    Log(Level::kWarning, "worker channel {}: Unix socket servers are not shared by cinit",
        channel.worker_id);
    fd = -ENOTSUP;
  } else if (query.fd >= 0) {
    // listen({fd: N}) names the primary's fd N: the --listen socket the worker
    // also has at N.
    size_t index = static_cast<size_t>(query.fd) - 3;
    fd = query.fd >= 3 && index < listen_fds_.size() ? listen_fds_[index] : -EBADF;
  } else {
    os::SocketSpec spec;
    spec.type =
        query.type == Type::kUdp4 || query.type == Type::kUdp6 ? SOCK_DGRAM : SOCK_STREAM;
    spec.port = query.port;
    spec.v6only = query.ipv6_only;
    bool tcp = spec.type == SOCK_STREAM;
    // Port 0 ("any free port") must stay one socket: the workers' ports would differ.
    spec.reuseport_slot =
        config_.balance_reuseport && tcp && query.port != 0 ? channel.slot : -1;
    if (query.address) {
      spec.address = *query.address;
      spec.family =
          query.type == Type::kTcp6 || query.type == Type::kUdp6 ? AF_INET6 : AF_INET;
      fd = listeners_.Acquire(spec);
    } else {
      // As Node does for listen(port): every address, IPv6 (dual-stack) first,
      // IPv4 if that fails.
      spec.family = AF_INET6;
      fd = listeners_.Acquire(spec);
      if (fd < 0) {
        spec.family = AF_INET;
        spec.v6only = false;
        fd = listeners_.Acquire(spec);
      }
    }
  }
  std::string key = node::HandleKey(query);
  if (fd < 0) {
    Send(channel, node::EncodeQueryReply(query, channel.seq++, key, fd, false));
  } else {
    Send(channel, node::EncodeQueryReply(query, channel.seq++, key, 0, true), fd);
  }
}

void Workers::Send(Channel& channel, std::string bytes, int fd) {
  channel.queue.push_back(Outgoing{std::move(bytes), fd});
  Flush(channel);
}

void Workers::Flush(Channel& channel) {
  // One handle in flight per channel: after a message carrying a descriptor,
  // nothing new starts until the worker ACKs it. Node's own sender works the same
  // way, because its reader takes at most one descriptor per read.
  while (!channel.queue.empty()) {
    if (channel.handle_in_flight && channel.front_offset == 0) {
      break;
    }
    Outgoing& next = channel.queue.front();
    int fd = channel.front_offset == 0 ? next.fd : -1;
    std::string_view rest = std::string_view(next.bytes).substr(channel.front_offset);
    ssize_t n = os::SendWithFd(channel.fd.get(), rest, fd);
    if (n == -EAGAIN) {
      break;
    }
    if (n < 0) {
      // EPIPE/ECONNRESET: the worker is gone; the read side reports the EOF.
      channel.queue.clear();
      channel.front_offset = 0;
      break;
    }
    if (fd >= 0) {
      channel.handle_in_flight = next;  // kept to send again on a NACK
    }
    channel.front_offset += static_cast<size_t>(n);
    if (channel.front_offset == next.bytes.size()) {
      channel.queue.pop_front();
      channel.front_offset = 0;
    }
  }
  bool want =
      !channel.queue.empty() && (!channel.handle_in_flight || channel.front_offset > 0);
  if (want != channel.writable_wanted) {
    channel.writable_wanted = want;
    (void)loop_->Modify(channel.fd.get(), EPOLLIN | EPOLLRDHUP | (want ? EPOLLOUT : 0u));
  }
}

void Workers::CloseChannel(int worker_id) {
  auto it = channels_.find(worker_id);
  if (it == channels_.end()) {
    return;
  }
  (void)loop_->Unwatch(it->second->fd.get());
  channels_.erase(it);
  report_(WorkerReport{worker_id, WorkerReport::Kind::kChannelClosed});
}

}  // namespace cinit
