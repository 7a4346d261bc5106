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
  return {{"nodes", nodes},
          {"services", services},
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
    m.counters = detail::DecodeCounters(j.at("counters"));
    return m;
  } catch (const std::exception& e) {
    if (error != nullptr) *error = e.what();
    return std::nullopt;
  }
}

}  // namespace hlo
