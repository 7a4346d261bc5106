#include "observer/model_codec.h"

namespace hlo {
namespace detail {
namespace {

using nlohmann::json;

json T(Timestamp t) { return json::array({t.seconds, t.nanos}); }
json T(const std::optional<Timestamp>& t) { return t ? T(*t) : json(); }

Timestamp GetT(const json& j) {
  const auto nanos = j.at(1).get<int32_t>();
  if (nanos < 0 || nanos >= 1'000'000'000) throw std::out_of_range("nanos out of range");
  return {j.at(0).get<int64_t>(), nanos};
}
std::optional<Timestamp> GetOptT(const json& j) {
  if (j.is_null()) return std::nullopt;
  return GetT(j);
}
Severity GetSeverity(const json& j) {
  const auto v = j.get<int>();
  if (v < 0 || v > 3) throw std::out_of_range("severity out of range");
  return static_cast<Severity>(v);
}

json EncodeIncident(const IncidentState& i) {
  json events = json::array();
  for (const auto& t : i.events) events.push_back(T(t));
  return {{"id", i.id},
          {"node", i.node},
          {"service", i.service},
          {"active", i.active},
          {"severity", static_cast<int>(i.severity)},
          {"started_at", T(i.started_at)},
          {"last_occurrence", T(i.last_occurrence)},
          {"count", i.occurrence_count},
          {"events", events},
          {"correlation_id", i.correlation_id},
          {"resolved_at", T(i.resolved_at)},
          {"repeat_of", i.repeat_of},
          {"diagnostics", i.diagnostics}};
}

IncidentState DecodeIncident(const json& j) {
  IncidentState i;
  i.id = j.at("id").get<std::string>();
  i.node = j.at("node").get<std::string>();
  i.service = j.at("service").get<std::string>();
  i.active = j.at("active").get<bool>();
  i.severity = GetSeverity(j.at("severity"));
  i.started_at = GetT(j.at("started_at"));
  i.last_occurrence = GetT(j.at("last_occurrence"));
  i.occurrence_count = j.at("count").get<uint64_t>();
  for (const auto& t : j.at("events")) i.events.push_back(GetT(t));
  i.correlation_id = j.at("correlation_id").get<std::string>();
  i.resolved_at = GetOptT(j.at("resolved_at"));
  i.repeat_of = j.at("repeat_of").get<std::string>();
  i.diagnostics = j.at("diagnostics").get<std::vector<std::string>>();
  return i;
}

json EncodeDeployment(const DeploymentState& d) {
  json stages = json::array();
  for (const auto& s : d.stages) stages.push_back(json::array({s.name, T(s.at)}));
  return {{"correlation_id", d.correlation_id},
          {"node", d.node},
          {"service", d.service},
          {"status", static_cast<int>(d.status)},
          {"started_at", T(d.started_at)},
          {"finished_at", T(d.finished_at)},
          {"stages", stages},
          {"attempts", d.attempts},
          {"diagnostics", d.diagnostics}};
}

DeploymentState DecodeDeployment(const json& j) {
  DeploymentState d;
  d.correlation_id = j.at("correlation_id").get<std::string>();
  d.node = j.at("node").get<std::string>();
  d.service = j.at("service").get<std::string>();
  const auto status = j.at("status").get<int>();
  if (status < 0 || status > 2) throw std::out_of_range("status out of range");
  d.status = static_cast<DeploymentStatus>(status);
  d.started_at = GetOptT(j.at("started_at"));
  d.finished_at = GetOptT(j.at("finished_at"));
  for (const auto& s : j.at("stages")) {
    d.stages.push_back({s.at(0).get<std::string>(), GetT(s.at(1))});
  }
  d.attempts = j.at("attempts").get<uint64_t>();
  d.diagnostics = j.at("diagnostics").get<std::vector<std::string>>();
  return d;
}

json EncodeCounters(const Counters& c) {
  json finished = json::array();
  for (const auto& [key, n] : c.deployments_finished) {
    finished.push_back(json::array({key.first, key.second, n}));
  }
  return {{"processed", c.events_processed},
          {"rejected", c.events_rejected},
          {"by_type", c.processed_by_type},
          {"by_reason", c.rejected_by_reason},
          {"deployments_finished", finished},
          {"last_event_at", T(c.last_event_at)}};
}

Counters DecodeCounters(const json& j) {
  Counters c;
  c.events_processed = j.at("processed").get<uint64_t>();
  c.events_rejected = j.at("rejected").get<uint64_t>();
  c.processed_by_type = j.at("by_type").get<std::map<std::string, uint64_t, std::less<>>>();
  c.rejected_by_reason = j.at("by_reason").get<std::map<std::string, uint64_t, std::less<>>>();
  for (const auto& f : j.at("deployments_finished")) {
    c.deployments_finished[{f.at(0).get<std::string>(), f.at(1).get<std::string>()}] =
        f.at(2).get<uint64_t>();
  }
  c.last_event_at = GetOptT(j.at("last_event_at"));
  return c;
}

}  // namespace
}  // namespace detail

nlohmann::json EncodeModel(const Model& model) {
  using nlohmann::json;
  json nodes = json::object();
  for (const auto& [name, n] : model.nodes) {
    nodes[name] = json::array({detail::T(n.last_seen), n.down});
  }
  json services = json::object();
  for (const auto& [key, s] : model.services) {
    services[key] = {{"node", s.node},
                     {"service", s.service},
                     {"health_seen", s.health_seen},
                     {"last_check", detail::T(s.last_check)},
                     {"active_incident", s.active_incident},
                     {"last_incident", s.last_incident},
                     {"last_deployment", s.last_deployment}};
  }
  json incidents = json::object();
  for (const auto& [id, i] : model.incidents) incidents[id] = detail::EncodeIncident(i);
  json deployments = json::object();
  for (const auto& [id, d] : model.deployments) deployments[id] = detail::EncodeDeployment(d);
  return {{"nodes", nodes},
          {"services", services},
          {"incidents", incidents},
          {"deployments", deployments},
          {"counters", detail::EncodeCounters(model.counters)}};
}

std::optional<Model> DecodeModel(const nlohmann::json& j, std::string* error) {
  try {
    Model m;
    for (const auto& [name, n] : j.at("nodes").items()) {
      m.nodes[name] = {detail::GetOptT(n.at(0)), n.at(1).get<bool>()};
    }
    for (const auto& [key, s] : j.at("services").items()) {
      ServiceState& e = m.services[key];
      e.node = s.at("node").get<std::string>();
      e.service = s.at("service").get<std::string>();
      e.health_seen = s.at("health_seen").get<bool>();
      e.last_check = detail::GetOptT(s.at("last_check"));
      e.active_incident = s.at("active_incident").get<std::string>();
      e.last_incident = s.at("last_incident").get<std::string>();
      e.last_deployment = s.at("last_deployment").get<std::string>();
    }
    for (const auto& [id, i] : j.at("incidents").items()) {
      m.incidents[id] = detail::DecodeIncident(i);
    }
    for (const auto& [id, d] : j.at("deployments").items()) {
      m.deployments[id] = detail::DecodeDeployment(d);
    }
    m.counters = detail::DecodeCounters(j.at("counters"));
    // Cross-references must hold, or Apply would later trip over them.
    for (const auto& [key, s] : m.services) {
      if (!s.active_incident.empty() && m.incidents.count(s.active_incident) == 0) {
        throw std::out_of_range("service " + key + " names an unknown incident");
      }
    }
    return m;
  } catch (const std::exception& e) {
    if (error != nullptr) *error = e.what();
    return std::nullopt;
  }
}

}  // namespace hlo
