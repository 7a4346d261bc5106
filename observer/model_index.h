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
  void Reset(const Model& model);

  // The nodes that have an entry of `service` (for a service_recovered
  // without a node), in the order the entries were added.
  const std::vector<std::string>& NodesWithService(std::string_view service) const;

  // Apply's notifications.
  void ServiceAdded(const std::string& node, const std::string& service);
  void IncidentsChanged() { revisions_.incidents = ++last_revision_; }
  void DeploymentsChanged() { revisions_.deployments = ++last_revision_; }
  // An event id became known (Model::event_ids); kept until ClearNewIds,
  // for the event-ids log. An id taken back by the window and added again
  // is listed twice, which the log does not mind.
  void IdAdded(const std::string& id) { new_ids_.push_back(id); }
  const std::vector<std::string>& new_ids() const { return new_ids_; }
  void ClearNewIds() { new_ids_.clear(); }

  const HistoryRevisions& revisions() const { return revisions_; }

 private:
  StringMap<std::vector<std::string>> nodes_by_service_;
  HistoryRevisions revisions_;
  uint64_t last_revision_ = 0;
  std::vector<std::string> new_ids_;
};

}  // namespace hlo
