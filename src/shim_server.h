// ShimServer: cinit's side of the bind shim (shim/shim_protocol.h), which non-Node
// workers preload. Writes the shim's image to a file for LD_PRELOAD, listens on an
// abstract socket for processes that lost their inherited channel (Node's
// child_process passes only stdio, so under `npm start` the app does), and answers
// each BIND with a shared socket. Appends to the EventQueue what the Policy must
// know: a worker listens (it got its socket), its shim loaded (HELLO). No policy.
#ifndef CINIT_SHIM_SERVER_H_
#define CINIT_SHIM_SERVER_H_

#include <map>
#include <string>

#include "event_loop.h"
#include "os/unique_fd.h"
#include "shared_sockets.h"
#include "worker_table.h"

namespace cinit {

class ShimServer {
 public:
  ShimServer(EventLoop* loop, const WorkerTable* table, SharedSockets* sockets)
      : loop_(loop), table_(table), sockets_(sockets) {}
  ~ShimServer();
  ShimServer(const ShimServer&) = delete;
  ShimServer& operator=(const ShimServer&) = delete;

  // Writes the shim's file and opens the abstract socket. When the file cannot be
  // written (or this build has no shim) it warns and path() stays empty: workers
  // then bind their ports themselves.
  void Open();
  // The shim's file for LD_PRELOAD; empty: no shim.
  const std::string& path() const { return path_; }
  // CINIT_SHIM_SOCKET ("@cinit-shim-…"); empty: none.
  const std::string& socket_name() const { return socket_name_; }

  // Takes cinit's end of worker_id's inherited shim channel and watches it.
  void Add(int worker_id, os::UniqueFd fd);
  // Closes every channel of the worker (the Policy forgot it).
  void Drop(int worker_id);

 private:
  void OnConnection();
  void OnReady(int fd, EventQueue* queue);
  void Close(int fd);

  EventLoop* loop_;
  const WorkerTable* table_;
  SharedSockets* sockets_;
  std::string path_;
  os::UniqueFd listener_;  // abstract SOCK_SEQPACKET socket: CINIT_SHIM_SOCKET
  std::string socket_name_;
  // One per connection: the worker's inherited channel, or a connection a process
  // of its tree made to the abstract socket. By fd; the value is its worker's id.
  std::map<int, std::pair<int, os::UniqueFd>> channels_;
};

}  // namespace cinit

#endif  // CINIT_SHIM_SERVER_H_
