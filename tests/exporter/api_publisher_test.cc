// ApiPublisher: the world API's view and the stream's change events of each
// publish.
#include "exporter/api_publisher.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "observer/apply.h"
#include "tests/fakes/event_builder.h"

namespace hlo {
namespace {

using fakes::Ev;
using namespace std::chrono_literals;

const ApplyContext kContext{"/x/logs", nullptr, {}};

class ApiPublisherTest : public ::testing::Test {
 protected:
  std::shared_ptr<const WorldSnapshot> Snapshot(const std::string& now = "2026-05-12T12:05:00Z") {
    SnapshotInputs in;
    in.model = &model_;
    in.now = *ParseTimestamp(now);
    return std::make_shared<WorldSnapshot>(BuildSnapshot(in));
  }
  std::shared_ptr<const ApiView> Publish(std::shared_ptr<const WorldSnapshot> world,
                                         std::chrono::steady_clock::time_point steady = {}) {
    return publisher_.Publish(world, model_, revisions_, ObserverHealth{}, world->generated_at,
                              steady);
  }
  void Apply(const Event& e) {
    hlo::Apply(model_, e, kContext);
    revisions_.incidents += 1;  // as a ModelIndex would move them
  }
  nlohmann::json LastChange() {
    const ChangeFeed::Batch batch = feed_.WaitAfter(feed_.latest() - 1, 0ms);
    return nlohmann::json::parse(*batch.changes.back().second);
  }

