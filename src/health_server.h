// HealthServer: the probe endpoint's shell. Accepts HTTP connections in cinit's
// event loop and reads one request head from each. A bad head is answered at once;
// a good one waits for the end of the loop turn, when the shell answers every
// waiting request from one Snapshot of the settled state (Answer), so a probe sees
// what the turn's events did and the Policy is never called from here. Every answer
// closes its connection.
// Never blocks the loop: every socket is non-blocking; at most kMaxConnections are
// open (a new one pushes out the oldest, so slow clients cannot lock probes out); a
// connection not done within kRequestTimeout of its accept (a request head that
// never ends, an answer nobody reads: slowloris) is dropped, by a deadline the turn
// asks for (NextDeadline, Expire). No policy.
#ifndef CINIT_HEALTH_SERVER_H_
#define CINIT_HEALTH_SERVER_H_

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "event_loop.h"
#include "health.h"
#include "options.h"
#include "os/unique_fd.h"

namespace cinit {

class HealthServer {
 public:
  static constexpr size_t kMaxConnections = 32;
  static constexpr std::chrono::milliseconds kRequestTimeout{2000};

  explicit HealthServer(EventLoop* loop) : loop_(loop) {}
  ~HealthServer();
  HealthServer(const HealthServer&) = delete;
  HealthServer& operator=(const HealthServer&) = delete;

  // Listens on address (TCP; the rule of listener.h). A failure is a start-up
  // failure.
  Status Open(const ListenAddress& address);

  // True when requests wait for Answer().
  bool waiting() const { return waiting_ > 0; }
  // Answers every waiting request from snapshot.
  void Answer(const health::Snapshot& snapshot);

  // The earliest connection deadline, if any connection is open.
  std::optional<TimePoint> NextDeadline() const;
  // Drops the connections whose deadline has passed at now.
  void Expire(TimePoint now);

 private:
  struct Connection {
    os::UniqueFd fd;
    std::string in;
    std::string out;
    size_t sent = 0;
    uint64_t serial = 0;
    TimePoint deadline;
    std::optional<health::Request> request;  // parsed, waiting for Answer()
  };

  void OnAcceptable();
  void OnReady(int fd, uint32_t events);
  void Respond(Connection& connection, const health::Response& response);
  void Flush(int fd);
  void Close(int fd);

  EventLoop* loop_;
  os::UniqueFd listener_;
  std::map<int, Connection> connections_;
  uint64_t next_serial_ = 1;
  size_t waiting_ = 0;
};

}  // namespace cinit

#endif  // CINIT_HEALTH_SERVER_H_
