// Fuzz target: what the seccomp notifier reads from a worker (the system call's
// numbers and arguments, the sockaddr bytes in its memory, its socket's options)
// → Classify / ClassifySocketcall, ParseSockaddr, SharedBind (core/trapped_call.h,
// core/bind_rule.h). Invariants: only bind and listen numbers are trapped calls;
// a shared bind is only an IPv4/IPv6 TCP/UDP socket of that family, unbound, with
// a port from 1 to 65535, and its host text is the address bytes it came from.
#include <arpa/inet.h>
#include <fuzzer/FuzzedDataProvider.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cstring>
#include <vector>

#include "bind_rule.h"
#include "fuzz_support.h"
#include "trapped_call.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider in(data, size);
  const uint32_t arches[] = {cinit::kArchX86_64, cinit::kArchI386,
                             in.ConsumeIntegral<uint32_t>()};
  const uint32_t arch = arches[in.ConsumeIntegralInRange(0, 2)];
  const int nr = in.ConsumeIntegral<int>();
  std::array<uint64_t, 6> args{};
  for (auto& arg : args) {
    arg = in.ConsumeIntegral<uint64_t>();
  }
  cinit::TrappedCall call = cinit::Classify(arch, nr, args);
  if (call.kind == cinit::TrappedCall::Kind::kSocketcall) {
    FUZZ_CHECK(arch == cinit::kArchI386 && nr == 102);
    std::array<uint32_t, 3> words{};
    for (auto& word : words) {
      word = in.ConsumeIntegral<uint32_t>();
    }
    call = cinit::ClassifySocketcall(call.socketcall, words);
    FUZZ_CHECK(call.kind != cinit::TrappedCall::Kind::kSocketcall);
  } else if (call.kind != cinit::TrappedCall::Kind::kOther) {
    const int base = nr & ~0x40000000;
    FUZZ_CHECK(arch == cinit::kArchX86_64 ? (base == 49 || base == 50)
                                          : (nr == 361 || nr == 363));
  }
  if (call.compat32) {
    FUZZ_CHECK(call.address <= 0xffffffffULL);
  }

  std::vector<uint8_t> sockaddr =
      in.ConsumeBytes<uint8_t>(in.ConsumeIntegralInRange(0, 130));
  cinit::BindCall bind;
  if (!cinit::ParseSockaddr(sockaddr, &bind)) {
    return 0;
  }
  FUZZ_CHECK(bind.family == AF_INET || bind.family == AF_INET6);
  FUZZ_CHECK(bind.port >= 0 && bind.port <= 65535);
  bind.domain = in.ConsumeBool() ? bind.family : in.ConsumeIntegral<int>();
  bind.type = in.ConsumeBool() ? SOCK_STREAM : in.ConsumeIntegral<int>();
  bind.protocol = in.ConsumeBool() ? IPPROTO_TCP : in.ConsumeIntegral<int>();
  bind.v6only = in.ConsumeBool();
  bind.bound = in.ConsumeBool();
  std::optional<cinit::ListenRequest> request = cinit::SharedBind(bind);
  if (!request) {
    return 0;
  }
  FUZZ_CHECK(!bind.bound && bind.domain == bind.family && bind.port >= 1);
  FUZZ_CHECK(request->port == bind.port);
  const bool ipv6 = request->family == cinit::ListenRequest::Family::kIPv6;
  FUZZ_CHECK(ipv6 == (bind.family == AF_INET6));
  FUZZ_CHECK(!request->v6only || ipv6);
  FUZZ_CHECK((request->transport == cinit::Transport::kTcp) ==
             (bind.type == SOCK_STREAM && bind.protocol == IPPROTO_TCP));
  unsigned char addr[16] = {};
  FUZZ_CHECK(inet_pton(bind.family, request->host.c_str(), addr) == 1);
  FUZZ_CHECK(std::memcmp(addr, bind.addr.data(), ipv6 ? 16 : 4) == 0);
  FUZZ_CHECK(!cinit::ListenerCandidates(*request).empty());
  return 0;
}
