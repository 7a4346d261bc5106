// The pure core: one accepted event → the world model (CONTRACT §4, §5, §8).
// Deterministic; no files, clocks or threads.
#pragma once

#include <string>

#include "observer/event.h"
#include "observer/event_parser.h"
#include "observer/inventory.h"
#include "observer/model.h"
#include "observer/model_index.h"
#include "observer/undo_step.h"

namespace hlo {

// What Apply needs besides the event. Referenced objects must outlive the call.
struct ApplyContext {
  // Absolute, lexically normal path of <root>/logs, used to accept absolute
  // diagnostics paths inside it.
  std::string logs_dir;
  // service_recovered without a node also reaches the inventory's entries of
  // that service. May be null (no inventory).
  const Inventory* inventory = nullptr;
  // --flap.high / --flap.low: when a service entry starts and stops flapping.
  FlapThresholds flap{};
  // --history.retention; 0 = off (keep everything). On, a deployment event
  // for a deployment that finished more than this before the event retires
  // it (Model::retired_deployments) and starts a fresh one (attempts 1).
  Duration retention{0};
};

// What Apply keeps informed besides the model; each may be null.
struct ApplyHooks {
  // Derived state of `model`, kept current (new service entries, history
  // revisions). Without one, a service_recovered without a node walks every
  // service entry.
  ModelIndex* index = nullptr;
  // Receives the state of everything before Apply changes it, so the event
  // can be undone.
  UndoStep* undo = nullptr;
};

// Applies one accepted event, in processing order (event time, CONTRACT §4).
void Apply(Model& model, const Event& event, const ApplyContext& context,
           const ApplyHooks& hooks = {});

// Ends the bulk mode of `index` (ModelIndex::BeginBulk, Apply without undo
// for a replay): every service entry receives the node-less recoveries it
// has not received yet, and the model is complete again.
void FinishBulk(Model& model, ModelIndex& index, const ApplyContext& context);

// Counts one rejected event.
void CountRejection(Model& model, RejectReason reason);

// Normalises a diagnostics path (relative to logs/, or absolute inside
// `logs_dir`) to "logs/…"; "" when it is not strictly inside logs/.
std::string NormalizeDiagnosticsPath(const std::string& path, const std::string& logs_dir);

}  // namespace hlo
