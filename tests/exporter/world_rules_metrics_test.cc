// The CONTRACT §9 metrics over literal histories: the stale state, flapping,
// maintenance and last-check gauges, incident_info, incidents opened, and
// the resolution and deployment-duration histograms (their bucket edges
// included).
#include <gtest/gtest.h>

#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "exporter/metrics_table.h"
#include "observer/apply.h"
#include "observer/event_parser.h"
#include "observer/world_snapshot.h"

namespace hlo {
namespace {

Event Parse(const std::string& line) {
  ParseResult r = ParseEventLine(line);
  if (auto* rej = std::get_if<Rejection>(&r)) ADD_FAILURE() << line << ": " << rej->detail;
  return std::holds_alternative<Event>(r) ? std::get<Event>(r) : Event{};
}

struct Clock {
  const char* now = "2026-05-12T14:00:00Z";
  Duration service_stale_after{0};
};

// The exposition of the events (JSONL lines, applied in the order given).
std::string ExpositionOf(const std::vector<std::string>& lines, Clock clock = {}) {
  Model model;
  ApplyContext context;
  context.logs_dir = "/opt/homelab/logs";
  for (const auto& line : lines) Apply(model, Parse(line), context);
  SnapshotInputs in;
  in.model = &model;
  in.now = *ParseTimestamp(clock.now);
  in.stale_after = Duration{24LL * 3600 * 1'000'000'000};
  in.service_stale_after = clock.service_stale_after;
  ExportState state;
  state.world = std::make_shared<WorldSnapshot>(BuildSnapshot(in));
  return RenderExposition(state);
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string l; std::getline(in, l);) out.push_back(l);
  return out;
}

::testing::AssertionResult HasLine(const std::string& text, const std::string& line) {
  for (const std::string& l : Lines(text)) {
    if (l == line) return ::testing::AssertionSuccess();
  }
  std::string family;
  const std::string name = line.substr(0, line.find_first_of("{ "));
  for (const std::string& l : Lines(text)) {
    if (l.rfind(name, 0) == 0) family += "  " + l + "\n";
  }
  return ::testing::AssertionFailure() << "no line\n  " << line << "\namong\n" << family;
}

bool HasSeries(const std::string& text, const std::string& prefix) {
  for (const std::string& l : Lines(text)) {
    if (l.rfind(prefix, 0) == 0) return true;
  }
  return false;
}

std::string Unhealthy(const std::string& at, const std::string& node = "saturn",
                      const std::string& service = "mosquitto", const std::string& severity = "") {
  return R"({"timestamp":")" + at + R"(","type":"service_unhealthy","node":")" + node +
         R"(","service":")" + service + '"' +
         (severity.empty() ? "" : R"(,"severity":")" + severity + '"') + "}";
}
std::string Recovered(const std::string& at, const std::string& node = "saturn",
                      const std::string& service = "mosquitto") {
  return R"({"timestamp":")" + at + R"(","type":"service_recovered","node":")" + node +
         R"(","service":")" + service + R"("})";
}
std::string Passed(const std::string& at, const std::string& node = "saturn",
                   const std::string& service = "mosquitto") {
  return R"({"timestamp":")" + at + R"(","type":"healthcheck_passed","node":")" + node +
         R"(","service":")" + service + R"("})";
}
std::string Failed(const std::string& at, const std::string& node = "saturn",
                   const std::string& service = "mosquitto") {
  return R"({"timestamp":")" + at + R"(","type":"healthcheck_failed","node":")" + node +
         R"(","service":")" + service + R"("})";
}

constexpr const char* kSeverities[] = {"info", "warning", "error", "critical"};

// ------------------------------------------------- resolution histogram ----

