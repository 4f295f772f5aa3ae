#include "node_ipc.h"

#include <fmt/format.h>

#include <cstdint>
#include <nlohmann/json.hpp>

#include "json_text.h"

namespace cinit {

namespace node {
namespace {

using nlohmann::json;

// libuv's UV_TCP_IPV6ONLY flag as Node passes it in queryServer.flags.
constexpr int kUvTcpIpv6Only = 1;

std::optional<int64_t> Integer(const json& object, const char* field) {
  auto it = object.find(field);
  if (it == object.end() || !it->is_number_integer()) {
    return std::nullopt;
  }
  return it->get<int64_t>();
}

Message ParseQuery(const json& msg) {
  ServerQuery query;
  auto seq = Integer(msg, "seq");
  if (!seq) {
    return Malformed{"queryServer without a seq"};
  }
  query.seq = *seq;
  if (auto it = msg.find("address"); it != msg.end() && it->is_string()) {
    query.address = it->get<std::string>();
  }
  // Nothing narrowed out of range: 4294967376 is no port 80 (the ports' own rule
  // is checked below, where it depends on the kind of server).
  auto port = Integer(msg, "port");
  if (port && (*port < INT32_MIN || *port > INT32_MAX)) {
    return Malformed{fmt::format("queryServer with port {}", *port)};
  }
  query.port = port ? static_cast<int>(*port) : 0;
  auto type = msg.find("addressType");
  if (type != msg.end() && type->is_string()) {
    std::string t = type->get<std::string>();
    if (t == "udp4") {
      query.type = ServerQuery::Type::kUdp4;
    } else if (t == "udp6") {
      query.type = ServerQuery::Type::kUdp6;
    } else {
      return Malformed{fmt::format("queryServer with addressType '{}'", t)};
    }
  } else if (type != msg.end() && type->is_number_integer()) {
    int64_t t = type->get<int64_t>();
    query.type = t == 6    ? ServerQuery::Type::kTcp6
                 : t == -1 ? ServerQuery::Type::kPipe
                           : ServerQuery::Type::kTcp4;
  }
  if (auto fd = Integer(msg, "fd")) {
    if (*fd < -1 || *fd > INT32_MAX) {
      return Malformed{fmt::format("queryServer with fd {}", *fd)};
    }
    query.fd = static_cast<int>(*fd);
  }
  if (auto flags = Integer(msg, "flags")) {
    query.ipv6_only = (*flags & kUvTcpIpv6Only) != 0;
  }
  if (query.type != ServerQuery::Type::kPipe && query.fd < 0 &&
      (query.port < 0 || query.port > 65535)) {
    return Malformed{fmt::format("queryServer with port {}", query.port)};
  }
  return query;
}

}  // namespace

Message Parse(std::string_view line) {
  json msg = json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (msg.is_discarded()) {
    return Malformed{"not JSON"};
  }
  if (msg.is_string()) {
    const auto& text = msg.get_ref<const std::string&>();
    if (text == "ready" || text == "online") {
      return UserReady{};
    }
    return Ignored{"a user message"};
  }
  if (!msg.is_object()) {
    return Ignored{"a user message"};
  }
  auto cmd = msg.find("cmd");
  if (cmd == msg.end() || !cmd->is_string()) {
    return Ignored{"a user message"};
  }
  const auto& command = cmd->get_ref<const std::string&>();
  if (command == "NODE_HANDLE_ACK") {
    return HandleAck{};
  }
  if (command == "NODE_HANDLE_NACK") {
    return HandleNack{};
  }
  if (command != "NODE_CLUSTER") {
    return Ignored{command};
  }
  auto act = msg.find("act");
  if (act == msg.end() || !act->is_string()) {
    return Ignored{"a cluster reply"};
  }
  const auto& action = act->get_ref<const std::string&>();
  if (action == "online") {
    return ClusterOnline{};
  }
  if (action == "queryServer") {
    return ParseQuery(msg);
  }
  if (action == "listening") {
    return ClusterListening{};
  }
  if (action == "close") {
    return ClusterClose{};
  }
  if (action == "exitedAfterDisconnect") {
    auto seq = Integer(msg, "seq");
    if (!seq) {
      return Malformed{"exitedAfterDisconnect without a seq"};
    }
    return ExitedAfterDisconnect{*seq};
  }
  return Ignored{"cluster act " + action};
}

std::string EncodeQueryReply(const ServerQuery& query, int64_t seq, std::string_view key,
                             int error, bool has_handle) {
  json reply = {{"cmd", "NODE_CLUSTER"}, {"errno", error},  {"key", key},
                {"ack", query.seq},      {"data", nullptr}, {"seq", seq}};
  if (!has_handle) {
    return JsonText(reply) + "\n";
  }
  bool udp =
      query.type == ServerQuery::Type::kUdp4 || query.type == ServerQuery::Type::kUdp6;
  json wrapper = {{"cmd", "NODE_HANDLE"},
                  {"type", udp ? "dgram.Native" : "net.Native"},
                  {"msg", std::move(reply)}};
  return JsonText(wrapper) + "\n";
}

std::string EncodeDisconnect(int64_t seq) {
  return JsonText({{"cmd", "NODE_CLUSTER"}, {"act", "disconnect"}, {"seq", seq}}) + "\n";
}

std::string EncodeAck(int64_t ack, int64_t seq) {
  return JsonText({{"cmd", "NODE_CLUSTER"}, {"ack", ack}, {"seq", seq}}) + "\n";
}

std::string EncodeShutdown() { return "\"shutdown\"\n"; }

std::string HandleKey(const ServerQuery& query) {
  return fmt::format("{}:{}:{}:{}", query.address.value_or(""), query.port,
                     static_cast<int>(query.type), query.ipv6_only ? 1 : 0);
}

}  // namespace node
}  // namespace cinit
