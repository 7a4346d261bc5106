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

  // Rough heap bytes held, for the window's memory figure.
  size_t ApproximateBytes() const;

 private:
  std::vector<Saved> saved_;
  std::string_view type_;  // EventTypeName's static text; empty: nothing counted
  std::optional<Timestamp> last_event_at_;
  std::optional<std::pair<std::string, std::string>> finished_;
};

// Takes one event's counting back from `counters` (the inverse of Apply's).
void UncountEvent(Counters& counters, const UndoStep& step);

}  // namespace hlo
