#include "log.h"

namespace cinit {
namespace {

// The loop owns all other state; logging configuration is the one process-wide
// setting, fixed once by main() before anything else runs.
struct LogConfig {
  LogSink sink = nullptr;
  int verbosity = static_cast<int>(Level::kWarning);
  LogFormat format = LogFormat::kText;
  LogClock clock = nullptr;
};

constexpr std::string_view kLevelNames[] = {"error", "warning", "info", "debug"};

void AppendJsonString(fmt::basic_memory_buffer<char, 256>* out, std::string_view text) {
  out->push_back('"');
  for (char c : text) {
    switch (c) {
      case '"':
        out->append(std::string_view("\\\""));
        break;
      case '\\':
        out->append(std::string_view("\\\\"));
        break;
      case '\n':
        out->append(std::string_view("\\n"));
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          fmt::format_to(fmt::appender(*out), "\\u{:04x}", static_cast<unsigned>(c));
        } else {
          out->push_back(c);
        }
    }
  }
  out->push_back('"');
}

LogConfig& Config() {
  static LogConfig config;
  return config;
}

}  // namespace

void SetLogSink(LogSink sink) { Config().sink = sink; }
void SetLogFormat(LogFormat format, LogClock clock) {
  Config().format = format;
  Config().clock = clock;
}
void SetVerbosity(int verbosity) { Config().verbosity = verbosity; }
int verbosity() { return Config().verbosity; }

void VLog(Level level, fmt::string_view format, fmt::format_args args) {
  if (Config().sink == nullptr || !LogEnabled(level)) {
    return;
  }
  fmt::basic_memory_buffer<char, 256> line;
  if (Config().format == LogFormat::kJson) {
    fmt::basic_memory_buffer<char, 256> message;
    fmt::vformat_to(fmt::appender(message), format, args);
    int64_t seconds = 0;
    int64_t nanoseconds = 0;
    if (Config().clock != nullptr) {
      Config().clock(&seconds, &nanoseconds);
    }
    // Civil date from days since the epoch (Howard Hinnant's algorithm), in UTC.
    int64_t days = seconds / 86400;
    int64_t rest = seconds % 86400;
    days += 719468;
    int64_t era = days / 146097;
    int64_t doe = days - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    int64_t day = doy - (153 * mp + 2) / 5 + 1;
    int64_t month = mp < 10 ? mp + 3 : mp - 9;
    int64_t year = yoe + era * 400 + (month <= 2 ? 1 : 0);
    fmt::format_to(
        fmt::appender(line),
        "{{\"time\":\"{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z\",\"level\":\"{}\","
        "\"message\":",
        year, month, day, rest / 3600, rest % 3600 / 60, rest % 60, nanoseconds / 1000000,
        kLevelNames[static_cast<int>(level)]);
    AppendJsonString(&line, std::string_view(message.data(), message.size()));
    constexpr std::string_view kEnd = ",\"fields\":{}}\n";
    line.append(kEnd.data(), kEnd.data() + kEnd.size());
    Config().sink(std::string_view(line.data(), line.size()));
    return;
  }
  constexpr std::string_view kPrefix = "cinit: ";
  line.append(kPrefix.data(), kPrefix.data() + kPrefix.size());
  if (level == Level::kWarning) {
    constexpr std::string_view kWarn = "warning: ";
    line.append(kWarn.data(), kWarn.data() + kWarn.size());
  }
  fmt::vformat_to(fmt::appender(line), format, args);
  line.push_back('\n');
  Config().sink(std::string_view(line.data(), line.size()));
}

}  // namespace cinit
