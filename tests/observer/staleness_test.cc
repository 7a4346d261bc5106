// Stale services (CONTRACT §9): a service with a health signal is `stale`
// when its node is down, or when --service-stale-after is set and its last
// check is strictly older; `unhealthy` and `unknown` come first.
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "observer/apply.h"
#include "observer/inventory.h"
#include "tests/fakes/event_builder.h"
#include "tests/fakes/world_json.h"

namespace hlo {
namespace {

using fakes::ApplyAll;
using fakes::Context;
using fakes::Ev;
using fakes::Outside;
using fakes::Seconds;
using fakes::WorldEntry;
using fakes::WorldJson;
using nlohmann::json;

Ev Passed(std::string_view at, std::string node = "saturn", std::string service = "mosquitto") {
  Ev ev("healthcheck_passed");
  ev.At(at).Node(std::move(node)).Service(std::move(service));
  return ev;
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

Model Replay(const std::vector<Ev>& events, const Inventory* inventory = nullptr) {
  Model model;
  ApplyAll(model, events, Context(inventory));
  return model;
}

// services.json's status of saturn/mosquitto.
std::string Status(const Model& model, const Outside& outside = {},
                   const std::string& key = "saturn/mosquitto") {
  return WorldEntry(model, "services.json", key, outside).value("status", "");
}

// --service-stale-after `seconds`, the node window out of the way.
Outside ServiceStaleAfter(double seconds, std::string_view now) {
  return {.now = now, .service_stale_after = Seconds(seconds)};
}

// ------------------------------------------------------ node down ----

TEST(StalenessTest, StaleWhileItsNodeIsDownAfterNodeDown) {
  const Model model = Replay({Passed("2026-05-12T12:00:00Z"), Down("2026-05-12T12:01:00Z")});
  EXPECT_EQ(Status(model), "stale");
  // A later event of the node brings it back, and the service with it.
  const Model back = Replay({Passed("2026-05-12T12:00:00Z"), Down("2026-05-12T12:01:00Z"),
                             Heartbeat("2026-05-12T12:02:00Z")});
  EXPECT_EQ(Status(back), "healthy");
}

TEST(StalenessTest, StaleWhenItsNodeIsOlderThanNodeStaleAfter) {
  const Model model = Replay({Passed("2026-05-12T12:00:00Z")});
  // 10m window: down after 12:10:00, strictly.
  const Outside at_edge{.now = "2026-05-12T12:10:00Z", .node_stale_after = Seconds(600)};
  const Outside past_edge{.now = "2026-05-12T12:10:00.000000001Z", .node_stale_after = Seconds(600)};
  EXPECT_EQ(Status(model, at_edge), "healthy");
  EXPECT_EQ(Status(model, past_edge), "stale");
  EXPECT_EQ(WorldEntry(model, "nodes.json", "saturn", past_edge).at("status"), "down");
}

TEST(StalenessTest, OtherNodesBeingDownDoesNotMakeItStale) {
  const Model model = Replay({Passed("2026-05-12T12:00:00Z"), Passed("2026-05-12T12:00:00Z", "jupiter"),
                              Down("2026-05-12T12:01:00Z", "jupiter")});
  EXPECT_EQ(Status(model), "healthy");
  EXPECT_EQ(Status(model, {}, "jupiter/mosquitto"), "stale");
}

// ------------------------------------------- --service-stale-after ----

TEST(StalenessTest, StaleWhenLastCheckIsStrictlyOlderThanServiceStaleAfter) {
  // A heartbeat keeps the node up; only the service's last check ages.
  const Model model = Replay({Passed("2026-05-12T12:00:00Z"), Heartbeat("2026-05-12T12:30:00Z")});
  EXPECT_EQ(Status(model, ServiceStaleAfter(300, "2026-05-12T12:04:59Z")), "healthy");
  EXPECT_EQ(Status(model, ServiceStaleAfter(300, "2026-05-12T12:05:00Z")), "healthy")
      << "exactly --service-stale-after old is not stale";
  EXPECT_EQ(Status(model, ServiceStaleAfter(300, "2026-05-12T12:05:00.000000001Z")), "stale");
  EXPECT_EQ(Status(model, ServiceStaleAfter(300, "2026-05-12T12:31:00Z")), "stale");
}

TEST(StalenessTest, FractionalLastCheckIsComparedToTheNanosecond) {
  const Model model = Replay({Passed("2026-05-12T12:00:00.25Z"), Heartbeat("2026-05-12T12:30:00Z")});
  EXPECT_EQ(Status(model, ServiceStaleAfter(60, "2026-05-12T12:01:00.25Z")), "healthy");
  EXPECT_EQ(Status(model, ServiceStaleAfter(60, "2026-05-12T12:01:00.250000001Z")), "stale");
}

TEST(StalenessTest, ZeroServiceStaleAfterIsOff) {
  const Model model = Replay({Passed("2026-05-12T12:00:00Z"), Heartbeat("2026-05-13T11:00:00Z")});
  EXPECT_EQ(Status(model, ServiceStaleAfter(0, "2026-05-13T12:00:00Z")), "healthy");
}

TEST(StalenessTest, LastCheckIsTheLatestSignalOrFailure) {
  // A failure is a check too: after a recovery the last check is the recovery's.
  const Model model = Replay({
      Passed("2026-05-12T12:00:00Z"),
      Ev("healthcheck_failed").At("2026-05-12T12:03:00Z").Node("saturn").Service("mosquitto"),
      Ev("service_recovered").At("2026-05-12T12:04:00Z").Node("saturn").Service("mosquitto"),
      Heartbeat("2026-05-12T12:30:00Z"),
  });
  EXPECT_EQ(Status(model, ServiceStaleAfter(120, "2026-05-12T12:06:00Z")), "healthy");
  EXPECT_EQ(Status(model, ServiceStaleAfter(120, "2026-05-12T12:06:01Z")), "stale");
}

TEST(StalenessTest, FutureLastCheckIsNotStale) {
  const Model model = Replay({Passed("2026-05-12T14:00:00Z")});
  EXPECT_EQ(Status(model, ServiceStaleAfter(1, "2026-05-12T13:00:00Z")), "healthy");
}

// ------------------------------------------------------- precedence ----

TEST(StalenessTest, UnhealthyWinsOverStale) {
  const Model model = Replay({
      Ev("service_unhealthy").At("2026-05-12T12:00:00Z").Node("saturn").Service("mosquitto"),
      Down("2026-05-12T12:01:00Z"),
  });
  EXPECT_EQ(Status(model), "unhealthy");
  EXPECT_EQ(Status(model, ServiceStaleAfter(1, "2026-05-12T13:00:00Z")), "unhealthy");
}

TEST(StalenessTest, NeverCheckedStaysUnknownEvenWhenItsNodeIsDown) {
  const Model model = Replay({
      Ev("deployment_started").At("2026-05-12T12:00:00Z").Node("saturn").Service("mosquitto")
          .Corr("d-1"),
      Ev("maintenance_started").At("2026-05-12T12:00:00Z").Node("saturn").Service("grafana"),
      Down("2026-05-12T12:01:00Z"),
  });
  EXPECT_EQ(Status(model), "unknown");
  EXPECT_EQ(Status(model, {}, "saturn/grafana"), "unknown");
  EXPECT_EQ(Status(model, ServiceStaleAfter(1, "2026-05-12T13:00:00Z")), "unknown");
}

TEST(StalenessTest, InventoryOnlyEntryOfADownNodeStaysUnknown) {
  Inventory inventory;
  inventory.nodes["saturn"] = {"saturn", {}, "", {}};
  inventory.services["saturn"] = {"grafana"};
  const Model model = Replay({Down("2026-05-12T12:01:00Z")}, &inventory);
  EXPECT_EQ(Status(model, {.inventory = &inventory}, "saturn/grafana"), "unknown");
}

TEST(StalenessTest, DeploymentFailureAloneIsUnhealthyNotStale) {
  const Model model = Replay({
      Ev("deployment_failed").At("2026-05-12T12:00:00Z").Node("saturn").Service("mosquitto")
          .Corr("d-1"),
      Down("2026-05-12T12:01:00Z"),
  });
  EXPECT_EQ(Status(model), "unhealthy");
}

// ---------------------------------------------------- summary, metrics ----

TEST(StalenessTest, RuntimeSummaryCountsStaleServices) {
  const Model model = Replay({
      Passed("2026-05-12T12:00:00Z"),                               // stale: node down
      Passed("2026-05-12T12:00:00Z", "saturn", "grafana"),          // stale: node down
      Passed("2026-05-12T12:00:00Z", "jupiter"),                    // stale: checked too long ago
      Passed("2026-05-12T12:55:00Z", "jupiter", "grafana"),         // healthy
      Ev("service_unhealthy").At("2026-05-12T12:00:00Z").Node("mars").Service("mosquitto"),
      Ev("deployment_started").At("2026-05-12T12:00:00Z").Node("mars").Service("grafana")
          .Corr("d-1"),                                             // unknown
      Down("2026-05-12T12:01:00Z"),
  });
  const json summary =
      WorldJson(model, "runtime-summary.json", ServiceStaleAfter(600, "2026-05-12T13:00:00Z"));
  const json& services = summary.at("services");
  EXPECT_EQ(services.at("stale"), 3);
  EXPECT_EQ(services.at("healthy"), 1);
  EXPECT_EQ(services.at("unhealthy"), 1);
  EXPECT_EQ(services.at("unknown"), 1);
  EXPECT_EQ(services.at("total"), 6);
}

TEST(StalenessTest, RuntimeSummaryHasStaleEvenWhenNoneIs) {
  const json summary = WorldJson(Model{}, "runtime-summary.json");
  EXPECT_EQ(summary.at("services").at("stale"), 0);
}

}  // namespace
}  // namespace hlo
