#include "shim_codec.h"

#include <fmt/format.h>
#include <sys/socket.h>

#include <cstring>

#include "bind_rule.h"
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
  // The shim checked the socket's domain and that it has no port yet; the one
  // rule decides the rest.
  BindCall call;
  call.family = request.family;
  std::memcpy(call.addr.data(), request.addr, sizeof(request.addr));
  call.port = request.port;
  call.domain = request.family;
  call.type = request.socktype;
  call.protocol = request.protocol;
  call.v6only = request.v6only != 0;
  std::optional<ListenRequest> listen = SharedBind(call);
  if (!listen) {
    return Invalid{fmt::format("a BIND of family {} type {} protocol {} port {}",
                               request.family, request.socktype, request.protocol,
                               request.port)};
  }
  return BindRequest{header.pid, std::move(*listen)};
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
