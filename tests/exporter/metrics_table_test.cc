// The metric tables over world snapshots: contract names and labels, series
// that follow the world (no stale ones), the golden exposition of the example
// homelab, and docs/metrics.md kept in step with the table.
#include "exporter/metrics_table.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "observer/apply.h"
#include "observer/atomic_file.h"
#include "observer/event_parser.h"
#include "observer/observer.h"
#include "tests/fakes/temp_dir.h"

namespace hlo {
namespace {

Event Parse(const std::string& line) {
  ParseResult r = ParseEventLine(line);
  if (auto* rej = std::get_if<Rejection>(&r)) ADD_FAILURE() << line << ": " << rej->detail;
  return std::get<Event>(r);
}

// Applies JSONL lines and renders the exposition at a fixed instant.
std::string ExpositionOf(const std::vector<std::string>& lines) {
  Model model;
  ApplyContext context;
  context.logs_dir = "/opt/homelab/logs";
  for (const auto& line : lines) Apply(model, Parse(line), context);
  SnapshotInputs in;
  in.model = &model;
  in.now = *ParseTimestamp("2026-05-12T12:30:00Z");
  ExportState state;
  state.world = std::make_shared<WorldSnapshot>(BuildSnapshot(in));
  return RenderExposition(state);
}

bool HasLine(const std::string& text, const std::string& line) {
  std::istringstream in(text);
  for (std::string l; std::getline(in, l);) {
    if (l == line) return true;
  }
  return false;
}

bool HasSeries(const std::string& text, const std::string& prefix) {
  std::istringstream in(text);
  for (std::string l; std::getline(in, l);) {
    if (l.rfind(prefix, 0) == 0) return true;
  }
  return false;
}

std::string ReadText(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST(MetricsTableTest, HoldsEveryContractMetricWithItsLabels) {
  const std::map<std::string, std::vector<std::string_view>> contract = {
      {"homelab_node_up", {"node"}},
      {"homelab_node_last_seen_timestamp_seconds", {"node"}},
      {"homelab_node_role", {"node", "role"}},
      {"homelab_service_healthy", {"node", "service"}},
      {"homelab_service_status", {"node", "service", "status"}},
      {"homelab_incident_open", {"incident_id", "node", "service", "severity"}},
      {"homelab_incident_occurrences", {"incident_id", "node", "service", "severity"}},
      {"homelab_incidents_open", {"severity"}},
      {"homelab_incidents_resolved_total", {}},
      {"homelab_deployments_total", {"service", "status"}},
      {"homelab_deployments_running", {}},
      {"homelab_deployment_status", {"node", "service", "status"}},
      {"homelab_observer_events_processed_total", {"type"}},
      {"homelab_observer_events_rejected_total", {"reason"}},
      {"homelab_observer_last_event_timestamp_seconds", {}},
      {"homelab_observer_rebuilds_total", {}},
      {"homelab_observer_build_info", {"version"}},
  };
  for (const auto& [name, labels] : contract) {
    const auto it = std::find_if(MetricTable().begin(), MetricTable().end(),
                                 [&](const MetricSpec& s) { return s.name == name; });
    ASSERT_NE(it, MetricTable().end()) << name;
    EXPECT_EQ(it->labels, labels) << name;
    EXPECT_EQ(it->source, "world") << name << " must be in once --textfile too";
  }
}

TEST(MetricsTableTest, ResolvedIncidentLeavesNoSeries) {
  const std::vector<std::string> failing = {
      R"({"timestamp":"2026-05-12T12:05:00Z","type":"service_unhealthy","node":"saturn","service":"mosquitto"})"};
  const std::string open = ExpositionOf(failing);
  EXPECT_TRUE(HasSeries(open, "homelab_incident_open{"));
  EXPECT_TRUE(HasSeries(open, "homelab_incident_occurrences{"));

  std::vector<std::string> resolved = failing;
  resolved.push_back(
      R"({"timestamp":"2026-05-12T12:10:00Z","type":"service_recovered","node":"saturn","service":"mosquitto"})");
  const std::string text = ExpositionOf(resolved);
  EXPECT_FALSE(HasSeries(text, "homelab_incident_open{"));
  EXPECT_FALSE(HasSeries(text, "homelab_incident_occurrences{"));
  EXPECT_TRUE(HasLine(text, "homelab_incidents_resolved_total 1"));
  EXPECT_TRUE(HasLine(text, R"(homelab_incidents_open{severity="error"} 0)"));
}

TEST(MetricsTableTest, AllFourSeveritiesAlwaysPresent) {
  const std::string text = ExpositionOf({});
  for (const char* sev : {"info", "warning", "error", "critical"}) {
    EXPECT_TRUE(HasLine(text, std::string("homelab_incidents_open{severity=\"") + sev + "\"} 0"))
        << sev;
  }
}

TEST(MetricsTableTest, ServiceStatusIsAStateSetOfThree) {
  const std::string text = ExpositionOf(
      {R"({"timestamp":"2026-05-12T12:05:00Z","type":"healthcheck_passed","node":"saturn","service":"mosquitto"})"});
  EXPECT_TRUE(HasLine(text, R"(homelab_service_status{node="saturn",service="mosquitto",status="healthy"} 1)"));
  EXPECT_TRUE(HasLine(text, R"(homelab_service_status{node="saturn",service="mosquitto",status="unhealthy"} 0)"));
  EXPECT_TRUE(HasLine(text, R"(homelab_service_status{node="saturn",service="mosquitto",status="unknown"} 0)"));
  EXPECT_TRUE(HasLine(text, R"(homelab_service_healthy{node="saturn",service="mosquitto"} 1)"));
}

TEST(MetricsTableTest, DeploymentStatusFollowsLatestDeploymentOfTheService) {
  const std::string text = ExpositionOf({
      R"({"timestamp":"2026-05-12T12:00:00Z","type":"deployment_started","correlation_id":"d1","node":"jupiter","service":"nextcloud"})",
      R"({"timestamp":"2026-05-12T12:01:00Z","type":"deployment_failed","correlation_id":"d1"})",
      R"({"timestamp":"2026-05-12T12:02:00Z","type":"deployment_started","correlation_id":"d2","node":"jupiter","service":"nextcloud"})",
  });
  EXPECT_TRUE(HasLine(text, R"(homelab_deployment_status{node="jupiter",service="nextcloud",status="running"} 1)"));
  EXPECT_TRUE(HasLine(text, R"(homelab_deployment_status{node="jupiter",service="nextcloud",status="failed"} 0)"));
  EXPECT_TRUE(HasLine(text, R"(homelab_deployments_total{service="nextcloud",status="failed"} 1)"));
  EXPECT_TRUE(HasLine(text, "homelab_deployments_running 1"));
}

TEST(MetricsTableTest, DeploymentWithoutServiceCountsUnderEmptyService) {
  const std::string text = ExpositionOf({
      R"({"timestamp":"2026-05-12T12:01:00Z","type":"deployment_succeeded","correlation_id":"d9"})",
  });
  EXPECT_TRUE(HasLine(text, R"(homelab_deployments_total{service="",status="succeeded"} 1)"));
}

TEST(MetricsTableTest, CountersByTypeAndReasonStartAtZero) {
  const std::string text = ExpositionOf({});
  EXPECT_TRUE(HasLine(text, R"(homelab_observer_events_processed_total{type="node_heartbeat"} 0)"));
  EXPECT_TRUE(HasLine(text, R"(homelab_observer_events_processed_total{type="unknown"} 0)"));
  EXPECT_TRUE(HasLine(text, R"(homelab_observer_events_rejected_total{reason="too_large"} 0)"));
  EXPECT_FALSE(HasSeries(text, "homelab_observer_last_event_timestamp_seconds "));
}

TEST(MetricsTableTest, DaemonFamiliesOnlyWhenDaemonRuns) {
  Model model;
  SnapshotInputs in;
  in.model = &model;
  ExportState state;
  state.world = std::make_shared<WorldSnapshot>(BuildSnapshot(in));
  EXPECT_FALSE(HasSeries(RenderExposition(state), "homelab_observer_watch_mode"));
  state.daemon.present = true;
  state.daemon.watch_mode = "inotify";
  state.daemon.RecordBatch(0.02);
  const std::string text = RenderExposition(state);
  EXPECT_TRUE(HasLine(text, R"(homelab_observer_watch_mode{mode="inotify"} 1)"));
  EXPECT_TRUE(HasLine(text, "homelab_observer_batch_duration_seconds_count 1"));
  EXPECT_TRUE(HasLine(text, R"(homelab_observer_batch_duration_seconds_bucket{le="0.01"} 0)"));
  EXPECT_TRUE(HasLine(text, R"(homelab_observer_batch_duration_seconds_bucket{le="0.05"} 1)"));
}

// Golden: the example homelab in, the exposition out. Regenerate with
// HLO_UPDATE_GOLDEN=1 after an intended change, and review the diff.
TEST(ExpositionGoldenTest, ExampleHomelabMatchesGoldenFile) {
  TempDir dir;
  const std::filesystem::path source = std::filesystem::path(HLO_SOURCE_DIR) / "examples/homelab";
  std::filesystem::copy(source, dir.path() / "homelab", std::filesystem::copy_options::recursive);
  const std::filesystem::path root = dir.path() / "homelab";
  const Inventory inventory = LoadInventory(root);
  Observer observer({root, &inventory});
  std::string error;
  ASSERT_TRUE(observer.Open(&error)) << error;
  BatchResult batch;
  ASSERT_TRUE(observer.ProcessPending(&batch, &error)) << error;
  const StageMarkers stages = LoadStageMarkers(root / "state" / "stages");
  ExportState state;
  state.world = std::make_shared<WorldSnapshot>(observer.Snapshot(
      *ParseTimestamp("2026-05-13T09:00:00Z"), Duration{600'000'000'000}, stages));
  state.rebuilds = observer.checkpoint().rebuilds;
  const std::string text = RenderExposition(state);

  const std::filesystem::path golden =
      std::filesystem::path(HLO_SOURCE_DIR) / "tests/golden/exposition/example_homelab.prom";
  if (std::getenv("HLO_UPDATE_GOLDEN") != nullptr) {
    ASSERT_TRUE(WriteFileAtomic(golden, text, &error)) << error;
  }
  EXPECT_EQ(text, ReadText(golden)) << "exposition differs from " << golden;
  // The story's facts, stated here too so a wrong golden file cannot hide them.
  EXPECT_TRUE(HasLine(text, R"(homelab_node_up{node="pluto"} 0)"));
  EXPECT_TRUE(HasLine(text, R"(homelab_node_up{node="saturn"} 1)"));
  EXPECT_TRUE(HasLine(text, R"(homelab_incident_open{incident_id="inc-1778658600-jupiter-jellyfin",node="jupiter",service="jellyfin",severity="critical"} 1)"));
  EXPECT_TRUE(HasLine(text, R"(homelab_incidents_open{severity="critical"} 1)"));
  EXPECT_TRUE(HasLine(text, "homelab_incidents_resolved_total 3"));
  EXPECT_FALSE(HasSeries(text, R"(homelab_incident_open{incident_id="inc-1778578800-saturn-mosquitto")"));
}

TEST(MetricsDocTest, DocsMatchTheTable) {
  const std::filesystem::path doc = std::filesystem::path(HLO_SOURCE_DIR) / "docs/metrics.md";
  const std::string expected = RenderMetricsMarkdown();
  if (std::getenv("HLO_UPDATE_DOCS") != nullptr) {
    std::string error;
    ASSERT_TRUE(WriteFileAtomic(doc, expected, &error)) << error;
  }
  EXPECT_EQ(ReadText(doc), expected)
      << "docs/metrics.md is out of step with the table; run HLO_UPDATE_DOCS=1 "
         "build/bin/exporter_tests --gtest_filter=MetricsDocTest.*";
}

}  // namespace
}  // namespace hlo