TEST(WorldRulesMetricsTest, ResolutionHistogramHasAllFourSeveritiesWhenEmpty) {
  const std::string text = ExpositionOf({});
  for (const char* sev : kSeverities) {
    const std::string labels = std::string("severity=\"") + sev + "\"";
    EXPECT_TRUE(HasLine(text, "homelab_incident_resolution_seconds_count{" + labels + "} 0"));
    EXPECT_TRUE(HasLine(text, "homelab_incident_resolution_seconds_sum{" + labels + "} 0"));
    EXPECT_TRUE(HasLine(text, "homelab_incident_resolution_seconds_bucket{" + labels + ",le=\"+Inf\"} 0"));
  }
}

TEST(WorldRulesMetricsTest, IncidentOfExactlySixtySecondsIsInTheSixtyBucket) {
  const std::string text = ExpositionOf({Unhealthy("2026-05-12T12:00:00Z"),
                                         Recovered("2026-05-12T12:01:00Z")});
  const std::string s = R"(severity="error",)";
  EXPECT_TRUE(HasLine(text, "homelab_incident_resolution_seconds_bucket{" + s + R"(le="60"} 1)"));
  EXPECT_TRUE(HasLine(text, "homelab_incident_resolution_seconds_bucket{" + s + R"(le="300"} 1)"));
  EXPECT_TRUE(HasLine(text, "homelab_incident_resolution_seconds_bucket{" + s + R"(le="+Inf"} 1)"));
  EXPECT_TRUE(HasLine(text, R"(homelab_incident_resolution_seconds_sum{severity="error"} 60)"));
  EXPECT_TRUE(HasLine(text, R"(homelab_incident_resolution_seconds_count{severity="error"} 1)"));
}

TEST(WorldRulesMetricsTest, IncidentJustOverSixtySecondsIsNotInTheSixtyBucket) {
  const std::string text = ExpositionOf({Unhealthy("2026-05-12T12:00:00Z"),
                                         Recovered("2026-05-12T12:01:00.000000001Z")});
  EXPECT_TRUE(HasLine(text, R"(homelab_incident_resolution_seconds_bucket{severity="error",le="60"} 0)"));
  EXPECT_TRUE(HasLine(text, R"(homelab_incident_resolution_seconds_bucket{severity="error",le="300"} 1)"));
}

TEST(WorldRulesMetricsTest, ResolutionHistogramIsBySeverityAndCumulative) {
  const std::string text = ExpositionOf({
      Unhealthy("2026-05-12T12:00:00Z", "saturn", "mosquitto", "critical"),
      Recovered("2026-05-12T12:00:30Z", "saturn", "mosquitto"),  // 30 s
      Unhealthy("2026-05-12T12:00:00Z", "mars", "grafana", "critical"),
      Recovered("2026-05-12T13:00:00Z", "mars", "grafana"),      // 3600 s
      Unhealthy("2026-05-12T12:00:00Z", "venus", "dns", "info"),
      Recovered("2026-05-12T12:10:00Z", "venus", "dns"),          // 600 s
      Unhealthy("2026-05-12T12:00:00Z", "pluto", "dns", "warning"),  // still active
  });
  const std::string c = R"(homelab_incident_resolution_seconds_bucket{severity="critical",)";
  EXPECT_TRUE(HasLine(text, c + R"(le="60"} 1)"));
  EXPECT_TRUE(HasLine(text, c + R"(le="1800"} 1)"));
  EXPECT_TRUE(HasLine(text, c + R"(le="3600"} 2)"));
  EXPECT_TRUE(HasLine(text, c + R"(le="+Inf"} 2)"));
  EXPECT_TRUE(HasLine(text, R"(homelab_incident_resolution_seconds_sum{severity="critical"} 3630)"));
  EXPECT_TRUE(HasLine(text, R"(homelab_incident_resolution_seconds_bucket{severity="info",le="300"} 0)"));
  EXPECT_TRUE(HasLine(text, R"(homelab_incident_resolution_seconds_bucket{severity="info",le="900"} 1)"));
  // The active one is in no histogram.
  EXPECT_TRUE(HasLine(text, R"(homelab_incident_resolution_seconds_count{severity="warning"} 0)"));
  EXPECT_TRUE(HasLine(text, R"(homelab_incident_resolution_seconds_count{severity="error"} 0)"));
}

