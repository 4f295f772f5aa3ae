// ShimCodec: cinit's side of the bind-shim protocol (shim/shim_protocol.h), as
// pure functions: datagram bytes in, a decided message out; a reply out.
#ifndef CINIT_SHIM_CODEC_H_
#define CINIT_SHIM_CODEC_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <variant>

#include "listener.h"

namespace cinit::shim {

struct Hello {
  int pid = 0;
};

// A worker's bind() of a TCP/UDP port, to be answered with cinit's socket: what
// bind_rule.h's SharedBind made of the facts the shim sent.
struct BindRequest {
  int pid = 0;
  ListenRequest listen;  // family, host (numeric), port, transport, v6only
};

struct Invalid {
  std::string why;
};

using Message = std::variant<Hello, BindRequest, Invalid>;

// Decodes one datagram; fds is how many descriptors came with it (a BIND must
// carry exactly one, its reply channel).
Message Decode(std::string_view datagram, int fds);

// The REPLY datagram: error 0 (the socket goes with it) or an errno value.
std::string EncodeReply(int error, int pid);

}  // namespace cinit::shim

#endif  // CINIT_SHIM_CODEC_H_
