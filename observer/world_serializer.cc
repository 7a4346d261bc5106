#include "observer/world_serializer.h"

#include <algorithm>
#include <utility>
#include <vector>

namespace hlo {
namespace detail {
namespace {

// Every object below writes its keys in ascending byte order: the files are
// byte-identical to nlohmann's dump(2) of the same document, whose objects
// are std::maps (world_serializer_test and the golden files hold us to it).

void Time(JsonWriter& w, Timestamp t) {
  TimestampBuffer buffer;
  w.String(FormatTimestamp(t, buffer));
}
void Time(JsonWriter& w, const std::optional<Timestamp>& t) {
  if (t) {
    Time(w, *t);
  } else {
    w.Null();
  }
}
void OrNull(JsonWriter& w, const std::string& s) {
  if (s.empty()) {
    w.Null();
  } else {
    w.String(s);
  }
}
void Strings(JsonWriter& w, const std::vector<std::string>& items) {
  w.BeginArray();
  for (const auto& item : items) w.String(item);
  w.EndArray();
}

// Integral when whole, else fractional seconds.
void Seconds(JsonWriter& w, Duration span) {
  if (span.nanos % 1'000'000'000 == 0) {
    w.Int(span.nanos / 1'000'000'000);
  } else {
    w.Double(static_cast<double>(span.nanos) / 1e9);
  }
}

void DurationSeconds(JsonWriter& w, const DeploymentState& d) {
  if (!d.started_at || !d.finished_at || d.status == DeploymentStatus::kRunning) {
    w.Null();
    return;
  }
  Seconds(w, Between(*d.started_at, *d.finished_at));
}

// resolved_at − started_at (CONTRACT §9); null while active.
void DurationSeconds(JsonWriter& w, const IncidentState& i) {
  if (i.active || !i.resolved_at) {
    w.Null();
    return;
  }
  Seconds(w, Between(i.started_at, *i.resolved_at));
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

}  // namespace
}  // namespace detail

void WriteDeploymentEntry(JsonWriter& w, const DeploymentState& d) {
  using namespace detail;
  {
    w.BeginObject();
    w.KeyUint("attempts", d.attempts);
    w.KeyString("correlation_id", d.correlation_id);
    w.Key("diagnostics");
    Strings(w, d.diagnostics);
    w.Key("duration_seconds");
    DurationSeconds(w, d);
    w.Key("finished_at");
    Time(w, d.finished_at);
    w.Key("node");
    OrNull(w, d.node);
    w.Key("service");
    OrNull(w, d.service);
    w.Key("stages");
    w.BeginArray();
    for (const auto& s : d.stages) {
      w.BeginObject();
      w.Key("at");
      Time(w, s.at);
      w.KeyString("name", s.name);
      w.EndObject();
    }
    w.EndArray();
    w.Key("started_at");
    Time(w, d.started_at);
    w.KeyString("status", DeploymentStatusName(d.status));
    w.EndObject();
  }
}

void WriteIncidentEntry(JsonWriter& w, const IncidentState& i) {
  using namespace detail;
  {
    w.BeginObject();
    w.Key("correlation_id");
    OrNull(w, i.correlation_id);
    w.Key("diagnostics");
    Strings(w, i.diagnostics);
    w.Key("duration_seconds");
    DurationSeconds(w, i);
    w.Key("during_maintenance");
    w.Bool(i.during_maintenance);
    w.Key("events");
    w.BeginArray();
    for (const auto& t : i.events) Time(w, t);
    w.EndArray();
    w.Key("flapping");
    w.Bool(i.flapping);
    w.KeyString("id", i.id);
    w.Key("last_occurrence");
    Time(w, i.last_occurrence);
    w.KeyString("node", i.node);
    w.KeyUint("occurrence_count", i.occurrence_count);
    w.Key("repeat_of");
    OrNull(w, i.repeat_of);
    w.Key("resolved_at");
    Time(w, i.resolved_at);
    w.KeyString("service", i.service);
    w.KeyString("severity", SeverityName(i.severity));
    w.Key("started_at");
    Time(w, i.started_at);
    w.KeyString("status", i.active ? "active" : "resolved");
    w.EndObject();
  }
}

namespace detail {
namespace {

void Deployments(JsonWriter& w, const Model& m) {
  w.BeginObject();
  for (const auto& [id, p] : SortedByKey(m.deployments)) {
    w.Key(id);
    WriteDeploymentEntry(w, *p);
  }
  w.EndObject();
}

void Incidents(JsonWriter& w, const Model& m) {
  w.BeginObject();
  for (const auto& [id, p] : SortedByKey(m.incidents)) {
    w.Key(id);
    WriteIncidentEntry(w, *p);
  }
  w.EndObject();
}

void Nodes(JsonWriter& w, const WorldSnapshot& world) {
  w.BeginObject();
  for (const auto& n : world.nodes) {  // sorted by name
    w.Key(n.name);
    w.BeginObject();
    w.Key("in_inventory");
    w.Bool(n.in_inventory);
    w.Key("last_seen");
    Time(w, n.last_seen);
    w.Key("maintenance");
    w.Bool(n.maintenance);
    w.KeyString("name", n.name);
    w.Key("roles");
    Strings(w, n.roles);
    w.Key("stages");
    w.BeginArray();
    for (const auto& s : n.stages) {
      w.BeginObject();
      w.Key("completed_at");
      Time(w, s.completed_at);
      w.KeyString("name", s.name);
      w.EndObject();
    }
    w.EndArray();
    w.KeyString("status", NodeStatusName(n.status));
    w.EndObject();
  }
  w.EndObject();
}

void Services(JsonWriter& w, const WorldSnapshot& world) {
  w.BeginObject();
  for (const auto& s : world.services) {  // sorted by "<node>/<service>"
    w.Key(ServiceKey(s.node, s.service));
    w.BeginObject();
    w.Key("active_incident");
    OrNull(w, s.active_incident);
    w.KeyUint("flap_percent", static_cast<uint64_t>(s.flap_percent));
    w.Key("flapping");
    w.Bool(s.flapping);
    w.Key("in_inventory");
    w.Bool(s.in_inventory);
    w.Key("last_check");
    Time(w, s.last_check);
    w.Key("last_deployment");
    OrNull(w, s.last_deployment);
    w.Key("maintenance");
    w.Bool(s.maintenance);
    w.KeyString("node", s.node);
    w.KeyString("service", s.service);
    w.KeyString("status", ServiceStatusName(s.status));
    w.EndObject();
  }
  w.EndObject();
}

void Summary(JsonWriter& w, const WorldSnapshot& world) {
  const WorldSummary& s = world.summary;
  w.BeginObject();
  w.Key("checkpoint");
  w.BeginObject();
  w.Key("file");
  if (world.checkpoint_file) {
    w.String(*world.checkpoint_file);
  } else {
    w.Null();
  }
  w.KeyUint("offset", world.checkpoint_offset);
  w.EndObject();

  w.Key("deployments");
  w.BeginObject();
  w.KeyUint("failed", s.deployments_failed);
  w.KeyUint("running", s.deployments_running);
  w.KeyUint("succeeded", s.deployments_succeeded);
  w.KeyUint("total", s.deployments_total());
  w.EndObject();

  w.Key("events");
  w.BeginObject();
  w.Key("last_event_at");
  Time(w, world.counters.last_event_at);
  w.KeyUint("processed", world.counters.events_processed);
  w.KeyUint("rejected", world.counters.events_rejected);
  w.EndObject();

  w.Key("generated_at");
  Time(w, world.generated_at);

  w.Key("incidents");
  w.BeginObject();
  w.KeyUint("active", s.incidents_active);
  w.Key("active_by_severity");
  std::vector<std::pair<std::string_view, uint64_t>> by_severity;
  for (Severity sev : kAllSeverities) {
    by_severity.emplace_back(SeverityName(sev), s.active_by_severity[static_cast<size_t>(sev)]);
  }
  std::sort(by_severity.begin(), by_severity.end());
  w.BeginObject();
  for (const auto& [name, count] : by_severity) w.KeyUint(name, count);
  w.EndObject();
  w.KeyUint("resolved", s.incidents_resolved);
  w.EndObject();

  w.Key("nodes");
  w.BeginObject();
  w.KeyUint("down", s.nodes_down);
  w.KeyUint("total", world.nodes.size());
  w.KeyUint("unknown", s.nodes_unknown);
  w.KeyUint("up", s.nodes_up);
  w.EndObject();

  w.Key("services");
  w.BeginObject();
  w.KeyUint("healthy", s.services_healthy);
  w.KeyUint("stale", s.services_stale);
  w.KeyUint("total", world.services.size());
  w.KeyUint("unhealthy", s.services_unhealthy);
  w.KeyUint("unknown", s.services_unknown);
  w.EndObject();
  w.EndObject();
}

}  // namespace
}  // namespace detail

bool WriteWorldFile(size_t index, const WorldSnapshot& world, const Model& model,
                    JsonWriter& writer) {
  switch (index) {
    case 0: detail::Deployments(writer, model); break;
    case 1: detail::Incidents(writer, model); break;
    case 2: detail::Nodes(writer, world); break;
    case 3: detail::Summary(writer, world); break;
    default: detail::Services(writer, world); break;
  }
  return writer.Finish("\n");
}

std::array<WorldFile, 5> SerializeWorld(const WorldSnapshot& world, const Model& model) {
  std::array<WorldFile, 5> files;
  for (size_t i = 0; i < files.size(); ++i) {
    JsonWriter writer(JsonWriter::Style::kPretty);
    WriteWorldFile(i, world, model, writer);
    files[i] = {kWorldFileNames[i], writer.Take()};
  }
  return files;
}

}  // namespace hlo
