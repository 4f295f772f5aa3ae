#include "debounce.h"

#include <doctest/doctest.h>

namespace cinit {
namespace {

using std::chrono::milliseconds;

const TimePoint t0{};

TEST_SUITE("debounce") {
  TEST_CASE("has no deadline before a change") {
    Debounce debounce;
    CHECK_FALSE(debounce.deadline().has_value());
    CHECK_FALSE(debounce.Take(t0 + milliseconds(10000)));
  }

  TEST_CASE("one change is due quiet after it, and taken once") {
    Debounce debounce(milliseconds(500), milliseconds(5000));
    debounce.Changed(t0);
    CHECK(debounce.deadline() == t0 + milliseconds(500));
    CHECK_FALSE(debounce.Take(t0 + milliseconds(499)));
    CHECK(debounce.Take(t0 + milliseconds(500)));
    CHECK_FALSE(debounce.deadline().has_value());
    CHECK_FALSE(debounce.Take(t0 + milliseconds(600)));
  }

  TEST_CASE("a burst of three changes is one, due quiet after the last") {
    Debounce debounce(milliseconds(500), milliseconds(5000));
    debounce.Changed(t0);
    debounce.Changed(t0 + milliseconds(100));
    debounce.Changed(t0 + milliseconds(300));
    CHECK(debounce.changes() == 3);
    CHECK(debounce.deadline() == t0 + milliseconds(800));
    CHECK_FALSE(debounce.Take(t0 + milliseconds(799)));
    CHECK(debounce.Take(t0 + milliseconds(800)));
    CHECK(debounce.changes() == 0);
  }

  TEST_CASE("a file that never stops changing is due max_wait after the first change") {
    Debounce debounce(milliseconds(500), milliseconds(5000));
    int taken = 0;
    // A change every 100 ms for 12 s: never quiet for 500 ms.
    for (int ms = 0; ms <= 12000; ms += 100) {
      const TimePoint now = t0 + milliseconds(ms);
      if (debounce.Take(now)) {
        ++taken;
        CHECK((ms == 5000 || ms == 10000));
      }
      debounce.Changed(now);
    }
    CHECK(taken == 2);
    CHECK(debounce.deadline() == t0 + milliseconds(12000 + 500));
  }

  TEST_CASE("a change after a burst was taken starts the next burst") {
    Debounce debounce(milliseconds(500), milliseconds(5000));
    debounce.Changed(t0);
    CHECK(debounce.Take(t0 + milliseconds(500)));
    debounce.Changed(t0 + milliseconds(700));
    CHECK(debounce.changes() == 1);
    CHECK(debounce.deadline() == t0 + milliseconds(1200));
  }

  TEST_CASE("a change stamped earlier than the last does not pull the deadline back") {
    Debounce debounce(milliseconds(500), milliseconds(5000));
    debounce.Changed(t0 + milliseconds(300));
    debounce.Changed(t0 + milliseconds(100));
    CHECK(debounce.deadline() == t0 + milliseconds(800));
  }

  TEST_CASE("cinit's window is 500 ms quiet and 5 s at most") {
    Debounce debounce;
    debounce.Changed(t0);
    CHECK(debounce.deadline() == t0 + milliseconds(500));
    CHECK(Debounce::kMaxWait == milliseconds(5000));
  }
}

}  // namespace
}  // namespace cinit
