// Fuzz target: Node IPC decoding (src/core/node_ipc.h) behind the line splitter, as
// node_channels.cc runs it on whatever a worker writes to NODE_CHANNEL_FD.
// Parse never throws; a queryServer it accepts survives a round trip through JSON;
// cinit's replies to it are one line of valid JSON that cinit itself would not take
// for a request; and the listener rule takes every query without failing.
#include "node_ipc.h"

#include <nlohmann/json.hpp>
#include <string>
#include <variant>
#include <vector>

#include "fuzz_support.h"
#include "json_text.h"
#include "line_splitter.h"
#include "listener.h"

namespace {

using cinit::node::ServerQuery;
using nlohmann::json;

// A queryServer line that says what query says, as Node would write it.
std::string Reencode(const ServerQuery& query) {
  json msg = {{"cmd", "NODE_CLUSTER"},
              {"act", "queryServer"},
              {"seq", query.seq},
              {"port", query.port},
              {"flags", query.ipv6_only ? 1 : 0}};
  msg["address"] = query.address ? json(*query.address) : json(nullptr);
  switch (query.type) {
    case ServerQuery::Type::kTcp4:
      msg["addressType"] = 4;
      break;
    case ServerQuery::Type::kTcp6:
      msg["addressType"] = 6;
      break;
    case ServerQuery::Type::kPipe:
      msg["addressType"] = -1;
      break;
    case ServerQuery::Type::kUdp4:
      msg["addressType"] = "udp4";
      break;
    case ServerQuery::Type::kUdp6:
      msg["addressType"] = "udp6";
      break;
  }
  if (query.fd != -1) {
    msg["fd"] = query.fd;
  }
  return cinit::JsonText(msg);
}

bool SameQuery(const ServerQuery& a, const ServerQuery& b) {
  return a.seq == b.seq && a.address == b.address && a.port == b.port &&
         a.type == b.type && a.fd == b.fd && a.ipv6_only == b.ipv6_only;
}

// A line cinit writes: one '\n', at the end, and valid JSON before it.
json CheckOurLine(const std::string& line) {
  FUZZ_CHECK(!line.empty() && line.back() == '\n');
  FUZZ_CHECK(line.find('\n') == line.size() - 1);
  json value = json::parse(line, nullptr, /*allow_exceptions=*/false);
  FUZZ_CHECK(!value.is_discarded());
  return value;
}

void CheckQuery(const ServerQuery& query) {
  if (query.type != ServerQuery::Type::kPipe && query.fd < 0) {
    FUZZ_CHECK(query.port >= 0 && query.port <= 65535);
  }
  // Strings that came out of the JSON parser are UTF-8, so nothing is replaced.
  if (query.address) {
    FUZZ_CHECK(cinit::fuzz::IsUtf8(*query.address));
  }

  cinit::node::Message again = cinit::node::Parse(Reencode(query));
  const auto* same = std::get_if<ServerQuery>(&again);
  FUZZ_CHECK(same != nullptr);
  FUZZ_CHECK(SameQuery(query, *same));

  std::string key = cinit::node::HandleKey(query);
  for (bool has_handle : {false, true}) {
    std::string reply =
        cinit::node::EncodeQueryReply(query, 7, key, has_handle ? 0 : -98, has_handle);
    json value = CheckOurLine(reply);
    const json& inner = has_handle ? value.at("msg") : value;
    FUZZ_CHECK(inner.at("ack") == query.seq);
    FUZZ_CHECK(inner.at("key") == key);
    // cinit's own replies are never requests.
    cinit::node::Message parsed = cinit::node::Parse(reply.substr(0, reply.size() - 1));
    FUZZ_CHECK(std::holds_alternative<cinit::node::Ignored>(parsed));
  }

  // What the shell makes of it (node_channels.cc AnswerQuery).
  if (query.type != ServerQuery::Type::kPipe && query.fd < 0) {
    cinit::ListenRequest request;
    bool udp =
        query.type == ServerQuery::Type::kUdp4 || query.type == ServerQuery::Type::kUdp6;
    request.transport = udp ? cinit::Transport::kUdp : cinit::Transport::kTcp;
    request.port = query.port;
    request.v6only = query.ipv6_only;
    if (query.address) {
      request.host = *query.address;
      request.family =
          query.type == ServerQuery::Type::kTcp6 || query.type == ServerQuery::Type::kUdp6
              ? cinit::ListenRequest::Family::kIPv6
              : cinit::ListenRequest::Family::kIPv4;
    }
    for (int slot : {-1, 2}) {
      request.reuseport_slot = slot;
      auto specs = cinit::ListenerCandidates(request);
      FUZZ_CHECK(specs.size() == 1 || specs.size() == 2);
      for (const auto& spec : specs) {
        FUZZ_CHECK(spec.port == query.port);
        FUZZ_CHECK(!spec.Key().empty());
      }
    }
  }
}

void CheckMessage(std::string_view line) {
  cinit::node::Message message = cinit::node::Parse(line);
  if (const auto* query = std::get_if<ServerQuery>(&message)) {
    CheckQuery(*query);
  } else if (const auto* exited =
                 std::get_if<cinit::node::ExitedAfterDisconnect>(&message)) {
    json ack = CheckOurLine(cinit::node::EncodeAck(exited->seq, 3));
    FUZZ_CHECK(ack.at("ack") == exited->seq);
  } else if (const auto* bad = std::get_if<cinit::node::Malformed>(&message)) {
    FUZZ_CHECK(!bad->why.empty());
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input = cinit::fuzz::AsText(data, size);
  // The whole input as one line, newlines and all.
  CheckMessage(input);

  // As a stream, in reads of 1..512 bytes.
  cinit::LineSplitter splitter(cinit::node::kMaxLine);
  std::vector<std::string> lines;
  cinit::fuzz::Chunker chunker(input, 512);
  for (std::string_view rest = input; !rest.empty();) {
    std::string_view chunk = rest.substr(0, chunker.Next());
    splitter.Feed(chunk, &lines);
    rest.remove_prefix(chunk.size());
  }
  for (const std::string& line : lines) {
    CheckMessage(line);
  }
  return 0;
}
