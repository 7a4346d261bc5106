// The world API of `run` against the real binary on the example: the bytes
// of the world files from memory, consistent with /metrics, and push
// ingestion applying each event once (docs/api.md).
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "tests/fakes/temp_dir.h"
#include "tests/integration/daemon_helpers.h"

namespace hlo {
namespace {

using testing::DaemonProcess;
using testing::Http;
using testing::Millis;
namespace fs = std::filesystem;

class WorldApiTest : public ::testing::Test {
 protected:
  void SetUp() override { testing::CopyExample(root_); }

  std::unique_ptr<DaemonProcess> Daemon(std::vector<std::string> extra = {}) {
    extra.insert(extra.begin(), {"--inventory", root_.string()});
    auto daemon = std::make_unique<DaemonProcess>(root_, extra);
    const std::string why = daemon->Start();
    EXPECT_EQ(why, "");
    return daemon;
  }

  nlohmann::json GetJson(const DaemonProcess& daemon, const std::string& target) {
    const auto r = Http(daemon.port(), "GET", target);
    EXPECT_TRUE(r && r->status == 200) << target << ": " << (r ? r->body : "no answer");
    return r ? nlohmann::json::parse(r->body) : nlohmann::json();
  }

  std::optional<testing::HttpResponse> Post(const DaemonProcess& daemon, const std::string& body) {
    return Http(daemon.port(), "POST", "/api/v1/events",
                {"Content-Type: application/x-ndjson"}, Millis(5000), body);
  }

  TempDir tmp_;
  fs::path root_ = tmp_.path() / "homelab";
};

TEST_F(WorldApiTest, WorldEndpointsServeTheBytesOfTheWorldFiles) {
  auto daemon = Daemon();
  // With --now fixed, a quiet daemon's files and memory hold the same world.
  for (const char* name : {"deployments", "incidents", "nodes", "runtime-summary", "services"}) {
    const auto r = Http(daemon->port(), "GET", std::string("/api/v1/world/") + name);
    ASSERT_TRUE(r && r->status == 200) << name;
    EXPECT_EQ(r->Header("content-type"), "application/json");
    EXPECT_EQ(r->body, testing::ReadFile(root_ / "world" / (std::string(name) + ".json")).value())
        << name;
  }
}

TEST_F(WorldApiTest, EtagAnswers304UntilTheWorldChanges) {
  auto daemon = Daemon();
  const auto first = Http(daemon->port(), "GET", "/api/v1/world/incidents");
  ASSERT_TRUE(first && first->status == 200);
  const std::string etag = first->Header("etag");
  ASSERT_FALSE(etag.empty());
  const auto again = Http(daemon->port(), "GET", "/api/v1/world/incidents", {"If-None-Match: " + etag});
  ASSERT_TRUE(again);
  EXPECT_EQ(again->status, 304);
  EXPECT_TRUE(again->body.empty());

  testing::AppendFile(root_ / "events" / "2026-05-13.jsonl",
                      R"({"timestamp":"2026-05-13T08:59:00Z","type":"service_unhealthy","node":"mars","service":"api-probe"})" "\n");
  ASSERT_TRUE(testing::WaitUntil(
      [&] {
        const auto r = Http(daemon->port(), "GET", "/api/v1/world/incidents", {"If-None-Match: " + etag});
        return r && r->status == 200 && r->body.find("api-probe") != std::string::npos;
      },
      Millis(5000)));
}

TEST_F(WorldApiTest, ApiAndMetricsOfAQuietDaemonAgree) {
  auto daemon = Daemon();
  const nlohmann::json summary = GetJson(*daemon, "/api/v1/world/runtime-summary");
  const auto samples = daemon->Metrics();
  EXPECT_EQ(testing::Sum(samples, "homelab_incidents_open", {}).value_or(-1),
            summary["incidents"]["active"].get<double>());
  EXPECT_EQ(testing::Sum(samples, "homelab_observer_events_processed_total", {}).value_or(-1),
            summary["events"]["processed"].get<double>());
  const nlohmann::json active = GetJson(*daemon, "/api/v1/incidents?status=active");
  EXPECT_EQ(active["items"].size(), summary["incidents"]["active"].get<size_t>());
  const nlohmann::json observer = GetJson(*daemon, "/api/v1/observer");
  EXPECT_EQ(observer["events_processed"], summary["events"]["processed"]);
  EXPECT_EQ(observer["ready"], true);
}

TEST_F(WorldApiTest, PostedEventIsAppliedOnceEvenWhenSentAgainAcrossARestart) {
  auto daemon = Daemon({"--web.enable-ingest"});
  const std::string event =
      R"({"timestamp":"2026-05-13T08:59:00Z","type":"service_unhealthy","node":"pluto","service":"restic","id":"pluto-1"})";
  const auto first = Post(*daemon, event + "\n");
  ASSERT_TRUE(first);
  ASSERT_EQ(first->status, 202) << first->body;
  EXPECT_EQ(nlohmann::json::parse(first->body)["accepted"], 1);
  ASSERT_TRUE(daemon->WaitForMetrics([](const auto& s) {
    return testing::Sum(s, "homelab_incident_occurrences", {{"node", "pluto"}, {"service", "restic"}}) == 1;
  }));
  const auto retry = Post(*daemon, event + "\n");
  ASSERT_TRUE(retry && retry->status == 202);
  EXPECT_EQ(nlohmann::json::parse(retry->body)["duplicates"], 1);

  // A new process does not remember what its endpoint accepted; the
  // observer's id rule catches the retry instead.
  daemon->Stop();
  ASSERT_EQ(daemon->Start(), "");
  const auto after_restart = Post(*daemon, event + "\n");
  ASSERT_TRUE(after_restart && after_restart->status == 202);
  ASSERT_TRUE(daemon->WaitForMetrics([](const auto& s) {
    return testing::Value(s, "homelab_observer_events_duplicate_total", {}) == 1;
  }));
  EXPECT_EQ(testing::Sum(daemon->Metrics(), "homelab_incident_occurrences",
                           {{"node", "pluto"}, {"service", "restic"}}),
            1);
}

TEST_F(WorldApiTest, IngestIsOffUnlessAsked) {
  auto daemon = Daemon();
  const auto r = Post(*daemon, "{}\n");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 404);
}

}  // namespace
}  // namespace hlo
