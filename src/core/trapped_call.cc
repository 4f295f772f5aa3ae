#include "trapped_call.h"

namespace cinit {
namespace {

// Syscall numbers (asm/unistd_64.h, asm/unistd_32.h) and socketcall's calls
// (linux/net.h).
constexpr int kX32Bit = 0x40000000;
constexpr int kBind64 = 49;
constexpr int kListen64 = 50;
constexpr int kSocketcall32 = 102;
constexpr int kBind32 = 361;
constexpr int kListen32 = 363;
constexpr int kSysBind = 2;
constexpr int kSysListen = 4;

TrappedCall Bind(uint64_t fd, uint64_t address, uint64_t length, bool compat32) {
  TrappedCall call;
  call.kind = TrappedCall::Kind::kBind;
  call.fd = static_cast<int>(fd);
  call.address = compat32 ? static_cast<uint32_t>(address) : address;
  call.length = static_cast<uint32_t>(length);
  call.compat32 = compat32;
  return call;
}

TrappedCall Listen(uint64_t fd, bool compat32) {
  TrappedCall call;
  call.kind = TrappedCall::Kind::kListen;
  call.fd = static_cast<int>(fd);
  call.compat32 = compat32;
  return call;
}

}  // namespace

TrappedCall Classify(uint32_t arch, int nr, const std::array<uint64_t, 6>& args) {
  if (arch == kArchX86_64) {
    const bool x32 = (nr & kX32Bit) != 0;
    const int base = nr & ~kX32Bit;
    if (base == kBind64) {
      // x32 pointers are 32 bits, but they arrive zero-extended in 64-bit registers.
      return Bind(args[0], x32 ? static_cast<uint32_t>(args[1]) : args[1], args[2],
                  false);
    }
    if (base == kListen64) {
      return Listen(args[0], false);
    }
    return {};
  }
  if (arch == kArchI386) {
    if (nr == kBind32) {
      return Bind(args[0], args[1], args[2], true);
    }
    if (nr == kListen32) {
      return Listen(args[0], true);
    }
    if (nr == kSocketcall32) {
      TrappedCall call;
      call.kind = TrappedCall::Kind::kSocketcall;
      call.socketcall = static_cast<int>(args[0]);
      call.address = static_cast<uint32_t>(args[1]);
      call.compat32 = true;
      return call;
    }
  }
  return {};
}

TrappedCall ClassifySocketcall(int call, const std::array<uint32_t, 3>& words) {
  if (call == kSysBind) {
    return Bind(words[0], words[1], words[2], true);
  }
  if (call == kSysListen) {
    return Listen(words[0], true);
  }
  return {};
}

}  // namespace cinit
