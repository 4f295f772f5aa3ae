#include "health_server.h"

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <vector>

#include "listener.h"
#include "log.h"
#include "os/epoll.h"
#include "os/io.h"
#include "os/socket.h"

namespace cinit {

HealthServer::~HealthServer() {
  for (auto& [fd, connection] : connections_) {
    loop_->Unwatch(fd);
  }
  if (listener_.valid()) {
    loop_->Unwatch(listener_.get());
  }
}

Status HealthServer::Open(const ListenAddress& address) {
  ListenRequest request;
  request.host = address.host;
  request.port = address.port;
  std::vector<ListenerSpec> candidates = ListenerCandidates(request);
  int fd = os::OpenListener(candidates);
  if (fd < 0) {
    return Status::Error(fmt::format("--health {}:{}: {}", address.host, address.port,
                                     std::strerror(-fd)));
  }
  listener_.Reset(fd);
  os::KeepSpareFd();
  Log(Level::kInfo, "health endpoint on {}", candidates.front().Key());
  return loop_->Watch(listener_.get(), os::kReadable,
                      [this](uint32_t, EventQueue*) { OnAcceptable(); });
}

std::optional<TimePoint> HealthServer::NextDeadline() const {
  std::optional<TimePoint> next = paused_until_;
  if (!by_age_.empty()) {
    TimePoint oldest = connections_.at(by_age_.begin()->second).deadline;
    if (!next || oldest < *next) {
      next = oldest;
    }
  }
  return next;
}

void HealthServer::Expire(TimePoint now) {
  while (!by_age_.empty()) {
    int fd = by_age_.begin()->second;
    if (connections_.at(fd).deadline > now) {
      break;
    }
    Close(fd);  // too slow: a probe that takes this long has failed anyway
  }
  if (paused_until_ && *paused_until_ <= now) {
    paused_until_.reset();
    (void)loop_->Modify(listener_.get(), os::kReadable);
  }
}

bool HealthServer::EvictIdle() {
  // First the oldest that has not sent a whole head, then the oldest whose answer
  // is not read; never one whose request waits for this turn's answers. A
  // candidate is read first: its request may be in, its event not handled yet.
  for (bool answered : {false, true}) {
    for (int tries = 0; tries < 4; ++tries) {
      int fd = -1;
      for (const auto& [serial, candidate] : by_age_) {
        const Connection& connection = connections_.at(candidate);
        if (!connection.request && connection.out.empty() != answered) {
          fd = candidate;
          break;
        }
      }
      if (fd < 0) {
        break;
      }
      const size_t open = connections_.size();
      if (!answered) {
        OnReady(fd, os::kReadable);
        if (connections_.size() < open) {
          return true;  // it closed, or was answered at once
        }
        if (connections_.at(fd).request) {
          continue;  // a request after all: it waits for its answer
        }
      }
      Close(fd);
      return true;
    }
  }
  return false;
}

void HealthServer::OnAcceptable() {
  for (int round = 0; round < 16; ++round) {
    if (connections_.size() >= kMaxConnections && !EvictIdle()) {
      // Every connection waits for this turn's answers, which free them: the
      // next connection waits in the kernel's backlog until the next turn.
      return;
    }
    int fd = os::Accept(listener_.get());
    if (fd < 0 && os::OutOfFds(-fd)) {
      // Make room: an idle connection goes, or the pending one is shed; with
      // neither, stop accepting for a moment rather than spin.
      if (EvictIdle() || os::ShedConnection(listener_.get())) {
        continue;
      }
      paused_until_ = Clock::now() + kPause;
      (void)loop_->Modify(listener_.get(), 0);
      Log(Level::kWarning, "health endpoint: out of file descriptors; pausing {} ms",
          kPause.count());
      return;
    }
    if (fd < 0) {
      return;  // EAGAIN: drained
    }
    os::UniqueFd owned(fd);
    if (!loop_
             ->Watch(fd, os::kReadable | os::kPeerClosed,
                     [this, fd](uint32_t events, EventQueue*) { OnReady(fd, events); })
             .ok()) {
      continue;
    }
    Connection& connection = connections_[fd];
    connection.fd = std::move(owned);
    connection.serial = next_serial_++;
    connection.deadline = Clock::now() + kRequestTimeout;
    by_age_[connection.serial] = fd;
    OnReady(fd, os::kReadable);  // the request is often there already
  }
}

void HealthServer::OnReady(int fd, uint32_t events) {
  auto it = connections_.find(fd);
  if (it == connections_.end()) {
    return;
  }
  Connection& connection = it->second;
  if (!connection.out.empty()) {
    if (events & (os::kWritable | os::kClosedOrError)) {
      Flush(fd);
    }
    return;
  }
  if (connection.request) {
    return;  // answered at the end of this turn
  }
  char buf[2048];
  ssize_t n = os::Read(fd, buf, sizeof(buf));
  if (n == -EAGAIN) {
    return;
  }
  if (n <= 0) {
    Close(fd);
    return;
  }
  connection.in.append(buf, static_cast<size_t>(n));
  health::Parsed parsed = health::ParseHead(connection.in);
  if (parsed.kind == health::Parsed::Kind::kIncomplete) {
    return;
  }
  if (parsed.kind == health::Parsed::Kind::kBad) {
    Respond(connection, health::BadRequest(parsed.why));
    return;
  }
  connection.request = std::move(parsed.request);
  ++waiting_;
  // Nothing more to read from it until it is answered.
  (void)loop_->Modify(fd, os::kPeerClosed);
}

void HealthServer::Answer(const health::Snapshot& snapshot) {
  std::vector<int> fds;
  for (const auto& [fd, connection] : connections_) {
    if (connection.request) {
      fds.push_back(fd);
    }
  }
  for (int fd : fds) {
    Connection& connection = connections_.at(fd);
    health::Request request = std::move(*connection.request);
    connection.request.reset();
    Respond(connection, health::Respond(request, snapshot));
  }
  waiting_ = 0;
}

void HealthServer::Respond(Connection& connection, const health::Response& response) {
  connection.out = response.Serialize();
  connection.in.clear();
  Flush(connection.fd.get());
}

void HealthServer::Flush(int fd) {
  auto it = connections_.find(fd);
  if (it == connections_.end()) {
    return;
  }
  Connection& connection = it->second;
  while (connection.sent < connection.out.size()) {
    ssize_t n =
        os::SendSome(fd, std::string_view(connection.out).substr(connection.sent));
    if (n == -EAGAIN) {
      (void)loop_->Modify(fd, os::kWritable | os::kPeerClosed);
      return;
    }
    if (n <= 0) {
      break;
    }
    connection.sent += static_cast<size_t>(n);
  }
  Close(fd);
}

void HealthServer::Close(int fd) {
  auto it = connections_.find(fd);
  if (it == connections_.end()) {
    return;
  }
  if (it->second.request) {
    --waiting_;
  }
  loop_->Unwatch(fd);
  by_age_.erase(it->second.serial);
  connections_.erase(it);
}

}  // namespace cinit
