// The metrics as real Prometheus tools see them (CONTRACT §7): promtool's
// linter on the live /metrics and on `once --textfile`, and a real
// Prometheus scraping `run` on the example homelab, answering queries on its
// HTTP API, and seeing a newly appended failure within seconds.
//
// Needs `prometheus` and `promtool` (Debian: prometheus); skipped, saying
// so, when CMake did not find them.
#include <gtest/gtest.h>

#include "tests/fakes/temp_dir.h"
#include "tests/integration/daemon_helpers.h"

#ifndef HLO_PROMETHEUS_BIN
#define HLO_PROMETHEUS_BIN ""
#endif
#ifndef HLO_PROMTOOL_BIN
#define HLO_PROMTOOL_BIN ""
#endif

namespace hlo {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using testing::DaemonProcess;
using testing::Event;
using testing::Millis;

// The path of a tool CMake found, or "" (then the test skips).
std::string Tool(const std::string& found) {
  if (found.empty() || found.ends_with("-NOTFOUND") || !fs::exists(found)) return "";
  return found;
}

#define REQUIRE_TOOL(var, path, name)                                                 \
  const std::string var = Tool(path);                                                 \
  if (var.empty()) {                                                                  \
    GTEST_SKIP() << name << " not found (install Debian's prometheus package to run " \
                 << "this test)";                                                     \
  }

// promtool check metrics reads the exposition on stdin; it exits non-zero on
// a parse error or a lint problem and prints the problems. Both count.
std::string PromtoolProblems(const std::string& promtool, const std::string& exposition) {
  const auto r = testing::RunTool({promtool, "check", "metrics"}, exposition);
  if (r.exit_code == 0 && r.out.empty() && r.err.empty()) return "";
  return "exit " + std::to_string(r.exit_code) + "\nstdout:\n" + r.out + "\nstderr:\n" + r.err;
}

class ExampleTest : public ::testing::Test {
 protected:
  void SetUp() override { testing::CopyExample(root_); }
  std::unique_ptr<DaemonProcess> Daemon() {
    return std::make_unique<DaemonProcess>(root_,
                                           std::vector<std::string>{"--inventory", root_.string()});
  }
  void Append(const std::string& line) const {
    testing::AppendFile(root_ / "events" / "2026-05-13.jsonl", line);
  }

