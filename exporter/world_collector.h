// The latest published ExportState and its exposition. The daemon publishes a
// new immutable state after each batch (a shared_ptr swap); each scrape gets
// whichever exposition is current, so it sees one batch whole and never
// blocks the observer for long. The exposition is rendered once per
// published state, on the first scrape of it, and every scrape until the
// next Publish is served the same bytes. (Rendering on the first scrape
// rather than at Publish costs the daemon nothing for states nobody scrapes
// — it publishes twice per batch — and measured the same from an event to
// /metrics, within noise: rendering is ~5 ms of a ~200 ms median lag on the
// 64k-series world.)
//
// Nothing in an ExportState changes per scrape (every figure, the daemon's
// own included, is fixed when the state is built), so the cached bytes are
// exactly what a fresh rendering would give.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <prometheus/collectable.h>

#include "exporter/cached_exposition.h"
#include "exporter/export_state.h"

namespace hlo {

class WorldCollector : public prometheus::Collectable {
 public:
  WorldCollector();

  // Makes `state` current. O(1): rendering waits for the first scrape.
  void Publish(std::shared_ptr<const ExportState> state);
  std::shared_ptr<const ExportState> Current() const;

  // The exposition of the current state (an empty one until the first
  // Publish); never null. Holding it keeps its bytes alive after later
  // publishes. Thread-safe.
  std::shared_ptr<const CachedExposition> CurrentExposition() const;

  // Every family of the current state as prometheus-cpp objects (empty until
  // the first Publish), for use as a prometheus::Collectable.
  std::vector<prometheus::MetricFamily> Collect() const override;

  // A copy of CurrentExposition()->Text().
  std::string Exposition() const;

  // Renders and compressions so far.
  const ExpositionCounters& counters() const { return *counters_; }

 private:
  const std::shared_ptr<ExpositionCounters> counters_;
  mutable std::mutex mutex_;
  std::shared_ptr<const CachedExposition> current_;
};

}  // namespace hlo