TEST(WorldRulesMetricsTest, ResolutionUsesTheSeverityTheIncidentRoseTo) {
  const std::string text = ExpositionOf({
      Unhealthy("2026-05-12T12:00:00Z", "saturn", "mosquitto", "info"),
      Unhealthy("2026-05-12T12:00:10Z", "saturn", "mosquitto", "critical"),
      Recovered("2026-05-12T12:00:20Z"),
  });
  EXPECT_TRUE(HasLine(text, R"(homelab_incident_resolution_seconds_count{severity="critical"} 1)"));
  EXPECT_TRUE(HasLine(text, R"(homelab_incident_resolution_seconds_count{severity="info"} 0)"));
}

// ------------------------------------------------- deployment durations ----

TEST(WorldRulesMetricsTest, DeploymentDurationsByServiceAndStatus) {
  const std::string text = ExpositionOf({
      R"({"timestamp":"2026-05-12T12:00:00Z","type":"deployment_started","correlation_id":"d1","node":"jupiter","service":"nextcloud"})",
      R"({"timestamp":"2026-05-12T12:01:00Z","type":"deployment_succeeded","correlation_id":"d1"})",
      R"({"timestamp":"2026-05-12T12:00:00Z","type":"deployment_started","correlation_id":"d2","node":"jupiter","service":"nextcloud"})",
      R"({"timestamp":"2026-05-12T12:20:00.5Z","type":"deployment_failed","correlation_id":"d2"})",
      R"({"timestamp":"2026-05-12T12:00:00Z","type":"deployment_started","correlation_id":"d3","node":"mars","service":"grafana"})",
      R"({"timestamp":"2026-05-12T12:00:00Z","type":"deployment_started","correlation_id":"d4","node":"mars","service":"grafana"})",
      R"({"timestamp":"2026-05-12T12:04:00Z","type":"deployment_succeeded","correlation_id":"d4"})",
  });
  const std::string ok = R"(homelab_deployment_duration_seconds_bucket{service="nextcloud",status="succeeded",)";
  EXPECT_TRUE(HasLine(text, ok + R"(le="60"} 1)"));
  EXPECT_TRUE(HasLine(text, R"(homelab_deployment_duration_seconds_count{service="nextcloud",status="succeeded"} 1)"));
  const std::string failed = R"(homelab_deployment_duration_seconds_bucket{service="nextcloud",status="failed",)";
  EXPECT_TRUE(HasLine(text, failed + R"(le="900"} 0)"));
  EXPECT_TRUE(HasLine(text, failed + R"(le="1800"} 1)"));
  EXPECT_TRUE(HasLine(text, R"(homelab_deployment_duration_seconds_sum{service="nextcloud",status="failed"} 1200.5)"));
  EXPECT_TRUE(HasLine(text, R"(homelab_deployment_duration_seconds_bucket{service="grafana",status="succeeded",le="300"} 1)"));
  EXPECT_TRUE(HasLine(text, R"(homelab_deployment_duration_seconds_count{service="grafana",status="succeeded"} 1)"));
  // d3 is still running: no duration, and no series of its own status.
  EXPECT_FALSE(HasSeries(text, R"(homelab_deployment_duration_seconds_count{service="grafana",status="running"})"));
}

TEST(WorldRulesMetricsTest, DeploymentWithoutStartHasNoDuration) {
  const std::string text = ExpositionOf({
      R"({"timestamp":"2026-05-12T12:01:00Z","type":"deployment_succeeded","correlation_id":"d9","service":"grafana"})",
  });
  EXPECT_FALSE(HasSeries(text, R"(homelab_deployment_duration_seconds_count{service="grafana",status="succeeded"} 1)"));
}

