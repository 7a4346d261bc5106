// An immutable view of the world at one instant: the model joined with the
// inventory, the stage markers and the clock. Both the world files and the
// metrics are generated from it, so they always agree.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "observer/inventory.h"
#include "observer/model.h"
#include "observer/stage_markers.h"
#include "observer/timestamp.h"

namespace hlo {

struct ArchiveTotals;  // observer/history_archive.h

enum class NodeStatus { kUp, kDown, kUnknown };
enum class ServiceStatus { kHealthy, kUnhealthy, kStale, kUnknown };
std::string_view NodeStatusName(NodeStatus s);
std::string_view ServiceStatusName(ServiceStatus s);
inline constexpr ServiceStatus kAllServiceStatuses[] = {
    ServiceStatus::kHealthy, ServiceStatus::kUnhealthy, ServiceStatus::kStale,
    ServiceStatus::kUnknown};

struct NodeView {
  std::string name;
  NodeStatus status = NodeStatus::kUnknown;
  std::vector<std::string> roles;
  std::optional<Timestamp> last_seen;
  bool in_inventory = false;
  std::vector<StageMarker> stages;
  bool maintenance = false;
};

struct ServiceView {
  std::string node;
  std::string service;
  ServiceStatus status = ServiceStatus::kUnknown;
  std::optional<Timestamp> last_check;
  std::string active_incident;  // "" = null
  bool in_inventory = false;
  std::string last_deployment;  // "" = null
  // Status of last_deployment; nullopt when there is none (or it is unknown).
  std::optional<DeploymentStatus> last_deployment_status;
  bool flapping = false;
  int flap_percent = 0;
  bool maintenance = false;  // its own or its node's
};

struct WorldSummary {
  uint64_t nodes_up = 0, nodes_down = 0, nodes_unknown = 0;
  uint64_t services_healthy = 0, services_unhealthy = 0, services_stale = 0, services_unknown = 0;
  uint64_t incidents_active = 0, incidents_resolved = 0;
  std::array<uint64_t, 4> active_by_severity{};  // indexed by Severity
  uint64_t deployments_running = 0, deployments_succeeded = 0, deployments_failed = 0;
  uint64_t deployments_total() const {
    return deployments_running + deployments_succeeded + deployments_failed;
  }
};

// Upper bounds, in seconds, of the duration histograms (incident resolution,
// deployment duration): 1 minute to 1 week.
inline constexpr std::array<double, 11> kHistoryDurationBuckets = {
    60, 300, 900, 1800, 3600, 7200, 21600, 43200, 86400, 259200, 604800};

struct DurationHistogram {
  std::array<uint64_t, kHistoryDurationBuckets.size()> cumulative{};  // ≤ each bound
  uint64_t count = 0;
  // The sum, exact whatever the order of the observations (whole seconds and
  // the nanoseconds beyond them), so that a replay gives the same figure.
  uint64_t sum_seconds = 0;
  uint64_t sum_nanos = 0;

  void Observe(Duration d);  // a negative span counts as 0
  double sum() const {
    return static_cast<double>(sum_seconds) + static_cast<double>(sum_nanos) / 1e9;
  }
  friend bool operator==(const DurationHistogram&, const DurationHistogram&) = default;
};

// Figures over the whole history (every incident and deployment the world
// files hold), recomputed from them: a replay gives the same ones.
struct HistoryFigures {
  // resolved_at − started_at of resolved incidents, by severity.
  std::array<DurationHistogram, 4> resolution_by_severity;  // indexed by Severity
  // finished_at − started_at of finished deployments (their latest attempt),
  // by (service or "", "succeeded"|"failed").
  std::map<std::pair<std::string, std::string>, DurationHistogram> deployment_durations;
  // Incidents opened, by (node, service).
  std::map<std::pair<std::string, std::string>, uint64_t> incidents_opened;
};

// One shared empty HistoryFigures: the default of the pointers below.
const std::shared_ptr<const HistoryFigures>& NoHistoryFigures();

// Self-contained (no pointers into the model), so the daemon can hand it to
// the scrape threads while the model moves on. History — resolved incidents
// and every deployment — stays in the model: it is written out from there
// (SerializeWorld) rather than copied into every snapshot.
struct WorldSnapshot {
  Timestamp generated_at;
  std::vector<NodeView> nodes;        // sorted by name
  std::vector<ServiceView> services;  // sorted by "<node>/<service>"
  std::vector<IncidentState> active_incidents;  // sorted by id
  Counters counters;
  std::optional<std::string> checkpoint_file;  // null before any event file
  uint64_t checkpoint_offset = 0;
  WorldSummary summary;
  std::shared_ptr<const HistoryFigures> history = NoHistoryFigures();  // never null
};

// What the snapshot needs from the history (incidents and deployments):
// walking 50,000 entries after every batch would dominate `run`'s time to
// /metrics, so the observer keeps this between batches and recomputes it only
// when the history revisions of the model's ModelIndex moved.
struct HistorySummary {
  std::vector<IncidentState> active_incidents;  // sorted by id
  uint64_t incidents_active = 0, incidents_resolved = 0;
  std::array<uint64_t, 4> active_by_severity{};  // indexed by Severity
  uint64_t deployments_running = 0, deployments_succeeded = 0, deployments_failed = 0;
  std::shared_ptr<const HistoryFigures> figures = NoHistoryFigures();  // never null
};
// `archived` (optional): what --history.retention moved out of the model,
// added in so that the figures do not depend on it.
HistorySummary SummarizeHistory(const Model& model, const ArchiveTotals* archived = nullptr);

struct SnapshotInputs {
  const Model* model = nullptr;            // required
  const Inventory* inventory = nullptr;    // optional
  const StageMarkers* stages = nullptr;    // optional
  Timestamp now;
  Duration stale_after{600'000'000'000};  // --node-stale-after, default 10m
  // --service-stale-after: a service whose last check is strictly older is
  // stale (CONTRACT §9); 0 = off.
  Duration service_stale_after{0};
  std::optional<std::string> checkpoint_file;
  uint64_t checkpoint_offset = 0;
  // SummarizeHistory(*model), when the caller has it; computed when null.
  const HistorySummary* history = nullptr;
  // The archived history's totals (--history.retention), for the status of
  // a service's last deployment once that deployment is archived. Optional.
  const ArchiveTotals* archived = nullptr;
};

// Pure: the same inputs give the same snapshot.
WorldSnapshot BuildSnapshot(const SnapshotInputs& in);

}  // namespace hlo
