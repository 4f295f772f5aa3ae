// TrappedCall: which system call the seccomp filter handed to cinit, from the
// kernel's description of it (struct seccomp_data: arch, nr, args). Pure.
//
// The filter traps bind() and listen() of x86_64 programs, of x32 programs (the
// same numbers with bit 30 set) and of i386 programs (their own numbers, and the
// multiplexed socketcall(2), whose arguments sit in the program's memory: the
// caller reads 2 words at args[1] and asks again with ClassifySocketcall).
#ifndef CINIT_TRAPPED_CALL_H_
#define CINIT_TRAPPED_CALL_H_

#include <array>
#include <cstdint>

namespace cinit {

// AUDIT_ARCH_* of linux/audit.h.
inline constexpr uint32_t kArchX86_64 = 0xC000003E;
inline constexpr uint32_t kArchI386 = 0x40000003;

struct TrappedCall {
  enum class Kind {
    kBind,        // bind(fd, address, length)
    kListen,      // listen(fd, backlog)
    kSocketcall,  // i386 socketcall(call, args): read args, then ClassifySocketcall
    kOther,       // anything else: let it run
  };
  Kind kind = Kind::kOther;
  int fd = -1;
  uint64_t address = 0;   // bind: where the sockaddr is; socketcall: the argument array
  uint32_t length = 0;    // bind: the sockaddr's length
  int socketcall = 0;     // socketcall: its call number
  bool compat32 = false;  // an i386 program: pointers and words are 32 bits
};

TrappedCall Classify(uint32_t arch, int nr, const std::array<uint64_t, 6>& args);

// socketcall's call with the first words of its argument array (32-bit words).
TrappedCall ClassifySocketcall(int call, const std::array<uint32_t, 3>& words);

}  // namespace cinit

#endif  // CINIT_TRAPPED_CALL_H_
