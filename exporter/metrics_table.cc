#include "exporter/metrics_table.h"

#include "exporter/text_exposition.h"
#include "observer/event_parser.h"

#include <limits>
#include <map>
#include <sstream>

namespace hlo {

namespace detail {
namespace {

using prometheus::MetricType;
using S = const ExportState&;
using Sink = SeriesSink&;

const WorldSnapshot& W(S s) { return *s.world; }

void NodeUp(S s, Sink out) {
  for (const auto& n : W(s).nodes) out.Add({n.name}, n.status == NodeStatus::kUp ? 1 : 0);
}
void NodeStatusSet(S s, Sink out) {
  for (const auto& n : W(s).nodes) {
    for (NodeStatus st : {NodeStatus::kUp, NodeStatus::kDown, NodeStatus::kUnknown}) {
      out.Add({n.name, NodeStatusName(st)}, n.status == st ? 1 : 0);
    }
  }
}
void NodeLastSeen(S s, Sink out) {
  for (const auto& n : W(s).nodes) {
    if (n.last_seen) out.Add({n.name}, ToUnixSeconds(*n.last_seen));
  }
}
void NodeRole(S s, Sink out) {
  for (const auto& n : W(s).nodes) {
    for (const auto& role : n.roles) out.Add({n.name, role}, 1);
  }
}
void ServiceHealthy(S s, Sink out) {
  for (const auto& v : W(s).services) {
    out.Add({v.node, v.service}, v.status == ServiceStatus::kHealthy ? 1 : 0);
  }
}
void ServiceStatusSet(S s, Sink out) {
  for (const auto& v : W(s).services) {
    for (ServiceStatus st : kAllServiceStatuses) {
      out.Add({v.node, v.service, ServiceStatusName(st)}, v.status == st ? 1 : 0);
    }
  }
}
void ServiceFlapping(S s, Sink out) {
  for (const auto& v : W(s).services) out.Add({v.node, v.service}, v.flapping ? 1 : 0);
}
void ServiceFlapPercent(S s, Sink out) {
  for (const auto& v : W(s).services) out.Add({v.node, v.service}, v.flap_percent);
}
void ServiceMaintenance(S s, Sink out) {
  for (const auto& v : W(s).services) out.Add({v.node, v.service}, v.maintenance ? 1 : 0);
}
void ServiceLastCheck(S s, Sink out) {
  for (const auto& v : W(s).services) {
    if (v.last_check) out.Add({v.node, v.service}, ToUnixSeconds(*v.last_check));
  }
}
void NodeMaintenance(S s, Sink out) {
  for (const auto& n : W(s).nodes) out.Add({n.name}, n.maintenance ? 1 : 0);
}
// The incident series carry no severity: an escalation must not change an
// alert's identity. homelab_incident_info carries it, for joins.
void IncidentInfo(S s, Sink out) {
  for (const auto& i : W(s).active_incidents) {
    out.Add({i.id, i.node, i.service, SeverityName(i.severity)}, 1);
  }
}
void IncidentOpen(S s, Sink out) {
  for (const auto& i : W(s).active_incidents) out.Add({i.id, i.node, i.service}, 1);
}
void IncidentOccurrences(S s, Sink out) {
  for (const auto& i : W(s).active_incidents) {
    out.Add({i.id, i.node, i.service}, static_cast<double>(i.occurrence_count));
  }
}
void IncidentStarted(S s, Sink out) {
  for (const auto& i : W(s).active_incidents) {
    out.Add({i.id, i.node, i.service}, ToUnixSeconds(i.started_at));
  }
}
void IncidentLastOccurrence(S s, Sink out) {
  for (const auto& i : W(s).active_incidents) {
    out.Add({i.id, i.node, i.service}, ToUnixSeconds(i.last_occurrence));
  }
}
void IncidentsOpened(S s, Sink out) {
  for (const auto& [key, n] : W(s).history->incidents_opened) {
    out.Add({key.first, key.second}, static_cast<double>(n));
  }
}
void ResolutionSeconds(S s, Sink out) {
  // Every severity always present, as homelab_incidents_open.
  for (Severity sev : kAllSeverities) {
    const DurationHistogram& h = W(s).history->resolution_by_severity[static_cast<size_t>(sev)];
    out.AddHistogram({SeverityName(sev)}, kHistoryDurationBuckets, h.cumulative, h.count, h.sum());
  }
}
void DeploymentDurations(S s, Sink out) {
  for (const auto& [key, h] : W(s).history->deployment_durations) {
    out.AddHistogram({key.first, key.second}, kHistoryDurationBuckets, h.cumulative, h.count,
                     h.sum());
  }
}
void IncidentsOpen(S s, Sink out) {
  for (Severity sev : kAllSeverities) {
    out.Add({SeverityName(sev)},
            static_cast<double>(W(s).summary.active_by_severity[static_cast<size_t>(sev)]));
  }
}
void IncidentsResolved(S s, Sink out) {
  out.Add({}, static_cast<double>(W(s).summary.incidents_resolved));
}
void DeploymentsTotal(S s, Sink out) {
  for (const auto& [key, n] : W(s).counters.deployments_finished) {
    out.Add({key.first, key.second}, static_cast<double>(n));
  }
}
void DeploymentsRunning(S s, Sink out) {
  out.Add({}, static_cast<double>(W(s).summary.deployments_running));
}
void DeploymentStatusSet(S s, Sink out) {
  static constexpr DeploymentStatus kAll[] = {DeploymentStatus::kRunning,
                                              DeploymentStatus::kSucceeded,
                                              DeploymentStatus::kFailed};
  for (const auto& v : W(s).services) {
    if (!v.last_deployment_status) continue;
    for (DeploymentStatus st : kAll) {
      out.Add({v.node, v.service, DeploymentStatusName(st)},
              *v.last_deployment_status == st ? 1 : 0);
    }
  }
}
void EventsProcessed(S s, Sink out) {
  // Every type is always present, so rate() works from the first event on.
  std::map<std::string_view, uint64_t> by_type;
  for (int t = 0; t <= static_cast<int>(EventType::kUnknown); ++t) {
    by_type[EventTypeName(static_cast<EventType>(t))] = 0;
  }
  for (const auto& [type, n] : W(s).counters.processed_by_type) by_type[type] = n;
  for (const auto& [type, n] : by_type) out.Add({type}, static_cast<double>(n));
}
void EventsRejected(S s, Sink out) {
  std::map<std::string_view, uint64_t> by_reason;
  for (RejectReason r : kAllRejectReasons) by_reason[RejectReasonName(r)] = 0;
  for (const auto& [reason, n] : W(s).counters.rejected_by_reason) by_reason[reason] = n;
  for (const auto& [reason, n] : by_reason) out.Add({reason}, static_cast<double>(n));
}
void EventsDuplicate(S s, Sink out) {
  out.Add({}, static_cast<double>(W(s).counters.events_duplicate));
}
void LastEvent(S s, Sink out) {
  if (W(s).counters.last_event_at) out.Add({}, ToUnixSeconds(*W(s).counters.last_event_at));
}
void Rebuilds(S s, Sink out) {
  for (const auto& [reason, n] : s.observer.rebuilds_by_reason) {
    out.Add({reason}, static_cast<double>(n));
  }
}
void LateEvents(S s, Sink out) {
  for (const auto& [file, n] : s.observer.late_events_by_file) {
    out.Add({file}, static_cast<double>(n));
  }
}
void Reordered(S s, Sink out) { out.Add({}, static_cast<double>(s.observer.reordered_events)); }
void WindowEvents(S s, Sink out) { out.Add({}, static_cast<double>(s.observer.window_events)); }
void WindowBytes(S s, Sink out) { out.Add({}, static_cast<double>(s.observer.window_bytes)); }
// `site` only when --web.site-name is set: Prometheus drops a label whose
// value is empty, so site="" would only look different in the exposition.
// Fewer values than labels leave the trailing labels out.
void BuildInfo(S s, Sink out) {
  if (s.site_name.empty()) {
    out.Add({HLO_VERSION, HLO_REVISION, HLO_COMPILER, HLO_BUILD_TYPE}, 1);
  } else {
    out.Add({HLO_VERSION, HLO_REVISION, HLO_COMPILER, HLO_BUILD_TYPE, s.site_name}, 1);
  }
}
// The standard process collector's families (daemon only).
template <class Field>
void Process(S s, Sink out, Field field) {
  if (s.daemon.process) out.Add({}, static_cast<double>(field(*s.daemon.process)));
}
void ProcessCpu(S s, Sink out) { Process(s, out, [](const ProcessStats& p) { return p.cpu_seconds; }); }
void ProcessRss(S s, Sink out) { Process(s, out, [](const ProcessStats& p) { return p.resident_bytes; }); }
void ProcessVsz(S s, Sink out) { Process(s, out, [](const ProcessStats& p) { return p.virtual_bytes; }); }
void ProcessFds(S s, Sink out) { Process(s, out, [](const ProcessStats& p) { return p.open_fds; }); }
void ProcessMaxFds(S s, Sink out) { Process(s, out, [](const ProcessStats& p) { return p.max_fds; }); }
void ProcessStart(S s, Sink out) {
  Process(s, out, [](const ProcessStats& p) { return p.start_time_seconds; });
}
void LastRun(S s, Sink out) { out.Add({}, ToUnixSeconds(W(s).generated_at)); }

void BatchDuration(S s, Sink out) {
  out.AddHistogram({}, kBatchDurationBuckets, s.daemon.batch_buckets, s.daemon.batches,
                   s.daemon.batch_seconds_sum);
}
void LastBatch(S s, Sink out) {
  if (s.daemon.batches > 0) out.Add({}, s.daemon.last_batch_timestamp);
}
void InventoryReloads(S s, Sink out) { out.Add({}, static_cast<double>(s.daemon.inventory_reloads)); }
void InventoryFailures(S s, Sink out) {
  out.Add({}, static_cast<double>(s.daemon.inventory_reload_failures));
}
void InventoryOk(S s, Sink out) { out.Add({}, s.daemon.inventory_ok ? 1 : 0); }
void ConfigReloadOk(S s, Sink out) { out.Add({}, s.daemon.config_reload_ok ? 1 : 0); }
void ConfigLastReload(S s, Sink out) { out.Add({}, s.daemon.config_last_reload_success); }
void ConfigReloads(S s, Sink out) {
  out.Add({"failure"}, static_cast<double>(s.daemon.config_reloads_failed));
  out.Add({"success"}, static_cast<double>(s.daemon.config_reloads_succeeded));
}
void WorldWriteFailures(S s, Sink out) {
  out.Add({}, static_cast<double>(s.daemon.world_write_failures));
}
void PendingBytes(S s, Sink out) { out.Add({}, static_cast<double>(s.daemon.pending_bytes)); }
void WatchModeInfo(S s, Sink out) {
  for (std::string_view mode : {"inotify", "poll"}) {
    out.Add({mode}, s.daemon.watch_mode == mode ? 1 : 0);
  }
}
void Ready(S s, Sink out) { out.Add({}, s.daemon.ready ? 1 : 0); }

}  // namespace
}  // namespace detail

const std::vector<MetricSpec>& MetricTable() {
  using prometheus::MetricType;
  namespace d = detail;
  static const std::vector<MetricSpec> table = {
      {"homelab_node_up", "1 when the node is up (seen within --node-stale-after and not marked down), 0 otherwise.", MetricType::Gauge, {"node"}, "world", d::NodeUp},
      {"homelab_node_status", "State set of the node: up, down, unknown (never seen) — 1 for the current one.", MetricType::Gauge, {"node", "status"}, "world", d::NodeStatusSet},
      {"homelab_node_last_seen_timestamp_seconds", "Event time the node was last seen, for nodes seen at least once.", MetricType::Gauge, {"node"}, "world", d::NodeLastSeen},
      {"homelab_node_role", "1 for each role the inventory gives the node.", MetricType::Gauge, {"node", "role"}, "world", d::NodeRole},
      {"homelab_service_healthy", "1 when the service is healthy, 0 when unhealthy or unknown.", MetricType::Gauge, {"node", "service"}, "world", d::ServiceHealthy},
      {"homelab_service_status", "State set of the service: healthy, unhealthy, stale, unknown (1 for the current one).", MetricType::Gauge, {"node", "service", "status"}, "world", d::ServiceStatusSet},
      {"homelab_service_flapping", "1 while the service entry is flapping (its health changed state too often over its last 21 results: see docs/world-files.md), 0 otherwise.", MetricType::Gauge, {"node", "service"}, "world", d::ServiceFlapping},
      {"homelab_service_flap_percent", "Weighted percent of state changes over the service entry's last 21 health results (0 with fewer), as services.json flap_percent.", MetricType::Gauge, {"node", "service"}, "world", d::ServiceFlapPercent},
      {"homelab_service_maintenance", "1 while the service or its node is in maintenance (maintenance_started without a matching maintenance_ended), 0 otherwise.", MetricType::Gauge, {"node", "service"}, "world", d::ServiceMaintenance},
      {"homelab_service_last_check_timestamp_seconds", "Event time of the service's last health signal or failure, for services checked at least once.", MetricType::Gauge, {"node", "service"}, "world", d::ServiceLastCheck},
      {"homelab_node_maintenance", "1 while the node is in maintenance, 0 otherwise.", MetricType::Gauge, {"node"}, "world", d::NodeMaintenance},
      {"homelab_incident_info", "1 for each active incident; carries its severity, which may rise while the incident stays open (join it: * on(incident_id) group_left(severity) homelab_incident_info).", MetricType::Gauge, {"incident_id", "node", "service", "severity"}, "world", d::IncidentInfo},
      {"homelab_incident_open", "1 for each active incident (its severity is on homelab_incident_info).", MetricType::Gauge, {"incident_id", "node", "service"}, "world", d::IncidentOpen},
      {"homelab_incident_occurrences", "Occurrence count of each active incident.", MetricType::Gauge, {"incident_id", "node", "service"}, "world", d::IncidentOccurrences},
      {"homelab_incident_started_timestamp_seconds", "Event time each active incident started (for its age: time() minus this).", MetricType::Gauge, {"incident_id", "node", "service"}, "world", d::IncidentStarted},
      {"homelab_incident_last_occurrence_timestamp_seconds", "Event time of the latest occurrence of each active incident.", MetricType::Gauge, {"incident_id", "node", "service"}, "world", d::IncidentLastOccurrence},
      {"homelab_incidents_opened_total", "Incidents opened in the history, by node and service.", MetricType::Counter, {"node", "service"}, "world", d::IncidentsOpened},
      {"homelab_incident_resolution_seconds", "Time from start to resolution of the resolved incidents in the history, by severity (recomputed from the history: a replay gives the same histogram).", MetricType::Histogram, {"severity"}, "world", d::ResolutionSeconds},
      {"homelab_incidents_open", "Active incidents by severity; all four severities always present.", MetricType::Gauge, {"severity"}, "world", d::IncidentsOpen},
      {"homelab_incidents_resolved_total", "Resolved incidents in the history.", MetricType::Counter, {}, "world", d::IncidentsResolved},
      {"homelab_deployments_total", "Finished deployments (deployment_succeeded and deployment_failed events applied) by the deployment's service.", MetricType::Counter, {"service", "status"}, "world", d::DeploymentsTotal},
      {"homelab_deployments_running", "Deployments currently running.", MetricType::Gauge, {}, "world", d::DeploymentsRunning},
      {"homelab_deployment_status", "State set of the latest deployment per node and service: running, succeeded, failed.", MetricType::Gauge, {"node", "service", "status"}, "world", d::DeploymentStatusSet},
      {"homelab_deployment_duration_seconds", "Duration (started_at to finished_at of the latest attempt) of the finished deployments in the history, by the deployment's service and status (recomputed from the history).", MetricType::Histogram, {"service", "status"}, "world", d::DeploymentDurations},
      {"homelab_observer_events_processed_total", "Events applied, by type (\"unknown\" for types the observer does not know).", MetricType::Counter, {"type"}, "world", d::EventsProcessed},
      {"homelab_observer_events_rejected_total", "Events rejected, by reason.", MetricType::Counter, {"reason"}, "world", d::EventsRejected},
      {"homelab_observer_events_duplicate_total", "Events not applied because an earlier event (in event-time order) had the same id: at-least-once writers such as `send` retrying.", MetricType::Counter, {}, "world", d::EventsDuplicate},
      {"homelab_observer_last_event_timestamp_seconds", "Event time of the last processed event.", MetricType::Gauge, {}, "world", d::LastEvent},
      {"homelab_observer_rebuilds_total", "Full replays from all event files, by reason: late_event (an event later than --events.max-lateness), checkpoint (checkpoint or rejected log not matching the world), file_shrank, file_rewritten.", MetricType::Counter, {"reason"}, "world", d::Rebuilds},
      {"homelab_observer_late_events_total", "Events that arrived later than --events.max-lateness allowed (each needs a replay), by file inside events/; a writer with a skewed clock shows here.", MetricType::Counter, {"file"}, "world", d::LateEvents},
      {"homelab_observer_reordered_events_total", "Events that arrived out of event-time order but within --events.max-lateness, folded in without a replay (since the process started).", MetricType::Counter, {}, "world", d::Reordered},
      {"homelab_observer_lateness_window_events", "Events held in the lateness window, so that a late event can be folded in without a replay.", MetricType::Gauge, {}, "world", d::WindowEvents},
      {"homelab_observer_lateness_window_bytes", "Approximate memory held by the lateness window.", MetricType::Gauge, {}, "world", d::WindowBytes},
      {"homelab_observer_build_info", "Always 1; the labels tell the build: version, revision (the git commit it was configured at, or unknown), compiler, build_type, and site (the --web.site-name, only when that is set; docs/scale-out.md).", MetricType::Gauge, {"version", "revision", "compiler", "build_type", "site"}, "world", d::BuildInfo},
      {"homelab_observer_last_run_timestamp_seconds", "Time (--now, else the clock) the world these metrics come from was computed: the end of `once`, the last publish of `run`. For --textfile users, time() minus this is the file's age.", MetricType::Gauge, {}, "world", d::LastRun},
      {"homelab_observer_batch_duration_seconds", "Time to apply one batch of new events and write the world files.", MetricType::Histogram, {}, "daemon", d::BatchDuration},
      {"homelab_observer_last_batch_timestamp_seconds", "Wall-clock time the last batch finished.", MetricType::Gauge, {}, "daemon", d::LastBatch},
      {"homelab_observer_inventory_reloads_total", "Times the inventory was read again after the start (its files changed, or SIGHUP), whether or not it was taken (see _failures_total).", MetricType::Counter, {}, "daemon", d::InventoryReloads},
      {"homelab_observer_inventory_reload_failures_total", "Inventory reloads that found a broken file; the last good inventory stays in use.", MetricType::Counter, {}, "daemon", d::InventoryFailures},
      {"homelab_observer_inventory_ok", "1 when the inventory in use loaded without problems, 0 otherwise.", MetricType::Gauge, {}, "daemon", d::InventoryOk},
      {"homelab_observer_config_reload_success", "1 when the last configuration reload (SIGHUP: inventory and web config) succeeded, 0 when it failed and the previous configuration stays in use.", MetricType::Gauge, {}, "daemon", d::ConfigReloadOk},
      {"homelab_observer_config_last_reload_success_timestamp_seconds", "Wall-clock time of the last successful configuration load (the start counts as one).", MetricType::Gauge, {}, "daemon", d::ConfigLastReload},
      {"homelab_observer_config_reloads_total", "Configuration reloads on SIGHUP, by result: success or failure.", MetricType::Counter, {"result"}, "daemon", d::ConfigReloads},
      {"homelab_observer_world_write_failures_total", "Failed writes of the world files or checkpoint; retried next batch.", MetricType::Counter, {}, "daemon", d::WorldWriteFailures},
      {"homelab_observer_events_pending_bytes", "Bytes in events/ not yet consumed at the last scan.", MetricType::Gauge, {}, "daemon", d::PendingBytes},
      {"homelab_observer_watch_mode", "1 for the way events/ is watched: inotify, or poll as the fallback.", MetricType::Gauge, {"mode"}, "daemon", d::WatchModeInfo},
      {"process_cpu_seconds_total", "Total user and system CPU time spent in seconds.", MetricType::Counter, {}, "daemon", d::ProcessCpu},
      {"process_resident_memory_bytes", "Resident memory size in bytes.", MetricType::Gauge, {}, "daemon", d::ProcessRss},
      {"process_virtual_memory_bytes", "Virtual memory size in bytes.", MetricType::Gauge, {}, "daemon", d::ProcessVsz},
      {"process_open_fds", "Number of open file descriptors.", MetricType::Gauge, {}, "daemon", d::ProcessFds},
      {"process_max_fds", "Maximum number of open file descriptors.", MetricType::Gauge, {}, "daemon", d::ProcessMaxFds},
      {"process_start_time_seconds", "Start time of the process since unix epoch in seconds.", MetricType::Gauge, {}, "daemon", d::ProcessStart},
      {"homelab_observer_ready", "1 once the first replay is done (as /readyz).", MetricType::Gauge, {}, "daemon", d::Ready},
  };
  return table;
}

namespace detail {
namespace {

// Builds the prometheus-cpp objects GenerateFamilies returns.
class FamilySink final : public SeriesSink {
 public:
  FamilySink(const MetricSpec& spec, prometheus::MetricFamily& family)
      : spec_(spec), family_(family) {}

