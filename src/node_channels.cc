#include "node_channels.h"

#include <cerrno>

#include "log.h"
#include "os/epoll.h"
#include "os/socket.h"

namespace cinit {
namespace {

constexpr size_t kReadChunk = 16 * 1024;

}  // namespace

NodeChannels::~NodeChannels() {
  for (auto& [id, channel] : channels_) {
    loop_->Unwatch(channel->fd.get());
  }
}

void NodeChannels::Add(int worker_id, os::UniqueFd fd) {
  auto channel = std::make_unique<Channel>();
  channel->fd = std::move(fd);
  Status watched = loop_->Watch(channel->fd.get(), os::kReadable | os::kPeerClosed,
                                [this, worker_id](uint32_t events, EventQueue* queue) {
                                  OnReady(worker_id, events, queue);
                                });
  if (!watched.ok()) {
    Log(Level::kWarning, "worker channel {}: cannot watch it: {}", worker_id,
        watched.message());
    return;
  }
  channels_[worker_id] = std::move(channel);
}

void NodeChannels::AskToLeave(int worker_id) {
  auto it = channels_.find(worker_id);
  if (it == channels_.end()) {
    return;
  }
  it->second->talk.AskToLeave();
  Flush(*it->second);
}

void NodeChannels::Drop(int worker_id) {
  auto it = channels_.find(worker_id);
  if (it == channels_.end()) {
    return;
  }
  loop_->Unwatch(it->second->fd.get());
  channels_.erase(it);
}

void NodeChannels::OnReady(int worker_id, uint32_t events, EventQueue* queue) {
  auto it = channels_.find(worker_id);
  if (it == channels_.end()) {
    return;
  }
  Channel& channel = *it->second;
  if (events & os::kWritable) {
    Flush(channel);
  }
  if (!(events & (os::kReadable | os::kClosedOrError))) {
    return;
  }
  char buf[kReadChunk];
  // Bounded: at most a few chunks per wake-up, so one chatty worker cannot starve
  // the loop; level-triggered epoll brings us back for the rest.
  for (int round = 0; round < 8; ++round) {
    ssize_t n = os::Receive(channel.fd.get(), buf, sizeof(buf));
    if (n == -EAGAIN) {
      break;
    }
    if (n <= 0) {
      // EOF: the worker disconnected or exited. Its end is gone, so the channel
      // goes; the worker itself is the Policy's until it says ForgetWorker.
      Drop(worker_id);
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
      OnLine(worker_id, channel, line, queue);
    }
    if (channel.talk.overflowed()) {
      // Its Node exits when the channel closes; the Policy replaces it as it would
      // any worker that exits.
      Log(Level::kWarning,
          "worker channel {}: the worker does not read its channel ({} bytes waiting): "
          "closing it",
          worker_id, channel.talk.queued_bytes());
      Drop(worker_id);
      return;
    }
  }
  Flush(channel);  // what the lines' answers queued
}

void NodeChannels::OnLine(int worker_id, Channel& channel, std::string_view line,
                          EventQueue* queue) {
  node::Message message = node::Parse(line);
  using Heard = node::Conversation::Heard;
  switch (channel.talk.Receive(message)) {
    case Heard::kReady:
      queue->push_back(WorkerReport{worker_id, WorkerReport::Kind::kReady});
      return;
    case Heard::kBooted:
      queue->push_back(WorkerReport{worker_id, WorkerReport::Kind::kBooted});
      return;
    case Heard::kListening:
      queue->push_back(WorkerReport{worker_id, WorkerReport::Kind::kListening});
      return;
    case Heard::kQuery:
      AnswerQuery(worker_id, channel, std::get<node::ServerQuery>(message));
      return;
    case Heard::kDropped:
      Log(Level::kDebug, "worker channel {}: no answer to a queryServer after disconnect",
          worker_id);
      return;
    case Heard::kNothing:
      break;
  }
  if (std::holds_alternative<node::ClusterClose>(message)) {
    Log(Level::kDebug, "worker channel {}: a server closed", worker_id);
  } else if (const auto* ignored = std::get_if<node::Ignored>(&message)) {
    Log(Level::kDebug, "worker channel {}: ignoring {}", worker_id, ignored->what);
  } else if (const auto* bad = std::get_if<node::Malformed>(&message)) {
    Log(Level::kWarning, "worker channel {}: dropping a malformed message ({})",
        worker_id, bad->why);
  }
}

void NodeChannels::AnswerQuery(int worker_id, Channel& channel,
                               const node::ServerQuery& query) {
  using Type = node::ServerQuery::Type;
  int fd = -EINVAL;
  if (query.type == Type::kPipe) {
    Log(Level::kWarning, "worker channel {}: Unix socket servers are not shared by cinit",
        worker_id);
    fd = -ENOTSUP;
  } else if (query.fd >= 0) {
    // listen({fd: N}) names the primary's fd N: the --listen socket the worker
    // also has at N.
    const std::vector<int>& listen = sockets_->listen_fds();
    size_t index = static_cast<size_t>(query.fd) - 3;
    fd = query.fd >= 3 && index < listen.size() ? listen[index] : -EBADF;
  } else {
    ListenRequest request;
    request.transport = query.type == Type::kUdp4 || query.type == Type::kUdp6
                            ? Transport::kUdp
                            : Transport::kTcp;
    request.port = query.port;
    request.v6only = query.ipv6_only;
    if (query.address) {
      request.host = *query.address;
      request.family = query.type == Type::kTcp6 || query.type == Type::kUdp6
                           ? ListenRequest::Family::kIPv6
                           : ListenRequest::Family::kIPv4;
    }
    const WorkerTable::Entry* worker = table_->Find(worker_id);
    fd = sockets_->Acquire(request, worker != nullptr ? worker->slot : -1, worker_id,
                           /*nonblocking=*/true);
  }
  channel.talk.AnswerQuery(query, fd);
}

void NodeChannels::Flush(Channel& channel) {
  while (auto chunk = channel.talk.Next()) {
    ssize_t n = os::SendWithFd(channel.fd.get(), chunk->bytes, chunk->fd);
    if (n == -EAGAIN) {
      break;
    }
    if (n < 0) {
      // EPIPE/ECONNRESET: the worker is gone; the read side sees the EOF.
      channel.talk.Abandon();
      break;
    }
    channel.talk.Wrote(static_cast<size_t>(n));
  }
  bool want = channel.talk.wants_write();
  if (want != channel.writable_wanted) {
    channel.writable_wanted = want;
    (void)loop_->Modify(channel.fd.get(),
                        os::kReadable | os::kPeerClosed | (want ? os::kWritable : 0u));
  }
}

}  // namespace cinit
