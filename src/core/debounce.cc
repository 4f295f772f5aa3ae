#include "debounce.h"

#include <algorithm>

namespace cinit {

void Debounce::Changed(TimePoint now) {
  if (!first_) {
    first_ = now;
    changes_ = 0;
  }
  // Events are fed in order, but a change stamped before the last one (a clock
  // read earlier in the same turn) must not pull the deadline back.
  last_ = std::max(last_, now);
  ++changes_;
}

std::optional<TimePoint> Debounce::deadline() const {
  if (!first_) {
    return std::nullopt;
  }
  return std::min(last_ + quiet_, *first_ + max_wait_);
}

bool Debounce::Take(TimePoint now) {
  std::optional<TimePoint> due = deadline();
  if (!due || now < *due) {
    return false;
  }
  first_.reset();
  changes_ = 0;
  return true;
}

}  // namespace cinit
