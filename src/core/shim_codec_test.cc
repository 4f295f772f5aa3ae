#include "shim_codec.h"

#include <doctest/doctest.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cstring>

#include "shim_protocol.h"

namespace cinit {
namespace {

std::string Bytes(const void* data, size_t size) {
  return std::string(static_cast<const char*>(data), size);
}

cinit_shim_bind_request Request(int family, int type, int port) {
  cinit_shim_bind_request r{};
  r.header = {CINIT_SHIM_MAGIC, CINIT_SHIM_VERSION, CINIT_SHIM_TYPE_BIND, 77};
  r.family = family;
  r.socktype = type;
  r.protocol = type == SOCK_STREAM ? IPPROTO_TCP : IPPROTO_UDP;
  r.port = static_cast<uint16_t>(port);
  return r;
}

}  // namespace

TEST_SUITE("shim_codec") {
  TEST_CASE("HELLO") {
    cinit_shim_hello hello{
        {CINIT_SHIM_MAGIC, CINIT_SHIM_VERSION, CINIT_SHIM_TYPE_HELLO, 42}};
    auto message = shim::Decode(Bytes(&hello, sizeof(hello)), 0);
    REQUIRE(std::holds_alternative<shim::Hello>(message));
    CHECK(std::get<shim::Hello>(message).pid == 42);
  }

  TEST_CASE("BIND of 0.0.0.0:3000 over TCP") {
    auto r = Request(AF_INET, SOCK_STREAM, 3000);
    auto message = shim::Decode(Bytes(&r, sizeof(r)), 1);
    REQUIRE(std::holds_alternative<shim::BindRequest>(message));
    const auto& bind = std::get<shim::BindRequest>(message);
    CHECK(bind.pid == 77);
    CHECK(bind.listen.port == 3000);
    CHECK(bind.listen.host == "0.0.0.0");
    CHECK(bind.listen.transport == Transport::kTcp);
    CHECK(bind.listen.family == ListenRequest::Family::kIPv4);
  }

  TEST_CASE("BIND of [::1]:53 over UDP, v6only") {
    auto r = Request(AF_INET6, SOCK_DGRAM, 53);
    r.addr[15] = 1;
    r.v6only = 1;
    auto bind = std::get<shim::BindRequest>(shim::Decode(Bytes(&r, sizeof(r)), 1));
    CHECK(bind.listen.host == "::1");
    CHECK(bind.listen.v6only);
    CHECK(bind.listen.family == ListenRequest::Family::kIPv6);
    CHECK(bind.listen.transport == Transport::kUdp);
  }

  TEST_CASE("anything off is invalid, never trusted") {
    auto r = Request(AF_INET, SOCK_STREAM, 80);
    CHECK(std::holds_alternative<shim::Invalid>(shim::Decode(Bytes(&r, sizeof(r)), 0)));
    CHECK(std::holds_alternative<shim::Invalid>(shim::Decode(Bytes(&r, sizeof(r)), 2)));
    CHECK(
        std::holds_alternative<shim::Invalid>(shim::Decode(Bytes(&r, sizeof(r) - 1), 1)));
    CHECK(std::holds_alternative<shim::Invalid>(shim::Decode("", 0)));
    CHECK(std::holds_alternative<shim::Invalid>(
        shim::Decode("garbage and more garbage", 0)));
    auto bad_magic = r;
    bad_magic.header.magic = 1;
    CHECK(std::holds_alternative<shim::Invalid>(
        shim::Decode(Bytes(&bad_magic, sizeof(bad_magic)), 1)));
    auto port0 = Request(AF_INET, SOCK_STREAM, 0);
    CHECK(std::holds_alternative<shim::Invalid>(
        shim::Decode(Bytes(&port0, sizeof(port0)), 1)));
    auto unix_family = Request(AF_UNIX, SOCK_STREAM, 80);
    CHECK(std::holds_alternative<shim::Invalid>(
        shim::Decode(Bytes(&unix_family, sizeof(unix_family)), 1)));
  }

  TEST_CASE("REPLY layout") {
    std::string reply = shim::EncodeReply(98, 1);
    REQUIRE(reply.size() == sizeof(cinit_shim_reply));
    cinit_shim_reply decoded{};
    std::memcpy(&decoded, reply.data(), sizeof(decoded));
    CHECK(decoded.header.magic == CINIT_SHIM_MAGIC);
    CHECK(decoded.header.type == CINIT_SHIM_TYPE_REPLY);
    CHECK(decoded.error == 98);
  }
}

}  // namespace cinit
