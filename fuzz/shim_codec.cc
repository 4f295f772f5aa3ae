// Fuzz target: the bind shim's datagrams as cinit decodes them (Decode in
// src/core/shim_codec.h), with any number of descriptors attached. What Decode
// accepts encodes back to a datagram it decodes the same way; its own REPLY is never
// taken for a request; the listener rule takes every BIND it accepts.
#include "shim_codec.h"

#include <arpa/inet.h>
#include <fuzzer/FuzzedDataProvider.h>
#include <sys/socket.h>

#include <cstring>
#include <string>
#include <variant>

#include "fuzz_support.h"
#include "shim_protocol.h"

namespace {

namespace shim = cinit::shim;

std::string Bytes(const void* data, size_t size) {
  return std::string(static_cast<const char*>(data), size);
}

void CheckBind(const shim::BindRequest& bind, std::string_view datagram) {
  const cinit::ListenRequest& listen = bind.listen;
  FUZZ_CHECK(datagram.size() == sizeof(cinit_shim_bind_request));
  FUZZ_CHECK(listen.port >= 1 && listen.port <= 65535);
  FUZZ_CHECK(!listen.host.empty());
  FUZZ_CHECK(listen.family != cinit::ListenRequest::Family::kUnspecified);
  const bool ipv6 = listen.family == cinit::ListenRequest::Family::kIPv6;
  FUZZ_CHECK(!listen.v6only || ipv6);
  cinit_shim_bind_request original{};
  std::memcpy(&original, datagram.data(), sizeof(original));

  // The address text is the bytes it came from.
  unsigned char addr[16] = {};
  int family = ipv6 ? AF_INET6 : AF_INET;
  FUZZ_CHECK(inet_pton(family, listen.host.c_str(), addr) == 1);
  FUZZ_CHECK(std::memcmp(addr, original.addr, ipv6 ? 16 : 4) == 0);

  // Encoded again from what was understood, it decodes to the same request.
  cinit_shim_bind_request request{};
  request.header.magic = CINIT_SHIM_MAGIC;
  request.header.version = CINIT_SHIM_VERSION;
  request.header.type = CINIT_SHIM_TYPE_BIND;
  request.header.pid = bind.pid;
  request.family = family;
  const bool udp = listen.transport == cinit::Transport::kUdp;
  request.socktype = udp ? SOCK_DGRAM : SOCK_STREAM;
  request.protocol = udp ? IPPROTO_UDP : IPPROTO_TCP;
  request.v6only = listen.v6only ? 1 : 0;
  request.port = static_cast<uint16_t>(listen.port);
  std::memcpy(request.addr, addr, sizeof(addr));
  shim::Message again = shim::Decode(Bytes(&request, sizeof(request)), 1);
  const auto* same = std::get_if<shim::BindRequest>(&again);
  FUZZ_CHECK(same != nullptr);
  FUZZ_CHECK(same->pid == bind.pid && same->listen.family == listen.family &&
             same->listen.transport == listen.transport &&
             same->listen.v6only == listen.v6only && same->listen.port == listen.port &&
             same->listen.host == listen.host);

  // What shim_server.cc asks the listener rule for.
  auto specs = cinit::ListenerCandidates(listen);
  FUZZ_CHECK(specs.size() == 1 && specs[0].ipv6 == ipv6 && specs[0].port == listen.port);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider in(data, size);
  int fds = in.ConsumeIntegralInRange(0, 3);
  std::string datagram = in.ConsumeRemainingBytesAsString();
  shim::Message message = shim::Decode(datagram, fds);

  if (const auto* hello = std::get_if<shim::Hello>(&message)) {
    FUZZ_CHECK(datagram.size() == sizeof(cinit_shim_hello));
    cinit_shim_hello encoded{};
    encoded.header.magic = CINIT_SHIM_MAGIC;
    encoded.header.version = CINIT_SHIM_VERSION;
    encoded.header.type = CINIT_SHIM_TYPE_HELLO;
    encoded.header.pid = hello->pid;
    FUZZ_CHECK(Bytes(&encoded, sizeof(encoded)) == datagram);
  } else if (const auto* bind = std::get_if<shim::BindRequest>(&message)) {
    FUZZ_CHECK(fds == 1);
    CheckBind(*bind, datagram);
  } else {
    FUZZ_CHECK(!std::get<shim::Invalid>(message).why.empty());
  }

  // cinit's REPLY, for any error and pid the datagram suggests.
  int error = datagram.size() >= 4 ? static_cast<unsigned char>(datagram[0]) : 0;
  int pid = datagram.size() >= 8 ? static_cast<unsigned char>(datagram[4]) : 1;
  std::string reply = shim::EncodeReply(error, pid);
  FUZZ_CHECK(reply.size() == sizeof(cinit_shim_reply));
  cinit_shim_reply decoded{};
  std::memcpy(&decoded, reply.data(), sizeof(decoded));
  FUZZ_CHECK(decoded.header.magic == CINIT_SHIM_MAGIC &&
             decoded.header.type == CINIT_SHIM_TYPE_REPLY && decoded.error == error &&
             decoded.header.pid == pid);
  FUZZ_CHECK(std::holds_alternative<shim::Invalid>(shim::Decode(reply, 0)));
  FUZZ_CHECK(std::holds_alternative<shim::Invalid>(shim::Decode(reply, 1)));
  return 0;
}
