#include "observer/world_snapshot.h"

#include <algorithm>

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
  }
  std::vector<NodeView> out;
  out.reserve(views.size());
  for (auto& [name, v] : views) out.push_back(std::move(v));
  return out;
}

std::optional<DeploymentStatus> StatusOfDeployment(const Model& model, const std::string& id) {
  if (id.empty()) return std::nullopt;
  const auto it = model.deployments.find(id);
  if (it == model.deployments.end()) return std::nullopt;
  return it->second.status;
}

std::vector<ServiceView> Services(const SnapshotInputs& in) {
  std::map<std::string, ServiceView> views;
  if (in.inventory != nullptr) {
    for (const auto& [node, services] : in.inventory->services) {
      for (const auto& service : services) {
        ServiceView& v = views[ServiceKey(node, service)];
        v.node = node;
        v.service = service;
        v.in_inventory = true;
      }
    }
  }
  for (const auto& [key, entry] : in.model->services) {
    ServiceView& v = views[key];
    v.node = entry.node;
    v.service = entry.service;
    v.last_check = entry.last_check;
    v.active_incident = entry.active_incident;
    v.last_deployment = entry.last_deployment;
    v.last_deployment_status = StatusOfDeployment(*in.model, entry.last_deployment);
    v.status = !entry.active_incident.empty() ? ServiceStatus::kUnhealthy
               : entry.health_seen            ? ServiceStatus::kHealthy
                                              : ServiceStatus::kUnknown;
  }
  std::vector<ServiceView> out;
  out.reserve(views.size());
  for (auto& [key, v] : views) out.push_back(std::move(v));
  return out;
}

WorldSummary Summarize(const WorldSnapshot& w, const Model& model) {
  WorldSummary s;
  for (const auto& n : w.nodes) {
    (n.status == NodeStatus::kUp     ? s.nodes_up
     : n.status == NodeStatus::kDown ? s.nodes_down
                                     : s.nodes_unknown)++;
  }
  for (const auto& v : w.services) {
    (v.status == ServiceStatus::kHealthy     ? s.services_healthy
     : v.status == ServiceStatus::kUnhealthy ? s.services_unhealthy
                                             : s.services_unknown)++;
  }
  for (const auto& [id, incident] : model.incidents) {
    if (incident.active) {
      ++s.incidents_active;
      ++s.active_by_severity[static_cast<size_t>(incident.severity)];
    } else {
      ++s.incidents_resolved;
    }
  }
  for (const auto& [id, dep] : model.deployments) {
    (dep.status == DeploymentStatus::kRunning     ? s.deployments_running
     : dep.status == DeploymentStatus::kSucceeded ? s.deployments_succeeded
                                                  : s.deployments_failed)++;
  }
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

WorldSnapshot BuildSnapshot(const SnapshotInputs& in) {
  WorldSnapshot w;
  w.generated_at = in.now;
  w.nodes = detail::Nodes(in);
  w.services = detail::Services(in);
  for (const auto& [id, incident] : in.model->incidents) {
    if (incident.active) w.active_incidents.push_back(incident);
  }
  std::sort(w.active_incidents.begin(), w.active_incidents.end(),
            [](const IncidentState& a, const IncidentState& b) { return a.id < b.id; });
  w.counters = in.model->counters;
  w.checkpoint_file = in.checkpoint_file;
  w.checkpoint_offset = in.checkpoint_offset;
  w.summary = detail::Summarize(w, *in.model);
  return w;
}

}  // namespace hlo
