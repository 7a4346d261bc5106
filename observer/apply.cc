#include "observer/apply.h"

#include <algorithm>
#include <charconv>
#include <vector>

namespace hlo {
namespace detail {
namespace {

void AppendUnique(std::vector<std::string>& into, const std::vector<std::string>& items) {
  for (const auto& item : items) {
    if (std::find(into.begin(), into.end(), item) == into.end()) into.push_back(item);
  }
}

void RecordResult(ServiceState& entry, bool problem, const FlapThresholds& flap);
void ResolveActive(Model& model, ServiceState& entry, Timestamp at);

// Bulk mode (ModelIndex::BeginBulk): gives `entry` the node-less recoveries
// of its service that it has not received yet, as Recover would have, one
// by one: the first resolves its active incident (an incident opened later
// would have caught the entry up first), each is a health signal.
void CatchUp(Model& model, ServiceState& entry, ModelIndex& index, const FlapThresholds& flap) {
  if (entry.index_group == 0) return;  // (added by the index, so never)
  const std::vector<Timestamp>& deferred = index.GroupOf(entry).deferred;
  const size_t from = entry.index_received;
  const size_t to = deferred.size();
  entry.index_received = static_cast<uint32_t>(to);
  if (from >= to) return;
  ResolveActive(model, entry, deferred[from]);
  entry.health_seen = true;
  entry.last_check = deferred[to - 1];
  // After kFlapResults OK results in a row the kept results are all OK and
  // the score 0, which each further OK result finds again: it changes nothing.
  const size_t results = std::min<size_t>(to - from, kFlapResults);
  for (size_t i = 0; i < results; ++i) RecordResult(entry, /*problem=*/false, flap);
}

ServiceState& ServiceEntry(Model& model, const std::string& node, const std::string& service,
                           const ApplyContext& context, const ApplyHooks& hooks) {
  // One buffer per thread: the common case (the entry exists) allocates nothing.
  thread_local std::string key;
  key.assign(node).append(1, '/').append(service);
  if (hooks.undo != nullptr) hooks.undo->SaveService(model, key);
  if (auto it = model.services.find(std::string_view(key)); it != model.services.end()) {
    ServiceState& entry = it->second;
    if (hooks.index != nullptr && hooks.index->bulk()) {
      CatchUp(model, entry, *hooks.index, context.flap);
    }
    return entry;
  }
  ServiceState& entry = model.services[key];
  entry.node = node;
  entry.service = service;
  if (hooks.index != nullptr) hooks.index->ServiceAdded(entry);
  return entry;
}

void IncidentsChanged(const ApplyHooks& hooks) {
  if (hooks.index != nullptr) hooks.index->IncidentsChanged();
}

std::string NewIncidentId(const Model& model, Timestamp started, const std::string& node,
                          const std::string& service) {
  char seconds[24];
  const auto [end, ec] = std::to_chars(seconds, seconds + sizeof seconds, FloorSeconds(started));
  std::string id;
  id.reserve(4 + static_cast<size_t>(end - seconds) + 1 + node.size() + 1 + service.size() + 4);
  id.append("inc-").append(seconds, end).append(1, '-').append(node).append(1, '-').append(service);
  if (model.incidents.count(id) == 0) return id;
  const size_t base = id.size();
  for (int suffix = 2;; ++suffix) {
    id.resize(base);
    id.append(1, '-').append(std::to_string(suffix));
    if (model.incidents.count(id) == 0) return id;
  }
}

// Appends one health result to the entry's last kFlapResults and moves its
// flapping state by the thresholds' hysteresis (CONTRACT §9).
void RecordResult(ServiceState& entry, bool problem, const FlapThresholds& flap) {
  constexpr uint32_t kMask = (1u << kFlapResults) - 1;
  entry.result_bits = ((entry.result_bits << 1) | (problem ? 1u : 0u)) & kMask;
  if (entry.results < kFlapResults) ++entry.results;
  if (entry.results < kFlapResults) {
    entry.flapping = false;
    return;
  }
  const int score = FlapScore(entry.result_bits);
  if (score >= 76 * flap.high) {
    entry.flapping = true;
  } else if (score <= 76 * flap.low) {
    entry.flapping = false;
  }
}

bool InMaintenance(const Model& model, const ServiceState& entry) {
  if (entry.maintenance) return true;
  const auto node = model.nodes.find(std::string_view(entry.node));
  return node != model.nodes.end() && node->second.maintenance;
}

struct Failure {
  Timestamp at;
  Severity severity;
  const std::string& correlation_id;
  const std::vector<std::string>& diagnostics;
};

void RecordFailure(Model& model, const std::string& node, const std::string& service,
                   const Failure& failure, const ApplyContext& context, const ApplyHooks& hooks) {
  IncidentsChanged(hooks);
  ServiceState& entry = ServiceEntry(model, node, service, context, hooks);
  entry.last_check = failure.at;
  RecordResult(entry, /*problem=*/true, context.flap);
  const bool flapping = entry.flapping;
  const bool maintenance = InMaintenance(model, entry);
  if (!entry.active_incident.empty()) {
    if (hooks.undo != nullptr) hooks.undo->SaveIncident(model, entry.active_incident);
    IncidentState& incident = model.incidents.at(entry.active_incident);
    ++incident.occurrence_count;
    incident.last_occurrence = failure.at;
    // A vector, not a deque: most incidents hold a few timestamps, and a
    // deque's 512-byte block each would weigh more than the model's rest.
    if (incident.events.size() == kMaxIncidentEvents) {
      incident.events.erase(incident.events.begin());
    }
    incident.events.push_back(failure.at);
    incident.severity = std::max(incident.severity, failure.severity);
    if (incident.correlation_id.empty()) incident.correlation_id = failure.correlation_id;
    AppendUnique(incident.diagnostics, failure.diagnostics);
    incident.flapping = incident.flapping || flapping;
    incident.during_maintenance = incident.during_maintenance || maintenance;
    return;
  }
  IncidentState incident;
  incident.id = NewIncidentId(model, failure.at, node, service);
  incident.node = node;
  incident.service = service;
  incident.severity = failure.severity;
  incident.started_at = failure.at;
  incident.last_occurrence = failure.at;
  incident.occurrence_count = 1;
  incident.events.push_back(failure.at);
  incident.correlation_id = failure.correlation_id;
  incident.repeat_of = entry.last_incident;
  AppendUnique(incident.diagnostics, failure.diagnostics);
  incident.flapping = flapping;
  incident.during_maintenance = maintenance;
  entry.active_incident = incident.id;
  entry.last_incident = incident.id;
  if (hooks.undo != nullptr) hooks.undo->SaveIncident(model, incident.id);
  std::string id = incident.id;
  model.incidents.emplace(std::move(id), std::move(incident));
}

void HealthSignal(ServiceState& entry, Timestamp at, const ApplyContext& context) {
  entry.health_seen = true;
  entry.last_check = at;
  RecordResult(entry, /*problem=*/false, context.flap);
}

void ResolveActive(Model& model, ServiceState& entry, Timestamp at) {
  if (entry.active_incident.empty()) return;
  IncidentState& incident = model.incidents.at(entry.active_incident);
  incident.active = false;
  incident.resolved_at = at;
  entry.active_incident.clear();
}

void Recover(Model& model, ServiceState& entry, Timestamp at, const ApplyContext& context,
             const ApplyHooks& hooks) {
  if (!entry.active_incident.empty()) {
    IncidentsChanged(hooks);
    if (hooks.undo != nullptr) hooks.undo->SaveIncident(model, entry.active_incident);
    ResolveActive(model, entry, at);
  }
  HealthSignal(entry, at, context);
}

// The inventory's entries of `service` that the model lacks, created (they
// are entries of services.json too, so a node-less recovery reaches them).
// Walked once per inventory (ModelIndex::InventoryEntriesAdded): entries are
// not removed without the index being reset.
void AddInventoryEntries(Model& model, const std::string& service, const ApplyContext& context,
                         const ApplyHooks& hooks, std::vector<ServiceState*>* added) {
  const Inventory* inventory = context.inventory;
  if (inventory == nullptr) return;
  ModelIndex* index = hooks.index;
  if (index != nullptr && index->InventoryEntriesAdded(service, inventory->generation)) return;
  for (const auto& [node, services] : inventory->services) {
    if (services.count(service) == 0) continue;
    if (model.services.contains(std::string_view(ServiceKey(node, service)))) continue;
    ServiceState& entry = ServiceEntry(model, node, service, context, hooks);
    if (added != nullptr) added->push_back(&entry);
  }
  if (index != nullptr) index->MarkInventoryEntriesAdded(service, inventory->generation);
}

void ApplyRecovered(Model& model, const Event& event, const ApplyContext& context,
                    const ApplyHooks& hooks) {
  if (!event.node.empty()) {
    Recover(model, ServiceEntry(model, event.node, event.service, context, hooks),
            event.timestamp, context, hooks);
    return;
  }
  // Without a node: every existing entry of that service, the inventory's
  // included, since those are entries of services.json too. Each gets one
  // health result (CONTRACT §9), so an entry both the events and the
  // inventory hold is recovered once.
  ModelIndex* index = hooks.index;
  if (index != nullptr && index->bulk()) {
    // Recorded once for the service; its entries catch up when touched.
    AddInventoryEntries(model, event.service, context, hooks, nullptr);
    ModelIndex::ServiceGroup* group = index->Group(event.service);
    if (group == nullptr) return;
    IncidentsChanged(hooks);
    group->deferred.push_back(event.timestamp);
    return;
  }
  std::vector<ServiceState*> walked;
  const std::vector<ServiceState*>* entries = &walked;
  if (index != nullptr) {
    ModelIndex::ServiceGroup* group = index->Group(event.service);
    if (group != nullptr) entries = &group->entries;
  } else {
    for (auto& [key, entry] : model.services) {
      if (entry.service == event.service) walked.push_back(&entry);
    }
  }
  // (Recover adds no entries, so the group's list stays put meanwhile.)
  for (ServiceState* entry : *entries) {
    if (hooks.undo != nullptr) hooks.undo->SaveService(model, ServiceKey(entry->node, entry->service));
    Recover(model, *entry, event.timestamp, context, hooks);
  }
  std::vector<ServiceState*> added;
  AddInventoryEntries(model, event.service, context, hooks, &added);
  for (ServiceState* entry : added) Recover(model, *entry, event.timestamp, context, hooks);
}

std::vector<std::string> NormalizedDiagnostics(const Event& event, const ApplyContext& context) {
  std::vector<std::string> out;
  for (const auto& path : event.diagnostics) {
    std::string normal = NormalizeDiagnosticsPath(path, context.logs_dir);
    if (!normal.empty()) out.push_back(std::move(normal));
  }
  return out;
}

void ApplyDeployment(Model& model, const Event& event, const ApplyContext& context,
                     const ApplyHooks& hooks) {
  if (hooks.index != nullptr) hooks.index->DeploymentsChanged();
  if (hooks.undo != nullptr) hooks.undo->SaveDeployment(model, event.correlation_id);
  auto [it, created] = model.deployments.try_emplace(event.correlation_id);
  DeploymentState& dep = it->second;
  const Timestamp at = event.timestamp;
  // --history.retention's touch rule: a deployment that finished more than
  // the retention before this event is history (archived, or about to be),
  // whichever way the events were batched; the event starts a fresh one.
  // Deciding it here, by event time alone, is what keeps the world the same
  // however often the archive is swept (docs/world-files.md, "History
  // retention").
  if (!created && context.retention.nanos > 0 && dep.status != DeploymentStatus::kRunning &&
      dep.finished_at && Between(*dep.finished_at, at) > context.retention) {
    std::pair<Timestamp, std::string> key{*dep.finished_at, dep.correlation_id};
    if (hooks.undo != nullptr) hooks.undo->SaveRetired(key);
    model.retired_deployments.insert_or_assign(std::move(key), std::move(dep));
    dep = DeploymentState{};
    created = true;
  }
  if (created) dep.correlation_id = event.correlation_id;
  bool pair_changed = false;
  if (!event.node.empty() && dep.node != event.node) {
    dep.node = event.node;
    pair_changed = true;
  }
  if (!event.service.empty() && dep.service != event.service) {
    dep.service = event.service;
    pair_changed = true;
  }
  switch (event.type) {
    case EventType::kDeploymentStarted:
      if (!created && dep.status != DeploymentStatus::kRunning) {
        ++dep.attempts;
        dep.status = DeploymentStatus::kRunning;
        dep.started_at = at;
        dep.finished_at.reset();
        dep.stages.clear();
        dep.diagnostics.clear();
      } else if (!dep.started_at) {
        dep.started_at = at;
      }
      break;
    case EventType::kDeploymentStage:
      dep.stages.push_back({event.stage, at});
      break;
    case EventType::kDeploymentSucceeded:
      dep.status = DeploymentStatus::kSucceeded;
      dep.finished_at = at;
      if (hooks.undo != nullptr) hooks.undo->SaveFinished({dep.service, "succeeded"});
      ++model.counters.deployments_finished[{dep.service, "succeeded"}];
      break;
    case EventType::kDeploymentFailed:
      dep.status = DeploymentStatus::kFailed;
      dep.finished_at = at;
      if (hooks.undo != nullptr) hooks.undo->SaveFinished({dep.service, "failed"});
      ++model.counters.deployments_finished[{dep.service, "failed"}];
      break;
    default:
      break;
  }
  if (!dep.node.empty() && !dep.service.empty()) {
    ServiceState& entry = ServiceEntry(model, dep.node, dep.service, context, hooks);
    if (created || pair_changed || event.type == EventType::kDeploymentStarted) {
      entry.last_deployment = dep.correlation_id;
    }
  }
  if (event.type == EventType::kDeploymentFailed) {
    const std::vector<std::string> diagnostics = NormalizedDiagnostics(event, context);
    AppendUnique(dep.diagnostics, diagnostics);
    if (!dep.node.empty() && !dep.service.empty()) {
      const std::string node = dep.node;
      const std::string service = dep.service;
      RecordFailure(model, node, service,
                    {at, event.severity.value_or(Severity::kError), event.correlation_id,
                     diagnostics},
                    context, hooks);
    }
  }
}

// Splits on '/', resolving "." and ".." lexically. Returns false when ".."
// climbs above the start of a relative path; at the root of an absolute one
// it stays there, as "/.." is "/".
bool PushComponents(std::string_view path, std::vector<std::string_view>& stack) {
  const bool rooted = !path.empty() && path.front() == '/';
  size_t pos = 0;
  while (pos <= path.size()) {
    size_t end = path.find('/', pos);
    if (end == std::string_view::npos) end = path.size();
    std::string_view part = path.substr(pos, end - pos);
    if (part == "..") {
      if (stack.empty()) {
        if (rooted) {
          pos = end + 1;
          continue;
        }
        return false;
      }
      stack.pop_back();
    } else if (!part.empty() && part != ".") {
      stack.push_back(part);
    }
    pos = end + 1;
  }
  return true;
}

}  // namespace
}  // namespace detail

std::string NormalizeDiagnosticsPath(const std::string& path, const std::string& logs_dir) {
  std::vector<std::string_view> stack;
  size_t inside_from = 0;  // components of `stack` that must be the logs folder
  if (!path.empty() && path.front() == '/') {
    // Without an absolute logs folder nothing absolute can lie inside it.
    if (logs_dir.empty() || logs_dir.front() != '/') return "";
    std::vector<std::string_view> logs;
    if (!detail::PushComponents(logs_dir, logs) || logs.empty()) return "";
    if (!detail::PushComponents(path, stack)) return "";
    if (stack.size() <= logs.size() || !std::equal(logs.begin(), logs.end(), stack.begin())) {
      return "";
    }
    inside_from = logs.size();
  } else {
    if (path.empty()) return "";
    stack.push_back("logs");
    if (!detail::PushComponents(path, stack)) return "";
    if (stack.size() < 2 || stack.front() != "logs") return "";
    inside_from = 1;
  }
  std::string out = "logs";
  for (size_t i = inside_from; i < stack.size(); ++i) {
    out += '/';
    out += stack[i];
  }
  return out;
}

void Apply(Model& model, const Event& event, const ApplyContext& context,
           const ApplyHooks& hooks) {
  if (!event.id.empty()) {
    if (model.event_ids.contains(std::string_view(event.id))) {
      // A writer sent it again (at-least-once): counted, not applied.
      if (hooks.undo != nullptr) hooks.undo->SaveDuplicate();
      ++model.counters.events_duplicate;
      return;
    }
    if (hooks.undo != nullptr) hooks.undo->SaveId(event.id);
    if (hooks.index != nullptr) hooks.index->IdAdded(event.id);
    model.event_ids.insert(event.id);
  }
  const std::string_view type = EventTypeName(event.type);
  if (hooks.undo != nullptr) hooks.undo->SaveCounters(model, type);
  Counters& counters = model.counters;
  ++counters.events_processed;
  if (auto it = counters.processed_by_type.find(type); it != counters.processed_by_type.end()) {
    ++it->second;
  } else {
    counters.processed_by_type.emplace(type, 1);
  }
  counters.last_event_at = event.timestamp;

  if (!event.node.empty()) {
    if (hooks.undo != nullptr) hooks.undo->SaveNode(model, event.node);
    NodeState& node = model.nodes[event.node];
    if (event.type == EventType::kNodeDown) {
      node.down = true;
    } else {
      // The latest in processing order (event time), CONTRACT §8 "Times".
      node.last_seen = event.timestamp;
      node.down = false;
    }
  }

  switch (event.type) {
    case EventType::kHealthcheckPassed:
      detail::HealthSignal(detail::ServiceEntry(model, event.node, event.service, context, hooks),
                           event.timestamp, context);
      break;
    case EventType::kHealthcheckFailed:
    case EventType::kServiceUnhealthy:
      detail::RecordFailure(model, event.node, event.service,
                            {event.timestamp, event.severity.value_or(Severity::kError),
                             event.correlation_id, {}},
                            context, hooks);
      break;
    case EventType::kMaintenanceStarted:
    case EventType::kMaintenanceEnded: {
      const bool on = event.type == EventType::kMaintenanceStarted;
      if (event.service.empty()) {
        model.nodes[event.node].maintenance = on;  // saved for undo above
      } else {
        detail::ServiceEntry(model, event.node, event.service, context, hooks).maintenance = on;
      }
      break;
    }
    case EventType::kServiceRecovered:
      detail::ApplyRecovered(model, event, context, hooks);
      break;
    case EventType::kDeploymentStarted:
    case EventType::kDeploymentStage:
    case EventType::kDeploymentSucceeded:
    case EventType::kDeploymentFailed:
      detail::ApplyDeployment(model, event, context, hooks);
      break;
    default:
      break;
  }
}

void FinishBulk(Model& model, ModelIndex& index, const ApplyContext& context) {
  if (!index.bulk()) return;
  for (ModelIndex::ServiceGroup& group : index.groups()) {
    if (group.deferred.empty()) continue;
    for (ServiceState* entry : group.entries) detail::CatchUp(model, *entry, index, context.flap);
  }
  index.EndBulk();
}

namespace {

// The weight of pair x (1 = oldest … 20 = newest) is 285 + 10·(x − 1); bit j
// of FlapScore's `changes` (j = 0 … 19) is pair x = 20 − j, so it weighs
// 475 − 10·j. These tables add up the weights of the set bits of ten bits
// at a time: the low ten (j = 0 … 9) and the high ten (j = 10 … 19).
struct FlapWeights {
  int16_t low[1024];
  int16_t high[1024];
};
constexpr FlapWeights MakeFlapWeights() {
  FlapWeights w{};
  for (int x = 0; x < 1024; ++x) {
    int low = 0, high = 0;
    for (int j = 0; j < 10; ++j) {
      if ((x >> j) & 1) {
        low += 475 - 10 * j;
        high += 475 - 10 * (j + 10);
      }
    }
    w.low[x] = static_cast<int16_t>(low);
    w.high[x] = static_cast<int16_t>(high);
  }
  return w;
}
constexpr FlapWeights kFlapWeights = MakeFlapWeights();

}  // namespace

int FlapScore(uint32_t bits) {
  // Pair x compares result x with result x + 1; result x sits in bit
  // kFlapResults - x (the newest, result 21, in bit 0). So the pairs that
  // changed are the bits of `changes`, weighed by the tables above.
  constexpr uint32_t kPairs = (1u << (kFlapResults - 1)) - 1;
  const uint32_t changes = (bits ^ (bits >> 1)) & kPairs;
  return kFlapWeights.low[changes & 1023] + kFlapWeights.high[changes >> 10];
}

void CountRejection(Model& model, RejectReason reason) {
  ++model.counters.events_rejected;
  ++model.counters.rejected_by_reason[std::string(RejectReasonName(reason))];
}

}  // namespace hlo
