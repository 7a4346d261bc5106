// What one Apply changed, kept as the states things had before it, so that
// the event can be taken back: the lateness window (observer/timeline.h)
// rolls the model back to where a late event belongs, applies it, and
// re-applies what followed.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "observer/model.h"

namespace hlo {

class UndoStep {
 public:
  // Called by Apply before it changes (or creates) an entry. Saving an entry
  // twice is harmless: Undo restores in reverse order, the first save last.
  void SaveNode(const Model& model, const std::string& name);
  void SaveService(const Model& model, std::string_view key);
  void SaveIncident(const Model& model, const std::string& id);
  void SaveDeployment(const Model& model, const std::string& correlation_id);
  // Apply's counting: the event's type and the previous last_event_at.
  void SaveCounters(const Model& model, std::string_view type);
  // deployments_finished[key] is about to be incremented.
  void SaveFinished(std::pair<std::string, std::string> key) { finished_ = std::move(key); }
  // The event's id is about to be remembered (it was not before).
  void SaveId(const std::string& id) { added_id_ = id; }
  // A deployment is about to be retired under this key of
  // Model::retired_deployments (it was not there before).
  void SaveRetired(std::pair<Timestamp, std::string> key) { retired_ = std::move(key); }
  // The event is a duplicate: events_duplicate is about to be incremented.
  void SaveDuplicate() { duplicate_ = true; }

  // Puts back what was saved. Returns true when a service entry that Apply
  // created was removed (a ModelIndex of the model must then be Reset).
  bool Undo(Model& model) const;

  // The saved states, for the checkpoint: `prior` is empty when the entry
  // did not exist before.
  enum class Kind { kNode, kService, kIncident, kDeployment };
  struct Saved {
    Kind kind;
    std::string key;
    std::variant<std::monostate, NodeState, ServiceState, IncidentState, DeploymentState> prior;
  };
  const std::vector<Saved>& saved() const { return saved_; }
  std::string_view type() const { return type_; }
  const std::optional<Timestamp>& previous_last_event_at() const { return last_event_at_; }
  const std::optional<std::pair<std::string, std::string>>& finished() const { return finished_; }
  const std::string& added_id() const { return added_id_; }  // "" when none
  bool duplicate() const { return duplicate_; }

  // Rough heap bytes held, for the window's memory figure.
  size_t ApproximateBytes() const;

 private:
  std::vector<Saved> saved_;
  std::string_view type_;  // EventTypeName's static text; empty: nothing counted
  std::optional<Timestamp> last_event_at_;
  std::optional<std::pair<std::string, std::string>> finished_;
  std::string added_id_;
  std::optional<std::pair<Timestamp, std::string>> retired_;
  bool duplicate_ = false;
};

// Takes one event's counting back from `counters` (the inverse of Apply's).
void UncountEvent(Counters& counters, const UndoStep& step);

}  // namespace hlo
