// The metric tables over world snapshots: contract names and labels, series
// that follow the world (no stale ones), the golden exposition of the example
// homelab, and docs/metrics.md kept in step with the table.
#include "exporter/metrics_table.h"

#include <gtest/gtest.h>

#include <prometheus/text_serializer.h>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <limits>
#include <random>
#include <sstream>

#include "observer/apply.h"
#include "observer/atomic_file.h"
#include "observer/event_parser.h"
#include "exporter/text_exposition.h"
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
      // CONTRACT §9: severity moved to homelab_incident_info.
      {"homelab_incident_open", {"incident_id", "node", "service"}},
      {"homelab_incident_occurrences", {"incident_id", "node", "service"}},
      {"homelab_incident_info", {"incident_id", "node", "service", "severity"}},
      {"homelab_service_flapping", {"node", "service"}},
      {"homelab_service_flap_percent", {"node", "service"}},
      {"homelab_node_maintenance", {"node"}},
      {"homelab_service_maintenance", {"node", "service"}},
      {"homelab_service_last_check_timestamp_seconds", {"node", "service"}},
      {"homelab_incident_resolution_seconds", {"severity"}},
      {"homelab_deployment_duration_seconds", {"service", "status"}},
      {"homelab_incidents_opened_total", {"node", "service"}},
      {"homelab_observer_events_duplicate_total", {}},
      {"homelab_incidents_open", {"severity"}},
      {"homelab_incidents_resolved_total", {}},
      {"homelab_deployments_total", {"service", "status"}},
      {"homelab_deployments_running", {}},
      {"homelab_deployment_status", {"node", "service", "status"}},
      {"homelab_observer_events_processed_total", {"type"}},
      {"homelab_observer_events_rejected_total", {"reason"}},
      {"homelab_observer_last_event_timestamp_seconds", {}},
      {"homelab_observer_rebuilds_total", {"reason"}},
      {"homelab_observer_late_events_total", {"file"}},
      // site: only with --web.site-name (BuildInfoCarriesTheSiteOnlyWhenSet).
      {"homelab_observer_build_info", {"version", "revision", "compiler", "build_type", "site"}},
  };
  for (const auto& [name, labels] : contract) {
    const auto it = std::find_if(MetricTable().begin(), MetricTable().end(),
                                 [&](const MetricSpec& s) { return s.name == name; });
    ASSERT_NE(it, MetricTable().end()) << name;
    EXPECT_EQ(it->labels, labels) << name;
    EXPECT_EQ(it->source, "world") << name << " must be in once --textfile too";
  }
}

