#include "node_conversation.h"

#include <algorithm>
#include <type_traits>
#include <utility>
#include <variant>

namespace cinit::node {

Conversation::Heard Conversation::Receive(const Message& message) {
  return std::visit(
      [this](const auto& m) -> Heard {
        using T = std::decay_t<decltype(m)>;
        if constexpr (std::is_same_v<T, UserReady>) {
          return Heard::kReady;
        } else if constexpr (std::is_same_v<T, ClusterOnline>) {
          return Heard::kBooted;
        } else if constexpr (std::is_same_v<T, ClusterListening>) {
          return Heard::kListening;
        } else if constexpr (std::is_same_v<T, ServerQuery>) {
          return leaving_ ? Heard::kDropped : Heard::kQuery;
        } else if constexpr (std::is_same_v<T, ExitedAfterDisconnect>) {
          Queue(EncodeAck(m.seq, seq_++));
          return Heard::kNothing;
        } else if constexpr (std::is_same_v<T, HandleAck>) {
          handle_in_flight_.reset();
          return Heard::kNothing;
        } else if constexpr (std::is_same_v<T, HandleNack>) {
          if (handle_in_flight_ && front_offset_ == 0) {  // send it again
            queued_bytes_ += handle_in_flight_->bytes.size();
            queue_.push_front(std::move(*handle_in_flight_));
            handle_in_flight_.reset();
          }
          return Heard::kNothing;
        } else {
          return Heard::kNothing;  // close, ignored, malformed: the shell logs them
        }
      },
      message);
}

void Conversation::AnswerQuery(const ServerQuery& query, int fd) {
  std::string key = HandleKey(query);
  if (fd < 0) {
    Queue(EncodeQueryReply(query, seq_++, key, fd, false));
  } else {
    Queue(EncodeQueryReply(query, seq_++, key, 0, true), fd);
  }
}

void Conversation::AskToLeave() {
  leaving_ = true;
  Queue(EncodeShutdown());
  Queue(EncodeDisconnect(seq_++));
}

void Conversation::Queue(std::string bytes, int fd) {
  if (overflowed_ || queued_bytes_ + bytes.size() > kMaxQueuedBytes) {
    overflowed_ = true;
    return;
  }
  queued_bytes_ += bytes.size();
  queue_.push_back(Outgoing{std::move(bytes), fd});
}

std::optional<Conversation::Chunk> Conversation::Next() const {
  if (queue_.empty() || (handle_in_flight_ && front_offset_ == 0)) {
    return std::nullopt;
  }
  const Outgoing& next = queue_.front();
  return Chunk{std::string_view(next.bytes).substr(front_offset_),
               front_offset_ == 0 ? next.fd : -1};
}

void Conversation::Wrote(size_t n) {
  if (queue_.empty() || n == 0) {
    return;
  }
  Outgoing& next = queue_.front();
  n = std::min(n, next.bytes.size() - front_offset_);
  if (front_offset_ == 0 && next.fd >= 0) {
    handle_in_flight_ = next;  // kept to send again on a NACK
  }
  front_offset_ += n;
  queued_bytes_ -= n;
  if (front_offset_ >= next.bytes.size()) {
    queue_.pop_front();
    front_offset_ = 0;
  }
}

void Conversation::Abandon() {
  queue_.clear();
  front_offset_ = 0;
  handle_in_flight_.reset();
  queued_bytes_ = 0;
}

}  // namespace cinit::node
