#include "health.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "json_text.h"

namespace cinit::health {
namespace {

std::string_view ReasonPhrase(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 400:
      return "Bad Request";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 503:
      return "Service Unavailable";
    default:
      return "Error";
  }
}

Response Text(int status, std::string body) {
  Response response;
  response.status = status;
  response.body = std::move(body);
  return response;
}

bool IsToken(std::string_view text) {
  if (text.empty()) {
    return false;
  }
  for (char c : text) {
    if (c < 'A' || c > 'Z') {
      return false;
    }
  }
  return true;
}

}  // namespace

Parsed ParseHead(std::string_view buffer) {
  Parsed parsed;
  size_t end = buffer.find("\r\n\r\n");
  size_t lf_end = buffer.find("\n\n");
  if (end == std::string_view::npos && lf_end == std::string_view::npos) {
    if (buffer.size() > kMaxHead) {
      parsed.kind = Parsed::Kind::kBad;
      parsed.why = fmt::format("request head longer than {} bytes", kMaxHead);
    }
    return parsed;  // incomplete
  }
  size_t line_end = buffer.find('\n');
  std::string_view line = buffer.substr(0, line_end);
  if (!line.empty() && line.back() == '\r') {
    line.remove_suffix(1);
  }
  // METHOD SP TARGET SP HTTP/1.x
  size_t first = line.find(' ');
  size_t second = first == std::string_view::npos ? first : line.find(' ', first + 1);
  if (second == std::string_view::npos ||
      line.find(' ', second + 1) != std::string_view::npos) {
    parsed.kind = Parsed::Kind::kBad;
    parsed.why = "malformed request line";
    return parsed;
  }
  std::string_view method = line.substr(0, first);
  std::string_view target = line.substr(first + 1, second - first - 1);
  std::string_view version = line.substr(second + 1);
  if (!IsToken(method) || target.empty() || target[0] != '/' ||
      (version != "HTTP/1.1" && version != "HTTP/1.0")) {
    parsed.kind = Parsed::Kind::kBad;
    parsed.why = "malformed request line";
    return parsed;
  }
  parsed.kind = Parsed::Kind::kOk;
  parsed.request.method = std::string(method);
  parsed.request.path = std::string(target.substr(0, target.find('?')));
  return parsed;
}

std::string Response::Serialize() const {
  std::string head = fmt::format(
      "HTTP/1.1 {} {}\r\nContent-Type: {}\r\nContent-Length: {}\r\nCache-Control: "
      "no-store\r\nConnection: close\r\n\r\n",
      status, ReasonPhrase(status), content_type, body.size());
  return head_only ? head : head + body;
}

Response BadRequest(std::string_view why) { return Text(400, fmt::format("{}\n", why)); }

Response Respond(const Request& request, const Snapshot& snapshot) {
  const std::string& path = request.path;
  bool known =
      path == "/livez" || path == "/readyz" || path == "/status" || path == "/metrics";
  if (!known) {
    return Text(404, "not found (try /livez, /readyz, /status, /metrics)\n");
  }
  if (request.method != "GET" && request.method != "HEAD") {
    return Text(405, "only GET and HEAD\n");
  }
  Response response;
  Verdict verdict = Judge(snapshot);
  if (path == "/livez") {
    response = Text(verdict.live ? 200 : 503, verdict.live_reason + "\n");
  } else if (path == "/readyz") {
    response = Text(verdict.ready ? 200 : 503, verdict.ready_reason + "\n");
  } else if (path == "/status") {
    response = Text(200, RenderStatus(snapshot));
    response.content_type = "application/json";
  } else {
    response = Text(200, RenderMetrics(snapshot));
    response.content_type = "text/plain; version=0.0.4; charset=utf-8";
  }
  response.head_only = request.method == "HEAD";
  return response;
}

