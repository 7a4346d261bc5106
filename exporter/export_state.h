// What the metrics are generated from: an immutable world snapshot plus the
// observer's own figures. Built after each batch and swapped in whole, so a
// scrape never sees half of one batch.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "exporter/process_stats.h"
#include "exporter/world_api.h"
#include "observer/world_snapshot.h"

namespace hlo {

// Upper bounds of the batch-duration histogram, in seconds.
inline constexpr std::array<double, 10> kBatchDurationBuckets = {
    0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 60};

// Figures only the daemon has; absent (present = false) for `once`.
struct DaemonStats {
  bool present = false;
  std::string watch_mode;  // "inotify" | "poll"
  bool ready = false;      // the first replay is done
  uint64_t batches = 0;
  double batch_seconds_sum = 0;
  std::array<uint64_t, kBatchDurationBuckets.size()> batch_buckets{};  // cumulative
  double last_batch_seconds = 0;
  uint64_t inventory_reloads = 0;
  uint64_t inventory_reload_failures = 0;
  bool inventory_ok = true;
  uint64_t world_write_failures = 0;
  uint64_t pending_bytes = 0;  // bytes in events/ not yet consumed at the last scan
  // The process collector's figures, sampled at each batch (at least every
  // refresh, 5 s); nullopt without /proc.
  std::optional<ProcessStats> process;
  // SIGHUP reloads of the configuration (inventory and web config): whether
  // the last one succeeded, when one last succeeded (the start counts), and
  // how many succeeded and failed.
  bool config_reload_ok = true;
  double config_last_reload_success = 0;
  uint64_t config_reloads_succeeded = 0;
  uint64_t config_reloads_failed = 0;
  double last_batch_timestamp = 0;

  void RecordBatch(double seconds);
};

// The observer's own figures that are not part of the world (they live in
// the checkpoint, or only in the process).
struct ObserverFigures {
  // Counted replays by reason; every reason of kReplayReasons is present.
  std::map<std::string, uint64_t, std::less<>> rebuilds_by_reason;
  // Events later than --events.max-lateness allowed, by file.
  std::map<std::string, uint64_t, std::less<>> late_events_by_file;
  uint64_t reordered_events = 0;  // folded in within the window (this process)
  uint64_t window_events = 0;     // held in the lateness window
  uint64_t window_bytes = 0;      // their approximate heap bytes

  friend bool operator==(const ObserverFigures&, const ObserverFigures&) = default;
};

struct ExportState {
  std::shared_ptr<const WorldSnapshot> world;  // required
  // The world API's view of the same publish (run only; null for once).
  std::shared_ptr<const ApiView> api;
  ObserverFigures observer;
  DaemonStats daemon;
  // --web.site-name, "" when unset: homelab_observer_build_info's `site`.
  // Fixed for a process's life, like the version.
  std::string site_name;
};

class Observer;
// The figures of `observer` now.
ObserverFigures FiguresOf(const Observer& observer);

}  // namespace hlo