  void Add(std::initializer_list<std::string_view> values, double value) override {
    prometheus::ClientMetric metric;
    const std::string_view* v = values.begin();
    for (size_t i = 0; i < spec_.labels.size() && i < values.size(); ++i) {
      metric.label.push_back({std::string(spec_.labels[i]), std::string(v[i])});
    }
    switch (spec_.type) {
      case prometheus::MetricType::Counter: metric.counter.value = value; break;
      case prometheus::MetricType::Gauge: metric.gauge.value = value; break;
      default: metric.untyped.value = value; break;
    }
    family_.metric.push_back(std::move(metric));
  }

  void AddHistogram(std::initializer_list<std::string_view> values,
                    std::span<const double> bounds, std::span<const uint64_t> cumulative,
                    uint64_t count, double sum) override {
    prometheus::ClientMetric metric;
    const std::string_view* v = values.begin();
    for (size_t i = 0; i < spec_.labels.size() && i < values.size(); ++i) {
      metric.label.push_back({std::string(spec_.labels[i]), std::string(v[i])});
    }
    metric.histogram.sample_count = count;
    metric.histogram.sample_sum = sum;
    for (size_t i = 0; i < bounds.size() && i < cumulative.size(); ++i) {
      metric.histogram.bucket.push_back({cumulative[i], bounds[i]});
    }
    metric.histogram.bucket.push_back({count, std::numeric_limits<double>::infinity()});
    family_.metric.push_back(std::move(metric));
  }

