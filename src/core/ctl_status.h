// CtlStatus: the status file's view of the cluster, and what `cinit ctl status`
// makes of it. Pure: text in, text out; the caller supplies the time and the
// memory figures.
//
// The status file (--status-file), version 2, one JSON object written by cinit
// whenever the probes' verdict or the cluster's view changes (never on a timer):
//   "live", "ready", "live_reason", "ready_reason"   the exec probe's verdict (v1);
//   "cinit": {"version", "pid", "pid_ns", "started"}  its pid, its PID namespace
//            ("pid:[N]", as /proc/self/ns/pid reads) and when it started, in seconds
//            of CLOCK_MONOTONIC (so a reader computes uptimes without cinit);
//   "cluster": {"workers_desired", "workers_online", "stopping", "lame_duck",
//            "reload": {"state", "slot", "of", "generation", "last_result",
//            "last_message"}, "workers": [{"instance", "pid", "state", "generation",
//            "restarts", "started_at", "online_at"}]}  as /status has them (times in
//            seconds since cinit started).
// A v1 file (the verdict alone) has no view: Parse returns nullopt.
#ifndef CINIT_CTL_STATUS_H_
#define CINIT_CTL_STATUS_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "health.h"

namespace cinit::ctl_status {

// Who wrote the file.
struct Writer {
  int pid = 0;
  std::string pid_ns;
  double started = 0;  // CLOCK_MONOTONIC seconds
};

// The status file's text for this verdict and snapshot (FillSnapshot's workers and
// reload parts; uptime is not written, since it changes without an event).
std::string RenderFile(const health::Verdict& verdict, const health::Snapshot& snapshot,
                       const Writer& writer);

// A worker as /status shows it; memory is what the reader measured (the file has none).
using Worker = health::WorkerView;

struct View {
  std::string version;
  Writer writer;
  health::Verdict verdict;
  int desired = 0;
  int online = 0;
  bool stopping = false;
  bool lame_duck = false;
  std::string reload_state;
  int reload_slot = 0;
  int reload_of = 0;
  int reload_generation = 0;
  std::string reload_last_result;
  std::string reload_last_message;
  std::vector<Worker> workers;
};

// Returns nullopt unless text is a version 2 status file.
std::optional<View> Parse(std::string_view text);

// now: CLOCK_MONOTONIC seconds. memory_note: why memory is not shown (empty when
// it is), printed under the table.
std::string RenderText(const View& view, double now, std::string_view memory_note);
std::string RenderJson(const View& view, double now);

// "3s", "4m05s", "2h03m", "5d02h" (rounded down; negative is 0s).
std::string FormatDuration(double seconds);
// "812 KiB", "41.2 MiB", "1.3 GiB".
std::string FormatBytes(uint64_t bytes);

}  // namespace cinit::ctl_status

#endif  // CINIT_CTL_STATUS_H_
