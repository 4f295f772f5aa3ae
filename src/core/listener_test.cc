#include "listener.h"

#include <doctest/doctest.h>

namespace cinit {

TEST_SUITE("listener") {
  TEST_CASE("no host: dual-stack IPv6 first, IPv4 where there is no IPv6") {
    ListenRequest request;
    request.port = 8080;
    auto specs = ListenerCandidates(request);
    REQUIRE(specs.size() == 2);
    CHECK(specs[0].ipv6);
    CHECK(!specs[0].v6only);
    CHECK(specs[0].address.empty());
    CHECK(specs[0].Key() == "tcp [::]:8080 (IPv4 too)");
    CHECK(!specs[1].ipv6);
    CHECK(specs[1].Key() == "tcp 0.0.0.0:8080");
  }

  TEST_CASE("the family follows the host when none is asked for") {
    ListenRequest request;
    request.port = 80;
    request.host = "127.0.0.1";
    auto v4 = ListenerCandidates(request);
    REQUIRE(v4.size() == 1);
    CHECK(!v4[0].ipv6);
    CHECK(v4[0].Key() == "tcp 127.0.0.1:80");
    request.host = "::1";
    auto v6 = ListenerCandidates(request);
    REQUIRE(v6.size() == 1);
    CHECK(v6[0].ipv6);
    CHECK(v6[0].Key() == "tcp [::1]:80 (IPv4 too)");
  }

  TEST_CASE("0.0.0.0 and :: are every address of their family") {
    ListenRequest request;
    request.port = 80;
    request.host = "0.0.0.0";
    auto v4 = ListenerCandidates(request);
    REQUIRE(v4.size() == 1);
    CHECK(v4[0].address.empty());
    CHECK(!v4[0].ipv6);
    request.host = "::";
    auto v6 = ListenerCandidates(request);
    REQUIRE(v6.size() == 1);
    CHECK(v6[0].address.empty());
    CHECK(v6[0].ipv6);
    CHECK(v6[0].Key() == "tcp [::]:80 (IPv4 too)");
  }

  TEST_CASE("an asked-for family wins, and v6only is kept for IPv6 only") {
    ListenRequest request;
    request.port = 53;
    request.transport = Transport::kUdp;
    request.family = ListenRequest::Family::kIPv6;
    request.v6only = true;
    auto v6 = ListenerCandidates(request);
    REQUIRE(v6.size() == 1);
    CHECK(v6[0].Key() == "udp [::]:53");
    request.family = ListenRequest::Family::kIPv4;
    auto v4 = ListenerCandidates(request);
    REQUIRE(v4.size() == 1);
    CHECK(!v4[0].v6only);
  }

  TEST_CASE("reuseport slots are for TCP sockets of a real port") {
    ListenRequest request;
    request.port = 8080;
    request.reuseport_slot = 2;
    auto tcp = ListenerCandidates(request);
    CHECK(tcp[0].reuseport_slot == 2);
    CHECK(tcp[1].reuseport_slot == 2);
    CHECK(tcp[0].Key() == "tcp [::]:8080 (IPv4 too) (SO_REUSEPORT, worker 2)");
    request.port = 0;
    CHECK(ListenerCandidates(request)[0].reuseport_slot == -1);
    request.port = 8080;
    request.transport = Transport::kUdp;
    CHECK(ListenerCandidates(request)[0].reuseport_slot == -1);
  }
}

}  // namespace cinit
