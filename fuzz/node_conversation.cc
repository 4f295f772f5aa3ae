// Fuzz target: node::Conversation (src/core/node_conversation.h), cinit's half of a
// worker's IPC channel, driven by a script read from the input: lines a worker
// writes (parsed by node::Parse, as node_channels.cc does), acks and nacks, requests
// to leave, short writes, and a channel that breaks. Whatever the order, what cinit
// writes is whole JSON lines, at most one descriptor is in flight, a NACK sends the
// same line and descriptor again, and the byte count matches the queue.
#include "node_conversation.h"

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <variant>

#include "fuzz_support.h"
#include "node_ipc.h"

namespace {

using cinit::node::Conversation;
using nlohmann::json;

struct Model {
  std::string sent;         // every byte cinit wrote since the channel opened
  bool unacked = false;     // a descriptor went out and no ACK came back
  std::string handle_line;  // the line that carried it
  int handle_fd = -1;
  std::optional<std::string> resend;  // after a NACK: the line that must go again
  int resend_fd = -1;
  std::string line;  // the line being written, so far
  int line_fd = -1;
  int64_t last_seq = -1;

  bool at_boundary() const { return line.empty(); }
};

void CheckInvariants(const Conversation& talk, const Model& model) {
  auto next = talk.Next();
  FUZZ_CHECK(talk.wants_write() == next.has_value());
  if (next) {
    FUZZ_CHECK(!next->bytes.empty());
    FUZZ_CHECK(talk.queued_bytes() >= next->bytes.size());
    // A descriptor only goes with the first byte of a line.
    FUZZ_CHECK(next->fd == -1 || model.at_boundary());
  }
  // One handle in flight: no new line starts before the worker answers.
  if (model.unacked && model.at_boundary()) {
    FUZZ_CHECK(!next);
  }
  if (!next && !model.unacked) {
    FUZZ_CHECK(talk.queued_bytes() == 0);
  }
}

// A complete line cinit wrote.
void CheckSentLine(const std::string& line, bool is_resend, Model* model) {
  json value = json::parse(line, nullptr, /*allow_exceptions=*/false);
  FUZZ_CHECK(!value.is_discarded());
  if (value.is_object() && !is_resend) {
    const json& carrier = value.contains("msg") ? value["msg"] : value;
    if (carrier.contains("seq")) {
      int64_t seq = carrier["seq"].get<int64_t>();
      FUZZ_CHECK(seq > model->last_seq);  // cinit's sequence numbers only grow
      model->last_seq = seq;
    }
  }
}

void Write(Conversation* talk, Model* model, size_t want) {
  auto next = talk->Next();
  if (!next) {
    return;
  }
  size_t n = std::min(want, next->bytes.size());
  if (n == 0) {
    talk->Wrote(0);
    return;
  }
  if (model->at_boundary()) {
    model->line_fd = next->fd;
    if (model->resend) {
      // The line after a NACK is the one that was refused, with its descriptor.
      FUZZ_CHECK(std::string(next->bytes) == *model->resend);
      FUZZ_CHECK(next->fd == model->resend_fd);
    }
    if (next->fd != -1) {
      model->unacked = true;
      model->handle_fd = next->fd;
    }
  } else {
    FUZZ_CHECK(next->fd == -1);
  }
  std::string_view bytes = next->bytes.substr(0, n);
  model->sent.append(bytes);
  model->line.append(bytes);
  talk->Wrote(n);
  size_t newline = model->line.find('\n');
  if (newline != std::string::npos) {
    FUZZ_CHECK(newline == model->line.size() - 1);  // writes end at a line's end
    std::string line = model->line.substr(0, newline);
    bool is_resend = model->resend.has_value();
    if (model->line_fd != -1) {
      model->handle_line = model->line;
      json value = json::parse(line, nullptr, false);
      FUZZ_CHECK(value.is_object() && value.value("cmd", "") == "NODE_HANDLE");
    }
    CheckSentLine(line, is_resend, model);
    model->resend.reset();
    model->line.clear();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view script = cinit::fuzz::AsText(data, size);
  Conversation talk;
  Model model;
  bool leaving = false;  // AskToLeave was called: queries are dropped, not answered
  while (!script.empty()) {
    auto op = static_cast<unsigned char>(script.front());
    script.remove_prefix(1);
    auto arg = [&]() -> unsigned {
      if (script.empty()) {
        return 0;
      }
      auto value = static_cast<unsigned char>(script.front());
      script.remove_prefix(1);
      return value;
    };
    switch (op % 8) {
      case 0:
      case 1: {  // the worker writes a line
        size_t end = script.find('\n');
        std::string_view line = script.substr(0, end);
        script.remove_prefix(end == std::string_view::npos ? script.size() : end + 1);
        cinit::node::Message message = cinit::node::Parse(line);
        Conversation::Heard heard = talk.Receive(message);
        bool is_query = std::holds_alternative<cinit::node::ServerQuery>(message);
        const Conversation::Heard query_heard =
            leaving ? Conversation::Heard::kDropped : Conversation::Heard::kQuery;
        FUZZ_CHECK((heard == query_heard) == is_query);
        if (std::holds_alternative<cinit::node::HandleAck>(message)) {
          model.unacked = false;
        } else if (std::holds_alternative<cinit::node::HandleNack>(message) &&
                   model.unacked && model.at_boundary()) {
          model.unacked = false;
          model.resend = model.handle_line;
          model.resend_fd = model.handle_fd;
        }
        if (is_query && !leaving) {
          unsigned b = arg();
          int fd = (b & 1) != 0 ? 3 + static_cast<int>(b >> 1) % 4
                                : -(1 + static_cast<int>(b >> 1));
          talk.AnswerQuery(std::get<cinit::node::ServerQuery>(message), fd);
        }
        break;
      }
      case 2:
        talk.AskToLeave();
        leaving = true;
        break;
      case 3:
      case 4:  // a short write
        Write(&talk, &model, arg());
        break;
      case 5:  // the socket takes all it is given
        for (int i = 0; i < 64 && talk.Next(); ++i) {
          Write(&talk, &model, SIZE_MAX);
        }
        break;
      case 6: {  // an ACK or a NACK, without the JSON around it
        bool ack = (arg() & 1) != 0;
        if (ack) {
          talk.Receive(cinit::node::HandleAck{});
          model.unacked = false;
        } else {
          talk.Receive(cinit::node::HandleNack{});
          if (model.unacked && model.at_boundary()) {
            model.unacked = false;
            model.resend = model.handle_line;
            model.resend_fd = model.handle_fd;
          }
        }
        break;
      }
      case 7:  // EPIPE: the worker is gone
        talk.Abandon();
        FUZZ_CHECK(!talk.Next() && talk.queued_bytes() == 0);
        model = Model{.last_seq = model.last_seq};
        break;
    }
    CheckInvariants(talk, model);
  }
  return 0;
}
