#include "exporter/daemon.h"

#include "exporter/process_stats.h"

#include <iostream>
#include <string>
#include <vector>

#include "exporter/api_publisher.h"
#include "exporter/command_support.h"
#include "exporter/config_reload.h"
#include "exporter/ingest_policy.h"
#include "exporter/rejection_report.h"
#include "exporter/ingest_log.h"
#include "exporter/http_server.h"
#include "exporter/inventory_keeper.h"
#include "observer/observer.h"
#include "observer/stage_markers.h"

namespace hlo {
namespace detail {
namespace {

void Log(const std::string& line) { std::cerr << "homelab-observer: " << line << std::endl; }

// The most often rejections are summarised on stderr (the first summary
// comes at once; the rest wait and are gathered): a writer that keeps
// appending bad lines costs a few journal lines a minute, not one a line.
constexpr std::chrono::seconds kRejectionReportInterval(60);

std::chrono::milliseconds ToMillis(Duration d) {
  return std::chrono::milliseconds(d.nanos / 1'000'000);
}

// What changes the world files without an event: the clock moving a node's
// status (and with it its services' stale) or a service's (--service-stale-after),
// and stage markers appearing or changing under state/stages/.
struct NodeFacts {
  std::string name;
  NodeStatus status;
  std::vector<std::pair<std::string, Timestamp>> stages;
  bool operator==(const NodeFacts&) const = default;
};
struct ClockFacts {
  std::vector<NodeFacts> nodes;
  std::vector<ServiceStatus> services;  // in the snapshot's order
  bool operator==(const ClockFacts&) const = default;
};

ClockFacts ClockFactsOf(const WorldSnapshot& world) {
  ClockFacts facts;
  for (const auto& n : world.nodes) {
    NodeFacts f{n.name, n.status, {}};
    for (const auto& s : n.stages) f.stages.emplace_back(s.name, s.completed_at);
    facts.nodes.push_back(std::move(f));
  }
  facts.services.reserve(world.services.size());
  for (const auto& v : world.services) facts.services.push_back(v.status);
  return facts;
}

}  // namespace
}  // namespace detail

// Everything one Run() owns, in construction order.
struct Daemon::Impl {
  const Config& config;
  Env* env;
  InventoryKeeper inventory;
  Observer observer;
  WorldCollector collector;
  ChangeFeed changes;
  ApiPublisher api{changes};
  std::unique_ptr<IngestLog> ingest;  // --web.enable-ingest
  std::optional<Timestamp> last_batch_at;
  bool replayed_in_batch = false;  // the batch being published replayed
  DaemonStats stats;
  detail::ClockFacts committed_facts;
  bool dirty = true;  // something to write that has not been written
  bool late_logged = false;  // late events were logged since the last replay
  size_t notices_logged = 0;
  RejectionReport rejections;

  Impl(const Config& c, Env* e)
      : config(c),
        env(e),
        inventory(c.inventory),
        observer(OptionsFor(c, inventory.current(), e)),
        rejections((observer.root() / "state" / "rejected-events.jsonl").string(),
                   detail::kRejectionReportInterval) {}

  static ObserverOptions OptionsFor(const Config& c, const Inventory* inventory, Env* env) {
    ObserverOptions o;
    o.env = env;
    o.root = c.root;
    o.inventory = inventory;
    o.skip_unchanged_history = true;
    o.max_lateness = c.max_lateness;
    o.retention = c.history_retention;
    o.replay_min_interval = c.replay_min_interval;
    o.flap = c.flap;
    o.service_stale_after = c.service_stale_after;
    return o;
  }

