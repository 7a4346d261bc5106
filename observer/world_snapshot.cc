#include "observer/world_snapshot.h"

#include <algorithm>

#include "observer/history_archive.h"

namespace hlo {
namespace detail {
namespace {

NodeStatus StatusOf(const NodeState& node, const SnapshotInputs& in) {
  if (node.down) return NodeStatus::kDown;
  if (!node.last_seen) return NodeStatus::kUnknown;
  // Strictly older than the window is down; a future last_seen is up.
  return Between(*node.last_seen, in.now) > in.stale_after ? NodeStatus::kDown : NodeStatus::kUp;
}

std::vector<NodeView> Nodes(const SnapshotInputs& in) {
  std::map<std::string, NodeView> views;
  auto view = [&views](const std::string& name) -> NodeView& {
    NodeView& v = views[name];
    v.name = name;
    return v;
  };
  if (in.inventory != nullptr) {
    for (const auto& [name, node] : in.inventory->nodes) {
      NodeView& v = view(name);
      v.in_inventory = true;
      v.roles = node.roles;
    }
  }
  if (in.stages != nullptr) {
    for (const auto& [name, markers] : *in.stages) view(name).stages = markers;
  }
  for (const auto& [name, node] : in.model->nodes) {
    NodeView& v = view(name);
    v.last_seen = node.last_seen;
    v.status = StatusOf(node, in);
    v.maintenance = node.maintenance;
  }
  std::vector<NodeView> out;
  out.reserve(views.size());
  for (auto& [name, v] : views) out.push_back(std::move(v));
  return out;
}

// CONTRACT §9: unhealthy while an incident is active; else, once any health
// signal was seen, stale when its node is down or its last check is strictly
// older than --service-stale-after (when set), healthy otherwise; else unknown.
ServiceStatus StatusOf(const ServiceState& entry, const NodeState* node, const SnapshotInputs& in) {
  if (!entry.active_incident.empty()) return ServiceStatus::kUnhealthy;
  if (!entry.health_seen) return ServiceStatus::kUnknown;
  if (node != nullptr && StatusOf(*node, in) == NodeStatus::kDown) return ServiceStatus::kStale;
  if (in.service_stale_after.nanos > 0 && entry.last_check &&
      Between(*entry.last_check, in.now) > in.service_stale_after) {
    return ServiceStatus::kStale;
  }
  return ServiceStatus::kHealthy;
}

std::optional<DeploymentStatus> StatusOfDeployment(const Model& model, const std::string& id,
                                                   const ArchiveTotals* archived) {
  if (id.empty()) return std::nullopt;
  const auto it = model.deployments.find(id);
  if (it == model.deployments.end()) {
    if (archived == nullptr) return std::nullopt;
    const auto a = archived->last_deployment_status.find(id);
    if (a == archived->last_deployment_status.end()) return std::nullopt;
    return a->second;
  }
  return it->second.status;
}

// One row per "<node>/<service>" key, from the model, the inventory or both.
// Sorting string_views of the model's own keys instead of inserting into a
// std::map of new key strings keeps a 10,000-service snapshot cheap; it is
// built after every batch in `run`, on the way to /metrics.
std::vector<ServiceView> Services(const SnapshotInputs& in) {
  struct Row {
    std::string_view key;
    const ServiceState* entry;      // null: only in the inventory
    const std::string* inv_node;    // set when in the inventory
    const std::string* inv_service;
  };
  std::vector<std::string> inventory_keys;  // storage for the inventory's keys
  if (in.inventory != nullptr) {
    size_t count = 0;
    for (const auto& [node, services] : in.inventory->services) count += services.size();
    inventory_keys.reserve(count);  // no reallocation: the rows point into it
  }
  std::vector<Row> rows;
  rows.reserve(in.model->services.size() + inventory_keys.capacity());
  for (const auto& [key, entry] : in.model->services) {
    rows.push_back({key, &entry, nullptr, nullptr});
  }
  if (in.inventory != nullptr) {
    for (const auto& [node, services] : in.inventory->services) {
      for (const auto& service : services) {
        inventory_keys.push_back(ServiceKey(node, service));
        rows.push_back({inventory_keys.back(), nullptr, &node, &service});
      }
    }
  }
  // A key appears at most twice (once from the model, once from the
  // inventory); sorted, the two are neighbours and are merged into one view.
  std::sort(rows.begin(), rows.end(), [](const Row& a, const Row& b) { return a.key < b.key; });
  std::vector<ServiceView> out;
  out.reserve(rows.size());
  for (size_t i = 0; i < rows.size(); ++i) {
    const Row* model = rows[i].entry != nullptr ? &rows[i] : nullptr;
    const Row* inventory = rows[i].entry == nullptr ? &rows[i] : nullptr;
    if (i + 1 < rows.size() && rows[i + 1].key == rows[i].key) {
      (rows[i + 1].entry != nullptr ? model : inventory) = &rows[i + 1];
      ++i;
    }
    ServiceView& v = out.emplace_back();
    if (inventory != nullptr) {
      v.node = *inventory->inv_node;
      v.service = *inventory->inv_service;
      v.in_inventory = true;
    }
    const std::string& node_name = model != nullptr ? model->entry->node : v.node;
    const auto node = in.model->nodes.find(std::string_view(node_name));
    const NodeState* node_state = node != in.model->nodes.end() ? &node->second : nullptr;
    if (node_state != nullptr) v.maintenance = node_state->maintenance;
    if (model != nullptr) {
      const ServiceState& entry = *model->entry;
      v.node = entry.node;
      v.service = entry.service;
      v.last_check = entry.last_check;
      v.active_incident = entry.active_incident;
      v.last_deployment = entry.last_deployment;
      v.last_deployment_status = StatusOfDeployment(*in.model, entry.last_deployment, in.archived);
      v.flapping = entry.flapping;
      v.flap_percent = entry.flap_percent();
      v.maintenance = v.maintenance || entry.maintenance;
      v.status = StatusOf(entry, node_state, in);
    }
  }
  return out;
}

WorldSummary Summarize(const WorldSnapshot& w, const HistorySummary& history) {
  WorldSummary s;
  for (const auto& n : w.nodes) {
    (n.status == NodeStatus::kUp     ? s.nodes_up
     : n.status == NodeStatus::kDown ? s.nodes_down
                                     : s.nodes_unknown)++;
  }
  for (const auto& v : w.services) {
    (v.status == ServiceStatus::kHealthy     ? s.services_healthy
     : v.status == ServiceStatus::kUnhealthy ? s.services_unhealthy
     : v.status == ServiceStatus::kStale     ? s.services_stale
                                             : s.services_unknown)++;
  }
  s.incidents_active = history.incidents_active;
  s.incidents_resolved = history.incidents_resolved;
  s.active_by_severity = history.active_by_severity;
  s.deployments_running = history.deployments_running;
  s.deployments_succeeded = history.deployments_succeeded;
  s.deployments_failed = history.deployments_failed;
  return s;
}

}  // namespace
}  // namespace detail

std::string_view NodeStatusName(NodeStatus s) {
  switch (s) {
    case NodeStatus::kUp: return "up";
    case NodeStatus::kDown: return "down";
    case NodeStatus::kUnknown: break;
  }
  return "unknown";
}

std::string_view ServiceStatusName(ServiceStatus s) {
  switch (s) {
    case ServiceStatus::kHealthy: return "healthy";
    case ServiceStatus::kUnhealthy: return "unhealthy";
    case ServiceStatus::kStale: return "stale";
    case ServiceStatus::kUnknown: break;
  }
  return "unknown";
}

std::string_view DeploymentStatusName(DeploymentStatus s) {
  switch (s) {
    case DeploymentStatus::kRunning: return "running";
    case DeploymentStatus::kSucceeded: return "succeeded";
    case DeploymentStatus::kFailed: break;
  }
  return "failed";
}

const std::shared_ptr<const HistoryFigures>& NoHistoryFigures() {
  static const auto* const empty =
      new std::shared_ptr<const HistoryFigures>(std::make_shared<HistoryFigures>());
  return *empty;
}

void DurationHistogram::Observe(Duration d) {
  const int64_t nanos = std::max<int64_t>(d.nanos, 0);
  for (size_t i = 0; i < cumulative.size(); ++i) {
    if (nanos <= static_cast<int64_t>(kHistoryDurationBuckets[i]) * 1'000'000'000) {
      ++cumulative[i];
    }
  }
  ++count;
  sum_seconds += static_cast<uint64_t>(nanos / 1'000'000'000);
  sum_nanos += static_cast<uint64_t>(nanos % 1'000'000'000);
}

HistorySummary SummarizeHistory(const Model& model, const ArchiveTotals* archived) {
  HistorySummary h;
  auto figures = std::make_shared<HistoryFigures>();
  if (archived != nullptr) {
    *figures = archived->figures;
    h.incidents_resolved = archived->incidents_resolved;
    h.deployments_succeeded = archived->deployments_succeeded;
    h.deployments_failed = archived->deployments_failed;
  }
  for (const auto& [id, incident] : model.incidents) {
    ++figures->incidents_opened[{incident.node, incident.service}];
    if (incident.active) {
      ++h.incidents_active;
      ++h.active_by_severity[static_cast<size_t>(incident.severity)];
      h.active_incidents.push_back(incident);
    } else {
      ++h.incidents_resolved;
      if (incident.resolved_at) {
        figures->resolution_by_severity[static_cast<size_t>(incident.severity)].Observe(
            Between(incident.started_at, *incident.resolved_at));
      }
    }
  }
  std::sort(h.active_incidents.begin(), h.active_incidents.end(),
            [](const IncidentState& a, const IncidentState& b) { return a.id < b.id; });
  auto count = [&h, &figures](const DeploymentState& dep) {
    (dep.status == DeploymentStatus::kRunning     ? h.deployments_running
     : dep.status == DeploymentStatus::kSucceeded ? h.deployments_succeeded
                                                  : h.deployments_failed)++;
    if (dep.status != DeploymentStatus::kRunning && dep.started_at && dep.finished_at) {
      figures->deployment_durations[{dep.service, std::string(DeploymentStatusName(dep.status))}]
          .Observe(Between(*dep.started_at, *dep.finished_at));
    }
  };
  for (const auto& [id, dep] : model.deployments) count(dep);
  for (const auto& [key, dep] : model.retired_deployments) count(dep);
  h.figures = std::move(figures);
  return h;
}

WorldSnapshot BuildSnapshot(const SnapshotInputs& in) {
  WorldSnapshot w;
  w.generated_at = in.now;
  w.nodes = detail::Nodes(in);
  w.services = detail::Services(in);
  std::optional<HistorySummary> computed;
  if (in.history == nullptr) computed = SummarizeHistory(*in.model, in.archived);
  const HistorySummary& history = in.history != nullptr ? *in.history : *computed;
  w.active_incidents = history.active_incidents;
  w.counters = in.model->counters;
  w.checkpoint_file = in.checkpoint_file;
  w.checkpoint_offset = in.checkpoint_offset;
  w.summary = detail::Summarize(w, history);
  w.history = history.figures;
  return w;
}

}  // namespace hlo
