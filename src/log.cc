#include "log.h"

namespace cinit {
namespace {

// The loop owns all other state; logging configuration is the one process-wide
// setting, fixed once by main() before anything else runs.
struct LogConfig {
  LogSink sink = nullptr;
  int verbosity = static_cast<int>(Level::kWarning);
};

LogConfig& Config() {
  static LogConfig config;
  return config;
}

}  // namespace

void SetLogSink(LogSink sink) { Config().sink = sink; }
void SetVerbosity(int verbosity) { Config().verbosity = verbosity; }
int verbosity() { return Config().verbosity; }

void VLog(Level level, fmt::string_view format, fmt::format_args args) {
  if (Config().sink == nullptr || !LogEnabled(level)) {
    return;
  }
  fmt::basic_memory_buffer<char, 256> line;
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
