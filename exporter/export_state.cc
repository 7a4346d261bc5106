#include "exporter/export_state.h"

namespace hlo {

void DaemonStats::RecordBatch(double seconds) {
  ++batches;
  batch_seconds_sum += seconds;
  last_batch_seconds = seconds;
  for (size_t i = 0; i < kBatchDurationBuckets.size(); ++i) {
    if (seconds <= kBatchDurationBuckets[i]) ++batch_buckets[i];
  }
}

}  // namespace hlo
