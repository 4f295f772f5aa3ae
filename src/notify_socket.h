// NotifySocket: systemd's sd_notify protocol for cluster workers. One datagram
// socket (NOTIFY_SOCKET, an abstract name) shared by every worker; a READY=1 from a
// process of a live worker's tree appends that worker's kReady report to the
// EventQueue. No policy.
#ifndef CINIT_NOTIFY_SOCKET_H_
#define CINIT_NOTIFY_SOCKET_H_

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

  // Opens and watches the socket; on failure warns, and name() stays empty.
  void Open();
  // NOTIFY_SOCKET for the workers ("@cinit-notify-…"); empty: none.
  const std::string& name() const { return name_; }

 private:
  void OnReady(EventQueue* queue);

  EventLoop* loop_;
  const WorkerTable* table_;
  os::UniqueFd fd_;
  std::string name_;
};

}  // namespace cinit

#endif  // CINIT_NOTIFY_SOCKET_H_
