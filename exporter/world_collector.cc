#include "exporter/world_collector.h"

#include "exporter/metrics_table.h"

namespace hlo {

WorldCollector::WorldCollector()
    : counters_(std::make_shared<ExpositionCounters>()),
      current_(std::make_shared<CachedExposition>(nullptr, nullptr, counters_)) {}

void WorldCollector::Publish(std::shared_ptr<const ExportState> state) {
  std::lock_guard<std::mutex> lock(mutex_);
  // `current_` stays alive for the scrapes still sending it.
  current_ = std::make_shared<CachedExposition>(std::move(state), current_.get(), counters_);
}

std::shared_ptr<const ExportState> WorldCollector::Current() const {
  return CurrentExposition()->state();
}

std::shared_ptr<const CachedExposition> WorldCollector::CurrentExposition() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return current_;
}

std::vector<prometheus::MetricFamily> WorldCollector::Collect() const {
  const std::shared_ptr<const ExportState> state = Current();
  if (!state || !state->world) return {};
  return GenerateFamilies(*state);
}

std::string WorldCollector::Exposition() const { return CurrentExposition()->Text(); }

}  // namespace hlo
