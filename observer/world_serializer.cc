#include "observer/world_serializer.h"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <utility>
#include <vector>

namespace hlo {
namespace detail {
namespace {

using nlohmann::json;

json Time(const std::optional<Timestamp>& t) { return t ? json(FormatTimestamp(*t)) : json(); }
json Time(Timestamp t) { return FormatTimestamp(t); }
json OrNull(const std::string& s) { return s.empty() ? json() : json(s); }

// Names from file names or YAML may hold invalid UTF-8; never throw on them.
std::string Dump(const json& j) {
  return j.dump(2, ' ', false, json::error_handler_t::replace) + "\n";
}

// Integral when whole, else fractional seconds.
json DurationSeconds(const DeploymentState& d) {
  if (!d.started_at || !d.finished_at || d.status == DeploymentStatus::kRunning) return json();
  const Duration span = Between(*d.started_at, *d.finished_at);
  if (span.nanos % 1'000'000'000 == 0) return span.nanos / 1'000'000'000;
  return static_cast<double>(span.nanos) / 1e9;
}

json Nodes(const WorldSnapshot& w) {
  json out = json::object();
  for (const auto& n : w.nodes) {
    json stages = json::array();
    for (const auto& s : n.stages) {
      stages.push_back({{"name", s.name}, {"completed_at", Time(s.completed_at)}});
    }
    out[n.name] = {{"name", n.name},
                   {"status", NodeStatusName(n.status)},
                   {"roles", n.roles},
                   {"last_seen", Time(n.last_seen)},
                   {"in_inventory", n.in_inventory},
                   {"stages", std::move(stages)}};
  }
  return out;
}

json Services(const WorldSnapshot& w) {
  json out = json::object();
  for (const auto& s : w.services) {
    out[ServiceKey(s.node, s.service)] = {{"node", s.node},
                                          {"service", s.service},
                                          {"status", ServiceStatusName(s.status)},
                                          {"last_check", Time(s.last_check)},
                                          {"active_incident", OrNull(s.active_incident)},
                                          {"in_inventory", s.in_inventory},
                                          {"last_deployment", OrNull(s.last_deployment)}};
  }
  return out;
}

// The model's hash maps in key order, as pointers: nothing is copied.
template <class Map>
std::vector<std::pair<std::string_view, const typename Map::mapped_type*>> SortedByKey(
    const Map& map) {
  std::vector<std::pair<std::string_view, const typename Map::mapped_type*>> keyed;
  keyed.reserve(map.size());
  for (const auto& [key, value] : map) keyed.emplace_back(key, &value);
  std::sort(keyed.begin(), keyed.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  return keyed;
}

json Incidents(const Model& m) {
  json out = json::object();
  for (const auto& [id, p] : SortedByKey(m.incidents)) {
    const IncidentState& i = *p;
    json events = json::array();
    for (const auto& t : i.events) events.push_back(Time(t));
    out[std::string(id)] = {{"id", i.id},
               {"node", i.node},
               {"service", i.service},
               {"status", i.active ? "active" : "resolved"},
               {"severity", SeverityName(i.severity)},
               {"started_at", Time(i.started_at)},
               {"last_occurrence", Time(i.last_occurrence)},
               {"occurrence_count", i.occurrence_count},
               {"events", std::move(events)},
               {"correlation_id", OrNull(i.correlation_id)},
               {"resolved_at", Time(i.resolved_at)},
               {"repeat_of", OrNull(i.repeat_of)},
               {"diagnostics", i.diagnostics}};
  }
  return out;
}

json Deployments(const Model& m) {
  json out = json::object();
  for (const auto& [id, p] : SortedByKey(m.deployments)) {
    const DeploymentState& d = *p;
    json stages = json::array();
    for (const auto& s : d.stages) stages.push_back({{"name", s.name}, {"at", Time(s.at)}});
    out[std::string(id)] = {{"correlation_id", d.correlation_id},
               {"node", OrNull(d.node)},
               {"service", OrNull(d.service)},
               {"status", DeploymentStatusName(d.status)},
               {"started_at", Time(d.started_at)},
               {"finished_at", Time(d.finished_at)},
               {"duration_seconds", DurationSeconds(d)},
               {"stages", std::move(stages)},
               {"attempts", d.attempts},
               {"diagnostics", d.diagnostics}};
  }
  return out;
}

json Summary(const WorldSnapshot& w) {
  const WorldSummary& s = w.summary;
  json by_severity = json::object();
  for (Severity sev : kAllSeverities) {
    by_severity[std::string(SeverityName(sev))] = s.active_by_severity[static_cast<size_t>(sev)];
  }
  return {
      {"generated_at", Time(w.generated_at)},
      {"nodes",
       {{"total", w.nodes.size()},
        {"up", s.nodes_up},
        {"down", s.nodes_down},
        {"unknown", s.nodes_unknown}}},
      {"services",
       {{"total", w.services.size()},
        {"healthy", s.services_healthy},
        {"unhealthy", s.services_unhealthy},
        {"unknown", s.services_unknown}}},
      {"incidents",
       {{"active", s.incidents_active},
        {"resolved", s.incidents_resolved},
        {"active_by_severity", std::move(by_severity)}}},
      {"deployments",
       {{"total", s.deployments_total()},
        {"running", s.deployments_running},
        {"succeeded", s.deployments_succeeded},
        {"failed", s.deployments_failed}}},
      {"events",
       {{"processed", w.counters.events_processed},
        {"rejected", w.counters.events_rejected},
        {"last_event_at", Time(w.counters.last_event_at)}}},
      {"checkpoint",
       {{"file", w.checkpoint_file ? json(*w.checkpoint_file) : json()},
        {"offset", w.checkpoint_offset}}},
  };
}

}  // namespace
}  // namespace detail

std::array<WorldFile, 5> SerializeWorld(const WorldSnapshot& world, const Model& model) {
  return {{
      {kWorldFileNames[0], detail::Dump(detail::Deployments(model))},
      {kWorldFileNames[1], detail::Dump(detail::Incidents(model))},
      {kWorldFileNames[2], detail::Dump(detail::Nodes(world))},
      {kWorldFileNames[3], detail::Dump(detail::Summary(world))},
      {kWorldFileNames[4], detail::Dump(detail::Services(world))},
  }};
}

}  // namespace hlo
