#include "bind_rule.h"

#include <arpa/inet.h>
#include <doctest/doctest.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cstring>
#include <vector>

namespace cinit {
namespace {

std::vector<uint8_t> V4(const char* host, int port) {
  sockaddr_in in{};
  in.sin_family = AF_INET;
  in.sin_port = htons(static_cast<uint16_t>(port));
  inet_pton(AF_INET, host, &in.sin_addr);
  std::vector<uint8_t> bytes(sizeof(in));
  std::memcpy(bytes.data(), &in, sizeof(in));
  return bytes;
}

std::vector<uint8_t> V6(const char* host, int port) {
  sockaddr_in6 in{};
  in.sin6_family = AF_INET6;
  in.sin6_port = htons(static_cast<uint16_t>(port));
  inet_pton(AF_INET6, host, &in.sin6_addr);
  std::vector<uint8_t> bytes(sizeof(in));
  std::memcpy(bytes.data(), &in, sizeof(in));
  return bytes;
}

BindCall Tcp(const std::vector<uint8_t>& address) {
  BindCall call;
  REQUIRE(ParseSockaddr(address, &call));
  call.domain = call.family;
  call.type = SOCK_STREAM;
  call.protocol = IPPROTO_TCP;
  return call;
}

}  // namespace

TEST_SUITE("bind_rule") {
  TEST_CASE("a TCP bind of 127.0.0.1:8080 is the shared port's") {
    auto request = SharedBind(Tcp(V4("127.0.0.1", 8080)));
    REQUIRE(request);
    CHECK(request->family == ListenRequest::Family::kIPv4);
    CHECK(request->host == "127.0.0.1");
    CHECK(request->port == 8080);
    CHECK(request->transport == Transport::kTcp);
    CHECK_FALSE(request->v6only);
  }

  TEST_CASE("dual-stack [::]:80 and a v6only one keep what the socket says") {
    BindCall dual = Tcp(V6("::", 80));
    auto request = SharedBind(dual);
    REQUIRE(request);
    CHECK(request->family == ListenRequest::Family::kIPv6);
    CHECK(request->host == "::");
    CHECK_FALSE(request->v6only);
    dual.v6only = true;
    CHECK(SharedBind(dual)->v6only);
  }

  TEST_CASE("UDP is shared too") {
    BindCall call = Tcp(V4("0.0.0.0", 53));
    call.type = SOCK_DGRAM;
    call.protocol = IPPROTO_UDP;
    CHECK(SharedBind(call)->transport == Transport::kUdp);
  }

  TEST_CASE("port 0, a bound socket, another family or protocol: the real bind") {
    CHECK_FALSE(SharedBind(Tcp(V4("127.0.0.1", 0))));
    BindCall bound = Tcp(V4("127.0.0.1", 80));
    bound.bound = true;
    CHECK_FALSE(SharedBind(bound));
    BindCall mismatch = Tcp(V4("127.0.0.1", 80));
    mismatch.domain = AF_INET6;  // an IPv4 address on an IPv6 socket: EINVAL as is
    CHECK_FALSE(SharedBind(mismatch));
    BindCall sctp = Tcp(V4("127.0.0.1", 80));
    sctp.protocol = IPPROTO_SCTP;
    CHECK_FALSE(SharedBind(sctp));
    BindCall raw = Tcp(V4("127.0.0.1", 80));
    raw.type = SOCK_RAW;
    CHECK_FALSE(SharedBind(raw));
  }

  TEST_CASE("short, AF_UNIX and empty sockaddrs are not parsed") {
    BindCall call;
    auto v4 = V4("127.0.0.1", 80);
    CHECK_FALSE(ParseSockaddr(std::span(v4).first(sizeof(sockaddr_in) - 1), &call));
    CHECK_FALSE(ParseSockaddr({}, &call));
    std::vector<uint8_t> unix_path(110, 0);
    unix_path[0] = AF_UNIX;
    CHECK_FALSE(ParseSockaddr(unix_path, &call));
    auto v6 = V6("::1", 443);
    CHECK_FALSE(ParseSockaddr(std::span(v6).first(sizeof(sockaddr_in6) - 4), &call));
    REQUIRE(ParseSockaddr(v6, &call));
    CHECK(call.port == 443);
  }

  TEST_CASE("listen on a shared socket never changes it") {
    CHECK(DecideListen(false, false) == ListenVerdict::kRealListen);
    CHECK(DecideListen(false, true) == ListenVerdict::kRealListen);
    CHECK(DecideListen(true, true) == ListenVerdict::kNothing);
    CHECK(DecideListen(true, false) == ListenVerdict::kRelisten);
  }
}

}  // namespace cinit
