// Nodes (CONTRACT §4, §5 nodes.json, §8 "Times" and "Entities"), on literals.
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "observer/apply.h"
#include "observer/world_serializer.h"
#include "observer/world_snapshot.h"
#include "tests/fakes/event_builder.h"

namespace hlo {
namespace {

using nlohmann::json;

using fakes::Ev;
using fakes::kLogsDir;
using fakes::T;

void Feed(Model& model, std::initializer_list<Ev> events) {
  const ApplyContext context{std::string(kLogsDir), nullptr, {}};
  for (const Ev& ev : events) Apply(model, ev.event(), context);
}

Model Replay(std::initializer_list<Ev> events) {
  Model model;
  Feed(model, events);
  return model;
}

// What goes into a snapshot besides the model.
struct Outside {
  std::string_view now = "2026-05-12T12:30:00Z";
  Duration stale_after{600'000'000'000};  // 10m
  const Inventory* inventory = nullptr;
  const StageMarkers* stages = nullptr;
};

json NodesJson(const Model& model, const Outside& outside = {}) {
  SnapshotInputs in;
  in.model = &model;
  in.inventory = outside.inventory;
  in.stages = outside.stages;
  in.now = T(outside.now);
  in.stale_after = outside.stale_after;
  return json::parse(SerializeWorld(BuildSnapshot(in), *in.model)[2].content);
}

std::string Status(const Model& model, const Outside& outside = {},
                   const std::string& node = "saturn") {
  const json nodes = NodesJson(model, outside);
  EXPECT_TRUE(nodes.contains(node)) << nodes.dump();
  return nodes.contains(node) ? nodes.at(node).at("status").get<std::string>() : "";
}

Ev Heartbeat(std::string_view at, std::string node = "saturn") {
  Ev ev("node_heartbeat");
  ev.At(at).Node(std::move(node));
  return ev;
}
Ev Down(std::string_view at, std::string node = "saturn") {
  Ev ev("node_down");
  ev.At(at).Node(std::move(node));
  return ev;
}

TEST(NodeTest, UpWhenSeenWithinStaleAfter) {
  const Model model = Replay({Heartbeat("2026-05-12T12:25:00Z")});
  const json node = NodesJson(model).at("saturn");
  EXPECT_EQ(node.at("status"), "up");
  EXPECT_EQ(node.at("last_seen"), "2026-05-12T12:25:00Z");
}

TEST(NodeTest, DownWhenLastSeenOlderThanStaleAfter) {
  EXPECT_EQ(Status(Replay({Heartbeat("2026-05-12T12:00:00Z")})), "down");
}

TEST(NodeTest, StaleAfterIsStrict) {
  // now − last_seen == 10m exactly: still up; one nanosecond more: down.
  EXPECT_EQ(Status(Replay({Heartbeat("2026-05-12T12:20:00Z")})), "up");
  EXPECT_EQ(Status(Replay({Heartbeat("2026-05-12T12:19:59.999999999Z")})), "down");
}

TEST(NodeTest, StaleAfterFollowsTheFlag) {
  const Model model = Replay({Heartbeat("2026-05-12T12:28:30Z")});
  Outside outside;
  outside.stale_after = *ParseDuration("90s");
  EXPECT_EQ(Status(model, outside), "up");
  outside.stale_after = *ParseDuration("89s");
  EXPECT_EQ(Status(model, outside), "down");
}

TEST(NodeTest, FutureLastSeenIsUp) {
  EXPECT_EQ(Status(Replay({Heartbeat("2026-05-13T12:00:00Z")})), "up");
}

TEST(NodeTest, UnknownWhenNeverSeen) {
  Inventory inventory;
  inventory.nodes["saturn"] = {"saturn", {"broker"}, "", {}};
  Outside outside;
  outside.inventory = &inventory;
  const json node = NodesJson(Model{}, outside).at("saturn");
  EXPECT_EQ(node.at("status"), "unknown");
  EXPECT_TRUE(node.at("last_seen").is_null());
}

TEST(NodeTest, NodeDownHoldsUntilNodesNextEvent) {
  Model model = Replay({Heartbeat("2026-05-12T12:25:00Z"), Down("2026-05-12T12:26:00Z")});
  EXPECT_EQ(Status(model), "down");
  // Other nodes' events, and events naming no node, do not lift it.
  Feed(model, {Heartbeat("2026-05-12T12:27:00Z", "jupiter"),
               Ev("service_recovered").At("2026-05-12T12:27:00Z").Service("mosquitto"),
               Ev("deployment_stage").At("2026-05-12T12:27:00Z").Corr("d-1").Stage("pull")});
  EXPECT_EQ(Status(model), "down");
  Feed(model, {Heartbeat("2026-05-12T12:28:00Z")});
  EXPECT_EQ(Status(model), "up");
}

TEST(NodeTest, NodeDownLiftedByNextEventInProcessingOrderEvenIfOlder) {
  // The next event carries an older timestamp: processing order decides.
  const Model model = Replay({Down("2026-05-12T12:29:00Z"), Heartbeat("2026-05-12T12:25:00Z")});
  EXPECT_EQ(Status(model), "up");
  EXPECT_EQ(NodesJson(model).at("saturn").at("last_seen"), "2026-05-12T12:25:00Z");
}

TEST(NodeTest, NodeDownAfterLaterTimestampedEventStillHolds) {
  const Model model = Replay({Heartbeat("2026-05-12T12:29:00Z"), Down("2026-05-12T12:20:00Z")});
  EXPECT_EQ(Status(model), "down");
}

TEST(NodeTest, NodeDownLiftedByAnyEventNamingTheNode) {
  for (const char* type : {"healthcheck_passed", "healthcheck_failed", "service_unhealthy",
                           "service_recovered", "deployment_started", "deployment_stage",
                           "deployment_succeeded", "deployment_failed", "custom_type"}) {
    const Model model = Replay({
        Down("2026-05-12T12:25:00Z"),
        Ev(type).At("2026-05-12T12:26:00Z").Node("saturn").Service("mosquitto").Corr("d-1")
            .Stage("pull"),
    });
    EXPECT_EQ(Status(model), "up") << type;
  }
}

TEST(NodeTest, OnlyNodeDownIsDownWithNullLastSeen) {
  const Model model = Replay({Down("2026-05-12T12:25:00Z")});
  const json node = NodesJson(model).at("saturn");
  EXPECT_EQ(node.at("status"), "down");
  EXPECT_TRUE(node.at("last_seen").is_null());
}

TEST(NodeTest, NodeDownDoesNotMoveLastSeen) {
  const Model model = Replay({Heartbeat("2026-05-12T12:25:00Z"), Down("2026-05-12T12:28:00Z")});
  EXPECT_EQ(NodesJson(model).at("saturn").at("last_seen"), "2026-05-12T12:25:00Z");
}

TEST(NodeTest, LastSeenIsTheLatestEventTimeWhateverTheArrivalOrder) {
  const Model model = fakes::ApplyInProcessingOrder(
      {Heartbeat("2026-05-12T12:25:00Z"), Heartbeat("2026-05-12T12:10:00Z")});
  EXPECT_EQ(NodesJson(model).at("saturn").at("last_seen"), "2026-05-12T12:25:00Z");
  EXPECT_EQ(Status(model), "up");
}

TEST(NodeTest, EveryEventWithNodeExceptNodeDownCountsAsSeen) {
  for (const char* type : {"node_heartbeat", "healthcheck_passed", "healthcheck_failed",
                           "service_unhealthy", "service_recovered", "deployment_started",
                           "deployment_stage", "deployment_succeeded", "deployment_failed",
                           "custom_type"}) {
    const Model model = Replay({
        Ev(type).At("2026-05-12T12:26:00Z").Node("saturn").Service("mosquitto").Corr("d-1")
            .Stage("pull"),
    });
    const json node = NodesJson(model).at("saturn");
    EXPECT_EQ(node.at("last_seen"), "2026-05-12T12:26:00Z") << type;
    EXPECT_EQ(node.at("status"), "up") << type;
  }
}

TEST(NodeTest, DeploymentsNodeIsNotSeenByEventsWithoutNode) {
  const Model model = Replay({
      Ev("deployment_started").At("2026-05-12T12:00:00Z").Node("saturn").Service("mosquitto")
          .Corr("d-1"),
      Ev("deployment_succeeded").At("2026-05-12T12:29:00Z").Corr("d-1"),
  });
  EXPECT_EQ(NodesJson(model).at("saturn").at("last_seen"), "2026-05-12T12:00:00Z");
}

TEST(NodeTest, RecoveredWithoutNodeSeesNoNode) {
  const Model model = Replay({
      Ev("healthcheck_failed").At("2026-05-12T12:00:00Z").Node("saturn").Service("mosquitto"),
      Ev("service_recovered").At("2026-05-12T12:29:00Z").Service("mosquitto"),
  });
  EXPECT_EQ(NodesJson(model).at("saturn").at("last_seen"), "2026-05-12T12:00:00Z");
}

TEST(NodeTest, RolesFromInventoryInOrder) {
  Inventory inventory;
  inventory.nodes["saturn"] = {"saturn", {"mqtt", "broker", "dns"}, "10.0.0.2", {}};
  Outside outside;
  outside.inventory = &inventory;
  const Model model = Replay({Heartbeat("2026-05-12T12:25:00Z"),
                              Heartbeat("2026-05-12T12:25:00Z", "jupiter")});
  const json nodes = NodesJson(model, outside);
  EXPECT_EQ(nodes.at("saturn").at("roles"), json::parse(R"(["mqtt", "broker", "dns"])"));
  EXPECT_EQ(nodes.at("jupiter").at("roles"), json::array());
}

TEST(NodeTest, InInventoryMarksInventoryNodes) {
  Inventory inventory;
  inventory.nodes["saturn"] = {"saturn", {}, "", {}};
  Outside outside;
  outside.inventory = &inventory;
  const Model model = Replay({Heartbeat("2026-05-12T12:25:00Z"),
                              Heartbeat("2026-05-12T12:25:00Z", "jupiter")});
  const json nodes = NodesJson(model, outside);
  EXPECT_EQ(nodes.at("saturn").at("in_inventory"), true);
  EXPECT_EQ(nodes.at("saturn").at("status"), "up");
  EXPECT_EQ(nodes.at("jupiter").at("in_inventory"), false);
}

TEST(NodeTest, NodesFromStageFolders) {
  StageMarkers stages;
  stages["mars"] = {{"01-pull", T("2026-05-12T11:00:00Z")},
                    {"02-restart", T("2026-05-12T11:00:01.5Z")}};
  stages["pluto"] = {};
  Outside outside;
  outside.stages = &stages;
  const json nodes = NodesJson(Model{}, outside);
  const json expected = json::parse(R"({
    "mars": {
      "name": "mars",
      "status": "unknown",
      "roles": [],
      "last_seen": null,
      "in_inventory": false,
      "maintenance": false,
      "stages": [
        {"name": "01-pull", "completed_at": "2026-05-12T11:00:00Z"},
        {"name": "02-restart", "completed_at": "2026-05-12T11:00:01.5Z"}
      ]
    },
    "pluto": {
      "name": "pluto",
      "status": "unknown",
      "roles": [],
      "last_seen": null,
      "in_inventory": false,
      "maintenance": false,
      "stages": []
    }
  })");
  EXPECT_EQ(nodes, expected);
}

TEST(NodeTest, StagesJoinSeenAndInventoryNodes) {
  Inventory inventory;
  inventory.nodes["saturn"] = {"saturn", {"broker"}, "", {}};
  StageMarkers stages;
  stages["saturn"] = {{"01-pull", T("2026-05-12T11:00:00Z")}};
  Outside outside;
  outside.inventory = &inventory;
  outside.stages = &stages;
  const json node = NodesJson(Replay({Heartbeat("2026-05-12T12:25:00Z")}), outside).at("saturn");
  EXPECT_EQ(node.at("status"), "up");
  EXPECT_EQ(node.at("in_inventory"), true);
  EXPECT_EQ(node.at("stages").size(), 1u);
}

TEST(NodeTest, EveryAcceptedEventsNodeIsListed) {
  const Model model = Replay({
      Heartbeat("2026-05-12T12:25:00Z", "a"),
      Down("2026-05-12T12:25:00Z", "b"),
      Ev("custom").At("2026-05-12T12:25:00Z").Node("c"),
  });
  const json nodes = NodesJson(model);
  ASSERT_EQ(nodes.size(), 3u);
  EXPECT_EQ(nodes.at("a").at("name"), "a");
  EXPECT_EQ(nodes.at("b").at("status"), "down");
  EXPECT_EQ(nodes.at("c").at("status"), "up");
}

}  // namespace
}  // namespace hlo