  Model model_;
  HistoryRevisions revisions_{1, 1};
  ChangeFeed feed_;
  ApiPublisher publisher_{feed_};
};

TEST_F(ApiPublisherTest, DocumentsAreTheBytesOfTheWorldFiles) {
  Apply(Ev("service_unhealthy").At("2026-05-12T12:00:00Z").Node("a").Service("dns").event());
  const auto world = Snapshot();
  const auto view = Publish(world);
  const auto files = SerializeWorld(*world, model_);
  for (size_t i = 0; i < files.size(); ++i) {
    ASSERT_NE(view->files[i], nullptr);
    EXPECT_EQ(view->files[i]->Text(), files[i].content) << files[i].name;
  }
  EXPECT_EQ(*publisher_.rendered()[1], files[1].content);
  EXPECT_EQ(nlohmann::json::parse(view->observer->Text())["events_processed"], 1);
}

TEST_F(ApiPublisherTest, AChangeIsPublishedOnlyWhenTheWorldChanged) {
  Apply(Ev("node_heartbeat").At("2026-05-12T12:00:00Z").Node("a").event());
  const auto first = Publish(Snapshot());
  EXPECT_EQ(first->sequence, 1u);
  // The clock alone moves: the same world, no change, the same history bytes.
  const auto again = Publish(Snapshot("2026-05-12T12:05:01Z"));
  EXPECT_EQ(again->sequence, 1u);
  EXPECT_EQ(feed_.latest(), 1u);
  EXPECT_EQ(again->files[1], first->files[1]);

  Apply(Ev("service_unhealthy").At("2026-05-12T12:01:00Z").Node("b").Service("dns").event());
  const auto changed = Publish(Snapshot("2026-05-12T12:05:02Z"));
  EXPECT_EQ(changed->sequence, 2u);
  EXPECT_NE(changed->files[1], first->files[1]);
  const nlohmann::json change = LastChange();
  EXPECT_EQ(change["sequence"], 2);
  EXPECT_EQ(change["changed"]["nodes"], nlohmann::json({"b"}));
  EXPECT_EQ(change["changed"]["services"], nlohmann::json({"b/dns"}));
  EXPECT_EQ(change["changed"]["incidents"].size(), 1u);
  EXPECT_EQ(change["changed"]["history"]["incidents"], true);
  EXPECT_EQ(change["summary"]["incidents"]["active"], 1);
}

TEST_F(ApiPublisherTest, AResolvedIncidentIsListedAsChanged) {
  Apply(Ev("service_unhealthy").At("2026-05-12T12:00:00Z").Node("a").Service("dns").event());
  Publish(Snapshot());
  Apply(Ev("service_recovered").At("2026-05-12T12:01:00Z").Node("a").Service("dns").event());
  Publish(Snapshot());
  const nlohmann::json change = LastChange();
  ASSERT_EQ(change["changed"]["incidents"].size(), 1u);
  EXPECT_EQ(change["summary"]["incidents"]["resolved"], 1);
}

TEST_F(ApiPublisherTest, EventsPerSecondIsOverTheLastMinute) {
  const auto t0 = std::chrono::steady_clock::time_point{} + 1h;
  Publish(Snapshot(), t0);
  for (int i = 0; i < 120; ++i) {
    Apply(Ev("node_heartbeat").At("2026-05-12T12:00:00Z").Node("a").event());
  }
  const auto view = Publish(Snapshot(), t0 + 60s);
  EXPECT_DOUBLE_EQ(nlohmann::json::parse(view->observer->Text())["events_per_second"].get<double>(),
                   2.0);
}

TEST_F(ApiPublisherTest, AReplayIsNotCountedAsArrivals) {
  const auto t0 = std::chrono::steady_clock::time_point{} + 1h;
  Publish(Snapshot(), t0);
  for (int i = 0; i < 600; ++i) {
    Apply(Ev("node_heartbeat").At("2026-05-12T12:00:00Z").Node("a").event());
  }
  // Read again by a replay 5 ms later: no arrivals.
  ObserverHealth replayed;
  replayed.replayed = true;
  const auto world = Snapshot();
  const auto view =
      publisher_.Publish(world, model_, revisions_, replayed, world->generated_at, t0 + 5ms);
  EXPECT_DOUBLE_EQ(nlohmann::json::parse(view->observer->Text())["events_per_second"].get<double>(),
                   0.0);
  // Without the replay flag, a burst right after the start reads over a minute.
  Publish(Snapshot(), t0 + 10ms);
  Apply(Ev("node_heartbeat").At("2026-05-12T12:00:00Z").Node("a").event());
  const auto after = Publish(Snapshot(), t0 + 15ms);
  EXPECT_DOUBLE_EQ(nlohmann::json::parse(after->observer->Text())["events_per_second"].get<double>(),
                   1.0 / 60);
}

TEST_F(ApiPublisherTest, ObserverHealthNamesTheSiteOnlyWhenSet) {
  const auto world = Snapshot();
  EXPECT_TRUE(nlohmann::json::parse(Publish(world)->observer->Text())["site"].is_null());
  ObserverHealth health;
  health.site_name = "cabin";
  const auto view = publisher_.Publish(world, model_, revisions_, health, world->generated_at, {});
  EXPECT_EQ(nlohmann::json::parse(view->observer->Text())["site"], "cabin");
}

TEST(WorldChangesTest, FirstPublishListsEverything) {
  WorldSnapshot after;
  after.nodes.push_back({"a", NodeStatus::kUp, {}, std::nullopt, false, {}});
  const nlohmann::json changed = WorldChanges(nullptr, after, false, false);
  EXPECT_EQ(changed["nodes"], nlohmann::json({"a"}));
  EXPECT_TRUE(changed["services"].empty());
}

// Maintenance and flapping change no status nor time, but the page shows them.
TEST(WorldChangesTest, MaintenanceAndFlappingAreChanges) {
  WorldSnapshot before;
  before.nodes.push_back({"a", NodeStatus::kUp, {}, std::nullopt, false, {}});
  ServiceView s;
  s.node = "a";
  s.service = "dns";
  before.services.push_back(s);
  for (int field = 0; field < 3; ++field) {
    WorldSnapshot after = before;
    ServiceView& v = after.services[0];
    if (field == 0) v.maintenance = true;
    if (field == 1) v.flapping = true;
    if (field == 2) v.flap_percent = 12;
    const nlohmann::json changed = WorldChanges(&before, after, false, false);
    EXPECT_EQ(changed["services"], nlohmann::json({"a/dns"})) << field;
    EXPECT_TRUE(changed["nodes"].empty()) << field;
  }
  WorldSnapshot after = before;
  after.nodes[0].maintenance = true;
  EXPECT_EQ(WorldChanges(&before, after, false, false)["nodes"], nlohmann::json({"a"}));
}

TEST(WorldChangesTest, AVanishedNodeIsListed) {
  WorldSnapshot before;
  before.nodes.push_back({"a", NodeStatus::kUp, {}, std::nullopt, false, {}});
  const nlohmann::json changed = WorldChanges(&before, WorldSnapshot{}, false, false);
  EXPECT_EQ(changed["nodes"], nlohmann::json({"a"}));
}

}  // namespace
}  // namespace hlo
