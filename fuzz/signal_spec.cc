// Fuzz target: signal names and dumb-init's rewrite rules, as --stop-signal, -p and
// -r/--rewrite take them (ParseSignal, ParseRewrite, SignalName in
// src/core/signal_policy.h). A name parses to a signal or to 0; SignalName of a signal
// parses back to it; an accepted rule sets exactly its FROM, and an error changes
// nothing.
#include <fmt/format.h>

#include <string>

#include "fuzz_support.h"
#include "signal_policy.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text = cinit::fuzz::AsText(data, size);

  int signo = cinit::ParseSignal(text);
  FUZZ_CHECK(signo >= 0 && signo <= cinit::kMaxSignal);
  if (signo != 0) {
    // 32 and 33 have no name (libc keeps them): SignalName says "signal 32".
    std::string name = cinit::SignalName(signo);
    FUZZ_CHECK(name.starts_with("signal ") || cinit::ParseSignal(name) == signo);
    FUZZ_CHECK(cinit::ParseSignal(std::to_string(signo)) == signo);
  }

  cinit::SignalRewrite rewrite;
  rewrite.Set(1, 9);  // something set before, which a rule must not touch
  const cinit::SignalRewrite before = rewrite;
  cinit::Status status = cinit::ParseRewrite(text, &rewrite);
  if (!status.ok()) {
    FUZZ_CHECK(!status.message().empty());
    FUZZ_CHECK(rewrite == before);
    return 0;
  }
  int changed = 0;
  int from = 0;
  for (int s = 1; s <= cinit::kMaxSignal; ++s) {
    if (rewrite.Apply(s) != before.Apply(s) || rewrite.IsSet(s) != before.IsSet(s)) {
      ++changed;
      from = s;
    }
  }
  FUZZ_CHECK(changed <= 1);
  if (changed == 1) {
    // The rule, written back with names, sets the same.
    int to = rewrite.Apply(from);
    std::string rule = fmt::format("{}:{}", cinit::SignalName(from),
                                   to == 0 ? std::string("0") : cinit::SignalName(to));
    cinit::SignalRewrite again = before;
    FUZZ_CHECK(cinit::ParseRewrite(rule, &again).ok());
    FUZZ_CHECK(again == rewrite);
  }
  return 0;
}
