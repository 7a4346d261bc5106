// Derived state of a Model: what is kept beside it to make Apply and the
// writers fast, never part of its identity. One owner (the observer), one
// place where it is rebuilt (Reset), kept current by Apply through
// ApplyHooks.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "observer/model.h"

namespace hlo {

// Marks of the last change to the history maps, so that a writer can tell an
// unchanged incidents.json or deployments.json (see WorldWriter) and the
// observer an unchanged history summary. Only ever grow within one index, so
// a value is never reused for different contents; 0 = not known.
struct HistoryRevisions {
  uint64_t incidents = 0, deployments = 0;
  friend bool operator==(const HistoryRevisions&, const HistoryRevisions&) = default;
};

class ModelIndex {
 public:
  // Rebuilds everything from `model` (after a load, a replay or an undo that
  // removed entries) and marks the whole history as changed.
  void Reset(Model& model);

  // The entries of one service, for a service_recovered without a node.
  struct ServiceGroup {
    std::vector<ServiceState*> entries;  // in the order they were added
    // Bulk mode: the times of the node-less recoveries of this service not
    // yet given to every entry; an entry has received the first
    // `index_received` of them.
    std::vector<Timestamp> deferred;
  };
  // The group of `service`; null when no entry has it.
  ServiceGroup* Group(std::string_view service);
  ServiceGroup& GroupOf(const ServiceState& entry) { return groups_[entry.index_group - 1]; }

  // Apply's notifications. `entry` lives in the model's map (its address is
  // stable until it is erased, which is followed by a Reset).
  void ServiceAdded(ServiceState& entry);
  void IncidentsChanged() { revisions_.incidents = ++last_revision_; }
  void DeploymentsChanged() { revisions_.deployments = ++last_revision_; }
  // An event id became known (Model::event_ids); kept until ClearNewIds,
  // for the event-ids log. An id taken back by the window and added again
  // is listed twice, which the log does not mind.
  void IdAdded(const std::string& id) { new_ids_.push_back(id); }
  const std::vector<std::string>& new_ids() const { return new_ids_; }
  void ClearNewIds() { new_ids_.clear(); }

  const HistoryRevisions& revisions() const { return revisions_; }

  // Bulk mode, for applying many events at once without undo (a replay):
  // Apply then records a service_recovered without a node once, for its
  // service's group, instead of giving it to each entry of the service, and
  // an entry receives the recoveries it missed when it is next touched, or
  // at FinishBulk (apply.h). So the cost of such an event does not grow with
  // the number of nodes that run the service. Between BeginBulk and
  // FinishBulk nothing but Apply (with no undo) may read or change the model.
  void BeginBulk() { bulk_ = true; }
  bool bulk() const { return bulk_; }
  // Whether every entry the inventory (of that generation) has of
  // `service` is known to be in the model, as added by a node-less recovery
  // before: it then need not be walked again. Known for an inventory built
  // by hand (generation 0) only within one bulk.
  bool InventoryEntriesAdded(std::string_view service, uint64_t generation) const {
    if (generation == 0 && !bulk_) return false;
    const auto it = inventory_added_.find(service);
    return it != inventory_added_.end() && it->second == generation;
  }
  void MarkInventoryEntriesAdded(std::string_view service, uint64_t generation) {
    if (generation == 0 && !bulk_) return;
    if (auto it = inventory_added_.find(service); it != inventory_added_.end()) {
      it->second = generation;
    } else {
      inventory_added_.emplace(service, generation);
    }
  }
  // The groups, for FinishBulk.
  std::vector<ServiceGroup>& groups() { return groups_; }
  // Ends bulk mode once every entry has received its group's deferred
  // recoveries: forgets them.
  void EndBulk();

 private:
  StringMap<uint32_t> group_by_service_;  // 1 + index into groups_
  std::vector<ServiceGroup> groups_;
  bool bulk_ = false;
  StringMap<uint64_t> inventory_added_;  // service → inventory generation
  HistoryRevisions revisions_;
  uint64_t last_revision_ = 0;
  std::vector<std::string> new_ids_;
};

}  // namespace hlo
