#include "node_conversation.h"

#include <doctest/doctest.h>

#include <string>

namespace cinit::node {
namespace {

// Writes everything the conversation lets through, as a socket with room would.
std::string Drain(Conversation& c, int* fd_seen = nullptr) {
  std::string out;
  while (auto chunk = c.Next()) {
    if (chunk->fd >= 0 && fd_seen != nullptr) {
      *fd_seen = chunk->fd;
    }
    out += chunk->bytes;
    c.Wrote(chunk->bytes.size());
  }
  return out;
}

ServerQuery Query(int64_t seq) {
  ServerQuery query;
  query.seq = seq;
  query.port = 8080;
  return query;
}

}  // namespace

TEST_SUITE("node_conversation") {
  TEST_CASE("what the worker says, as cinit hears it") {
    Conversation c;
    CHECK(c.Receive(UserReady{}) == Conversation::Heard::kReady);
    CHECK(c.Receive(ClusterOnline{}) == Conversation::Heard::kBooted);
    CHECK(c.Receive(ClusterListening{}) == Conversation::Heard::kListening);
    CHECK(c.Receive(Query(1)) == Conversation::Heard::kQuery);
    CHECK(c.Receive(Ignored{"x"}) == Conversation::Heard::kNothing);
    CHECK(c.Receive(Malformed{"x"}) == Conversation::Heard::kNothing);
    CHECK(!c.wants_write());
  }

  TEST_CASE("one handle in flight: nothing new until its ACK") {
    Conversation c;
    c.AnswerQuery(Query(1), 42);
    c.AskToLeave();
    int fd = -1;
    std::string first = Drain(c, &fd);
    CHECK(fd == 42);
    CHECK(first.find("NODE_HANDLE") != std::string::npos);
    CHECK(first.find("shutdown") == std::string::npos);
    CHECK(!c.wants_write());
    c.Receive(HandleAck{});
    std::string rest = Drain(c);
    CHECK(rest.find("\"shutdown\"") != std::string::npos);
    CHECK(rest.find("disconnect") != std::string::npos);
    CHECK(c.queued_bytes() == 0);
  }

  TEST_CASE("a NACK sends the handle again, with its descriptor") {
    Conversation c;
    c.AnswerQuery(Query(3), 7);
    int fd = -1;
    std::string first = Drain(c, &fd);
    c.Receive(HandleNack{});
    int again = -1;
    std::string second = Drain(c, &again);
    CHECK(second == first);
    CHECK(again == 7);
    c.Receive(HandleAck{});
    CHECK(!c.wants_write());
  }

  TEST_CASE("partial writes resume where they stopped, the fd with the first byte") {
    Conversation c;
    c.AnswerQuery(Query(1), 9);
    auto chunk = c.Next();
    REQUIRE(chunk);
    std::string whole(chunk->bytes);
    CHECK(chunk->fd == 9);
    c.Wrote(5);
    auto rest = c.Next();
    REQUIRE(rest);  // the rest of the handle line still goes out before the ACK
    CHECK(rest->fd == -1);
    CHECK(std::string(rest->bytes) == whole.substr(5));
    c.Wrote(rest->bytes.size());
    CHECK(!c.Next());
  }

  TEST_CASE("an error reply carries no descriptor and needs no ACK") {
    Conversation c;
    c.AnswerQuery(Query(1), -98);
    int fd = -1;
    std::string reply = Drain(c, &fd);
    CHECK(fd == -1);
    CHECK(reply.find("-98") != std::string::npos);
    c.AskToLeave();
    CHECK(c.wants_write());
  }

  TEST_CASE("exitedAfterDisconnect is acked, with cinit's own sequence numbers") {
    Conversation c;
    c.AskToLeave();  // uses seq 0
    CHECK(c.Receive(ExitedAfterDisconnect{11}) == Conversation::Heard::kNothing);
    std::string out = Drain(c);
    CHECK(out.find(R"("ack":11)") != std::string::npos);
    CHECK(out.find(R"("seq":1)") != std::string::npos);
  }

  TEST_CASE("abandoned: nothing more is written") {
    Conversation c;
    c.AnswerQuery(Query(1), 5);
    c.AskToLeave();
    c.Abandon();
    CHECK(!c.wants_write());
    CHECK(c.queued_bytes() == 0);
  }

  TEST_CASE("a queryServer after the disconnect is dropped, as Node's primary does") {
    Conversation c;
    c.AskToLeave();
    std::string sent = Drain(c);
    CHECK(c.Receive(Query(7)) == Conversation::Heard::kDropped);
    CHECK_FALSE(c.wants_write());
    CHECK(sent.find("queryServer") == std::string::npos);
  }

  TEST_CASE("a worker that never reads overflows a bounded queue, not cinit's memory") {
    Conversation c;
    // Each exitedAfterDisconnect wants an ack; nobody reads them.
    int64_t seq = 0;
    while (!c.overflowed() && seq < 1000000) {
      c.Receive(ExitedAfterDisconnect{seq++});
    }
    CHECK(c.overflowed());
    CHECK(c.queued_bytes() <= Conversation::kMaxQueuedBytes);
    size_t before = c.queued_bytes();
    c.Receive(ExitedAfterDisconnect{seq++});
    CHECK(c.queued_bytes() == before);  // nothing more is kept
  }
}

}  // namespace cinit::node
