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
  Log(Level::kInfo, "health endpoint on {}", candidates.front().Key());
  return loop_->Watch(listener_.get(), os::kReadable,
                      [this](uint32_t, EventQueue*) { OnAcceptable(); });
}

std::optional<TimePoint> HealthServer::NextDeadline() const {
  std::optional<TimePoint> next;
  for (const auto& [fd, connection] : connections_) {
    if (!next || connection.deadline < *next) {
      next = connection.deadline;
    }
  }
  return next;
}

void HealthServer::Expire(TimePoint now) {
  std::vector<int> late;
  for (const auto& [fd, connection] : connections_) {
    if (connection.deadline <= now) {
      late.push_back(fd);
    }
  }
  for (int fd : late) {
    Close(fd);  // too slow: a probe that takes this long has failed anyway
  }
}

void HealthServer::OnAcceptable() {
  for (int round = 0; round < 16; ++round) {
    int fd = os::Accept(listener_.get());
    if (fd < 0) {
      return;  // EAGAIN, or a transient error (EMFILE…): try again on the next wake-up
    }
    os::UniqueFd owned(fd);
    if (connections_.size() >= kMaxConnections) {
      // At the bound: make room by dropping the oldest connection, which is the
      // likeliest to be a slow or idle one, so a fresh probe is still answered.
      auto oldest = std::min_element(
          connections_.begin(), connections_.end(),
          [](const auto& a, const auto& b) { return a.second.serial < b.second.serial; });
      Close(oldest->first);
    }
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
  connections_.erase(it);
}

}  // namespace cinit