  // One batch: read what is new, write the world and checkpoint when
  // anything changed (or the clock moved a node's status), publish.
  void Batch(bool force_commit) {
    const auto started = env->SteadyNow();
    std::vector<std::string> log;
    if (inventory.Refresh(&log)) dirty = true;
    for (const auto& line : log) detail::Log(line);

    BatchResult batch;
    std::string error;
    if (!observer.ProcessPending(&batch, &error)) {
      detail::Log(error);
    }
    // notices() keeps growing; each is logged once.
    const std::vector<std::string>& notices = observer.notices();
    for (size_t i = notices_logged; i < notices.size(); ++i) detail::Log(notices[i]);
    notices_logged = notices.size();
    if (batch.replayed && !batch.replay_reason.empty()) {
      detail::Log("rebuilt the world from zero: " + batch.replay_reason);
    }
    // Once per coalesced replay, not once per batch: a skewed host writes
    // late events all the time.
    if (batch.replayed) late_logged = false;
    replayed_in_batch = batch.replayed;
    if (batch.replay_deferred && !late_logged) {
      detail::Log(std::to_string(batch.late) +
                  " event(s) arrived later than --events.max-lateness allows (see "
                  "homelab_observer_late_events_total by file); they wait for the next replay");
      late_logged = true;
    }
    for (const std::string& line : rejections.Add(batch.rejections, env->SteadyNow())) {
      detail::Log(line);
    }
    if (batch.applied > 0 || batch.rejected > 0 || batch.replayed) dirty = true;

    const StageMarkers stages = LoadStageMarkers(observer.root() / "state" / "stages");
    auto world = std::make_shared<WorldSnapshot>(
        observer.Snapshot(Now(), config.node_stale_after, stages));
    detail::ClockFacts facts = detail::ClockFactsOf(*world);
    if (facts != committed_facts) dirty = true;
    // /metrics first: a scrape should not wait for the world files and the
    // checkpoint to reach the disk.
    stats.pending_bytes = batch.pending_bytes;
    stats.process = ReadProcessStats();
    stats.inventory_reloads = inventory.reloads();
    stats.inventory_reload_failures = inventory.reload_failures();
    stats.inventory_ok = inventory.ok();
    Publish(world);

    if (dirty || force_commit) {
      if (observer.Commit(*world, &error, &api.rendered())) {
        dirty = false;
        committed_facts = std::move(facts);
      } else {
        ++stats.world_write_failures;
        detail::Log("cannot write the world files (will retry): " + error);
      }
    }
    stats.RecordBatch(std::chrono::duration<double>(env->SteadyNow() - started).count());
    last_batch_at = env->Now();
    stats.last_batch_timestamp = ToUnixSeconds(*last_batch_at);
    Publish(std::move(world));
    replayed_in_batch = false;
  }

  // --now, else the Env's clock.
  Timestamp Now() const { return config.now ? *config.now : env->Now(); }

  // SIGHUP. The next batch publishes the outcome and, when the inventory
  // changed, writes the world files.
  void Reload(HttpServer& server) {
    ReloadTargets targets;
    targets.inventory = &inventory;
    targets.web_config_file = config.web_config_file;
    if (config.enable_ingest) {
      targets.refuse_web = [this](const WebConfig& web) {
        return IngestRefusal(config.listen_address, !web.basic_auth_users.empty());
      };
    }
    targets.apply_web = [&server](const WebConfig& web, std::string* error) {
      return server.Reconfigure(web, error);
    };
    const ReloadOutcome outcome = ReloadConfig(targets);
    for (const std::string& line : outcome.log) detail::Log("SIGHUP: " + line);
    stats.config_reload_ok = outcome.ok;
    if (outcome.ok) {
      ++stats.config_reloads_succeeded;
      stats.config_last_reload_success = ToUnixSeconds(env->Now());
      dirty = true;
    } else {
      ++stats.config_reloads_failed;
    }
  }

