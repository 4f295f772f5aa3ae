// NodeChannels: the Node IPC channels of cluster mode's Node workers (cinit is
// their cluster primary). Reads each channel's lines, lets the worker's
// node::Conversation (node_conversation.h) decide what they mean, answers
// queryServer with a shared socket, and appends what the Policy must know
// (online, listening, ready) to the EventQueue as WorkerReports. No policy.
#ifndef CINIT_NODE_CHANNELS_H_
#define CINIT_NODE_CHANNELS_H_

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "event_loop.h"
#include "line_splitter.h"
#include "node_conversation.h"
#include "node_ipc.h"
#include "os/unique_fd.h"
#include "shared_sockets.h"
#include "worker_table.h"

namespace cinit {

class NodeChannels {
 public:
  NodeChannels(EventLoop* loop, const WorkerTable* table, SharedSockets* sockets)
      : loop_(loop), table_(table), sockets_(sockets) {}
  ~NodeChannels();
  NodeChannels(const NodeChannels&) = delete;
  NodeChannels& operator=(const NodeChannels&) = delete;

  // Takes cinit's end of worker_id's socketpair and watches it.
  void Add(int worker_id, os::UniqueFd fd);
  // Sends pm2's 'shutdown' and Node's cluster disconnect.
  void AskToLeave(int worker_id);
  // Closes the worker's channel (the Policy forgot it).
  void Drop(int worker_id);

 private:
  struct Channel {
    os::UniqueFd fd;
    LineSplitter splitter{node::kMaxLine};
    node::Conversation talk;
    bool writable_wanted = false;
  };

  void OnReady(int worker_id, uint32_t events, EventQueue* queue);
  void OnLine(int worker_id, Channel& channel, std::string_view line, EventQueue* queue);
  void AnswerQuery(int worker_id, Channel& channel, const node::ServerQuery& query);
  void Flush(Channel& channel);

  EventLoop* loop_;
  const WorkerTable* table_;
  SharedSockets* sockets_;
  std::map<int, std::unique_ptr<Channel>> channels_;  // by worker id
  std::vector<std::string> lines_;                    // scratch
};

}  // namespace cinit

#endif  // CINIT_NODE_CHANNELS_H_
