// --history.retention: resolved incidents and finished deployments older
// than the retention, by event time, leave the model (and so the world files)
// for monthly append-only archives, world/archive/incidents-YYYY-MM.jsonl and
// world/archive/deployments-YYYY-MM.jsonl, one compact entry a line — the
// object the world file held (WriteIncidentEntry, WriteDeploymentEntry).
//
// The rule (docs/world-files.md, "History retention"): with L the latest
// applied event time, W --events.max-lateness and R the retention, the
// horizon is H = L − W − R. Every event applied later without a replay has
// a time ≥ L − W (older ones are late), so an entry that ended before H
// cannot be touched again: incidents are never touched once resolved, and a
// deployment that ended more than R before an event is retired by that event
// (ApplyDeployment) wherever it is. A sweep moves everything that ended
// before H out, in (end time, id) order; H only grows within a history, so
// successive sweeps append what one sweep would have written.
//
// Pure: no files. The observer appends the lines (observer/observer.cc).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <simdjson.h>

#include "observer/json_writer.h"
#include "observer/model.h"
#include "observer/world_snapshot.h"

namespace hlo {

// What the archived part of the history adds to the figures derived from the
// history (runtime-summary.json's totals, the history histograms and
// counters of /metrics), so that they are the same with or without
// retention. Exact integers, as DurationHistogram's sums are.
struct ArchiveTotals {
  uint64_t incidents_resolved = 0;
  uint64_t deployments_succeeded = 0, deployments_failed = 0;
  HistoryFigures figures;
  // The status of archived deployments that a service entry still names as
  // its last_deployment (for homelab_deployment_status); pruned at each sweep
  // to those, so it stays as small as the services.
  std::map<std::string, DeploymentStatus, std::less<>> last_deployment_status;

  bool operator==(const ArchiveTotals& o) const;
};

// The history's archives as of a checkpoint.
struct HistoryArchiveState {
  Duration retention{0};              // --history.retention they were written with; 0 = off
  Duration max_lateness{0};           // and --events.max-lateness (part of the horizon)
  std::optional<Timestamp> horizon;   // H of the last sweep; null before any
  std::map<std::string, uint64_t> sizes;  // archive file name → bytes written
  ArchiveTotals totals;
};

// One archived entry: its file (e.g. "incidents-2025-01.jsonl") and its line
// (the compact entry and "\n").
struct ArchiveLine {
  std::string file;
  std::string line;
};

// The archive file of an entry that ended at `at` (UTC month).
std::string ArchiveFileName(std::string_view kind, Timestamp at);

// Moves out of `model` the resolved incidents with resolved_at < horizon and
// the finished (and retired) deployments with finished_at < horizon, adds
// them to `state.totals` and returns their lines in (end time, id) order,
// incidents first. Entries behind `state.horizon` (the previous sweep's) were
// archived by it and came back only through an undo in the lateness window:
// they are dropped, not archived twice. Sets state.horizon to the larger of
// the two. Call with the same horizon again to only drop such entries.
std::vector<ArchiveLine> SweepHistory(Model& model, Timestamp horizon, HistoryArchiveState& state);

// The horizon H = latest − max_lateness − retention; nullopt when nothing
// can be archived (retention off, or no event yet).
std::optional<Timestamp> ArchiveHorizon(const std::optional<Timestamp>& latest,
                                        Duration max_lateness, Duration retention);

// The checkpoint's encoding (internal, versioned by the checkpoint).
void WriteArchiveState(JsonWriter& out, const HistoryArchiveState& state, const Model& model);
// Also restores model.retired_deployments. false (with *error) when `value`
// is not what WriteArchiveState wrote.
bool ReadArchiveState(simdjson::dom::element value, HistoryArchiveState* state, Model* model,
                      std::string* error);

}  // namespace hlo
