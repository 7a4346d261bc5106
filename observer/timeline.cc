#include "observer/timeline.h"

#include <algorithm>
#include <set>

namespace hlo {
namespace detail {
namespace {

template <class State>
void PutBack(StringMap<State>& into, const StringMap<State>& from) {
  for (const auto& [key, state] : from) into[key] = state;
}

// The states of `keys` in `map` (nullopt when absent), for a comparison.
template <class State>
std::vector<std::optional<State>> StatesOf(const StringMap<State>& map,
                                           const std::vector<std::string>& keys) {
  std::vector<std::optional<State>> out;
  for (const std::string& key : keys) {
    auto it = map.find(std::string_view(key));
    out.push_back(it == map.end() ? std::nullopt : std::optional<State>(it->second));
  }
  return out;
}

}  // namespace
}  // namespace detail

void Timeline::ApplyKept(Model& model, ModelIndex& index, const ApplyContext& context,
                         TimedEvent&& timed) {
  Entry entry{std::move(timed), {}};
  Apply(model, entry.timed.event, context, {&index, &entry.undo});
  entries_.push_back(std::move(entry));
}

uint64_t Timeline::Insert(Model& model, ModelIndex& index, const ApplyContext& context,
                          std::vector<TimedEvent>&& events) {
  if (events.empty()) return 0;
  const OrderKey& first = events.front().key;
  // Take back what belongs after the first new event, newest first.
  std::vector<TimedEvent> redo;
  bool removed_service = false, incidents = false, deployments = false;
  while (!entries_.empty() && first < entries_.back().timed.key) {
    Entry& last = entries_.back();
    removed_service |= last.undo.Undo(model);
    for (const UndoStep::Saved& s : last.undo.saved()) {
      incidents |= s.kind == UndoStep::Kind::kIncident;
      deployments |= s.kind == UndoStep::Kind::kDeployment;
    }
    redo.push_back(std::move(last.timed));
    entries_.pop_back();
  }
  if (removed_service) {
    index.Reset(model);
  } else {
    if (incidents) index.IncidentsChanged();
    if (deployments) index.DeploymentsChanged();
  }
  std::reverse(redo.begin(), redo.end());
  uint64_t reordered = 0;
  // Merge the two sorted runs.
  size_t r = 0;
  for (TimedEvent& e : events) {
    while (r < redo.size() && redo[r].key < e.key) ApplyKept(model, index, context, std::move(redo[r++]));
    if (r < redo.size()) ++reordered;
    ApplyKept(model, index, context, std::move(e));
  }
  while (r < redo.size()) ApplyKept(model, index, context, std::move(redo[r++]));
  return reordered;
}

void Timeline::Trim(std::optional<Timestamp> latest) {
  const std::optional<Timestamp> horizon =
      latest ? std::optional<Timestamp>(Horizon(*latest)) : std::nullopt;
  while (!entries_.empty()) {
    const Entry& oldest = entries_.front();
    const bool old = horizon && oldest.timed.key.timestamp < *horizon;
    if (!old && entries_.size() <= kMaxEvents) break;
    floor_ = std::move(entries_.front().timed.key);
    entries_.pop_front();
  }
}

void Timeline::Clear() {
  entries_.clear();
  floor_.reset();
}

size_t Timeline::ApproximateBytes() const {
  size_t bytes = 0;
  for (const Entry& e : entries_) {
    bytes += sizeof(Entry) + e.timed.key.file.size() + e.undo.ApproximateBytes() +
             e.timed.event.node.size() + e.timed.event.service.size() +
             e.timed.event.correlation_id.size() + e.timed.event.id.size();
  }
  return bytes;
}

Timeline::Saved Timeline::Save(const Model& model) const {
  Saved s;
  s.floor = floor_;
  std::set<std::pair<UndoStep::Kind, std::string>> seen;
  for (const Entry& e : entries_) {
    s.events.push_back(&e.timed);
    if (!e.undo.added_id().empty()) s.added_ids.push_back(e.undo.added_id());
    for (const UndoStep::Saved& saved : e.undo.saved()) {
      if (!seen.emplace(saved.kind, saved.key).second) continue;
      if (std::holds_alternative<std::monostate>(saved.prior)) {
        s.absent.emplace_back(saved.kind, saved.key);
      } else if (const auto* n = std::get_if<NodeState>(&saved.prior)) {
        s.before.nodes.emplace(saved.key, *n);
      } else if (const auto* v = std::get_if<ServiceState>(&saved.prior)) {
        s.before.services.emplace(saved.key, *v);
      } else if (const auto* i = std::get_if<IncidentState>(&saved.prior)) {
        s.before.incidents.emplace(saved.key, *i);
      } else if (const auto* d = std::get_if<DeploymentState>(&saved.prior)) {
        s.before.deployments.emplace(saved.key, *d);
      }
    }
  }
  s.before.counters = model.counters;
  for (auto it = entries_.rbegin(); it != entries_.rend(); ++it) {
    UncountEvent(s.before.counters, it->undo);
  }
  return s;
}

bool Timeline::Restore(Model& model, ModelIndex& index, const ApplyContext& context,
                       std::optional<OrderKey> floor, std::vector<TimedEvent> events,
                       const Model& before,
                       const std::vector<std::pair<UndoStep::Kind, std::string>>& absent,
                       const std::vector<std::string>& added_ids) {
  Clear();
  floor_ = std::move(floor);
  // What the window's events must rebuild, to check them against.
  std::vector<std::string> nodes, services, incidents, deployments;
  for (const auto& [kind, key] : absent) {
    (kind == UndoStep::Kind::kNode       ? nodes
     : kind == UndoStep::Kind::kService  ? services
     : kind == UndoStep::Kind::kIncident ? incidents
                                         : deployments)
        .push_back(key);
  }
  for (const auto& [key, v] : before.nodes) nodes.push_back(key);
  for (const auto& [key, v] : before.services) services.push_back(key);
  for (const auto& [key, v] : before.incidents) incidents.push_back(key);
  for (const auto& [key, v] : before.deployments) deployments.push_back(key);
  const auto want_nodes = detail::StatesOf(model.nodes, nodes);
  const auto want_services = detail::StatesOf(model.services, services);
  const auto want_incidents = detail::StatesOf(model.incidents, incidents);
  const auto want_deployments = detail::StatesOf(model.deployments, deployments);
  const Counters want_counters = model.counters;
  const size_t want_ids = model.event_ids.size();
  for (const std::string& id : added_ids) {
    if (model.event_ids.erase(id) == 0) return false;  // not the model this window was saved from
  }
  const size_t sizes[] = {model.nodes.size(), model.services.size(), model.incidents.size(),
                          model.deployments.size()};

  for (const auto& [kind, key] : absent) {
    switch (kind) {
      case UndoStep::Kind::kNode: model.nodes.erase(key); break;
      case UndoStep::Kind::kService: model.services.erase(key); break;
      case UndoStep::Kind::kIncident: model.incidents.erase(key); break;
      case UndoStep::Kind::kDeployment: model.deployments.erase(key); break;
    }
  }
  detail::PutBack(model.nodes, before.nodes);
  detail::PutBack(model.services, before.services);
  detail::PutBack(model.incidents, before.incidents);
  detail::PutBack(model.deployments, before.deployments);
  model.counters = before.counters;
  index.Reset(model);
  for (TimedEvent& e : events) ApplyKept(model, index, context, std::move(e));

  const size_t after[] = {model.nodes.size(), model.services.size(), model.incidents.size(),
                          model.deployments.size()};
  return std::equal(std::begin(sizes), std::end(sizes), std::begin(after)) &&
         want_counters == model.counters && want_ids == model.event_ids.size() &&
         want_nodes == detail::StatesOf(model.nodes, nodes) &&
         want_services == detail::StatesOf(model.services, services) &&
         want_incidents == detail::StatesOf(model.incidents, incidents) &&
         want_deployments == detail::StatesOf(model.deployments, deployments);
}

}  // namespace hlo
