#include "ctl_status.h"

#include <fmt/format.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "json_text.h"

namespace cinit::ctl_status {
namespace {

using nlohmann::json;

int Int(const json& object, const char* key) {
  auto it = object.find(key);
  return it != object.end() && it->is_number_integer() ? it->get<int>() : 0;
}
double Number(const json& object, const char* key) {
  auto it = object.find(key);
  return it != object.end() && it->is_number() ? it->get<double>() : 0;
}
bool Flag(const json& object, const char* key) {
  auto it = object.find(key);
  return it != object.end() && it->is_boolean() && it->get<bool>();
}
std::string Text(const json& object, const char* key) {
  auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
}
const json& Object(const json& object, const char* key) {
  static const json kEmpty = json::object();
  auto it = object.find(key);
  return it != object.end() && it->is_object() ? *it : kEmpty;
}

double Uptime(const View& view, const Worker& worker, double now) {
  return std::max(0.0, now - (view.writer.started + worker.started_at));
}

std::string Readiness(const View& view) {
  if (view.verdict.ready) {
    return fmt::format("ready ({})", view.verdict.ready_reason);
  }
  return fmt::format("not ready ({})", view.verdict.ready_reason);
}

}  // namespace

std::string RenderFile(const health::Verdict& verdict, const health::Snapshot& s,
                       const Writer& writer) {
  json workers = json::array();
  for (const auto& w : s.workers) {
    workers.push_back({{"instance", w.instance},
                       {"pid", w.pid},
                       {"state", w.state},
                       {"generation", w.generation},
                       {"restarts", w.restarts},
                       {"started_at", w.started_at},
                       {"online_at", w.online_at ? json(*w.online_at) : nullptr}});
  }
  json file = {{"live", verdict.live},
               {"ready", verdict.ready},
               {"live_reason", verdict.live_reason},
               {"ready_reason", verdict.ready_reason},
               {"cinit",
                {{"version", s.version},
                 {"pid", writer.pid},
                 {"pid_ns", writer.pid_ns},
                 {"started", writer.started}}},
               {"cluster",
                {{"workers_desired", s.desired_workers},
                 {"workers_online", s.online_workers},
                 {"stopping", s.stopping},
                 {"lame_duck", s.lame_duck},
                 {"reload",
                  {{"state", s.reload_state},
                   {"slot", s.reload_slot},
                   {"of", s.reload_slots},
                   {"generation", s.reload_generation},
                   {"last_result", s.reload_last_result},
                   {"last_message", s.reload_last_message}}},
                 {"workers", std::move(workers)}}}};
  return JsonText(file) + "\n";
}

std::optional<View> Parse(std::string_view text) {
  auto file = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!file.is_object() || !file.contains("cinit") || !file.contains("cluster")) {
    return std::nullopt;
  }
  auto verdict = health::ParseVerdict(text);
  if (!verdict) {
    return std::nullopt;
  }
  View view;
  view.verdict = *verdict;
  const json& cinit = Object(file, "cinit");
  view.version = Text(cinit, "version");
  view.writer.pid = Int(cinit, "pid");
  view.writer.pid_ns = Text(cinit, "pid_ns");
  view.writer.started = Number(cinit, "started");
  const json& cluster = Object(file, "cluster");
  view.desired = Int(cluster, "workers_desired");
  view.online = Int(cluster, "workers_online");
  view.stopping = Flag(cluster, "stopping");
  view.lame_duck = Flag(cluster, "lame_duck");
  const json& reload = Object(cluster, "reload");
  view.reload_state = Text(reload, "state");
  view.reload_slot = Int(reload, "slot");
  view.reload_of = Int(reload, "of");
  view.reload_generation = Int(reload, "generation");
  view.reload_last_result = Text(reload, "last_result");
  view.reload_last_message = Text(reload, "last_message");
  auto workers = cluster.find("workers");
  if (workers != cluster.end() && workers->is_array()) {
    for (const auto& w : *workers) {
      if (!w.is_object()) {
        continue;
      }
      Worker worker;
      worker.instance = Int(w, "instance");
      worker.pid = Int(w, "pid");
      worker.state = Text(w, "state");
      worker.generation = Int(w, "generation");
      worker.restarts = Int(w, "restarts");
      worker.started_at = Number(w, "started_at");
      if (auto it = w.find("online_at"); it != w.end() && it->is_number()) {
        worker.online_at = it->get<double>();
      }
      view.workers.push_back(std::move(worker));
    }
  }
  return view;
}

