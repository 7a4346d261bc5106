// `run`: the observer as a daemon. Applies pending events, then watches
// events/ (and the inventory) and applies what lands, writing the world files
// and checkpoint after each coalesced batch and publishing a new snapshot to
// /metrics. Stops cleanly, world and checkpoint consistent, on RequestStop();
// reloads its configuration on RequestReload().
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>

#include "exporter/config.h"
#include "exporter/event_watcher.h"
#include "exporter/world_collector.h"
#include "observer/env.h"

namespace hlo {

struct DaemonTiming {
  // How long to keep gathering changes after the first one, so a burst of
  // appends becomes one batch.
  std::chrono::milliseconds coalesce{20};
  // The longest a burst may delay a batch.
  std::chrono::milliseconds coalesce_max{200};
  // Node staleness moves with the clock: refresh the snapshot this often
  // even when no event arrives.
  std::chrono::milliseconds refresh{5000};
};

// What the daemon uses of the outside besides its Config; for tests.
struct DaemonSeams {
  // Files and clocks (the observer's too); Env::Default() when null. Must
  // outlive the daemon.
  Env* env = nullptr;
  // Makes what the daemon waits on between batches; an EventWatcher when
  // empty.
  std::function<std::unique_ptr<ChangeSource>(WatchOptions)> make_changes = {};
};

class Daemon {
 public:
  explicit Daemon(const Config& config, DaemonTiming timing = {}, DaemonSeams seams = {});
  ~Daemon();

  // Runs until RequestStop(); returns the process exit code (0 on a clean
  // stop, 1 when the root, state/ or world/, or the port cannot be used).
  int Run();

  // Async-signal-safe.
  void RequestStop();

  // SIGHUP: reload the inventory and the web config (config_reload.h) on
  // the daemon's own thread, between batches, as soon as it can; requests
  // made while one is pending are one reload. Async-signal-safe.
  void RequestReload();

 private:
  struct Impl;
  Config config_;
  DaemonTiming timing_;
  DaemonSeams seams_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> reload_{false};
  std::atomic<ChangeSource*> watcher_{nullptr};
};

}  // namespace hlo
