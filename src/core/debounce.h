// Debounce: when a burst of changes has settled. Pure: fed the time of each
// change, it answers when to act; it reads no clock.
//
// The first change of a burst starts it; every change moves the deadline to quiet
// after itself, but never past max_wait after the burst's first change, so a file
// that keeps changing is still acted on, at least every max_wait. Take() ends the
// burst at its deadline; a change after that starts the next one.
#ifndef CINIT_DEBOUNCE_H_
#define CINIT_DEBOUNCE_H_

#include <chrono>
#include <optional>

#include "events.h"

namespace cinit {

class Debounce {
 public:
  // cinit's window for --reload-on-change: 500 ms after the last change, at most
  // 5 s after the first one.
  static constexpr std::chrono::milliseconds kQuiet{500};
  static constexpr std::chrono::milliseconds kMaxWait{5000};

  // REQUIRES: 0 < quiet <= max_wait.
  explicit Debounce(std::chrono::milliseconds quiet = kQuiet,
                    std::chrono::milliseconds max_wait = kMaxWait)
      : quiet_(quiet), max_wait_(max_wait) {}

  // A change happened at now.
  void Changed(TimePoint now);
  // When the burst in progress is due; nullopt when there is none.
  std::optional<TimePoint> deadline() const;
  // Returns true, once per burst, when its deadline is at or before now, and ends
  // the burst; false otherwise.
  bool Take(TimePoint now);
  // Changes in the burst in progress (0 when none).
  int changes() const { return changes_; }

 private:
  std::chrono::milliseconds quiet_;
  std::chrono::milliseconds max_wait_;
  std::optional<TimePoint> first_;
  TimePoint last_{};
  int changes_ = 0;
};

}  // namespace cinit

#endif  // CINIT_DEBOUNCE_H_