Verdict Judge(const Snapshot& s) {
  Verdict verdict;
  verdict.live = !s.giving_up;
  verdict.live_reason = s.giving_up ? "giving up: workers crash right after start" : "ok";
  if (s.stopping) {
    verdict.ready_reason =
        s.lame_duck ? "stopping: draining (workers serve until the drain delay ends)"
                    : "stopping";
  } else if (!s.sockets_not_listening.empty()) {
    // Connections to that port are refused, whatever the workers say.
    verdict.ready_reason =
        fmt::format("shared socket not listening: {}", s.sockets_not_listening.front());
    if (s.sockets_not_listening.size() > 1) {
      verdict.ready_reason +=
          fmt::format(" (and {} more)", s.sockets_not_listening.size() - 1);
    }
  } else if (s.online_workers < s.min_ready) {
    verdict.ready_reason = fmt::format("{} of {} worker(s) online, {} needed",
                                       s.online_workers, s.desired_workers, s.min_ready);
  } else {
    verdict.ready = true;
    verdict.ready_reason =
        fmt::format("ok: {} of {} worker(s) online", s.online_workers, s.desired_workers);
  }
  return verdict;
}

std::string RenderVerdict(const Verdict& v) {
  return JsonText({{"live", v.live},
                   {"ready", v.ready},
                   {"live_reason", v.live_reason},
                   {"ready_reason", v.ready_reason}}) +
         "\n";
}

std::optional<Verdict> ParseVerdict(std::string_view text) {
  auto json = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!json.is_object()) {
    return std::nullopt;
  }
  auto flag = [&](const char* key) -> std::optional<bool> {
    auto it = json.find(key);
    return it != json.end() && it->is_boolean() ? std::optional(it->get<bool>())
                                                : std::nullopt;
  };
  auto text_of = [&](const char* key) -> std::string {
    auto it = json.find(key);
    return it != json.end() && it->is_string() ? it->get<std::string>() : std::string();
  };
  auto live = flag("live");
  auto ready = flag("ready");
  if (!live || !ready) {
    return std::nullopt;
  }
  return Verdict{*live, *ready, text_of("live_reason"), text_of("ready_reason")};
}

std::string RenderStatus(const Snapshot& s) {
  nlohmann::json workers = nlohmann::json::array();
  for (const auto& w : s.workers) {
    workers.push_back(
        {{"instance", w.instance},
         {"pid", w.pid},
         {"state", w.state},
         {"generation", w.generation},
         {"restarts", w.restarts},
         {"started_at", w.started_at},
         {"online_at", w.online_at ? nlohmann::json(*w.online_at) : nullptr},
         {"memory", w.memory ? nlohmann::json(*w.memory) : nullptr}});
  }
  nlohmann::json status = {{"version", s.version},
                           {"mode", s.mode},
                           {"uptime", s.uptime},
                           {"cpus", {{"usable", s.cpus}, {"how", s.cpus_how}}},
                           {"workers_desired", s.desired_workers},
                           {"workers_online", s.online_workers},
                           {"stopping", s.stopping},
                           {"lame_duck", s.lame_duck},
                           {"reload",
                            {{"state", s.reload_state},
                             {"slot", s.reload_slot},
                             {"of", s.reload_slots},
                             {"generation", s.reload_generation},
                             {"last_result", s.reload_last_result},
                             {"last_message", s.reload_last_message},
                             {"last_trigger", s.reload_last_trigger},
                             {"triggered",
                              {{"signal", s.reloads_triggered[0]},
                               {"control", s.reloads_triggered[1]},
                               {"file", s.reloads_triggered[2]}}},
                             {"on_change", s.reload_on_change}}},
                           {"shared_sockets",
                            {{"restored", s.shared_sockets_restored},
                             {"not_listening", s.sockets_not_listening}}},
                           {"workers", std::move(workers)}};
  return JsonText(status, 2) + "\n";
}

