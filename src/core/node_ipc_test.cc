#include "node_ipc.h"

#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

namespace cinit {

TEST_SUITE("line_splitter") {
  TEST_CASE("splits on newlines and keeps a partial line for later") {
    LineSplitter splitter(100);
    std::vector<std::string> lines;
    splitter.Feed("a\nbc", &lines);
    CHECK(lines == std::vector<std::string>{"a"});
    splitter.Feed("d\n\ne\n", &lines);
    CHECK(lines == std::vector<std::string>{"a", "bcd", "", "e"});
    CHECK(splitter.buffered() == 0);
  }

  TEST_CASE("a line longer than the bound is dropped whole and the stream resyncs") {
    LineSplitter splitter(8);
    std::vector<std::string> lines;
    splitter.Feed("12345", &lines);
    splitter.Feed("67890abc", &lines);  // now over 8 bytes without a newline
    CHECK(splitter.buffered() == 0);
    splitter.Feed("more garbage\nok\n", &lines);
    CHECK(lines == std::vector<std::string>{"ok"});
    CHECK(splitter.dropped() == 1);
  }

  TEST_CASE("a line of exactly the bound is kept") {
    LineSplitter splitter(3);
    std::vector<std::string> lines;
    splitter.Feed("abc\n", &lines);
    CHECK(lines == std::vector<std::string>{"abc"});
  }
}

TEST_SUITE("node_ipc") {
  using namespace node;

  TEST_CASE("pm2 readiness strings") {
    CHECK(std::holds_alternative<UserReady>(Parse("\"ready\"")));
    CHECK(std::holds_alternative<UserReady>(Parse("\"online\"")));
    CHECK(std::holds_alternative<Ignored>(Parse("\"hello\"")));
    CHECK(std::holds_alternative<Ignored>(Parse("{\"type\":\"ready\"}")));
    CHECK(std::holds_alternative<Ignored>(Parse("42")));
  }

  TEST_CASE("garbage is malformed, never an exception") {
    for (std::string_view bad :
         {"", "{", "not json", "\"unterminated", "{\"cmd\":}", "\xff\xfe"}) {
      CAPTURE(bad);
      CHECK(std::holds_alternative<Malformed>(Parse(bad)));
    }
  }

  TEST_CASE("cluster messages from a Node 20 worker") {
    CHECK(std::holds_alternative<ClusterOnline>(
        Parse(R"({"cmd":"NODE_CLUSTER","act":"online","seq":0})")));
    CHECK(std::holds_alternative<ClusterListening>(Parse(
        R"({"cmd":"NODE_CLUSTER","act":"listening","index":0,"data":null,"address":null,"port":3000,"addressType":4,"seq":2})")));
    CHECK(std::holds_alternative<HandleAck>(Parse(R"({"cmd":"NODE_HANDLE_ACK"})")));
    CHECK(std::holds_alternative<HandleNack>(Parse(R"({"cmd":"NODE_HANDLE_NACK"})")));
    auto exited =
        Parse(R"({"cmd":"NODE_CLUSTER","act":"exitedAfterDisconnect","seq":7})");
    REQUIRE(std::holds_alternative<ExitedAfterDisconnect>(exited));
    CHECK(std::get<ExitedAfterDisconnect>(exited).seq == 7);
  }

  TEST_CASE("queryServer: listen(port) with no host") {
    auto message = Parse(
        R"({"cmd":"NODE_CLUSTER","act":"queryServer","index":0,"data":null,"address":null,"port":3000,"addressType":4,"seq":1})");
    REQUIRE(std::holds_alternative<ServerQuery>(message));
    const auto& q = std::get<ServerQuery>(message);
    CHECK(q.seq == 1);
    CHECK_FALSE(q.address);
    CHECK(q.port == 3000);
    CHECK(q.type == ServerQuery::Type::kTcp4);
    CHECK_FALSE(q.ipv6_only);
  }

  TEST_CASE("queryServer: IPv6 only, UDP, pipes, listen({fd})") {
    auto v6 = std::get<ServerQuery>(Parse(
        R"({"cmd":"NODE_CLUSTER","act":"queryServer","address":"::1","port":80,"addressType":6,"flags":1,"seq":3})"));
    CHECK(v6.type == ServerQuery::Type::kTcp6);
    CHECK(*v6.address == "::1");
    CHECK(v6.ipv6_only);
    auto udp = std::get<ServerQuery>(Parse(
        R"({"cmd":"NODE_CLUSTER","act":"queryServer","address":"0.0.0.0","port":53,"addressType":"udp4","seq":4})"));
    CHECK(udp.type == ServerQuery::Type::kUdp4);
    auto pipe = std::get<ServerQuery>(Parse(
        R"({"cmd":"NODE_CLUSTER","act":"queryServer","address":"/tmp/s","port":-1,"addressType":-1,"seq":5})"));
    CHECK(pipe.type == ServerQuery::Type::kPipe);
    auto fd = std::get<ServerQuery>(Parse(
        R"({"cmd":"NODE_CLUSTER","act":"queryServer","address":null,"port":null,"addressType":null,"fd":3,"seq":6})"));
    CHECK(fd.fd == 3);
  }

  TEST_CASE("queryServer without what it needs is malformed") {
    CHECK(std::holds_alternative<Malformed>(
        Parse(R"({"cmd":"NODE_CLUSTER","act":"queryServer","port":3000})")));
    CHECK(std::holds_alternative<Malformed>(
        Parse(R"({"cmd":"NODE_CLUSTER","act":"queryServer","port":70000,"seq":1})")));
    CHECK(std::holds_alternative<Malformed>(Parse(
        R"({"cmd":"NODE_CLUSTER","act":"queryServer","port":1,"addressType":"tcp9","seq":1})")));
  }

  TEST_CASE("the reply to queryServer acks its seq and wraps the handle") {
    ServerQuery q;
    q.seq = 9;
    q.port = 3000;
    std::string line = EncodeQueryReply(q, 2, "k", 0, true);
    REQUIRE(line.back() == '\n');
    auto json = nlohmann::json::parse(line);
    CHECK(json["cmd"] == "NODE_HANDLE");
    CHECK(json["type"] == "net.Native");
    CHECK(json["msg"]["cmd"] == "NODE_CLUSTER");
    CHECK(json["msg"]["ack"] == 9);
    CHECK(json["msg"]["seq"] == 2);
    CHECK(json["msg"]["errno"] == 0);
    CHECK(json["msg"]["key"] == "k");

    q.type = ServerQuery::Type::kUdp6;
    CHECK(nlohmann::json::parse(EncodeQueryReply(q, 2, "k", 0, true))["type"] ==
          "dgram.Native");

    auto error = nlohmann::json::parse(EncodeQueryReply(q, 3, "k", -98, false));
    CHECK(error["cmd"] == "NODE_CLUSTER");
    CHECK(error["errno"] == -98);
  }

  TEST_CASE("shutdown, disconnect and acks") {
    CHECK(EncodeShutdown() == "\"shutdown\"\n");
    auto disconnect = nlohmann::json::parse(EncodeDisconnect(4));
    CHECK(disconnect["act"] == "disconnect");
    CHECK(disconnect["seq"] == 4);
    auto ack = nlohmann::json::parse(EncodeAck(7, 5));
    CHECK(ack["ack"] == 7);
    CHECK_FALSE(ack.contains("act"));
  }

  TEST_CASE("queryServer port and fd out of range are refused before any narrowing") {
    // A port beyond 32 bits that wraps to 80 in an int, and an fd that wraps to 3.
    CHECK(std::holds_alternative<Malformed>(
        Parse(R"({"cmd":"NODE_CLUSTER","act":"queryServer","seq":1,"port":4294967376,)"
              R"("addressType":4})")));
    CHECK(std::holds_alternative<Malformed>(Parse(
        R"({"cmd":"NODE_CLUSTER","act":"queryServer","seq":1,"port":0,"fd":4294967299,)"
        R"("addressType":4})")));
    auto ok = Parse(
        R"({"cmd":"NODE_CLUSTER","act":"queryServer","seq":1,"port":80,"addressType":4})");
    REQUIRE(std::holds_alternative<ServerQuery>(ok));
    CHECK(std::get<ServerQuery>(ok).port == 80);
  }
}

}  // namespace cinit