  void Publish(std::shared_ptr<const WorldSnapshot> world) {
    auto state = std::make_shared<ExportState>();
    ObserverHealth health;
    health.ready = stats.ready;
    health.pending_bytes = stats.pending_bytes;
    health.last_batch_at = last_batch_at;
    health.ingest_enabled = ingest != nullptr;
    health.ingest_accepted = ingest ? ingest->accepted_total() : 0;
    health.replayed = replayed_in_batch;
    health.site_name = config.site_name;
    state->api = api.Publish(world, observer.checkpoint().model, observer.history_revisions(),
                             health, env->Now(), env->SteadyNow());
    state->world = std::move(world);
    state->observer = FiguresOf(observer);
    state->daemon = stats;
    state->site_name = config.site_name;
    collector.Publish(std::move(state));
  }
};

Daemon::Daemon(const Config& config, DaemonTiming timing, DaemonSeams seams)
    : config_(config), timing_(timing), seams_(std::move(seams)) {
  if (seams_.env == nullptr) seams_.env = Env::Default();
}

Daemon::~Daemon() = default;

void Daemon::RequestStop() {
  stop_.store(true);
  if (ChangeSource* watcher = watcher_.load()) watcher->Wake();
}

void Daemon::RequestReload() {
  reload_.store(true);
  if (ChangeSource* watcher = watcher_.load()) watcher->Wake();
}

int Daemon::Run() {
  Env* env = seams_.env;
  Impl impl(config_, env);
  for (const auto& warning : impl.inventory.InitialWarnings()) detail::Log(warning);
  std::string error;
  if (!impl.observer.Open(&error)) {
    detail::Log(error);
    return 1;
  }

  WatchOptions watch;
  watch.paths.push_back(impl.observer.root() / "events");
  watch.paths.push_back(impl.observer.root() / "state" / "stages");
  if (config_.inventory) {
    watch.paths.push_back(*config_.inventory / "inventory");
    watch.paths.push_back(*config_.inventory / "hosts");
    // Watching is not recursive: name each host's file, so an edit in place
    // is seen at once (new hosts are caught by the fingerprint on refresh).
    if (const Inventory* inventory = impl.inventory.current()) {
      for (const auto& [node, services] : inventory->services) {
        watch.paths.push_back(*config_.inventory / "hosts" / node / "services.yaml");
      }
    }
  }
  watch.poll_interval = detail::ToMillis(config_.poll_interval);
  watch.force_poll = config_.force_poll;
  watch.clock = [env] { return env->SteadyNow(); };
  // Constructed before the first scan, so nothing landing during it is missed.
  std::unique_ptr<ChangeSource> changes = seams_.make_changes
                                              ? seams_.make_changes(std::move(watch))
                                              : std::make_unique<EventWatcher>(std::move(watch));
  ChangeSource& watcher = *changes;
  impl.stats.present = true;
  impl.stats.watch_mode = std::string(WatchModeName(watcher.mode()));
  if (watcher.mode() == WatchMode::kPoll && !config_.force_poll) {
    detail::Log("inotify unavailable (" + watcher.fallback_reason() + "); polling events/");
  }

  HttpOptions http;
  http.listen_address = config_.listen_address;
  http.telemetry_path = config_.telemetry_path;
  if (config_.web_config_file) {
    std::optional<WebConfig> web = LoadWebConfig(*config_.web_config_file, &error);
    if (!web) {
      detail::Log(error);
      return 1;
    }
    for (const std::string& note : web->notes) detail::Log(note);
    http.web = std::move(*web);
  }
  WorldCollector& collector = impl.collector;
  std::atomic<bool> ready{false};
  HttpHandlers handlers;
  handlers.metrics_body = [&collector] { return collector.CurrentExposition(); };
  handlers.ready = [&ready] { return ready.load(); };
  handlers.api = [&collector] { return collector.Current()->api; };
  handlers.changes = &impl.changes;
  if (config_.enable_ingest) {
    // A POST wakes the batch loop at once, whatever the watch mode.
    impl.ingest = std::make_unique<IngestLog>(
        impl.observer.root() / "events", [env] { return env->Now(); },
        [this] {
          if (ChangeSource* w = watcher_.load()) w->Wake();
        });
    IngestLog* ingest = impl.ingest.get();
    handlers.ingest = [ingest](std::string_view body, IngestFormat format, std::string_view user) {
      return ingest->Ingest(body, format, user);
    };
    http.ingest_max_bytes = config_.ingest_max_bytes;
  }
  std::unique_ptr<HttpServer> server = HttpServer::Start(http, std::move(handlers), &error);
  if (!server) {
    detail::Log(error);
    return 1;
  }
  detail::Log("listening on " + config_.listen_address + " (port " +
              std::to_string(server->port()) + "), watching " +
              (impl.observer.root() / "events").string() + " with " +
              impl.stats.watch_mode);

  // The configuration loaded at start counts as the last good reload.
  impl.stats.config_last_reload_success = ToUnixSeconds(env->Now());
  // Serve the checkpoint's world while the first batch (maybe a replay) runs.
  impl.Publish(std::make_shared<WorldSnapshot>(impl.observer.Snapshot(
      impl.Now(), config_.node_stale_after, StageMarkers{})));
  watcher_.store(&watcher);
  impl.Batch(/*force_commit=*/true);
  impl.stats.ready = true;
  ready.store(true);
  impl.Publish(impl.collector.Current()->world);

  auto next_refresh = env->SteadyNow() + timing_.refresh;
  while (!stop_.load()) {
    const auto now = env->SteadyNow();
    auto wake = next_refresh;
    // A coalesced replay that is waiting runs when its interval is over.
    if (auto due = impl.observer.ReplayDueIn()) wake = std::min(wake, now + *due);
    const auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(
        wake > now ? wake - now : std::chrono::milliseconds(0));
    // A reload asked for during the last batch needs no waiting.
    const bool changed = reload_.load() || watcher.Wait(wait);
    if (stop_.load()) break;
    if (changed && !reload_.load()) {
      const auto burst_end = env->SteadyNow() + timing_.coalesce_max;
      while (!stop_.load() && !reload_.load() && env->SteadyNow() < burst_end &&
             watcher.Wait(timing_.coalesce)) {
      }
    }
    if (reload_.exchange(false)) impl.Reload(*server);
    impl.Batch(/*force_commit=*/false);
    if (env->SteadyNow() >= next_refresh) next_refresh = env->SteadyNow() + timing_.refresh;
  }
  watcher_.store(nullptr);
  server.reset();  // no scrape runs past this point
  if (impl.dirty) impl.Batch(/*force_commit=*/true);
  for (const std::string& line : impl.rejections.Flush()) detail::Log(line);
  detail::Log("stopped");
  return 0;
}

}  // namespace hlo
