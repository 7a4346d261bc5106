#include "exporter/export_state.h"

#include "observer/observer.h"

namespace hlo {

void DaemonStats::RecordBatch(double seconds) {
  ++batches;
  batch_seconds_sum += seconds;
  last_batch_seconds = seconds;
  for (size_t i = 0; i < kBatchDurationBuckets.size(); ++i) {
    if (seconds <= kBatchDurationBuckets[i]) ++batch_buckets[i];
  }
}

ObserverFigures FiguresOf(const Observer& observer) {
  ObserverFigures f;
  for (std::string_view reason : kReplayReasons) f.rebuilds_by_reason[std::string(reason)] = 0;
  for (const auto& [reason, n] : observer.rebuilds_by_reason()) f.rebuilds_by_reason[reason] = n;
  f.late_events_by_file = observer.late_events_by_file();
  f.reordered_events = observer.reordered_events();
  f.window_events = observer.window_events();
  f.window_bytes = observer.window_bytes();
  return f;
}

}  // namespace hlo
