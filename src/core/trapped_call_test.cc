#include "trapped_call.h"

#include <doctest/doctest.h>

namespace cinit {

TEST_SUITE("trapped_call") {
  TEST_CASE("x86_64 bind and listen") {
    auto bind = Classify(kArchX86_64, 49, {3, 0x7fff0000, 16, 0, 0, 0});
    CHECK(bind.kind == TrappedCall::Kind::kBind);
    CHECK(bind.fd == 3);
    CHECK(bind.address == 0x7fff0000);
    CHECK(bind.length == 16);
    CHECK_FALSE(bind.compat32);
    auto listen = Classify(kArchX86_64, 50, {7, 4096, 0, 0, 0, 0});
    CHECK(listen.kind == TrappedCall::Kind::kListen);
    CHECK(listen.fd == 7);
    CHECK(Classify(kArchX86_64, 0, {}).kind == TrappedCall::Kind::kOther);
    CHECK(Classify(0x12345, 49, {}).kind == TrappedCall::Kind::kOther);
  }

  TEST_CASE("x32 bind has the X32 bit and a 32-bit pointer") {
    auto bind =
        Classify(kArchX86_64, 49 | 0x40000000, {4, 0xffffffff00001000, 28, 0, 0, 0});
    CHECK(bind.kind == TrappedCall::Kind::kBind);
    CHECK(bind.address == 0x1000);
  }

  TEST_CASE("i386: direct calls and socketcall") {
    auto bind = Classify(kArchI386, 361, {5, 0x8000, 16, 0, 0, 0});
    CHECK(bind.kind == TrappedCall::Kind::kBind);
    CHECK(bind.compat32);
    auto call = Classify(kArchI386, 102, {2, 0xbfff0000, 0, 0, 0, 0});
    REQUIRE(call.kind == TrappedCall::Kind::kSocketcall);
    CHECK(call.address == 0xbfff0000);
    auto via = ClassifySocketcall(call.socketcall, {6, 0x9000, 16});
    CHECK(via.kind == TrappedCall::Kind::kBind);
    CHECK(via.fd == 6);
    CHECK(via.address == 0x9000);
    CHECK(ClassifySocketcall(4, {6, 128, 0}).kind == TrappedCall::Kind::kListen);
    CHECK(ClassifySocketcall(1, {2, 1, 0}).kind == TrappedCall::Kind::kOther);
  }
}

}  // namespace cinit
