// Log: cinit's own diagnostics, one line each, "cinit: " + message, to a sink.
//
// Levels follow tini's verbosity: 0 error, 1 warning (the default), 2 info, 3 debug.
// The core formats; it never writes. main() installs the sink (os::WriteStderr), and
// tests install one that captures. A line is formatted only when its level is enabled,
// so debug calls cost a comparison when verbosity is lower.
#ifndef CINIT_LOG_H_
#define CINIT_LOG_H_

#include <fmt/format.h>

#include <cstdint>
#include <string_view>

namespace cinit {

enum class Level { kError = 0, kWarning = 1, kInfo = 2, kDebug = 3 };

// Receives one complete line, newline included.
using LogSink = void (*)(std::string_view line);
// Returns the wall-clock time as seconds and nanoseconds since the epoch (for JSON).
using LogClock = void (*)(int64_t* seconds, int64_t* nanoseconds);

// kText: "cinit: [warning: ]message". kJson: one object per line,
//   {"time":"2026-11-25T15:07:42.123Z","level":"warning","message":"…","fields":{}}
// ("fields" is reserved for structured data; empty today).
enum class LogFormat { kText, kJson };

void SetLogSink(LogSink sink);
void SetLogFormat(LogFormat format, LogClock clock);
void SetVerbosity(int verbosity);
int verbosity();

inline bool LogEnabled(Level level) { return static_cast<int>(level) <= verbosity(); }

void VLog(Level level, fmt::string_view format, fmt::format_args args);

template <typename... Args>
void Log(Level level, fmt::format_string<Args...> format, Args&&... args) {
  if (LogEnabled(level)) {
    VLog(level, format, fmt::make_format_args(args...));
  }
}

// Logs message as an error and returns code: how main() and the subcommands end on
// a failure.
inline int LogFailure(int code, std::string_view message) {
  Log(Level::kError, "{}", message);
  return code;
}

}  // namespace cinit

#endif  // CINIT_LOG_H_
