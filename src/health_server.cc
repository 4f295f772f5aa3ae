#include "health_server.h"

#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "log.h"
#include "os/socket.h"

namespace cinit {

HealthServer::~HealthServer() {
  for (auto& [fd, connection] : connections_) {
    (void)loop_->Unwatch(fd);
  }
  if (listener_.valid()) {
    (void)loop_->Unwatch(listener_.get());
  }
}

Status HealthServer::Open(const ListenAddress& address) {
  os::SocketSpec spec;
  spec.type = SOCK_STREAM;
  spec.port = address.port;
  spec.address = address.host;
  spec.family = address.host.find(':') != std::string::npos ? AF_INET6 : AF_INET;
  int fd = os::OpenListener(spec);
  if (fd < 0) {
    return Status::Error(fmt::format("--health {}:{}: {}", address.host, address.port,
                                     std::strerror(-fd)));
  }
  listener_.Reset(fd);
  Log(Level::kInfo, "health endpoint on {}", spec.Key());
  return loop_->Watch(listener_.get(), EPOLLIN, [this](uint32_t) { OnAcceptable(); });
}

void HealthServer::OnAcceptable() {
  for (int round = 0; round < 16; ++round) {
    int fd = accept4(listener_.get(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
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
             ->Watch(fd, EPOLLIN | EPOLLRDHUP,
                     [this, fd](uint32_t events) { OnReady(fd, events); })
             .ok()) {
      continue;
    }
    Connection& connection = connections_[fd];
    connection.fd = std::move(owned);
    connection.serial = next_serial_++;
    uint64_t serial = connection.serial;
    loop_->AddTimer(Clock::now() + kRequestTimeout, [this, fd, serial] {
      auto it = connections_.find(fd);
      if (it != connections_.end() && it->second.serial == serial) {
        Close(fd);  // too slow: a probe that takes this long has failed anyway
      }
    });
  }
}

void HealthServer::OnReady(int fd, uint32_t events) {
  auto it = connections_.find(fd);
  if (it == connections_.end()) {
    return;
  }
  Connection& connection = it->second;
  if (!connection.out.empty()) {
    if (events & (EPOLLOUT | EPOLLERR | EPOLLHUP)) {
      Flush(fd);
    }
    return;
  }
  char buf[2048];
  ssize_t n = read(fd, buf, sizeof(buf));
  if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
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
    Answer(connection, health::BadRequest(parsed.why));
    return;
  }
  Answer(connection, health::Respond(parsed.request, snapshot_()));
}

void HealthServer::Answer(Connection& connection, const health::Response& response) {
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
        send(fd, connection.out.data() + connection.sent,
             connection.out.size() - connection.sent, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0 && errno == EAGAIN) {
      (void)loop_->Modify(fd, EPOLLOUT | EPOLLRDHUP);
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
  (void)loop_->Unwatch(fd);
  connections_.erase(fd);
}

}  // namespace cinit