TEST(WorldRulesMetricsTest, DeploymentDurationOfTheLatestAttemptOnly) {
  const std::string text = ExpositionOf({
      R"({"timestamp":"2026-05-12T12:00:00Z","type":"deployment_started","correlation_id":"d1","service":"grafana"})",
      R"({"timestamp":"2026-05-12T12:50:00Z","type":"deployment_failed","correlation_id":"d1"})",
      R"({"timestamp":"2026-05-12T13:00:00Z","type":"deployment_started","correlation_id":"d1"})",
      R"({"timestamp":"2026-05-12T13:00:30Z","type":"deployment_succeeded","correlation_id":"d1"})",
  });
  EXPECT_TRUE(HasLine(text, R"(homelab_deployment_duration_seconds_bucket{service="grafana",status="succeeded",le="60"} 1)"));
  EXPECT_TRUE(HasLine(text, R"(homelab_deployment_duration_seconds_sum{service="grafana",status="succeeded"} 30)"));
}

// ------------------------------------------------------ opened, info ----

TEST(WorldRulesMetricsTest, IncidentsOpenedCountEveryIncidentPerNodeAndService) {
  const std::string text = ExpositionOf({
      Unhealthy("2026-05-12T12:00:00Z"), Unhealthy("2026-05-12T12:00:10Z"),  // one incident
      Recovered("2026-05-12T12:01:00Z"),
      Unhealthy("2026-05-12T12:02:00Z"),  // a second one, active
      Unhealthy("2026-05-12T12:02:00Z", "mars", "grafana"),
  });
  EXPECT_TRUE(HasLine(text, R"(homelab_incidents_opened_total{node="saturn",service="mosquitto"} 2)"));
  EXPECT_TRUE(HasLine(text, R"(homelab_incidents_opened_total{node="mars",service="grafana"} 1)"));
  EXPECT_FALSE(HasSeries(text, R"(homelab_incidents_opened_total{node="mars",service="mosquitto"})"));
}

TEST(WorldRulesMetricsTest, IncidentInfoCarriesSeverityAndTheOthersDoNot) {
  const std::string text = ExpositionOf({Unhealthy("2026-05-12T12:00:00Z", "saturn", "mosquitto", "warning")});
  const std::string id = "inc-1778587200-saturn-mosquitto";
  EXPECT_TRUE(HasLine(text, R"(homelab_incident_info{incident_id=")" + id +
                                R"(",node="saturn",service="mosquitto",severity="warning"} 1)"));
  EXPECT_TRUE(HasLine(text, R"(homelab_incident_open{incident_id=")" + id +
                                R"(",node="saturn",service="mosquitto"} 1)"));
  EXPECT_TRUE(HasLine(text, R"(homelab_incident_occurrences{incident_id=")" + id +
                                R"(",node="saturn",service="mosquitto"} 1)"));
  const std::string resolved = ExpositionOf({Unhealthy("2026-05-12T12:00:00Z"), Recovered("2026-05-12T12:01:00Z")});
  EXPECT_FALSE(HasSeries(resolved, "homelab_incident_info{"));
}

// ------------------------------------------------------ service gauges ----

TEST(WorldRulesMetricsTest, StaleIsOneOfTheServiceStatusStates) {
  const std::string text = ExpositionOf(
      {Passed("2026-05-12T12:00:00Z"),
       R"({"timestamp":"2026-05-12T12:01:00Z","type":"node_down","node":"saturn"})"});
  const std::string p = R"(homelab_service_status{node="saturn",service="mosquitto",)";
  EXPECT_TRUE(HasLine(text, p + R"(status="stale"} 1)"));
  EXPECT_TRUE(HasLine(text, p + R"(status="healthy"} 0)"));
  EXPECT_TRUE(HasLine(text, p + R"(status="unhealthy"} 0)"));
  EXPECT_TRUE(HasLine(text, p + R"(status="unknown"} 0)"));
  EXPECT_TRUE(HasLine(text, R"(homelab_service_healthy{node="saturn",service="mosquitto"} 0)"));
}

