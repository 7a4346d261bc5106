// A prometheus::Collectable over the latest published ExportState. The daemon
// publishes a new immutable state after each batch (a shared_ptr swap);
// Collect() generates every family from whichever state is current, so a
// scrape sees one batch whole and never blocks the observer for long.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <prometheus/collectable.h>

#include "exporter/export_state.h"

namespace hlo {

class WorldCollector : public prometheus::Collectable {
 public:
  void Publish(std::shared_ptr<const ExportState> state);
  std::shared_ptr<const ExportState> Current() const;

  // Empty until the first Publish.
  std::vector<prometheus::MetricFamily> Collect() const override;

  // The text exposition of Collect().
  std::string Exposition() const;

 private:
  mutable std::mutex mutex_;
  std::shared_ptr<const ExportState> state_;
};

}  // namespace hlo
