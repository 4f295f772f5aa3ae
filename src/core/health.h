// Health: the HTTP/1.1 probe endpoint's logic. Pure: request bytes in, response out.
//
// Routes (GET or HEAD; anything else on a known path is 405):
//   /livez    200 while cinit's loop answers and it is not giving up (crash loop);
//   /readyz   200 when at least min_ready workers are online, every shared
//             socket listens and cinit is not stopping; 503 with a one-line
//             reason otherwise;
//   /status   JSON (see RenderStatus);
//   /metrics  Prometheus text format 0.0.4.
// Other paths: 404. A request head that is not HTTP/1.x, longer than kMaxHead or
// malformed: 400. Every response closes the connection.
#ifndef CINIT_HEALTH_H_
#define CINIT_HEALTH_H_

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace cinit::health {

inline constexpr size_t kMaxHead = 8 * 1024;

struct Request {
  std::string method;
  std::string path;  // without the query string
};

struct Parsed {
  enum class Kind { kIncomplete, kBad, kOk } kind = Kind::kIncomplete;
  Request request;
  std::string why;  // for kBad
};

// Parses the request head buffered so far (request line and headers, up to the
// empty line). Bodies are not read: probes send none.
Parsed ParseHead(std::string_view buffer);

struct WorkerView {
  int instance = 0;
  int pid = 0;
  std::string state;
  int generation = 0;
  int restarts = 0;
  double started_at = 0;            // seconds since cinit started
  std::optional<double> online_at;  // idem
  std::optional<uint64_t> memory;  // its tree's PSS in bytes, when sampled (--max-memory)
};

struct Snapshot {
  std::string version;
  std::string mode;  // "single" or "cluster"
  double uptime = 0;
  int cpus = 0;
  std::string cpus_how;
  int desired_workers = 0;
  int online_workers = 0;
  int min_ready = 1;
  bool stopping = false;
  bool lame_duck = false;  // stopping, but the workers serve until the drain delay ends
  bool giving_up = false;
  std::string reload_state;  // "idle" or "rolling"
  int reload_slot = 0;       // slots done in the current rollout
  int reload_slots = 0;
  int reload_generation = 0;
  std::string reload_last_result;
  std::string reload_last_message;
  uint64_t reloads_succeeded = 0;
  uint64_t reloads_failed = 0;
  // The source of the last reload asked for (empty: none), and the requests by
  // trigger: SIGHUP, the control FIFO, a --reload-on-change PATH.
  std::string reload_last_trigger;
  std::array<uint64_t, 3> reloads_triggered{};
  // The --reload-on-change paths.
  std::vector<std::string> reload_on_change;
  uint64_t restarts = 0;
  uint64_t spawn_failures = 0;
  // Workers whose own process exited leaving processes of its group, which cinit
  // then stopped.
  uint64_t trees_left = 0;
  // Workers replaced for going over --max-memory.
  uint64_t memory_restarts = 0;
  uint64_t orphans_reaped = 0;
  uint64_t signals_forwarded = 0;
  // The workers' shared sockets: how often cinit found one shut down by a
  // worker and made it listen again, and the keys of those that do not listen
  // now, because listening again failed. The shell repairs before it takes a
  // snapshot for a probe, so these are what is left after.
  uint64_t shared_sockets_restored = 0;
  std::vector<std::string> sockets_not_listening;
  std::vector<WorkerView> workers;
};

struct Response {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
  bool head_only = false;  // HEAD: headers only
  // The whole HTTP/1.1 response, with Content-Length and Connection: close.
  std::string Serialize() const;
};

// What the probes say, and why: the one place their rules live (HTTP and exec
// probes agree by construction).
struct Verdict {
  bool live = true;
  bool ready = false;
  std::string live_reason;   // one line
  std::string ready_reason;  // one line
  bool operator==(const Verdict&) const = default;
};
Verdict Judge(const Snapshot& snapshot);

// The exec probe's file (--status-file), written by cinit whenever the verdict
// changes: {"live":…,"ready":…,"live_reason":…,"ready_reason":…}.
std::string RenderVerdict(const Verdict& verdict);
std::optional<Verdict> ParseVerdict(std::string_view text);

Response Respond(const Request& request, const Snapshot& snapshot);
Response BadRequest(std::string_view why);

std::string RenderStatus(const Snapshot& snapshot);
std::string RenderMetrics(const Snapshot& snapshot);

}  // namespace cinit::health

#endif  // CINIT_HEALTH_H_
