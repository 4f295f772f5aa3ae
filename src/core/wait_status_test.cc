#include "wait_status.h"

#include <doctest/doctest.h>

namespace cinit {
namespace {
// Raw statuses as the kernel encodes them (see wait(2)).
int Exited(int code) { return (code & 0xff) << 8; }
int Killed(int signo, bool core = false) { return signo | (core ? 0x80 : 0); }
}  // namespace

TEST_SUITE("wait_status") {
  TEST_CASE("an exit code passes through unchanged") {
    for (int code : {0, 1, 2, 3, 126, 127, 128, 200, 255}) {
      CAPTURE(code);
      ExitInfo info = DecodeWaitStatus(Exited(code));
      CHECK(info.signo == 0);
      CHECK(info.ShellCode() == code);
    }
  }

  TEST_CASE("death by signal N gives 128+N") {
    CHECK(DecodeWaitStatus(Killed(15)).ShellCode() == 143);
    CHECK(DecodeWaitStatus(Killed(9)).ShellCode() == 137);
    CHECK(DecodeWaitStatus(Killed(1)).ShellCode() == 129);
    CHECK(DecodeWaitStatus(Killed(64)).ShellCode() == 192);
  }

  TEST_CASE("a core dump is noted and does not change the code") {
    ExitInfo info = DecodeWaitStatus(Killed(11, true));
    CHECK(info.core_dumped);
    CHECK(info.ShellCode() == 139);
    CHECK(info.Describe() == "killed by SIGSEGV (core dumped)");
  }

  TEST_CASE("descriptions name the code or the signal") {
    CHECK(DecodeWaitStatus(Exited(3)).Describe() == "exited with 3");
    CHECK(DecodeWaitStatus(Killed(15)).Describe() == "killed by SIGTERM");
  }
}

}  // namespace cinit
