#include "observer/history_archive.h"

#include <algorithm>
#include <set>
#include <stdexcept>
#include <tuple>

#include "observer/model_codec.h"
#include "observer/world_reader.h"
#include "observer/world_serializer.h"

namespace hlo {
namespace detail {
namespace {

std::string Line(const IncidentState* i, const DeploymentState* d) {
  JsonWriter w(JsonWriter::Style::kCompact);
  if (i != nullptr) WriteIncidentEntry(w, *i);
  if (d != nullptr) WriteDeploymentEntry(w, *d);
  w.Finish("\n");
  return w.Take();
}

void Count(ArchiveTotals& t, const IncidentState& i) {
  ++t.figures.incidents_opened[{i.node, i.service}];
  ++t.incidents_resolved;
  if (i.resolved_at) {
    t.figures.resolution_by_severity[static_cast<size_t>(i.severity)].Observe(
        Between(i.started_at, *i.resolved_at));
  }
}

void Count(ArchiveTotals& t, const DeploymentState& d) {
  (d.status == DeploymentStatus::kSucceeded ? t.deployments_succeeded : t.deployments_failed)++;
  if (d.started_at && d.finished_at) {
    t.figures.deployment_durations[{d.service, std::string(DeploymentStatusName(d.status))}]
        .Observe(Between(*d.started_at, *d.finished_at));
  }
}

[[noreturn]] void Refuse(const std::string& what) { throw std::invalid_argument(what); }

template <class T>
T As(simdjson::dom::element value) {
  T out;
  if (value.get(out) != simdjson::SUCCESS) Refuse("history: a value is mistyped");
  return out;
}

simdjson::dom::element At(simdjson::dom::object o, std::string_view key) {
  simdjson::dom::element v;
  if (o.at_key(key).get(v) != simdjson::SUCCESS) Refuse("history: missing " + std::string(key));
  return v;
}

void WriteHistogram(JsonWriter& out, const DurationHistogram& h) {
  out.BeginArray();
  out.Uint(h.count);
  out.Uint(h.sum_seconds);
  out.Uint(h.sum_nanos);
  for (uint64_t c : h.cumulative) out.Uint(c);
  out.EndArray();
}

DurationHistogram ReadHistogram(simdjson::dom::element value) {
  std::vector<uint64_t> n;
  for (simdjson::dom::element x : As<simdjson::dom::array>(value)) n.push_back(As<uint64_t>(x));
  DurationHistogram h;
  if (n.size() != 3 + h.cumulative.size()) Refuse("history: bad histogram");
  h.count = n[0];
  h.sum_seconds = n[1];
  h.sum_nanos = n[2];
  std::copy(n.begin() + 3, n.end(), h.cumulative.begin());
  return h;
}

std::optional<DeploymentStatus> StatusFromName(std::string_view name) {
  for (DeploymentStatus s :
       {DeploymentStatus::kRunning, DeploymentStatus::kSucceeded, DeploymentStatus::kFailed}) {
    if (DeploymentStatusName(s) == name) return s;
  }
  return std::nullopt;
}

}  // namespace
}  // namespace detail

bool ArchiveTotals::operator==(const ArchiveTotals& o) const {
  return incidents_resolved == o.incidents_resolved &&
         deployments_succeeded == o.deployments_succeeded &&
         deployments_failed == o.deployments_failed &&
         figures.resolution_by_severity == o.figures.resolution_by_severity &&
         figures.deployment_durations == o.figures.deployment_durations &&
         figures.incidents_opened == o.figures.incidents_opened &&
         last_deployment_status == o.last_deployment_status;
}

std::string ArchiveFileName(std::string_view kind, Timestamp at) {
  TimestampBuffer buffer;
  const std::string_view text = FormatTimestamp(at, buffer);  // YYYY-MM-DDT…
  std::string name(kind);
  name.append("-").append(text.substr(0, 7)).append(".jsonl");
  return name;
}

std::optional<Timestamp> ArchiveHorizon(const std::optional<Timestamp>& latest,
                                        Duration max_lateness, Duration retention) {
  if (retention.nanos <= 0 || !latest) return std::nullopt;
  return Add(Add(*latest, Duration{-max_lateness.nanos}), Duration{-retention.nanos});
}

std::vector<ArchiveLine> SweepHistory(Model& model, Timestamp horizon, HistoryArchiveState& state) {
  const std::optional<Timestamp> previous = state.horizon;
  if (previous && horizon < *previous) horizon = *previous;
  auto archived_before = [&](Timestamp t) { return previous && t < *previous; };
  std::vector<ArchiveLine> out;

  using IncidentKey = std::pair<Timestamp, std::string>;
  std::vector<IncidentKey> incidents;
  for (const auto& [id, i] : model.incidents) {
    if (!i.active && i.resolved_at && *i.resolved_at < horizon) incidents.emplace_back(*i.resolved_at, id);
  }
  std::sort(incidents.begin(), incidents.end());
  for (const auto& [at, id] : incidents) {
    auto it = model.incidents.find(std::string_view(id));
    if (!archived_before(at)) {
      out.push_back({ArchiveFileName("incidents", at), detail::Line(&it->second, nullptr)});
      detail::Count(state.totals, it->second);
    }
    model.incidents.erase(it);
  }

  // Deployments: the model's and the retired ones, merged in (finished_at,
  // correlation_id) order; a retired entry and the model's share an id only
  // with different finished_at (the model's is the later attempt).
  struct Dep {
    Timestamp at;
    std::string id;
    bool retired;
    bool operator<(const Dep& o) const { return std::tie(at, id, retired) < std::tie(o.at, o.id, o.retired); }
  };
  std::vector<Dep> deployments;
  for (const auto& [id, d] : model.deployments) {
    if (d.status != DeploymentStatus::kRunning && d.finished_at && *d.finished_at < horizon) {
      deployments.push_back({*d.finished_at, id, false});
    }
  }
  for (const auto& [key, d] : model.retired_deployments) {
    if (key.first >= horizon) break;  // sorted by finished_at
    deployments.push_back({key.first, key.second, true});
  }
  std::sort(deployments.begin(), deployments.end());
  for (const Dep& dep : deployments) {
    if (dep.retired) {
      auto it = model.retired_deployments.find(std::make_pair(dep.at, dep.id));
      if (!archived_before(dep.at)) {
        out.push_back({ArchiveFileName("deployments", dep.at), detail::Line(nullptr, &it->second)});
        detail::Count(state.totals, it->second);
      }
      model.retired_deployments.erase(it);
    } else {
      auto it = model.deployments.find(std::string_view(dep.id));
      if (!archived_before(dep.at)) {
        out.push_back({ArchiveFileName("deployments", dep.at), detail::Line(nullptr, &it->second)});
        detail::Count(state.totals, it->second);
        state.totals.last_deployment_status[dep.id] = it->second.status;
      }
      model.deployments.erase(it);
    }
  }

  // Keep only the statuses a service entry still needs.
  if (!state.totals.last_deployment_status.empty()) {
    std::set<std::string_view> named;
    for (const auto& [key, s] : model.services) {
      if (!s.last_deployment.empty() && !model.deployments.contains(std::string_view(s.last_deployment))) {
        named.insert(s.last_deployment);
      }
    }
    auto& statuses = state.totals.last_deployment_status;
    for (auto it = statuses.begin(); it != statuses.end();) {
      it = named.count(it->first) == 0 ? statuses.erase(it) : std::next(it);
    }
  }
  state.horizon = horizon;
  return out;
}

void WriteArchiveState(JsonWriter& out, const HistoryArchiveState& s, const Model& model) {
  const ArchiveTotals& t = s.totals;
  out.BeginObject();
  out.Key("deployment_durations");
  out.BeginArray();
  for (const auto& [key, h] : t.figures.deployment_durations) {
    out.BeginArray();
    out.String(key.first);
    out.String(key.second);
    detail::WriteHistogram(out, h);
    out.EndArray();
  }
  out.EndArray();
  out.KeyUint("deployments_failed", t.deployments_failed);
  out.KeyUint("deployments_succeeded", t.deployments_succeeded);
  out.Key("files");
  out.BeginArray();
  for (const auto& [name, size] : s.sizes) {
    out.BeginArray();
    out.String(name);
    out.Uint(size);
    out.EndArray();
  }
  out.EndArray();
  // [seconds, nanos]: a horizon far in the past has no RFC 3339 spelling.
  out.Key("horizon");
  if (s.horizon) {
    out.BeginArray();
    out.Int(s.horizon->seconds);
    out.Int(s.horizon->nanos);
    out.EndArray();
  } else {
    out.Null();
  }
  out.Key("incidents_opened");
  WritePairCounts(out, t.figures.incidents_opened);
  out.KeyUint("incidents_resolved", t.incidents_resolved);
  out.Key("last_deployment_status");
  out.BeginArray();
  for (const auto& [id, status] : t.last_deployment_status) {
    out.BeginArray();
    out.String(id);
    out.String(DeploymentStatusName(status));
    out.EndArray();
  }
  out.EndArray();
  out.KeyUint("lateness_nanos", static_cast<uint64_t>(std::max<int64_t>(s.max_lateness.nanos, 0)));
  out.Key("resolution_by_severity");
  out.BeginArray();
  for (const DurationHistogram& h : t.figures.resolution_by_severity) detail::WriteHistogram(out, h);
  out.EndArray();
  out.KeyUint("retention_nanos", static_cast<uint64_t>(std::max<int64_t>(s.retention.nanos, 0)));
  // Each retired deployment as a one-entry deployments.json text, read
  // back by the world files' own reader.
  out.Key("retired");
  out.BeginArray();
  for (const auto& [key, d] : model.retired_deployments) {
    JsonWriter one(JsonWriter::Style::kCompact);
    one.BeginObject();
    one.Key(d.correlation_id);
    WriteDeploymentEntry(one, d);
    one.EndObject();
    one.Finish();
    out.String(one.Take());
  }
  out.EndArray();
  out.EndObject();
}

bool ReadArchiveState(simdjson::dom::element value, HistoryArchiveState* state, Model* model,
                      std::string* error) {
  using detail::As;
  using detail::At;
  try {
    const auto j = As<simdjson::dom::object>(value);
    HistoryArchiveState s;
    ArchiveTotals& t = s.totals;
    for (simdjson::dom::element e : As<simdjson::dom::array>(At(j, "deployment_durations"))) {
      std::vector<simdjson::dom::element> f;
      for (simdjson::dom::element x : As<simdjson::dom::array>(e)) f.push_back(x);
      if (f.size() != 3) detail::Refuse("history: bad duration entry");
      t.figures.deployment_durations[{std::string(As<std::string_view>(f[0])),
                                      std::string(As<std::string_view>(f[1]))}] =
          detail::ReadHistogram(f[2]);
    }
    t.deployments_failed = As<uint64_t>(At(j, "deployments_failed"));
    t.deployments_succeeded = As<uint64_t>(At(j, "deployments_succeeded"));
    for (simdjson::dom::element e : As<simdjson::dom::array>(At(j, "files"))) {
      std::vector<simdjson::dom::element> f;
      for (simdjson::dom::element x : As<simdjson::dom::array>(e)) f.push_back(x);
      if (f.size() != 2) detail::Refuse("history: bad file entry");
      s.sizes[std::string(As<std::string_view>(f[0]))] = As<uint64_t>(f[1]);
    }
    const simdjson::dom::element horizon = At(j, "horizon");
    if (!horizon.is_null()) {
      std::vector<int64_t> f;
      for (simdjson::dom::element x : As<simdjson::dom::array>(horizon)) f.push_back(As<int64_t>(x));
      if (f.size() != 2 || f[1] < 0 || f[1] >= 1'000'000'000) detail::Refuse("history: bad horizon");
      s.horizon = Timestamp{f[0], static_cast<decltype(Timestamp{}.nanos)>(f[1])};
    }
    for (simdjson::dom::element e : As<simdjson::dom::array>(At(j, "incidents_opened"))) {
      std::vector<simdjson::dom::element> f;
      for (simdjson::dom::element x : As<simdjson::dom::array>(e)) f.push_back(x);
      if (f.size() != 3) detail::Refuse("history: bad opened entry");
      t.figures.incidents_opened[{std::string(As<std::string_view>(f[0])),
                                  std::string(As<std::string_view>(f[1]))}] = As<uint64_t>(f[2]);
    }
    t.incidents_resolved = As<uint64_t>(At(j, "incidents_resolved"));
    s.max_lateness = Duration{static_cast<int64_t>(As<uint64_t>(At(j, "lateness_nanos")))};
    for (simdjson::dom::element e : As<simdjson::dom::array>(At(j, "last_deployment_status"))) {
      std::vector<simdjson::dom::element> f;
      for (simdjson::dom::element x : As<simdjson::dom::array>(e)) f.push_back(x);
      if (f.size() != 2) detail::Refuse("history: bad status entry");
      const auto status = detail::StatusFromName(As<std::string_view>(f[1]));
      if (!status) detail::Refuse("history: bad status");
      t.last_deployment_status[std::string(As<std::string_view>(f[0]))] = *status;
    }
    size_t k = 0;
    for (simdjson::dom::element e : As<simdjson::dom::array>(At(j, "resolution_by_severity"))) {
      if (k >= t.figures.resolution_by_severity.size()) detail::Refuse("history: bad severities");
      t.figures.resolution_by_severity[k++] = detail::ReadHistogram(e);
    }
    if (k != t.figures.resolution_by_severity.size()) detail::Refuse("history: bad severities");
    s.retention = Duration{static_cast<int64_t>(As<uint64_t>(At(j, "retention_nanos")))};
    model->retired_deployments.clear();
    for (simdjson::dom::element e : As<simdjson::dom::array>(At(j, "retired"))) {
      std::optional<StringMap<DeploymentState>> one =
          ReadDeployments(As<std::string_view>(e), error);
      if (!one || one->size() != 1) detail::Refuse("history: bad retired deployment");
      DeploymentState& d = one->begin()->second;
      if (!d.finished_at) detail::Refuse("history: a retired deployment has not finished");
      model->retired_deployments.emplace(std::make_pair(*d.finished_at, d.correlation_id),
                                         std::move(d));
    }
    *state = std::move(s);
    return true;
  } catch (const std::exception& e) {
    if (error) *error = e.what();
    return false;
  }
}

}  // namespace hlo
