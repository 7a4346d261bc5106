#include <iostream>

#include "exporter/command_support.h"
#include "exporter/commands.h"
#include "exporter/inventory_keeper.h"
#include "exporter/export_state.h"
#include "exporter/metrics_table.h"
#include "exporter/rejection_report.h"
#include "observer/atomic_file.h"
#include "observer/inventory.h"
#include "observer/observer.h"
#include "observer/stage_markers.h"

namespace hlo {
namespace detail {
namespace {

void PrintSummary(const BatchResult& batch, const WorldSnapshot& w, const std::string& world_dir) {
  const WorldSummary& s = w.summary;
  std::cout << "applied " << batch.applied << " new event(s), rejected " << batch.rejected
            << (batch.replayed && !batch.replay_reason.empty()
                    ? " (rebuilt from zero: " + batch.replay_reason + ")"
                    : "")
            << "\n"
            << "nodes: " << w.nodes.size() << " (" << s.nodes_up << " up, " << s.nodes_down
            << " down, " << s.nodes_unknown << " unknown)\n"
            << "services: " << w.services.size() << " (" << s.services_healthy << " healthy, "
            << s.services_unhealthy << " unhealthy, " << s.services_stale << " stale, "
            << s.services_unknown << " unknown)\n"
            << "incidents: " << s.incidents_active << " active, " << s.incidents_resolved
            << " resolved\n"
            << "deployments: " << s.deployments_total() << " (" << s.deployments_running
            << " running, " << s.deployments_succeeded << " succeeded, " << s.deployments_failed
            << " failed)\n"
            << "events: " << w.counters.events_processed << " processed, "
            << w.counters.events_rejected << " rejected in total\n"
            << "world written to " << world_dir << "\n";
  // Skipped files and unfinished lines: nothing is lost, but the operator
  // should know (validate exits 1 for an unreadable file).
  for (const auto& [file, why] : batch.unreadable) {
    std::cout << "skipped events/" << file << " (" << why << "); it is tried again next run\n";
  }
  for (const std::string& file : batch.unfinished) {
    std::cout << "waiting: events/" << file
              << " ends in a line without its newline; it is read once the line ends\n";
  }
}

}  // namespace
}  // namespace detail

int RunOnce(const Config& config) {
  if (const std::string warning = RootWarning(config.root); !warning.empty()) {
    std::cerr << "homelab-observer: " << warning << "\n";
  }
  const InventoryKeeper inventory(config.inventory);
  for (const std::string& warning : inventory.InitialWarnings()) std::cerr << warning << "\n";
  ObserverOptions options;
  options.root = config.root;
  options.inventory = inventory.current();
  options.max_lateness = config.max_lateness;
  options.retention = config.history_retention;
  options.flap = config.flap;
  options.service_stale_after = config.service_stale_after;
  Observer observer(std::move(options));
  std::string error;
  if (!observer.Open(&error)) {
    std::cerr << "homelab-observer: " << error << "\n";
    return 1;
  }
  BatchResult batch;
  if (!observer.ProcessPending(&batch, &error)) {
    std::cerr << "homelab-observer: " << error << "\n";
    return 1;
  }
  for (const std::string& notice : observer.notices()) {
    std::cerr << "homelab-observer: " << notice << "\n";
  }
  // A summary, not a line per event: `validate` is the tool that lists them.
  RejectionTally rejections;
  for (const RejectedEvent& r : batch.rejections) rejections.Add(r);
  const std::string rejected_log = (observer.root() / "state" / "rejected-events.jsonl").string();
  for (const std::string& line : SummarizeRejections(rejections, rejected_log)) {
    std::cerr << "homelab-observer: " << line << "\n";
  }
  const StageMarkers stages = LoadStageMarkers(observer.root() / "state" / "stages");
  const WorldSnapshot world =
      observer.Snapshot(ConfiguredNow(config), config.node_stale_after, stages);
  if (!observer.Commit(world, &error)) {
    std::cerr << "homelab-observer: " << error << "\n";
    return 1;
  }
  if (config.textfile) {
    ExportState state;
    state.world = std::make_shared<const WorldSnapshot>(world);
    state.observer = FiguresOf(observer);
    state.site_name = config.site_name;
    if (!WriteFileAtomic(*config.textfile, RenderExposition(state), &error)) {
      std::cerr << "homelab-observer: --textfile: " << error << "\n";
      return 1;
    }
  }
  detail::PrintSummary(batch, world, (observer.root() / "world").string());
  return 0;
}

}  // namespace hlo