TEST(WorldRulesMetricsTest, ServiceStaleAfterMakesTheStaleState) {
  const std::vector<std::string> lines = {
      Passed("2026-05-12T12:00:00Z"),
      R"({"timestamp":"2026-05-12T13:59:00Z","type":"node_heartbeat","node":"saturn"})"};
  const std::string p = R"(homelab_service_status{node="saturn",service="mosquitto",status="stale"} )";
  EXPECT_TRUE(HasLine(ExpositionOf(lines), p + "0"));
  EXPECT_TRUE(HasLine(ExpositionOf(lines, {.service_stale_after = Duration{3600LL * 1'000'000'000}}), p + "1"));
  EXPECT_TRUE(HasLine(ExpositionOf(lines, {.service_stale_after = Duration{7200LL * 1'000'000'000}}), p + "0"))
      << "exactly as old as --service-stale-after is not stale";
}

TEST(WorldRulesMetricsTest, FlappingAndFlapPercentFollowTheEntry) {
  std::vector<std::string> lines;
  for (int i = 0; i < 21; ++i) {
    const std::string at = "2026-05-12T12:00:" + std::string(i < 10 ? "0" : "") + std::to_string(i) + "Z";
    lines.push_back(i % 2 == 0 ? Passed(at) : Failed(at));
  }
  lines.push_back(Passed("2026-05-12T12:00:00Z", "mars", "grafana"));
  const std::string text = ExpositionOf(lines);
  EXPECT_TRUE(HasLine(text, R"(homelab_service_flapping{node="saturn",service="mosquitto"} 1)"));
  EXPECT_TRUE(HasLine(text, R"(homelab_service_flap_percent{node="saturn",service="mosquitto"} 100)"));
  EXPECT_TRUE(HasLine(text, R"(homelab_service_flapping{node="mars",service="grafana"} 0)"));
  EXPECT_TRUE(HasLine(text, R"(homelab_service_flap_percent{node="mars",service="grafana"} 0)"));
}

TEST(WorldRulesMetricsTest, MaintenanceGaugesForNodesAndServices) {
  const std::string text = ExpositionOf({
      Passed("2026-05-12T12:00:00Z", "saturn", "mosquitto"),
      Passed("2026-05-12T12:00:00Z", "mars", "grafana"),
      Passed("2026-05-12T12:00:00Z", "mars", "dns"),
      R"({"timestamp":"2026-05-12T12:01:00Z","type":"maintenance_started","node":"saturn"})",
      R"({"timestamp":"2026-05-12T12:01:00Z","type":"maintenance_started","node":"mars","service":"grafana"})",
  });
  EXPECT_TRUE(HasLine(text, R"(homelab_node_maintenance{node="saturn"} 1)"));
  EXPECT_TRUE(HasLine(text, R"(homelab_node_maintenance{node="mars"} 0)"));
  EXPECT_TRUE(HasLine(text, R"(homelab_service_maintenance{node="saturn",service="mosquitto"} 1)"));
  EXPECT_TRUE(HasLine(text, R"(homelab_service_maintenance{node="mars",service="grafana"} 1)"));
  EXPECT_TRUE(HasLine(text, R"(homelab_service_maintenance{node="mars",service="dns"} 0)"));
}

TEST(WorldRulesMetricsTest, LastCheckTimestampOnlyForCheckedServices) {
  const std::string text = ExpositionOf({
      Passed("2026-05-12T12:00:00.5Z"),
      R"({"timestamp":"2026-05-12T12:00:00Z","type":"deployment_started","correlation_id":"d1","node":"mars","service":"grafana"})",
  });
  EXPECT_TRUE(HasLine(text, R"(homelab_service_last_check_timestamp_seconds{node="saturn",service="mosquitto"} 1778587200.5)"));
  EXPECT_FALSE(HasSeries(text, R"(homelab_service_last_check_timestamp_seconds{node="mars")"));
}

}  // namespace
}  // namespace hlo