// An empty label is no label to Prometheus, so without a site name the
// series has none rather than site="".
TEST(MetricsTableTest, BuildInfoCarriesTheSiteOnlyWhenSet) {
  Model model;
  SnapshotInputs in;
  in.model = &model;
  in.now = *ParseTimestamp("2026-05-12T12:30:00Z");
  ExportState state;
  state.world = std::make_shared<WorldSnapshot>(BuildSnapshot(in));
  const std::string build = "homelab_observer_build_info{version=\"" HLO_VERSION
                            "\",revision=\"" HLO_REVISION "\",compiler=\"" HLO_COMPILER
                            "\",build_type=\"" HLO_BUILD_TYPE "\"";
  EXPECT_TRUE(HasLine(RenderExposition(state), build + "} 1"));
  state.site_name = "cabin \"north\"";
  const std::string text = RenderExposition(state);
  EXPECT_TRUE(HasLine(text, build + ",site=\"cabin \\\"north\\\"\"} 1"))
      << text.substr(text.find("homelab_observer_build_info{"));
  // The prometheus-cpp families say the same.
  for (const auto& family : GenerateFamilies(state)) {
    if (family.name != "homelab_observer_build_info") continue;
    ASSERT_EQ(family.metric.size(), 1u);
    ASSERT_EQ(family.metric[0].label.size(), 5u);
    EXPECT_EQ(family.metric[0].label[4].name, "site");
    EXPECT_EQ(family.metric[0].label[4].value, "cabin \"north\"");
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

TEST(MetricsTableTest, ServiceStatusIsAStateSetOfFour) {
  // Within --node-stale-after of the snapshot's 12:30: saturn is up.
  const std::string text = ExpositionOf(
      {R"({"timestamp":"2026-05-12T12:25:00Z","type":"healthcheck_passed","node":"saturn","service":"mosquitto"})"});
  EXPECT_TRUE(HasLine(text, R"(homelab_service_status{node="saturn",service="mosquitto",status="healthy"} 1)"));
  EXPECT_TRUE(HasLine(text, R"(homelab_service_status{node="saturn",service="mosquitto",status="unhealthy"} 0)"));
  EXPECT_TRUE(HasLine(text, R"(homelab_service_status{node="saturn",service="mosquitto",status="stale"} 0)"));
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
  state.observer = FiguresOf(observer);
  // The build's own labels differ between builds (commit, compiler, Release
  // or the sanitizer build's Debug): the golden file holds placeholders.
  std::string text = RenderExposition(state);
  for (const auto& [label, value] : {std::pair{"revision", HLO_REVISION},
                                     std::pair{"compiler", HLO_COMPILER},
                                     std::pair{"build_type", HLO_BUILD_TYPE}}) {
    const std::string actual = std::string(label) + "=\"" + value + "\"";
    const size_t at = text.find(actual);
    ASSERT_NE(at, std::string::npos) << label;
    text.replace(at, actual.size(), std::string(label) + "=\"" + label + "\"");
  }

  const std::filesystem::path golden =
      std::filesystem::path(HLO_SOURCE_DIR) / "tests/golden/exposition/example_homelab.prom";
  if (std::getenv("HLO_UPDATE_GOLDEN") != nullptr) {
    ASSERT_TRUE(WriteFileAtomic(golden, text, &error)) << error;
  }
  EXPECT_EQ(text, ReadText(golden)) << "exposition differs from " << golden;
  // The story's facts, stated here too so a wrong golden file cannot hide them.
  EXPECT_TRUE(HasLine(text, R"(homelab_node_up{node="pluto"} 0)"));
  EXPECT_TRUE(HasLine(text, R"(homelab_node_up{node="saturn"} 1)"));
  EXPECT_TRUE(HasLine(text, R"(homelab_incident_open{incident_id="inc-1778658600-jupiter-jellyfin",node="jupiter",service="jellyfin"} 1)"));
  EXPECT_TRUE(HasLine(text, R"(homelab_incident_info{incident_id="inc-1778658600-jupiter-jellyfin",node="jupiter",service="jellyfin",severity="critical"} 1)"));
  EXPECT_TRUE(HasLine(text, R"(homelab_incidents_open{severity="critical"} 1)"));
  EXPECT_TRUE(HasLine(text, "homelab_incidents_resolved_total 4"));
  // mars's maintenance window ended on day 1; saturn/home-assistant's own
  // (around its deployment) is still on at the end, saturn's is not.
  EXPECT_TRUE(HasLine(text, R"(homelab_node_maintenance{node="mars"} 0)"));
  EXPECT_TRUE(HasLine(text, R"(homelab_node_maintenance{node="saturn"} 0)"));
  EXPECT_TRUE(HasLine(text, R"(homelab_service_maintenance{node="saturn",service="home-assistant"} 1)"));
  EXPECT_TRUE(HasLine(text, R"(homelab_incidents_opened_total{node="mars",service="traefik"} 1)"));
  EXPECT_FALSE(HasSeries(text, R"(homelab_incident_open{incident_id="inc-1778578800-saturn-mosquitto")"));
}

// ------------------------------------------------ direct text rendering ----
// The exposition is written straight to text; prometheus-cpp's
// TextSerializer over GenerateFamilies (the same table, built as objects) is
// the reference it must match byte for byte.

std::string Serialized(const ExportState& state) {
  return prometheus::TextSerializer().Serialize(GenerateFamilies(state));
}

// Label text that needs escaping or is otherwise awkward: backslashes,
// quotes, newlines (also as the two characters \n), CR, tab, UTF-8, empty.
std::string RandomLabel(std::mt19937_64& rng) {
  static const std::vector<std::string> pieces = {
      "a", "nas", "-", "_", "\\", "\"", "\n", "\\n", "\r", "\t", "é", "日本", "🙂", " ", "=", ",",
      "{", "}", "#", "\xc3", "\x7f", "x\\\"y"};
  std::string out;
  const int n = static_cast<int>(rng() % 6);
  for (int i = 0; i < n; ++i) out += pieces[rng() % pieces.size()];
  return out;
}

Timestamp RandomTime(std::mt19937_64& rng) {
  static const int64_t kSeconds[] = {0, 1, 1778662440, -5, 99'999'999'999'999'999, 1'000'000};
  Timestamp t;
  t.seconds = (rng() % 2 == 0) ? kSeconds[rng() % std::size(kSeconds)]
                               : static_cast<int64_t>(rng() % 4'000'000'000);
  t.nanos = (rng() % 2 == 0) ? 0 : static_cast<int32_t>(rng() % 1'000'000'000);
  return t;
}

double RandomDouble(std::mt19937_64& rng) {
  static const double kSpecial[] = {0.0,
                                    -0.0,
                                    1.0,
                                    -1.0,
                                    0.1,
                                    1e15,
                                    1e16,
                                    -1e17,
                                    123456789012345678.0,
                                    1.0 / 3,
                                    std::numeric_limits<double>::quiet_NaN(),
                                    -std::numeric_limits<double>::quiet_NaN(),
                                    std::numeric_limits<double>::infinity(),
                                    -std::numeric_limits<double>::infinity(),
                                    std::numeric_limits<double>::denorm_min(),
                                    std::numeric_limits<double>::max(),
                                    std::numeric_limits<double>::lowest()};
  switch (rng() % 3) {
    case 0: return kSpecial[rng() % std::size(kSpecial)];
    case 1: return static_cast<double>(static_cast<int64_t>(rng() % 2'000'000) - 1'000'000) / 8;
    default: {
      const uint64_t bits = rng();
      double d;
      std::memcpy(&d, &bits, sizeof d);
      return d;
    }
  }
}

// A world (and daemon figures) no event stream would give, built directly.
ExportState RandomState(std::mt19937_64& rng) {
  auto world = std::make_shared<WorldSnapshot>();
  for (int i = 0, n = static_cast<int>(rng() % 5); i < n; ++i) {
    NodeView node;
    node.name = RandomLabel(rng);
    node.status = static_cast<NodeStatus>(rng() % 3);
    for (int r = 0, roles = static_cast<int>(rng() % 3); r < roles; ++r) {
      node.roles.push_back(RandomLabel(rng));
    }
    if (rng() % 2 == 0) node.last_seen = RandomTime(rng);
    world->nodes.push_back(std::move(node));
  }
  for (int i = 0, n = static_cast<int>(rng() % 6); i < n; ++i) {
    ServiceView service;
    service.node = RandomLabel(rng);
    service.service = RandomLabel(rng);
    service.status = static_cast<ServiceStatus>(rng() % 3);
    if (rng() % 2 == 0) service.last_deployment_status = static_cast<DeploymentStatus>(rng() % 3);
    world->services.push_back(std::move(service));
  }
  for (int i = 0, n = static_cast<int>(rng() % 4); i < n; ++i) {
    IncidentState incident;
    incident.id = RandomLabel(rng);
    incident.node = RandomLabel(rng);
    incident.service = RandomLabel(rng);
    incident.severity = static_cast<Severity>(rng() % 4);
    incident.started_at = RandomTime(rng);
    incident.last_occurrence = RandomTime(rng);
    incident.occurrence_count = rng();
    world->active_incidents.push_back(std::move(incident));
  }
  for (int i = 0, n = static_cast<int>(rng() % 4); i < n; ++i) {
    world->counters.processed_by_type[RandomLabel(rng)] = rng() % 1000;
    world->counters.rejected_by_reason[RandomLabel(rng)] = rng();
    world->counters.deployments_finished[{RandomLabel(rng), RandomLabel(rng)}] = rng() % 50;
  }
  if (rng() % 2 == 0) world->counters.last_event_at = RandomTime(rng);
  world->summary.incidents_resolved = rng();
  world->summary.deployments_running = rng() % 10;
  for (auto& n : world->summary.active_by_severity) n = rng() % 7;

  ExportState state;
  state.world = std::move(world);
  for (std::string_view reason : kReplayReasons) {
    state.observer.rebuilds_by_reason[std::string(reason)] = rng() % 3;
  }
  if (rng() % 2 == 0) state.observer.late_events_by_file[RandomLabel(rng)] = rng() % 5 + 1;
  state.observer.reordered_events = rng() % 100;
  state.observer.window_events = rng() % 100;
  state.daemon.present = rng() % 4 != 0;
  state.daemon.watch_mode = rng() % 2 == 0 ? "inotify" : RandomLabel(rng);
  state.daemon.ready = rng() % 2 == 0;
  for (int i = 0, n = static_cast<int>(rng() % 4); i < n; ++i) {
    state.daemon.RecordBatch(std::abs(RandomDouble(rng)));
  }
  if (rng() % 3 == 0) state.daemon.batch_seconds_sum = RandomDouble(rng);
  state.daemon.last_batch_timestamp = RandomDouble(rng);
  state.daemon.inventory_reloads = rng();
  state.daemon.pending_bytes = rng() % 100000;
  state.daemon.inventory_ok = rng() % 2 == 0;
  return state;
}

TEST(ExpositionTest, DirectRendererMatchesTextSerializerOnRandomStates) {
  std::mt19937_64 rng(20260512);
  for (int i = 0; i < 500; ++i) {
    const ExportState state = RandomState(rng);
    const std::string direct = RenderExposition(state);
    const std::string reference = Serialized(state);
    ASSERT_EQ(direct, reference) << "random state #" << i;
  }
}

TEST(ExpositionTest, DirectRendererMatchesTextSerializerOnTheExampleStories) {
  const std::vector<std::string> events = {
      R"({"timestamp":"2026-05-12T12:00:00.123456789Z","type":"deployment_started","correlation_id":"d1","node":"jupiter","service":"nextcloud"})",
      R"({"timestamp":"2026-05-12T12:01:00Z","type":"deployment_failed","correlation_id":"d1"})",
      R"({"timestamp":"2026-05-12T12:05:00.5Z","type":"service_unhealthy","node":"sat\\urn","service":"mos\"quitto","severity":"critical"})",
      R"({"timestamp":"2026-05-12T12:06:00Z","type":"mystery","node":"plütö"})",
  };
  Model model;
  ApplyContext context;
  for (const auto& line : events) Apply(model, Parse(line), context);
  SnapshotInputs in;
  in.model = &model;
  in.now = *ParseTimestamp("2026-05-12T12:30:00Z");
  ExportState state;
  state.world = std::make_shared<WorldSnapshot>(BuildSnapshot(in));
  EXPECT_EQ(RenderExposition(state), Serialized(state));
  state.daemon.present = true;
  state.daemon.watch_mode = "poll";
  state.daemon.RecordBatch(0.25);
  state.daemon.last_batch_timestamp = 1778589000.25;
  EXPECT_EQ(RenderExposition(state), Serialized(state));
}

// Every double, not only what a world holds: one gauge per value.
TEST(ExpositionTest, ValuesAreFormattedAsTextSerializerFormatsThem) {
  std::mt19937_64 rng(7);
  prometheus::MetricFamily family;
  family.name = "v";
  family.type = prometheus::MetricType::Gauge;
  std::string direct = "# TYPE v gauge\n";
  for (int i = 0; i < 20000; ++i) {
    const double value = RandomDouble(rng);
    prometheus::ClientMetric metric;
    metric.gauge.value = value;
    family.metric.push_back(metric);
    direct += "v ";
    text_exposition::AppendValue(direct, value);
    direct += "\n";
  }
  EXPECT_EQ(direct, prometheus::TextSerializer().Serialize({family}));
}

TEST(ExpositionTest, LabelValuesAndHelpAreEscapedAsTheFormatRequires) {
  std::string label;
  text_exposition::AppendLabelValue(label, "a\\b\"c\nd\te");
  EXPECT_EQ(label, "a\\\\b\\\"c\\nd\te");
  std::string header;
  text_exposition::AppendHeader(header, "m", "a \\ \"b\"\nc", prometheus::MetricType::Counter);
  EXPECT_EQ(header, "# HELP m a \\\\ \"b\"\\nc\n# TYPE m counter\n");
  std::string bare;
  text_exposition::AppendHeader(bare, "m", "", prometheus::MetricType::Histogram);
  EXPECT_EQ(bare, "# TYPE m histogram\n");
}

// The cache renders the world part once per snapshot and appends the
// daemon's; that is the whole exposition only if the table keeps them apart.
TEST(ExpositionTest, WorldFamiliesPrecedeDaemonFamiliesInTheTable) {
  bool daemon_seen = false;
  for (const MetricSpec& spec : MetricTable()) {
    ASSERT_TRUE(spec.source == "world" || spec.source == "daemon") << spec.name;
    if (spec.source == "daemon") daemon_seen = true;
    EXPECT_FALSE(daemon_seen && spec.source == "world") << spec.name << " follows a daemon family";
  }
  std::mt19937_64 rng(3);
  ExportState state = RandomState(rng);
  state.daemon.present = true;
  std::string parts;
  AppendExposition(state, "world", &parts);
  AppendExposition(state, "daemon", &parts);
  EXPECT_EQ(parts, RenderExposition(state));
}

// Only the snapshot and the observer's figures may shape the world part: the
// cache shares it between states that differ in the daemon's figures.
TEST(ExpositionTest, WorldPartDependsOnlyOnSnapshotAndObserverFigures) {
  std::mt19937_64 rng(11);
  for (int i = 0; i < 50; ++i) {
    ExportState a = RandomState(rng);
    ExportState b = RandomState(rng);
    b.world = a.world;
    b.observer = a.observer;
    std::string text_a, text_b;
    AppendExposition(a, "world", &text_a);
    AppendExposition(b, "world", &text_b);
    ASSERT_EQ(text_a, text_b);
  }
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
