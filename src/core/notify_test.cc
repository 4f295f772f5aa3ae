#include "notify.h"

#include <doctest/doctest.h>

namespace cinit {

TEST_SUITE("notify") {
  TEST_CASE("READY=1 alone or among other assignments") {
    CHECK(notify::SaysReady("READY=1"));
    CHECK(notify::SaysReady("READY=1\n"));
    CHECK(notify::SaysReady("STATUS=warming up\nREADY=1\nMAINPID=7"));
  }
  TEST_CASE("anything else is not readiness") {
    CHECK_FALSE(notify::SaysReady(""));
    CHECK_FALSE(notify::SaysReady("READY=0"));
    CHECK_FALSE(notify::SaysReady("READY=10"));
    CHECK_FALSE(notify::SaysReady("STATUS=READY=1"));
    CHECK_FALSE(notify::SaysReady("RELOADING=1\nSTOPPING=1"));
    CHECK_FALSE(notify::SaysReady(std::string_view("\0READY=1", 8)));
  }
}

}  // namespace cinit