 private:
  const MetricSpec& spec_;
  prometheus::MetricFamily& family_;
};

// Writes each series as a line of the text exposition, as it comes.
class TextSink final : public SeriesSink {
 public:
  TextSink(const MetricSpec& spec, std::string& out) : spec_(spec), out_(out) {}

  void Add(std::initializer_list<std::string_view> values, double value) override {
    text_exposition::AppendSample(out_, spec_.name, spec_.labels, values, value);
  }

  void AddHistogram(std::initializer_list<std::string_view> values,
                    std::span<const double> bounds, std::span<const uint64_t> cumulative,
                    uint64_t count, double sum) override {
    text_exposition::AppendHistogram(out_, spec_.name, spec_.labels, values, bounds, cumulative,
                                     count, sum);
  }

 private:
  const MetricSpec& spec_;
  std::string& out_;
};

void AppendFamily(const MetricSpec& spec, const ExportState& state, std::string& out) {
  text_exposition::AppendHeader(out, spec.name, spec.help, spec.type);
  TextSink sink(spec, out);
  spec.generate(state, sink);
}

}  // namespace
}  // namespace detail

std::vector<prometheus::MetricFamily> GenerateFamilies(const ExportState& state) {
  std::vector<prometheus::MetricFamily> families;
  for (const MetricSpec& spec : MetricTable()) {
    if (spec.source == "daemon" && !state.daemon.present) continue;
    prometheus::MetricFamily family;
    family.name = std::string(spec.name);
    family.help = std::string(spec.help);
    family.type = spec.type;
    detail::FamilySink sink(spec, family);
    spec.generate(state, sink);
    families.push_back(std::move(family));
  }
  return families;
}

std::string RenderExposition(const ExportState& state) {
  std::string out;
  for (const MetricSpec& spec : MetricTable()) {
    if (spec.source == "daemon" && !state.daemon.present) continue;
    detail::AppendFamily(spec, state, out);
  }
  return out;
}

void AppendExposition(const ExportState& state, std::string_view source, std::string* out) {
  for (const MetricSpec& spec : MetricTable()) {
    if (spec.source == source) detail::AppendFamily(spec, state, *out);
  }
}

std::string RenderMetricsMarkdown() {
  std::ostringstream out;
  out << "# Metrics\n\n"
      << "Generated from the table in `exporter/metrics_table.cc` (a test keeps this file in\n"
      << "step with it: run `HLO_UPDATE_DOCS=1 build/bin/exporter_tests` after changing it).\n"
      << "Served on `/metrics` by `run` and written by `once --textfile PATH`.\n\n"
      << "Series exist only for what the world holds now: a resolved incident's\n"
      << "`homelab_incident_open` series disappears rather than dropping to 0.\n\n"
      << "## Counters\n\n"
      << "The world's counters (the `_total`s below marked *history*) are not\n"
      << "counted up by the process: they are recomputed from the event history\n"
      << "the world holds, like the world files. So they survive restarts, and a\n"
      << "replay (a late event, a rewritten file, a deleted checkpoint) gives the\n"
      << "same figures as before it — or lower ones, when the history itself got\n"
      << "smaller (an event file removed, a file rewritten shorter). `rate()` and\n"
      << "`increase()` still work: Prometheus takes any drop of a counter as a\n"
      << "reset and counts from the new value, as after an exporter restart. The\n"
      << "daemon's own counters (marked *process*) start at 0 with each process.\n\n";
  for (std::string_view source : {"world", "daemon"}) {
    out << (source == "world" ? "## World metrics (`run` and `once --textfile`)\n\n"
                              : "## Daemon self-metrics (`run` only)\n\n")
        << "| metric | type | labels | meaning |\n|---|---|---|---|\n";
    for (const MetricSpec& spec : MetricTable()) {
      if (spec.source != source) continue;
      std::string labels;
      for (auto l : spec.labels) labels += (labels.empty() ? "" : ", ") + std::string(l);
      const char* type = spec.type == prometheus::MetricType::Counter     ? "counter"
                         : spec.type == prometheus::MetricType::Histogram ? "histogram"
                                                                          : "gauge";
      std::string_view kind;
      if (spec.type == prometheus::MetricType::Counter) {
        kind = source == "world" ? " *history*" : " *process*";
      }
      out << "| `" << spec.name << "` | " << type << kind << " | "
          << (labels.empty() ? "—" : labels) << " | " << spec.help << " |\n";
    }
    out << "\n";
  }
  return out.str();
}

}  // namespace hlo
