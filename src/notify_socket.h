// NotifySocket: systemd's sd_notify protocol for cluster workers. Each worker gets a
// datagram socket of its own (NOTIFY_SOCKET, an abstract name), so a READY=1 names
// its worker by the socket it arrives on, also when its sender has already exited
// (`systemd-notify --ready` in a wrapper script exits at once). It appends that
// worker's kReady report to the EventQueue when the sender may speak for it:
//   - a sender that is still alive must be in that worker's tree (WorkerTable's
//     rule: ancestry, the worker's start time, uid);
//   - a sender that is gone can no longer be traced: it must have run as cinit's
//     uid or the worker's.
// No policy.
#ifndef CINIT_NOTIFY_SOCKET_H_
#define CINIT_NOTIFY_SOCKET_H_

#include <map>
#include <string>

#include "event_loop.h"
#include "os/unique_fd.h"
#include "worker_table.h"

namespace cinit {

class NotifySocket {
 public:
  NotifySocket(EventLoop* loop, const WorkerTable* table) : loop_(loop), table_(table) {}
  ~NotifySocket();
  NotifySocket(const NotifySocket&) = delete;
  NotifySocket& operator=(const NotifySocket&) = delete;

  // Opens and watches worker_id's socket. Returns its NOTIFY_SOCKET name
  // ("@cinit-notify-…"), or empty (after a warning) when it cannot.
  std::string Add(int worker_id);
  // Closes worker_id's socket.
  void Drop(int worker_id);

 private:
  void OnReady(int fd, int worker_id, EventQueue* queue);

  EventLoop* loop_;
  const WorkerTable* table_;
  std::map<int, os::UniqueFd> sockets_;  // by worker id
};

}  // namespace cinit

#endif  // CINIT_NOTIFY_SOCKET_H_
