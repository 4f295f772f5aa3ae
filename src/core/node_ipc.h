// NodeIpc: the Node.js side of a worker's IPC channel, spoken by cinit as a cluster
// primary. Pure: bytes in, messages out; messages in, bytes out.
//
// Wire format ("json" serialization, Node's default; see
// ../shared/peers/cluster-anchors.md §2.3–2.7): an AF_UNIX stream socketpair whose
// child end is NODE_CHANNEL_FD; each message is one line, JSON.stringify(value)+'\n'.
// A file descriptor travels with SCM_RIGHTS on the sendmsg() that carries the line
// {"cmd":"NODE_HANDLE","type":"net.Native"|"dgram.Native","msg":<inner>}; the
// receiver answers {"cmd":"NODE_HANDLE_ACK"} (or _NACK: send it again), and only one
// handle may be in flight per channel. Cluster messages are objects
// {"cmd":"NODE_CLUSTER","act":…,"seq":n}; replies carry "ack":<seq of the request>.
//
// What cinit reads from a worker:
//   "ready" / "online"           the app's pm2-style readiness (process.send)
//   act "online"                 Node's cluster runtime started in the worker
//   act "queryServer"            server.listen(): answered with a listening handle
//   act "listening"              the server listens (pm2's reload gate)
//   act "exitedAfterDisconnect"  worker-initiated disconnect: answered with an ack
//   act "close"                  a server closed its handle (informational)
// What cinit writes:
//   NODE_HANDLE replies to queryServer, "shutdown" (pm2's graceful-stop message),
//   {"act":"disconnect"} (close your servers, then exit once idle), acks.
// Anything else is logged and dropped; a line longer than kMaxLine is dropped whole.
#ifndef CINIT_NODE_IPC_H_
#define CINIT_NODE_IPC_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "line_splitter.h"

namespace cinit {

namespace node {

// Longest line accepted from a worker. Cluster messages are a few hundred bytes;
// 64 KiB leaves room for big user messages that cinit ignores anyway.
inline constexpr size_t kMaxLine = 64 * 1024;

// What a server asks for in queryServer.
struct ServerQuery {
  int64_t seq = 0;
  std::optional<std::string> address;  // null: every address (dual-stack, IPv4 fallback)
  int port = 0;
  enum class Type { kTcp4, kTcp6, kUdp4, kUdp6, kPipe } type = Type::kTcp4;
  int fd = -1;             // listen({fd}): the primary's fd; unsupported by cinit
  bool ipv6_only = false;  // flags & UV_TCP_IPV6ONLY
};

struct UserReady {};         // "ready" or "online"
struct ClusterOnline {};     // act online
struct ClusterListening {};  // act listening
struct ClusterClose {};      // act close
struct ExitedAfterDisconnect {
  int64_t seq = 0;
};
struct HandleAck {};
struct HandleNack {};
// Valid JSON cinit has no use for (user messages, other internals).
struct Ignored {
  std::string what;
};
// Not JSON, or a cluster message missing what it needs.
struct Malformed {
  std::string why;
};

using Message =
    std::variant<UserReady, ClusterOnline, ServerQuery, ClusterListening, ClusterClose,
                 ExitedAfterDisconnect, HandleAck, HandleNack, Ignored, Malformed>;

// Parses one line from a worker. Never throws.
Message Parse(std::string_view line);

// Reply to a queryServer. error: 0 or a negative libuv/errno code (e.g. -98 for
// EADDRINUSE). With has_handle, the line is a NODE_HANDLE and must be sent with the
// listening socket attached.
std::string EncodeQueryReply(const ServerQuery& query, int64_t seq, std::string_view key,
                             int error, bool has_handle);
std::string EncodeDisconnect(int64_t seq);
std::string EncodeAck(int64_t ack, int64_t seq);
std::string EncodeShutdown();

// The key cinit gives a handle (opaque to the worker; echoed back in "close").
std::string HandleKey(const ServerQuery& query);

}  // namespace node
}  // namespace cinit

#endif  // CINIT_NODE_IPC_H_
