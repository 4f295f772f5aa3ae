// HealthServer: the probe endpoint's shell. Accepts HTTP connections in cinit's
// event loop and reads one request head from each. A bad head is answered at once;
// a good one waits for the end of the loop turn, when the shell answers every
// waiting request from one Snapshot of the settled state (Answer), so a probe sees
// what the turn's events did and the Policy is never called from here. Every answer
// closes its connection.
// Never blocks the loop, and a flood cannot lock probes out:
//   - every socket is non-blocking; a connection is read as soon as it is accepted
//     (a probe's request is usually there already);
//   - at most kMaxConnections are open: at the bound a new one pushes out the oldest
//     connection that has not sent a whole request head (idle or slow: a flooder's),
//     else the oldest whose answer is not read; never one whose request waits for
//     this turn's answers (then the new one waits in the backlog for a turn);
//   - a connection not done within kRequestTimeout of its accept (a head that never
//     ends, an answer nobody reads: slowloris) is dropped, by a deadline the turn
//     asks for (NextDeadline, Expire); connections are kept in accept order, which
//     is deadline order, so both are O(log n);
//   - out of descriptors (EMFILE), the oldest idle connection is closed to make room,
//     or the pending connection is shed (os::ShedConnection), or accepting pauses for
//     kPause: never a busy loop on a listener that stays readable.
// No policy.
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
  static constexpr size_t kMaxConnections = 1024;
  static constexpr std::chrono::milliseconds kRequestTimeout{2000};
  static constexpr std::chrono::milliseconds kPause{100};

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
  // Closes the oldest connection that has not sent a whole request head, else the
  // oldest whose answer is not read yet; false if every one waits for its answer.
  bool EvictIdle();
  void OnReady(int fd, uint32_t events);
  void Respond(Connection& connection, const health::Response& response);
  void Flush(int fd);
  void Close(int fd);

  EventLoop* loop_;
  os::UniqueFd listener_;
  std::map<int, Connection> connections_;
  std::map<uint64_t, int> by_age_;         // serial -> fd: accept order, deadline order
  std::optional<TimePoint> paused_until_;  // accepting paused: out of descriptors
  uint64_t next_serial_ = 1;
  size_t waiting_ = 0;
};

}  // namespace cinit

#endif  // CINIT_HEALTH_SERVER_H_
