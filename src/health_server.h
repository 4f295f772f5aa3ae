// HealthServer: the probe endpoint's shell. Accepts HTTP connections in cinit's event
// loop, reads one request head, answers it from a Snapshot (health.h) and closes.
// Never blocks the loop: every socket is non-blocking; at most kMaxConnections are
// open (a new one pushes out the oldest, so slow clients cannot lock probes out); a
// connection that has not sent a whole request head within kRequestTimeout is
// dropped (slowloris). No policy.
#ifndef CINIT_HEALTH_SERVER_H_
#define CINIT_HEALTH_SERVER_H_

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <string>

#include "event_loop.h"
#include "health.h"
#include "options.h"
#include "os/unique_fd.h"

namespace cinit {

class HealthServer {
 public:
  using SnapshotFn = std::function<health::Snapshot()>;

  static constexpr size_t kMaxConnections = 32;
  static constexpr std::chrono::milliseconds kRequestTimeout{2000};

  HealthServer(EventLoop* loop, SnapshotFn snapshot)
      : loop_(loop), snapshot_(std::move(snapshot)) {}
  ~HealthServer();
  HealthServer(const HealthServer&) = delete;
  HealthServer& operator=(const HealthServer&) = delete;

  // Listens on address (TCP). A failure is a start-up failure.
  Status Open(const ListenAddress& address);

 private:
  struct Connection {
    os::UniqueFd fd;
    std::string in;
    std::string out;
    size_t sent = 0;
    uint64_t serial = 0;
  };

  void OnAcceptable();
  void OnReady(int fd, uint32_t events);
  void Answer(Connection& connection, const health::Response& response);
  void Flush(int fd);
  void Close(int fd);

  EventLoop* loop_;
  SnapshotFn snapshot_;
  os::UniqueFd listener_;
  std::map<int, Connection> connections_;
  uint64_t next_serial_ = 1;
};

}  // namespace cinit

#endif  // CINIT_HEALTH_SERVER_H_