std::string FormatDuration(double seconds) {
  auto s = static_cast<int64_t>(std::max(0.0, seconds));
  if (s < 60) {
    return fmt::format("{}s", s);
  }
  if (s < 3600) {
    return fmt::format("{}m{:02}s", s / 60, s % 60);
  }
  if (s < 86400) {
    return fmt::format("{}h{:02}m", s / 3600, s % 3600 / 60);
  }
  return fmt::format("{}d{:02}h", s / 86400, s % 86400 / 3600);
}

std::string FormatBytes(uint64_t bytes) {
  if (bytes < 1024 * 1024) {
    return fmt::format("{} KiB", bytes / 1024);
  }
  const bool gib = bytes >= uint64_t{1024} * 1024 * 1024;
  const uint64_t unit = gib ? uint64_t{1024} * 1024 * 1024 : uint64_t{1024} * 1024;
  const uint64_t tenths = bytes * 10 / unit;
  return fmt::format("{}.{} {}", tenths / 10, tenths % 10, gib ? "GiB" : "MiB");
}

std::string RenderText(const View& view, double now, std::string_view memory_note) {
  std::string out =
      fmt::format("cinit {} (pid {}), up {}: {}\n", view.version, view.writer.pid,
                  FormatDuration(now - view.writer.started), Readiness(view));
  std::string reload =
      view.reload_state == "rolling"
          ? fmt::format("rolling, slot {} of {}", view.reload_slot, view.reload_of)
          : view.reload_state;
  out += fmt::format("workers: {} of {} online{}; reload: {}, generation {}, last: {}",
                     view.online, view.desired,
                     view.lame_duck  ? ", stopping after the drain delay"
                     : view.stopping ? ", stopping"
                                     : "",
                     reload, view.reload_generation, view.reload_last_result);
  if (!view.reload_last_message.empty()) {
    out += fmt::format(" ({})", view.reload_last_message);
  }
  out += "\n";
  out += fmt::format("{:<9} {:<8} {:<12} {:>4} {:>8} {:>9} {:>10}\n", "INSTANCE", "PID",
                     "STATE", "GEN", "UPTIME", "RESTARTS", "MEMORY");
  for (const auto& w : view.workers) {
    out += fmt::format("{:<9} {:<8} {:<12} {:>4} {:>8} {:>9} {:>10}\n", w.instance, w.pid,
                       w.state, w.generation, FormatDuration(Uptime(view, w, now)),
                       w.restarts, w.memory ? FormatBytes(*w.memory) : "-");
  }
  if (!memory_note.empty()) {
    out += fmt::format("memory: {}\n", memory_note);
  }
  return out;
}

std::string RenderJson(const View& view, double now) {
  json workers = json::array();
  for (const auto& w : view.workers) {
    workers.push_back({{"instance", w.instance},
                       {"pid", w.pid},
                       {"state", w.state},
                       {"generation", w.generation},
                       {"uptime", Uptime(view, w, now)},
                       {"restarts", w.restarts},
                       {"memory_bytes", w.memory ? json(*w.memory) : nullptr}});
  }
  json out = {{"version", view.version},
              {"pid", view.writer.pid},
              {"uptime", std::max(0.0, now - view.writer.started)},
              {"live", view.verdict.live},
              {"live_reason", view.verdict.live_reason},
              {"ready", view.verdict.ready},
              {"ready_reason", view.verdict.ready_reason},
              {"workers_desired", view.desired},
              {"workers_online", view.online},
              {"stopping", view.stopping},
              {"lame_duck", view.lame_duck},
              {"reload",
               {{"state", view.reload_state},
                {"slot", view.reload_slot},
                {"of", view.reload_of},
                {"generation", view.reload_generation},
                {"last_result", view.reload_last_result},
                {"last_message", view.reload_last_message}}},
              {"workers", std::move(workers)}};
  return JsonText(out, 2) + "\n";
}

}  // namespace cinit::ctl_status
