#include "observer/world_reader.h"

#include <cstdint>
#include <vector>

#include <simdjson.h>

namespace hlo {
namespace detail {
namespace {

using simdjson::dom::element;

// What was wrong with a value, or nullptr. Static text, so that reading a good
// file builds no message.
using Problem = const char*;

Problem ReadString(element v, std::string& out) {
  std::string_view s;
  if (v.get(s) != simdjson::SUCCESS) return "not a string";
  out.assign(s);
  return nullptr;
}

// The serializer writes "" as null, so a "" here is not its output.
Problem ReadNullableString(element v, std::string& out) {
  if (v.is_null()) {
    out.clear();
    return nullptr;
  }
  if (ReadString(v, out) != nullptr) return "not a string or null";
  return out.empty() ? "\"\" where null is written" : nullptr;
}

Problem ReadTime(element v, Timestamp& out) {
  std::string_view s;
  if (v.get(s) != simdjson::SUCCESS) return "not a string";
  const std::optional<Timestamp> t = ParseTimestamp(s);
  if (!t) return "bad timestamp";
  out = *t;
  return nullptr;
}

Problem ReadNullableTime(element v, std::optional<Timestamp>& out) {
  if (v.is_null()) {
    out.reset();
    return nullptr;
  }
  Timestamp t;
  if (Problem p = ReadTime(v, t)) return p;
  out = t;
  return nullptr;
}

Problem ReadCount(element v, uint64_t& out) {
  return v.get(out) == simdjson::SUCCESS ? nullptr : "not an unsigned integer";
}

Problem ReadStrings(element v, std::vector<std::string>& out) {
  simdjson::dom::array items;
  if (v.get(items) != simdjson::SUCCESS) return "not an array";
  out.clear();
  out.reserve(items.size());
  for (const element item : items) {
    if (ReadString(item, out.emplace_back()) != nullptr) return "not an array of strings";
  }
  return nullptr;
}

// Apply drops only the oldest one per occurrence, so a longer list would stay
// longer than the cap forever.
Problem ReadEvents(element v, std::vector<Timestamp>& out) {
  simdjson::dom::array items;
  if (v.get(items) != simdjson::SUCCESS) return "not an array";
  if (items.size() > kMaxIncidentEvents) return "more events than kept";
  out.clear();
  out.reserve(items.size());
  for (const element item : items) {
    if (ReadTime(item, out.emplace_back()) != nullptr) return "not an array of timestamps";
  }
  return nullptr;
}

// One field of an entry: its name and how to read it into State.
template <class State>
struct Field {
  std::string_view name;
  Problem (*read)(element value, State& out);
};

// Reads every field of the object `value` through `fields`, which it must hold
// each exactly once and nothing else. "" when it did, else the reason.
template <class State, size_t N>
std::string ReadFields(element value, const Field<State> (&fields)[N], State& out) {
  static_assert(N <= 32, "seen is a 32-bit mask");
  simdjson::dom::object object;
  if (value.get(object) != simdjson::SUCCESS) return "not an object";
  uint32_t seen = 0;
  for (const simdjson::dom::key_value_pair field : object) {
    size_t i = 0;
    while (i < N && fields[i].name != field.key) ++i;
    if (i == N) return "unknown field '" + std::string(field.key) + "'";
    if (seen & (1u << i)) return "repeated field '" + std::string(field.key) + "'";
    seen |= 1u << i;
    if (Problem p = fields[i].read(field.value, out)) {
      return "field '" + std::string(field.key) + "': " + p;
    }
  }
  for (size_t i = 0; i < N; ++i) {
    if (!(seen & (1u << i))) return "missing field '" + std::string(fields[i].name) + "'";
  }
  return {};
}

constexpr Field<DeploymentStage> kStageFields[] = {
    {"at", [](element v, DeploymentStage& s) { return ReadTime(v, s.at); }},
    {"name", [](element v, DeploymentStage& s) { return ReadString(v, s.name); }},
};

Problem ReadStages(element v, std::vector<DeploymentStage>& out) {
  simdjson::dom::array items;
  if (v.get(items) != simdjson::SUCCESS) return "not an array";
  out.clear();
  out.reserve(items.size());
  for (const element item : items) {
    if (!ReadFields(item, kStageFields, out.emplace_back()).empty()) {
      return "not an array of {name, at}";
    }
  }
  return nullptr;
}

Problem ReadSeverity(element v, Severity& out) {
  std::string_view s;
  if (v.get(s) != simdjson::SUCCESS) return "not a string";
  const std::optional<Severity> severity = SeverityFromName(s);
  if (!severity) return "unknown severity";
  out = *severity;
  return nullptr;
}

Problem ReadIncidentStatus(element v, bool& active) {
  std::string_view s;
  if (v.get(s) != simdjson::SUCCESS) return "not a string";
  if (s != "active" && s != "resolved") return "unknown status";
  active = s == "active";
  return nullptr;
}

Problem ReadDeploymentStatus(element v, DeploymentStatus& out) {
  std::string_view s;
  if (v.get(s) != simdjson::SUCCESS) return "not a string";
  for (DeploymentStatus status :
       {DeploymentStatus::kRunning, DeploymentStatus::kSucceeded, DeploymentStatus::kFailed}) {
    if (DeploymentStatusName(status) == s) {
      out = status;
      return nullptr;
    }
  }
  return "unknown status";
}

Problem ReadBool(element v, bool& out) {
  return v.get(out) == simdjson::SUCCESS ? nullptr : "not a boolean";
}

// duration_seconds is derived from the other fields: only its shape is checked.
Problem CheckIncidentDuration(element v, IncidentState&) {
  return v.is_null() || v.is_number() ? nullptr : "not a number or null";
}

constexpr Field<IncidentState> kIncidentFields[] = {
    {"correlation_id",
     [](element v, IncidentState& i) { return ReadNullableString(v, i.correlation_id); }},
    {"diagnostics", [](element v, IncidentState& i) { return ReadStrings(v, i.diagnostics); }},
    {"duration_seconds", CheckIncidentDuration},
    {"during_maintenance",
     [](element v, IncidentState& i) { return ReadBool(v, i.during_maintenance); }},
    {"events", [](element v, IncidentState& i) { return ReadEvents(v, i.events); }},
    {"flapping", [](element v, IncidentState& i) { return ReadBool(v, i.flapping); }},
    {"id", [](element v, IncidentState& i) { return ReadString(v, i.id); }},
    {"last_occurrence", [](element v, IncidentState& i) { return ReadTime(v, i.last_occurrence); }},
    {"node", [](element v, IncidentState& i) { return ReadString(v, i.node); }},
    {"occurrence_count",
     [](element v, IncidentState& i) { return ReadCount(v, i.occurrence_count); }},
    {"repeat_of", [](element v, IncidentState& i) { return ReadNullableString(v, i.repeat_of); }},
    {"resolved_at", [](element v, IncidentState& i) { return ReadNullableTime(v, i.resolved_at); }},
    {"service", [](element v, IncidentState& i) { return ReadString(v, i.service); }},
    {"severity", [](element v, IncidentState& i) { return ReadSeverity(v, i.severity); }},
    {"started_at", [](element v, IncidentState& i) { return ReadTime(v, i.started_at); }},
    {"status", [](element v, IncidentState& i) { return ReadIncidentStatus(v, i.active); }},
};

std::string CheckIncident(std::string_view key, const IncidentState& i) {
  if (key != i.id) return "key differs from id";
  if (i.active == i.resolved_at.has_value()) return "status disagrees with resolved_at";
  return {};
}

// duration_seconds is derived from the other fields: only its shape is checked.
Problem CheckDuration(element v, DeploymentState&) {
  return v.is_null() || v.is_number() ? nullptr : "not a number or null";
}

constexpr Field<DeploymentState> kDeploymentFields[] = {
    {"attempts", [](element v, DeploymentState& d) { return ReadCount(v, d.attempts); }},
    {"correlation_id",
     [](element v, DeploymentState& d) { return ReadString(v, d.correlation_id); }},
    {"diagnostics", [](element v, DeploymentState& d) { return ReadStrings(v, d.diagnostics); }},
    {"duration_seconds", CheckDuration},
    {"finished_at",
     [](element v, DeploymentState& d) { return ReadNullableTime(v, d.finished_at); }},
    {"node", [](element v, DeploymentState& d) { return ReadNullableString(v, d.node); }},
    {"service", [](element v, DeploymentState& d) { return ReadNullableString(v, d.service); }},
    {"stages", [](element v, DeploymentState& d) { return ReadStages(v, d.stages); }},
    {"started_at", [](element v, DeploymentState& d) { return ReadNullableTime(v, d.started_at); }},
    {"status", [](element v, DeploymentState& d) { return ReadDeploymentStatus(v, d.status); }},
};

std::string CheckDeployment(std::string_view key, const DeploymentState& d) {
  return key == d.correlation_id ? std::string() : "key differs from correlation_id";
}

// A world file: one object of entries, each read through `fields` and then
// checked against its key by `check` ("" = fine).
template <class State, size_t N>
std::optional<StringMap<State>> ReadEntries(std::string_view text, std::string_view file,
                                            const Field<State> (&fields)[N],
                                            std::string (*check)(std::string_view, const State&),
                                            std::string* error) {
  auto fail = [&](std::string_view why) -> std::optional<StringMap<State>> {
    if (error != nullptr) *error = std::string(file) + ": " + std::string(why);
    return std::nullopt;
  };
  // simdjson reads up to SIMDJSON_PADDING bytes past the end; a string_view
  // promises none, so the text is copied into a padded buffer.
  const simdjson::padded_string padded(text);
  if (padded.data() == nullptr) return fail("out of memory");
  simdjson::dom::parser parser;
  element document;
  if (const auto code = parser.parse(padded).get(document); code != simdjson::SUCCESS) {
    return fail(simdjson::error_message(code));
  }
  simdjson::dom::object entries;
  if (document.get(entries) != simdjson::SUCCESS) return fail("not an object");
  StringMap<State> out;
  out.reserve(entries.size());
  for (const simdjson::dom::key_value_pair entry : entries) {
    const auto [it, inserted] = out.try_emplace(std::string(entry.key));
    std::string why = inserted ? ReadFields(entry.value, fields, it->second) : "repeated key";
    if (why.empty()) why = check(entry.key, it->second);
    if (!why.empty()) return fail("'" + std::string(entry.key) + "': " + why);
  }
  return out;
}

}  // namespace
}  // namespace detail

std::optional<StringMap<IncidentState>> ReadIncidents(std::string_view incidents_json,
                                                      std::string* error) {
  return detail::ReadEntries(incidents_json, "incidents.json", detail::kIncidentFields,
                             detail::CheckIncident, error);
}

std::optional<StringMap<DeploymentState>> ReadDeployments(std::string_view deployments_json,
                                                          std::string* error) {
  return detail::ReadEntries(deployments_json, "deployments.json", detail::kDeploymentFields,
                             detail::CheckDeployment, error);
}

}  // namespace hlo