  TempDir tmp_;
  fs::path root_ = tmp_.path() / "homelab";
};

using PromtoolTest = ExampleTest;

TEST_F(PromtoolTest, LiveMetricsPassCheckMetrics) {
  REQUIRE_TOOL(promtool, HLO_PROMTOOL_BIN, "promtool");
  auto daemon = Daemon();
  ASSERT_EQ(daemon->Start(), "");
  const std::string text = daemon->MetricsText();
  ASSERT_NE(text, "");
  EXPECT_EQ(PromtoolProblems(promtool, text), "");

  // Awkward but allowed names (quotes, backslashes, non-ASCII) must come out
  // escaped; a resolved incident and an unknown type change the families.
  Append(Event("2026-05-13T08:56:00Z", "service_unhealthy", R"(odd\"node\\x)", "s\u00e9rvice") +
         Event("2026-05-13T08:56:10Z", "service_recovered", "jupiter", "jellyfin") +
         Event("2026-05-13T08:56:20Z", "coffee_brewed", "lab-pi"));
  ASSERT_TRUE(daemon->WaitForMetrics([](const auto& s) {
    return testing::Value(s, "homelab_node_up", {{"node", "odd\"node\\x"}}) == 1.0;
  })) << daemon->Err();
  EXPECT_EQ(PromtoolProblems(promtool, daemon->MetricsText()), "");
}

TEST_F(PromtoolTest, TextfilePassesCheckMetrics) {
  REQUIRE_TOOL(promtool, HLO_PROMTOOL_BIN, "promtool");
  const fs::path textfile = tmp_.path() / "homelab.prom";
  const auto r =
      testing::RunTool({HLO_BINARY, "once", "--root", root_.string(), "--inventory", root_.string(),
                        "--now", testing::kExampleNow, "--textfile", textfile.string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string text = testing::ReadFile(textfile).value_or("");
  ASSERT_NE(text.find("homelab_node_up{node=\"saturn\"} 1"), std::string::npos) << text;
  EXPECT_EQ(PromtoolProblems(promtool, text), "");
}

// ------------------------------------------------------------ Prometheus ----

// A Prometheus on a free loopback port scraping one target every second,
// its TSDB in a TempDir; killed by the destructor.
class PrometheusProcess {
 public:
  PrometheusProcess(std::string binary, const std::string& target)
      : binary_(std::move(binary)), target_(target) {}

  // Starts it and waits for /-/ready; "" or what went wrong.
  std::string Start(Millis timeout = Millis(20000)) {
    const fs::path config = dir_.Write("prometheus.yml",
                                       "global:\n"
                                       "  scrape_interval: 1s\n"
                                       "  scrape_timeout: 1s\n"
                                       "scrape_configs:\n"
                                       "  - job_name: homelab\n"
                                       "    static_configs:\n"
                                       "      - targets: ['" +
                                           target_ + "']\n");
    std::string why;
    for (int attempt = 0; attempt < 5; ++attempt) {
      port_ = testing::FreePort();
      child_.reset();
      child_ = std::make_unique<testing::Child>(
          std::vector<std::string>{binary_, "--config.file=" + config.string(),
                                   "--storage.tsdb.path=" + (dir_.path() / "data").string(),
                                   "--web.listen-address=127.0.0.1:" + std::to_string(port_)},
          dir_.path() / "stdout", dir_.path() / "stderr");
      bool ready = false;
      testing::WaitUntil(
          [&] {
            if (!child_->Running()) return true;
            const auto r = testing::Http(port_, "GET", "/-/ready", {}, Millis(1000));
            ready = r && r->status == 200;
            return ready;
          },
          timeout, Millis(20));
      if (ready) return "";
      why = "prometheus did not get ready:\n" + child_->Err();
      if (child_->Running() || child_->Err().find("address already in use") == std::string::npos) {
        return why;
      }
    }
    return why;
  }

  // The result of an instant query (data.result), or null when the request
  // fails.
  json Query(const std::string& expr) const {
    const auto r = testing::Http(port_, "GET", "/api/v1/query?query=" + testing::UrlEncode(expr));
    if (!r || r->status != 200) return nullptr;
    const json body = json::parse(r->body, nullptr, /*allow_exceptions=*/false);
    if (body.is_discarded() || body.value("status", "") != "success") return nullptr;
    return body["data"]["result"];
  }

  // The value of the single series `expr` selects; nullopt when it selects
  // none or several.
  std::optional<double> Scalar(const std::string& expr) const {
    const json result = Query(expr);
    if (!result.is_array() || result.size() != 1) return std::nullopt;
    return std::stod(result[0]["value"][1].get<std::string>());
  }

  // Prometheus's own metrics (it does not scrape itself here).
  std::string OwnMetrics() const {
    const auto r = testing::Http(port_, "GET", "/metrics");
    return r && r->status == 200 ? r->body : "";
  }

  std::string Log() const { return child_ ? child_->Err() : ""; }

 private:
  std::string binary_;
  std::string target_;
  TempDir dir_;
  int port_ = 0;
  std::unique_ptr<testing::Child> child_;
};

// Every event object in the example's events/ (unparsable ones skipped).
std::vector<json> AllEvents(const fs::path& root) {
  std::vector<json> events;
  auto add = [&](const json& j) {
    if (j.is_object()) events.push_back(j);
  };
  for (const auto& entry : fs::directory_iterator(root / "events")) {
    const std::string text = testing::ReadFile(entry.path()).value_or("");
    if (entry.path().extension() == ".json") {
      const json doc = json::parse(text, nullptr, false);
      if (doc.is_array()) {
        for (const json& j : doc) add(j);
      } else {
        add(doc);
      }
    } else {
      std::istringstream in(text);
      for (std::string line; std::getline(in, line);) add(json::parse(line, nullptr, false));
    }
  }
  return events;
}

using PrometheusTest = ExampleTest;

TEST_F(PrometheusTest, ScrapesTheExampleAndSeesANewIncidentWithinSeconds) {
  REQUIRE_TOOL(prometheus_bin, HLO_PROMETHEUS_BIN, "prometheus");
  const auto test_start = testing::Clock::now();
  auto daemon = Daemon();
  ASSERT_EQ(daemon->Start(), "");
  PrometheusProcess prometheus(prometheus_bin, daemon->address());
  ASSERT_EQ(prometheus.Start(), "");
  ASSERT_TRUE(testing::WaitUntil([&] { return prometheus.Scalar(R"(up{job="homelab"})") == 1.0; },
                                 Millis(15000), Millis(100)))
      << "no successful scrape; up = " << prometheus.Query(R"(up{job="homelab"})").dump()
      << "\nprometheus log:\n"
      << prometheus.Log();
  std::printf("[ info ] first successful scrape %.0f ms after the test started\n",
              testing::MillisSince(test_start));

  // The expected values come from the world files this run wrote.
  const json nodes = testing::World(root_, "nodes.json");
  const json services = testing::World(root_, "services.json");
  const json incidents = testing::World(root_, "incidents.json");
  const json deployments = testing::World(root_, "deployments.json");
  auto up = [&](const std::string& node) {
    return nodes.at(node).at("status") == "up" ? 1.0 : 0.0;
  };
  EXPECT_EQ(prometheus.Scalar(R"(homelab_node_up{node="saturn"})"), up("saturn"));
  EXPECT_EQ(prometheus.Scalar(R"(homelab_node_up{node="pluto"})"), up("pluto"));
  EXPECT_EQ(prometheus.Scalar(R"(homelab_service_healthy{node="jupiter",service="jellyfin"})"),
            services.at("jupiter/jellyfin").at("status") == "healthy" ? 1.0 : 0.0);
  const json& jellyfin = incidents.at("inc-1778658600-jupiter-jellyfin");
  EXPECT_EQ(prometheus.Scalar(
                R"(homelab_incident_open{incident_id="inc-1778658600-jupiter-jellyfin"})"),
            jellyfin.at("status") == "active" ? std::optional<double>(1) : std::nullopt);
  // The severity is on homelab_incident_info, joined by incident_id.
  EXPECT_EQ(
      prometheus.Scalar(
          R"(homelab_incident_open{incident_id="inc-1778658600-jupiter-jellyfin"} * on(incident_id) group_left(severity) homelab_incident_info{severity=")" +
          jellyfin.at("severity").get<std::string>() + "\"}"),
      jellyfin.at("status") == "active" ? std::optional<double>(1) : std::nullopt);
  // homelab_deployments_total counts the deployment_succeeded events applied
  // for deployments of the service.
  std::set<std::string> nextcloud;
  for (const auto& [id, d] : deployments.items()) {
    if (d.at("service") == "nextcloud") nextcloud.insert(id);
  }
  double succeeded = 0;
  for (const json& e : AllEvents(root_)) {
    if (e.value("type", json()) == "deployment_succeeded" &&
        nextcloud.count(e.value("correlation_id", std::string()))) {
      ++succeeded;
    }
  }
  EXPECT_EQ(
      prometheus.Scalar(R"(homelab_deployments_total{service="nextcloud",status="succeeded"})"),
      succeeded);
  // And the world says what the example's README says.
  EXPECT_EQ(up("saturn"), 1);
  EXPECT_EQ(up("pluto"), 0);
  EXPECT_EQ(services.at("jupiter/jellyfin").at("status"), "unhealthy");
  EXPECT_EQ(jellyfin.at("status"), "active");
  EXPECT_EQ(jellyfin.at("severity"), "critical");
  EXPECT_EQ(succeeded, 1);
  // Nothing in the exposition made Prometheus drop samples (its own
  // counters, on its own /metrics).
  const auto own = testing::ParseExposition(prometheus.OwnMetrics());
  for (const char* dropped : {"prometheus_target_scrapes_sample_duplicate_timestamp_total",
                              "prometheus_target_scrapes_sample_out_of_order_total",
                              "prometheus_target_scrapes_sample_out_of_bounds_total"}) {
    EXPECT_EQ(testing::Value(own, dropped), 0) << dropped;
  }

  // A failure on a new node/service, appended to the newest file.
  const std::string ts = "2026-05-13T08:58:00Z";
  Append(Event(ts, "service_unhealthy", "neptune", "minio"));
  const auto appended = testing::Clock::now();
  const std::string expr = R"(homelab_incident_open{node="neptune",service="minio"})";
  ASSERT_TRUE(
      testing::WaitUntil([&] { return prometheus.Scalar(expr) == 1.0; }, Millis(10000), Millis(50)))
      << prometheus.Query(expr).dump() << "\ndaemon stderr:\n"
      << daemon->Err();
  std::printf("[ lag  ] appended failure -> Prometheus query: %.0f ms (scrape interval 1 s)\n",
              testing::MillisSince(appended));
  const json series =
      prometheus.Query(R"(homelab_incident_info{node="neptune",service="minio"})").at(0).at("metric");
  EXPECT_EQ(series.at("severity"), "error");  // the default for failures
  // The daemon publishes to /metrics first and writes the world files right
  // after, so the file may trail the query: by milliseconds, or by seconds
  // when five fsyncs queue behind other tests' I/O on a shared disk.
  json incident;
  ASSERT_TRUE(testing::WaitUntil(
      [&] {
        incident = testing::World(root_, "incidents.json");
        return incident.size() == incidents.size() + 1;
      },
      Millis(20000), Millis(20)))
      << "incidents.json holds " << incident.size() << " incidents, expected "
      << incidents.size() + 1 << "\ndaemon stderr:\n"
      << daemon->Err();
  std::printf("[ lag  ] appended failure -> incidents.json: %.0f ms\n",
              testing::MillisSince(appended));
  std::string new_id;
  for (const auto& [id, i] : incident.items()) {
    if (i.at("node") == "neptune") new_id = id;
  }
  EXPECT_EQ(series.at("incident_id"), new_id);
  EXPECT_EQ(new_id.rfind("inc-", 0), 0u);
  EXPECT_EQ(prometheus.Scalar(R"(homelab_incidents_open{severity="error"})"), 1);

  std::printf("[ info ] whole test %.0f ms\n", testing::MillisSince(test_start));
}

}  // namespace
}  // namespace hlo
