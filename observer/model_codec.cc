#include "observer/model_codec.h"

#include <algorithm>
#include <array>
#include <stdexcept>
#include <vector>

namespace hlo {
namespace detail {
namespace {

using simdjson::dom::element;

// ------------------------------------------------------------- writing ---

void WriteTime(JsonWriter& out, Timestamp t) {
  out.BeginArray();
  out.Int(t.seconds);
  out.Int(t.nanos);
  out.EndArray();
}

void WriteTime(JsonWriter& out, const std::optional<Timestamp>& t) {
  if (t) {
    WriteTime(out, *t);
  } else {
    out.Null();
  }
}

// The entries of a hash map in key order, as JsonWriter needs them.
template <class Map>
std::vector<const typename Map::value_type*> SortedByKey(const Map& map) {
  std::vector<const typename Map::value_type*> entries;
  entries.reserve(map.size());
  for (const auto& entry : map) entries.push_back(&entry);
  std::sort(entries.begin(), entries.end(),
            [](const auto* a, const auto* b) { return a->first < b->first; });
  return entries;
}

void WriteCountMap(JsonWriter& out, const std::map<std::string, uint64_t, std::less<>>& counts) {
  out.BeginObject();
  for (const auto& [key, n] : counts) out.KeyUint(key, n);
  out.EndObject();
}

void WriteCounters(JsonWriter& out, const Counters& c) {
  out.BeginObject();
  out.Key("by_reason");
  WriteCountMap(out, c.rejected_by_reason);
  out.Key("by_type");
  WriteCountMap(out, c.processed_by_type);
  out.Key("deployments_finished");
  WritePairCounts(out, c.deployments_finished);
  out.KeyUint("duplicate", c.events_duplicate);
  out.Key("last_event_at");
  WriteTime(out, c.last_event_at);
  out.KeyUint("processed", c.events_processed);
  out.KeyUint("rejected", c.events_rejected);
  out.EndObject();
}

void WriteService(JsonWriter& out, const ServiceState& s) {
  out.BeginObject();
  out.KeyString("active_incident", s.active_incident);
  out.Key("flapping");
  out.Bool(s.flapping);
  out.Key("health_seen");
  out.Bool(s.health_seen);
  out.Key("last_check");
  WriteTime(out, s.last_check);
  out.KeyString("last_deployment", s.last_deployment);
  out.KeyString("last_incident", s.last_incident);
  out.Key("maintenance");
  out.Bool(s.maintenance);
  out.KeyString("node", s.node);
  out.Key("results");
  out.BeginArray();
  out.Uint(s.result_bits);
  out.Uint(s.results);
  out.EndArray();
  out.KeyString("service", s.service);
  out.EndObject();
}

// ------------------------------------------------------------- reading ---

// What is wrong with the model; thrown on the way down, caught by ReadModel.
[[noreturn]] void Refuse(const std::string& what) { throw std::invalid_argument(what); }

template <class T>
T As(element value, const char* what) {
  T out;
  if (value.get(out) != simdjson::SUCCESS) Refuse(std::string("not ") + what);
  return out;
}

element At(simdjson::dom::object object, std::string_view key) {
  element value;
  if (object.at_key(key).get(value) != simdjson::SUCCESS) {
    Refuse("missing field '" + std::string(key) + "'");
  }
  return value;
}

// The elements of an array of exactly N.
template <size_t N>
std::array<element, N> Tuple(element value, const char* what) {
  std::array<element, N> items;
  size_t n = 0;
  for (const element item : As<simdjson::dom::array>(value, what)) {
    if (n == N) Refuse(std::string("not ") + what);
    items[n++] = item;
  }
  if (n != N) Refuse(std::string("not ") + what);
  return items;
}

Timestamp ReadTime(element value) {
  const auto [seconds, nanos] = Tuple<2>(value, "a timestamp");
  const auto n = As<int64_t>(nanos, "a timestamp");
  if (n < 0 || n >= 1'000'000'000) Refuse("nanos out of range");
  return {As<int64_t>(seconds, "a timestamp"), static_cast<int32_t>(n)};
}

std::optional<Timestamp> ReadOptionalTime(element value) {
  if (value.is_null()) return std::nullopt;
  return ReadTime(value);
}

std::string ReadString(element value) { return std::string(As<std::string_view>(value, "a string")); }

std::map<std::string, uint64_t, std::less<>> ReadCountMap(element value) {
  std::map<std::string, uint64_t, std::less<>> counts;
  for (const simdjson::dom::key_value_pair field : As<simdjson::dom::object>(value, "an object")) {
    counts[std::string(field.key)] = As<uint64_t>(field.value, "a count");
  }
  return counts;
}

Counters ReadCounters(element value) {
  const auto j = As<simdjson::dom::object>(value, "an object");
  Counters c;
  c.events_processed = As<uint64_t>(At(j, "processed"), "a count");
  c.events_rejected = As<uint64_t>(At(j, "rejected"), "a count");
  c.events_duplicate = As<uint64_t>(At(j, "duplicate"), "a count");
  c.processed_by_type = ReadCountMap(At(j, "by_type"));
  c.rejected_by_reason = ReadCountMap(At(j, "by_reason"));
  for (const element f : As<simdjson::dom::array>(At(j, "deployments_finished"), "an array")) {
    const auto [service, status, n] = Tuple<3>(f, "a finished-deployments entry");
    c.deployments_finished[{ReadString(service), ReadString(status)}] = As<uint64_t>(n, "a count");
  }
  c.last_event_at = ReadOptionalTime(At(j, "last_event_at"));
  return c;
}

ServiceState ReadService(element value) {
  const auto s = As<simdjson::dom::object>(value, "a service object");
  ServiceState e;
  e.node = ReadString(At(s, "node"));
  e.service = ReadString(At(s, "service"));
  e.health_seen = As<bool>(At(s, "health_seen"), "a boolean");
  e.last_check = ReadOptionalTime(At(s, "last_check"));
  e.active_incident = ReadString(At(s, "active_incident"));
  e.last_incident = ReadString(At(s, "last_incident"));
  e.last_deployment = ReadString(At(s, "last_deployment"));
  e.flapping = As<bool>(At(s, "flapping"), "a boolean");
  e.maintenance = As<bool>(At(s, "maintenance"), "a boolean");
  const auto [bits, count] = Tuple<2>(At(s, "results"), "a results pair");
  const auto n = As<uint64_t>(count, "a count");
  const auto b = As<uint64_t>(bits, "a bit set");
  if (n > static_cast<uint64_t>(kFlapResults) || b >= (uint64_t{1} << n)) {
    Refuse("health results out of range");
  }
  e.result_bits = static_cast<uint32_t>(b);
  e.results = static_cast<uint8_t>(n);
  return e;
}

}  // namespace
}  // namespace detail

void WritePairCounts(JsonWriter& out,
                     const std::map<std::pair<std::string, std::string>, uint64_t>& counts) {
  out.BeginArray();
  for (const auto& [key, n] : counts) {
    out.BeginArray();
    out.String(key.first);
    out.String(key.second);
    out.Uint(n);
    out.EndArray();
  }
  out.EndArray();
}

void WriteModel(JsonWriter& out, const Model& model) {
  out.BeginObject();
  out.Key("counters");
  detail::WriteCounters(out, model.counters);
  out.Key("nodes");
  out.BeginObject();
  for (const auto* entry : detail::SortedByKey(model.nodes)) {
    out.Key(entry->first);
    out.BeginArray();
    detail::WriteTime(out, entry->second.last_seen);
    out.Bool(entry->second.down);
    out.Bool(entry->second.maintenance);
    out.EndArray();
  }
  out.EndObject();
  out.Key("services");
  out.BeginObject();
  for (const auto* entry : detail::SortedByKey(model.services)) {
    out.Key(entry->first);
    detail::WriteService(out, entry->second);
  }
  out.EndObject();
  out.EndObject();
}

std::optional<Model> ReadModel(simdjson::dom::element value, std::string* error) {
  using detail::As;
  using detail::At;
  try {
    const auto j = As<simdjson::dom::object>(value, "an object");
    Model m;
    for (const simdjson::dom::key_value_pair n :
         As<simdjson::dom::object>(At(j, "nodes"), "an object")) {
      const auto [last_seen, down, maintenance] = detail::Tuple<3>(n.value, "a node triple");
      m.nodes[std::string(n.key)] = {detail::ReadOptionalTime(last_seen),
                                     As<bool>(down, "a boolean"),
                                     As<bool>(maintenance, "a boolean")};
    }
    for (const simdjson::dom::key_value_pair s :
         As<simdjson::dom::object>(At(j, "services"), "an object")) {
      m.services[std::string(s.key)] = detail::ReadService(s.value);
    }
    m.counters = detail::ReadCounters(At(j, "counters"));
    return m;
  } catch (const std::exception& e) {
    if (error != nullptr) *error = e.what();
    return std::nullopt;
  }
}

}  // namespace hlo
