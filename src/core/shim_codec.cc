#include "shim_codec.h"

#include <arpa/inet.h>  // inet_ntop: formatting only
#include <fmt/format.h>
#include <sys/socket.h>

#include <cstring>

#include "shim_protocol.h"

namespace cinit::shim {

Message Decode(std::string_view datagram, int fds) {
  cinit_shim_header header{};
  if (datagram.size() < sizeof(header)) {
    return Invalid{fmt::format("{} bytes is too short", datagram.size())};
  }
  std::memcpy(&header, datagram.data(), sizeof(header));
  if (header.magic != CINIT_SHIM_MAGIC || header.version != CINIT_SHIM_VERSION) {
    return Invalid{"bad magic or version"};
  }
  if (header.type == CINIT_SHIM_TYPE_HELLO &&
      datagram.size() == sizeof(cinit_shim_hello)) {
    return Hello{header.pid};
  }
  if (header.type != CINIT_SHIM_TYPE_BIND ||
      datagram.size() != sizeof(cinit_shim_bind_request)) {
    return Invalid{fmt::format("type {} with {} bytes", header.type, datagram.size())};
  }
  if (fds != 1) {
    return Invalid{fmt::format("a BIND with {} descriptors", fds)};
  }
  cinit_shim_bind_request request{};
  std::memcpy(&request, datagram.data(), sizeof(request));
  BindRequest bind;
  bind.pid = header.pid;
  bind.v6only = request.v6only != 0;
  bind.port = request.port;
  if ((request.family != AF_INET && request.family != AF_INET6) ||
      (request.socktype != SOCK_STREAM && request.socktype != SOCK_DGRAM) ||
      bind.port == 0) {
    return Invalid{fmt::format("a BIND of family {} type {} port {}", request.family,
                               request.socktype, bind.port)};
  }
  bind.ipv6 = request.family == AF_INET6;
  bind.transport = request.socktype == SOCK_DGRAM ? Transport::kUdp : Transport::kTcp;
  char text[INET6_ADDRSTRLEN] = {};
  if (inet_ntop(request.family, request.addr, text, sizeof(text)) == nullptr) {
    return Invalid{"an unprintable address"};
  }
  bind.address = text;
  return bind;
}

std::string EncodeReply(int error, int pid) {
  cinit_shim_reply reply{};
  reply.header.magic = CINIT_SHIM_MAGIC;
  reply.header.version = CINIT_SHIM_VERSION;
  reply.header.type = CINIT_SHIM_TYPE_REPLY;
  reply.header.pid = pid;
  reply.error = error;
  return std::string(reinterpret_cast<const char*>(&reply), sizeof(reply));
}

}  // namespace cinit::shim
