// Builds what the world API serves (ApiView) at each publish of the daemon,
// and the change events of /api/v1/stream, from the same snapshot as the
// metrics of that publish: a reader of /api/v1/world/* and a scrape of
// /metrics that see the same publish see the same world.
//
// Cost: the history files (incidents.json, deployments.json) are rendered
// here when the model's history revisions moved — once, and handed to
// Observer::Commit, which writes those bytes instead of rendering them
// again. The small files (nodes, services, runtime-summary) are rendered on
// the first request that asks for them, from the immutable snapshot.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include <nlohmann/json_fwd.hpp>

#include "exporter/world_api.h"
#include "observer/model.h"
#include "observer/model_index.h"
#include "observer/world_serializer.h"
#include "observer/world_snapshot.h"

namespace hlo {

// What the daemon knows of itself besides the model (for /api/v1/observer).
struct ObserverHealth {
  bool ready = false;
  uint64_t pending_bytes = 0;
  std::optional<Timestamp> last_batch_at;
  bool ingest_enabled = false;
  uint64_t ingest_accepted = 0;  // events POSTed and written by this process
  // The world was just rebuilt from all event files: the events it read
  // again are not arrivals (events_per_second starts counting afresh).
  bool replayed = false;
  // --web.site-name; "" when unset (then `site` is null).
  std::string site_name;
};

// What changed from `before` (null: nothing published before) to `after`,
// as the stream's "changed" object: {"nodes": [names], "services":
// ["node/service"], "incidents": [ids opened, updated or resolved],
// "deployments": [correlation ids whose service entries' latest deployment
// changed], "history": {"incidents": bool, "deployments": bool}} (history:
// the history files may have changed). Lists sorted. Pure.
nlohmann::json WorldChanges(const WorldSnapshot* before, const WorldSnapshot& after,
                            bool incidents_history_changed, bool deployments_history_changed);

class ApiPublisher {
 public:
  // `feed` must outlive the publisher.
  explicit ApiPublisher(ChangeFeed& feed) : feed_(feed) {}

  // The view of `world` (built from `model`, whose history is at
  // `revisions`). Appends a change to the feed when the world differs from
  // the last publish's (any entity, summary count or event count); else the
  // view keeps the last sequence. `now`: the wall clock (lag); `steady`: a
  // monotonic clock (events per second over the last minute).
  std::shared_ptr<const ApiView> Publish(std::shared_ptr<const WorldSnapshot> world,
                                         const Model& model, const HistoryRevisions& revisions,
                                         const ObserverHealth& health, Timestamp now,
                                         std::chrono::steady_clock::time_point steady);

  // The last publish's history files, for Observer::Commit (other entries
  // null).
  const WorldFileBytes& rendered() const { return rendered_; }

 private:
  // Events applied over the last minute, divided by 60 s (so it ramps up
  // over the first minute rather than spiking on the first batch).
  double EventsPerSecond(uint64_t processed, bool replayed,
                         std::chrono::steady_clock::time_point steady);

  ChangeFeed& feed_;
  std::shared_ptr<const WorldSnapshot> last_world_;
  HistoryRevisions last_revisions_;
  std::array<std::shared_ptr<const JsonDocument>, 2> history_;  // deployments, incidents
  WorldFileBytes rendered_;
  std::deque<std::pair<std::chrono::steady_clock::time_point, uint64_t>> samples_;
};

}  // namespace hlo
