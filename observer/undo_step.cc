#include "observer/undo_step.h"

namespace hlo {
namespace detail {
namespace {

template <class State>
void Restore(StringMap<State>& map, const std::string& key, const State* prior, bool* removed) {
  if (prior == nullptr) {
    if (map.erase(key) > 0) *removed = true;
    return;
  }
  if (auto it = map.find(std::string_view(key)); it != map.end()) {
    it->second = *prior;
  } else {
    map.emplace(key, *prior);
  }
}

template <class Map>
void Decrement(Map& map, const typename Map::key_type& key) {
  auto it = map.find(key);
  if (it == map.end()) return;
  if (--it->second == 0) map.erase(it);
}

}  // namespace
}  // namespace detail

void UndoStep::SaveNode(const Model& model, const std::string& name) {
  Saved s{Kind::kNode, name, {}};
  if (auto it = model.nodes.find(std::string_view(name)); it != model.nodes.end()) {
    s.prior = it->second;
  }
  saved_.push_back(std::move(s));
}

void UndoStep::SaveService(const Model& model, std::string_view key) {
  Saved s{Kind::kService, std::string(key), {}};
  if (auto it = model.services.find(key); it != model.services.end()) s.prior = it->second;
  saved_.push_back(std::move(s));
}

void UndoStep::SaveIncident(const Model& model, const std::string& id) {
  Saved s{Kind::kIncident, id, {}};
  if (auto it = model.incidents.find(std::string_view(id)); it != model.incidents.end()) {
    s.prior = it->second;
  }
  saved_.push_back(std::move(s));
}

void UndoStep::SaveDeployment(const Model& model, const std::string& correlation_id) {
  Saved s{Kind::kDeployment, correlation_id, {}};
  if (auto it = model.deployments.find(std::string_view(correlation_id));
      it != model.deployments.end()) {
    s.prior = it->second;
  }
  saved_.push_back(std::move(s));
}

void UndoStep::SaveCounters(const Model& model, std::string_view type) {
  type_ = type;
  last_event_at_ = model.counters.last_event_at;
}

void UncountEvent(Counters& counters, const UndoStep& step) {
  if (step.duplicate()) --counters.events_duplicate;
  if (step.type().empty()) return;
  --counters.events_processed;
  detail::Decrement(counters.processed_by_type, std::string(step.type()));
  counters.last_event_at = step.previous_last_event_at();
  if (step.finished()) detail::Decrement(counters.deployments_finished, *step.finished());
}

bool UndoStep::Undo(Model& model) const {
  bool removed = false;  // a service entry (what the index cares about)
  bool other = false;
  for (auto it = saved_.rbegin(); it != saved_.rend(); ++it) {
    switch (it->kind) {
      case Kind::kNode:
        detail::Restore(model.nodes, it->key, std::get_if<NodeState>(&it->prior), &other);
        break;
      case Kind::kService:
        detail::Restore(model.services, it->key, std::get_if<ServiceState>(&it->prior),
                        &removed);
        break;
      case Kind::kIncident:
        detail::Restore(model.incidents, it->key, std::get_if<IncidentState>(&it->prior),
                        &other);
        break;
      case Kind::kDeployment:
        detail::Restore(model.deployments, it->key, std::get_if<DeploymentState>(&it->prior),
                        &other);
        break;
    }
  }
  // (Already archived, it is simply not there: the event applied again
  // retires it again, and the sweep drops what lies behind its horizon.)
  if (retired_) model.retired_deployments.erase(*retired_);
  if (!added_id_.empty()) model.event_ids.erase(added_id_);
  UncountEvent(model.counters, *this);
  return removed;
}

size_t UndoStep::ApproximateBytes() const {
  // Sizes, not capacities: the figure must not depend on how the strings
  // were built (a window restored from the checkpoint weighs what the one
  // that was saved did).
  size_t bytes = sizeof(*this) + saved_.size() * sizeof(Saved) + added_id_.size();
  for (const Saved& s : saved_) {
    bytes += s.key.size();
    if (const auto* i = std::get_if<IncidentState>(&s.prior)) {
      bytes += i->events.size() * sizeof(Timestamp) + i->id.size() + i->node.size() +
               i->service.size();
    } else if (const auto* d = std::get_if<DeploymentState>(&s.prior)) {
      bytes += d->stages.size() * sizeof(DeploymentStage) + d->correlation_id.size();
    }
  }
  return bytes;
}

}  // namespace hlo
