// NodeConversation: cinit's half of one worker's Node IPC channel, as a state
// machine beside the codec (node_ipc.h). Pure: the shell feeds it the messages it
// parsed and the bytes it managed to write; it says what to write next and what
// the worker told cinit.
//
// What it keeps: the sequence numbers of cinit's cluster messages, the queue of
// lines to send (at most kMaxQueuedBytes), and the one-handle-in-flight rule: after a
// line that carries a descriptor, nothing new is written until the worker answers
// NODE_HANDLE_ACK (Node's own sender works this way, because its reader takes at most one
// descriptor per read); a NODE_HANDLE_NACK sends that line and its descriptor
// again. Descriptors are not owned: they are cinit's listeners, open for its life.
#ifndef CINIT_NODE_CONVERSATION_H_
#define CINIT_NODE_CONVERSATION_H_

#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <string_view>

#include "node_ipc.h"

namespace cinit::node {

class Conversation {
 public:
  // What a message from the worker means to cinit.
  enum class Heard {
    kNothing,    // handled here (acks), or nothing cinit acts on
    kReady,      // 'ready' / 'online' (pm2)
    kBooted,     // Node cluster 'online'
    kListening,  // Node cluster 'listening'
    kQuery,      // queryServer: the shell opens the socket and calls AnswerQuery
    kDropped,    // a queryServer after cinit's disconnect: not answered (Node's
                 // primary ignores it too; answering it trips an assertion in Node)
  };

  // The most bytes kept for a worker that does not read: what the protocol needs
  // in flight is a few lines; beyond this the worker is misbehaving.
  static constexpr size_t kMaxQueuedBytes = 256 * 1024;

  // Takes in one parsed message; queues what the protocol itself answers (the ack
  // of exitedAfterDisconnect, a resend after a NACK).
  Heard Receive(const Message& message);

  // Queues the reply to a queryServer: with fd >= 0 the listening socket, else the
  // error -fd.
  void AnswerQuery(const ServerQuery& query, int fd);
  // Queues pm2's 'shutdown' and Node's cluster disconnect.
  void AskToLeave();

  // The next bytes to write, and the descriptor to attach to them (-1: none);
  // nullopt when nothing may be written now.
  struct Chunk {
    std::string_view bytes;
    int fd = -1;
  };
  std::optional<Chunk> Next() const;
  // n bytes of Next() were written (its descriptor with the first of them).
  void Wrote(size_t n);
  // The worker's end is gone: nothing queued will ever be read.
  void Abandon();

  // True when Next() has something: the shell waits for the socket to be writable.
  bool wants_write() const { return Next().has_value(); }
  size_t queued_bytes() const { return queued_bytes_; }
  // True once a line did not fit in kMaxQueuedBytes (it was dropped): the shell
  // closes the channel.
  bool overflowed() const { return overflowed_; }

 private:
  struct Outgoing {
    std::string bytes;
    int fd = -1;
  };
  void Queue(std::string bytes, int fd = -1);

  std::deque<Outgoing> queue_;
  size_t front_offset_ = 0;                   // bytes of queue_.front() already written
  std::optional<Outgoing> handle_in_flight_;  // written, waiting for NODE_HANDLE_ACK
  int64_t seq_ = 0;
  size_t queued_bytes_ = 0;
  bool leaving_ = false;  // AskToLeave queued the disconnect
  bool overflowed_ = false;
};

}  // namespace cinit::node

#endif  // CINIT_NODE_CONVERSATION_H_