std::string RenderMetrics(const Snapshot& s) {
  std::string out;
  auto metric = [&out](std::string_view name, std::string_view type,
                       std::string_view help) {
    out += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name, help, name, type);
  };
  metric("cinit_workers", "gauge", "Workers by state.");
  for (std::string_view state :
       {"starting", "online", "leaving", "terminating", "exiting"}) {
    int count = 0;
    for (const auto& w : s.workers) {
      count += w.state == state ? 1 : 0;
    }
    out += fmt::format("cinit_workers{{state=\"{}\"}} {}\n", state, count);
  }
  metric("cinit_workers_desired", "gauge", "Workers cinit keeps running.");
  out += fmt::format("cinit_workers_desired {}\n", s.desired_workers);
  metric("cinit_worker_restarts_total", "counter",
         "Workers replaced after exiting on their own.");
  out += fmt::format("cinit_worker_restarts_total {}\n", s.restarts);
  metric("cinit_worker_spawn_failures_total", "counter",
         "Workers that could not be started (fork failed); each is retried.");
  out += fmt::format("cinit_worker_spawn_failures_total {}\n", s.spawn_failures);
  metric("cinit_worker_memory_restarts_total", "counter",
         "Workers replaced for staying above --max-memory.");
  out += fmt::format("cinit_worker_memory_restarts_total {}\n", s.memory_restarts);
  bool sampled = false;
  for (const auto& w : s.workers) {
    sampled = sampled || w.memory.has_value();
  }
  if (sampled) {
    metric("cinit_worker_memory_bytes", "gauge",
           "PSS of each worker's process group, as last sampled (--max-memory).");
    for (const auto& w : s.workers) {
      if (w.memory && w.state != "exiting") {
        out += fmt::format("cinit_worker_memory_bytes{{instance=\"{}\",pid=\"{}\"}} {}\n",
                           w.instance, w.pid, *w.memory);
      }
    }
  }
  metric("cinit_worker_trees_left_total", "counter",
         "Workers that exited leaving processes of their group, which cinit stopped.");
  out += fmt::format("cinit_worker_trees_left_total {}\n", s.trees_left);
  metric("cinit_shared_socket_restored_total", "counter",
         "Times a shared socket was found shut down by a worker and made to listen "
         "again.");
  out +=
      fmt::format("cinit_shared_socket_restored_total {}\n", s.shared_sockets_restored);
  metric("cinit_reloads_total", "counter", "Rolling reloads by result.");
  out += fmt::format("cinit_reloads_total{{result=\"succeeded\"}} {}\n",
                     s.reloads_succeeded);
  out += fmt::format("cinit_reloads_total{{result=\"failed\"}} {}\n", s.reloads_failed);
  metric("cinit_reloads_triggered_total", "counter",
         "Rolling reloads asked for, by what asked: SIGHUP, the control FIFO, a "
         "--reload-on-change path (debounced; merged ones count).");
  for (size_t i = 0; i < s.reloads_triggered.size(); ++i) {
    static constexpr std::array<std::string_view, 3> kSources = {"signal", "control",
                                                                 "file"};
    out += fmt::format("cinit_reloads_triggered_total{{source=\"{}\"}} {}\n", kSources[i],
                       s.reloads_triggered[i]);
  }
  metric("cinit_reload_in_progress", "gauge", "1 while a rolling reload runs.");
  out +=
      fmt::format("cinit_reload_in_progress {}\n", s.reload_state == "rolling" ? 1 : 0);
  metric("cinit_orphans_reaped_total", "counter",
         "Processes reaped that were not workers.");
  out += fmt::format("cinit_orphans_reaped_total {}\n", s.orphans_reaped);
  metric("cinit_signals_forwarded_total", "counter", "Signals forwarded to workers.");
  out += fmt::format("cinit_signals_forwarded_total {}\n", s.signals_forwarded);
  metric("cinit_uptime_seconds", "gauge", "Seconds since cinit started.");
  out += fmt::format("cinit_uptime_seconds {}\n", static_cast<int64_t>(s.uptime));
  return out;
}

}  // namespace cinit::health
