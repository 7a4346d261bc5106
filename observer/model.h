// The world model: everything the events have established, and nothing that
// depends on the clock, the inventory's later edits or the stage markers
// (those are joined in by BuildSnapshot). Plain data; Apply() mutates it.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "observer/event.h"
#include "observer/timestamp.h"

namespace hlo {

// Hash maps keyed by string that can be probed with a string_view, so the hot
// path looks entries up without building a key string. Their order is
// unspecified: everything that is written out sorts first.
struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
};
}  // namespace hlo

#if defined(__GLIBCXX__)
// libstdc++ stores each node's hash only for hash functions it deems slow
// (std::hash<std::string> is one); for the others, every probe re-hashes the
// keys of the nodes it walks past, touching their heap strings. Ours is a
// string hash too: have the hashes stored. (Measured: without this, lookups
// of the 10,000-entry service map took ~18% of a cold replay.)
template <>
struct std::__is_fast_hash<hlo::StringHash> : std::false_type {};
#endif

namespace hlo {

template <class Value>
using StringMap = std::unordered_map<std::string, Value, StringHash, std::equal_to<>>;
using StringSet = std::unordered_set<std::string, StringHash, std::equal_to<>>;

// Most recent occurrence timestamps kept per incident.
inline constexpr size_t kMaxIncidentEvents = 100;

// Health results kept per service entry for flap detection (CONTRACT §9).
inline constexpr int kFlapResults = 21;

// The flap thresholds (--flap.high, --flap.low), in percent of state change.
struct FlapThresholds {
  int high = 30;
  int low = 20;
  friend bool operator==(const FlapThresholds&, const FlapThresholds&) = default;
};

// S of CONTRACT §9 for the last kFlapResults results in `bits` (newest in
// bit 0, 1 = a problem): the weighted count of state changes, 0…7600.
int FlapScore(uint32_t bits);

struct NodeState {
  std::optional<Timestamp> last_seen;  // latest event time; node_down excluded
  bool down = false;                   // node_down until the node's next event
  bool maintenance = false;            // maintenance_started (no service) until _ended

  friend bool operator==(const NodeState&, const NodeState&) = default;
};

// Key of a service entry: "<node>/<service>" (names never contain '/').
inline std::string ServiceKey(const std::string& node, const std::string& service) {
  return node + '/' + service;
}

struct ServiceState {
  std::string node;
  std::string service;
  bool health_seen = false;              // any health signal so far
  std::optional<Timestamp> last_check;   // latest health signal or failure
  std::string active_incident;           // "" when none
  std::string last_incident;             // most recently opened, for repeat_of
  std::string last_deployment;           // correlation_id, "" when none
  // The last kFlapResults health results, newest in bit 0 (1 = a problem,
  // 0 = OK), and how many there are (at most kFlapResults).
  uint32_t result_bits = 0;
  uint8_t results = 0;
  bool flapping = false;     // with hysteresis, CONTRACT §9
  bool maintenance = false;  // its own (maintenance_started naming it), not its node's

  // ModelIndex's bookkeeping, not part of the entry (ignored by ==, never
  // written): the entry's group of entries of the same service (1 + its
  // number; 0 = none yet), and how many of that group's deferred node-less
  // recoveries it has received (see ModelIndex::BeginBulk).
  uint32_t index_group = 0;
  uint32_t index_received = 0;

  // flap_percent of CONTRACT §9: ⌊S / 76⌋, 0 before kFlapResults results.
  int flap_percent() const { return results < kFlapResults ? 0 : FlapScore(result_bits) / 76; }

  friend bool operator==(const ServiceState& a, const ServiceState& b) {
    return a.node == b.node && a.service == b.service && a.health_seen == b.health_seen &&
           a.last_check == b.last_check && a.active_incident == b.active_incident &&
           a.last_incident == b.last_incident && a.last_deployment == b.last_deployment &&
           a.result_bits == b.result_bits && a.results == b.results &&
           a.flapping == b.flapping && a.maintenance == b.maintenance;
  }
};

struct IncidentState {
  std::string id;
  std::string node;
  std::string service;
  bool active = true;
  Severity severity = Severity::kError;
  Timestamp started_at;
  Timestamp last_occurrence;
  uint64_t occurrence_count = 0;
  std::vector<Timestamp> events;         // the latest kMaxIncidentEvents, oldest first
  std::string correlation_id;            // "" = null
  std::optional<Timestamp> resolved_at;
  std::string repeat_of;                 // "" = null
  std::vector<std::string> diagnostics;  // "logs/…", unique, in order
  bool flapping = false;            // its entry was flapping right after an occurrence
  bool during_maintenance = false;  // an occurrence happened during maintenance

  friend bool operator==(const IncidentState&, const IncidentState&) = default;
};

enum class DeploymentStatus { kRunning, kSucceeded, kFailed };
std::string_view DeploymentStatusName(DeploymentStatus s);

struct DeploymentStage {
  std::string name;
  Timestamp at;

  friend bool operator==(const DeploymentStage&, const DeploymentStage&) = default;
};

struct DeploymentState {
  std::string correlation_id;
  std::string node;     // "" = null
  std::string service;  // "" = null
  DeploymentStatus status = DeploymentStatus::kRunning;
  std::optional<Timestamp> started_at;
  std::optional<Timestamp> finished_at;
  std::vector<DeploymentStage> stages;
  uint64_t attempts = 1;
  std::vector<std::string> diagnostics;  // "logs/…", current attempt

  friend bool operator==(const DeploymentState&, const DeploymentState&) = default;
};

// Counters mirror the history applied so far; a replay recomputes them.
struct Counters {
  uint64_t events_processed = 0;
  uint64_t events_rejected = 0;
  uint64_t events_duplicate = 0;  // events whose id an earlier event had (not applied)
  std::map<std::string, uint64_t, std::less<>> processed_by_type;   // wire type or "unknown"
  std::map<std::string, uint64_t, std::less<>> rejected_by_reason;  // reason name
  // (deployment's service or "", "succeeded"|"failed") → finished events.
  std::map<std::pair<std::string, std::string>, uint64_t> deployments_finished;
  std::optional<Timestamp> last_event_at;  // of the last processed event

  friend bool operator==(const Counters&, const Counters&) = default;
};

struct Model {
  StringMap<NodeState> nodes;              // by name
  StringMap<ServiceState> services;        // by ServiceKey
  StringMap<IncidentState> incidents;      // by id
  StringMap<DeploymentState> deployments;  // by correlation_id
  // Deployments retired by --history.retention's touch rule (see
  // ApplyDeployment): an event for a correlation_id whose deployment had
  // finished more than the retention before it starts a fresh one, and the
  // old one waits here, as it was, until the archive horizon passes its
  // finished_at (observer/history_archive.h). Keyed by (finished_at,
  // correlation_id), the archive's order. Empty without retention.
  std::map<std::pair<Timestamp, std::string>, DeploymentState> retired_deployments;
  // The ids of the events applied (Event::id): a later event with one of
  // them is a duplicate. Kept in state/event-ids.log, not in the checkpoint.
  StringSet event_ids;
  Counters counters;

  friend bool operator==(const Model&, const Model&) = default;
};

}  // namespace hlo
