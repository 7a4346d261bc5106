#include "exporter/world_collector.h"

#include <prometheus/text_serializer.h>

#include "exporter/metrics_table.h"

namespace hlo {

void WorldCollector::Publish(std::shared_ptr<const ExportState> state) {
  std::lock_guard<std::mutex> lock(mutex_);
  state_ = std::move(state);
}

std::shared_ptr<const ExportState> WorldCollector::Current() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return state_;
}

std::vector<prometheus::MetricFamily> WorldCollector::Collect() const {
  const std::shared_ptr<const ExportState> state = Current();
  if (!state || !state->world) return {};
  return GenerateFamilies(*state);
}

std::string WorldCollector::Exposition() const {
  return prometheus::TextSerializer().Serialize(Collect());
}

}  // namespace hlo
