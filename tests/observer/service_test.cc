// Service entries (CONTRACT §5 services.json, §8 "Entities"), on literals.
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

void Feed(Model& model, std::initializer_list<Ev> events, const Inventory* inventory = nullptr) {
  const ApplyContext context{std::string(kLogsDir), inventory, {}};
  for (const Ev& ev : events) Apply(model, ev.event(), context);
}

Model Replay(std::initializer_list<Ev> events, const Inventory* inventory = nullptr) {
  Model model;
  Feed(model, events, inventory);
  return model;
}

// services.json, as written for `model` (and `inventory`), at 13:00 with
// --node-stale-after 24h: the nodes here stay up, so these tests see health
// only (staleness, which a down node brings, is tested in staleness_test.cc).
json ServicesJson(const Model& model, const Inventory* inventory = nullptr) {
  SnapshotInputs in;
  in.model = &model;
  in.inventory = inventory;
  in.now = T("2026-05-12T13:00:00Z");
  in.stale_after = Duration{24LL * 3600 * 1'000'000'000};
  return json::parse(SerializeWorld(BuildSnapshot(in), *in.model)[4].content);
}

json Entry(const Model& model, const std::string& key, const Inventory* inventory = nullptr) {
  const json services = ServicesJson(model, inventory);
  EXPECT_TRUE(services.contains(key)) << key << " in " << services.dump();
  return services.contains(key) ? services.at(key) : json();
}

std::string Status(const Model& model, const std::string& key = "saturn/mosquitto") {
  return Entry(model, key).value("status", "");
}

Ev Passed(std::string_view at, std::string node = "saturn") {
  Ev ev("healthcheck_passed");
  ev.At(at).Node(std::move(node)).Service("mosquitto");
  return ev;
}
Ev Unhealthy(std::string_view at, std::string node = "saturn") {
  Ev ev("service_unhealthy");
  ev.At(at).Node(std::move(node)).Service("mosquitto");
  return ev;
}
Ev Recovered(std::string_view at, std::string node = "saturn") {
  Ev ev("service_recovered");
  ev.At(at).Node(std::move(node)).Service("mosquitto");
  return ev;
}

TEST(ServiceTest, UnknownWithoutAnyHealthSignal) {
  const Model model = Replay({
      Ev("deployment_started").At("2026-05-12T12:00:00Z").Node("saturn").Service("mosquitto")
          .Corr("d-1"),
  });
  const json entry = Entry(model, "saturn/mosquitto");
  EXPECT_EQ(entry.at("status"), "unknown");
  EXPECT_TRUE(entry.at("last_check").is_null());
  EXPECT_TRUE(entry.at("active_incident").is_null());
}

TEST(ServiceTest, HealthyAfterPassedCheck) {
  EXPECT_EQ(Status(Replay({Passed("2026-05-12T12:00:00Z")})), "healthy");
}

TEST(ServiceTest, UnhealthyWhileIncidentActive) {
  const Model model = Replay({Unhealthy("2026-05-12T12:05:00Z")});
  const json entry = Entry(model, "saturn/mosquitto");
  EXPECT_EQ(entry.at("status"), "unhealthy");
  EXPECT_EQ(entry.at("active_incident"), "inc-1778587500-saturn-mosquitto");
}

TEST(ServiceTest, UnhealthyWhileIncidentActiveEvenAfterPassedCheck) {
  const Model model = Replay({
      Passed("2026-05-12T12:00:00Z"),
      Unhealthy("2026-05-12T12:05:00Z"),
      Passed("2026-05-12T12:06:00Z"),
  });
  EXPECT_EQ(Status(model), "unhealthy");
}

TEST(ServiceTest, HealthyOnceRecovered) {
  const Model model = Replay({
      Unhealthy("2026-05-12T12:05:00Z"),
      Recovered("2026-05-12T12:10:00Z"),
  });
  const json entry = Entry(model, "saturn/mosquitto");
  EXPECT_EQ(entry.at("status"), "healthy");
  EXPECT_TRUE(entry.at("active_incident").is_null());
}

TEST(ServiceTest, RecoveredWithoutPriorIncidentIsHealthy) {
  EXPECT_EQ(Status(Replay({Recovered("2026-05-12T12:10:00Z")})), "healthy");
}

TEST(ServiceTest, FailedCheckAloneIsUnhealthyNotUnknown) {
  const Model model = Replay({
      Ev("healthcheck_failed").At("2026-05-12T12:05:00Z").Node("saturn").Service("mosquitto"),
  });
  EXPECT_EQ(Status(model), "unhealthy");
}

TEST(ServiceTest, LastCheckIsLatestHealthSignalOrFailure) {
  Model model = Replay({Passed("2026-05-12T12:00:00Z")});
  EXPECT_EQ(Entry(model, "saturn/mosquitto").at("last_check"), "2026-05-12T12:00:00Z");
  Feed(model, {Unhealthy("2026-05-12T12:05:00Z")});
  EXPECT_EQ(Entry(model, "saturn/mosquitto").at("last_check"), "2026-05-12T12:05:00Z");
  Feed(model, {Recovered("2026-05-12T12:10:00Z")});
  EXPECT_EQ(Entry(model, "saturn/mosquitto").at("last_check"), "2026-05-12T12:10:00Z");
  Feed(model, {Ev("healthcheck_failed").At("2026-05-12T12:15:00Z").Node("saturn")
                   .Service("mosquitto")});
  EXPECT_EQ(Entry(model, "saturn/mosquitto").at("last_check"), "2026-05-12T12:15:00Z");
}

TEST(ServiceTest, ArrivalOrderDoesNotMatterOnlyEventTime) {
  // Arriving newest first, applied oldest first: the recovery (12:02) comes
  // before the failure (12:05), so the incident stays open.
  const Model model = fakes::ApplyInProcessingOrder({
      Passed("2026-05-12T12:10:00Z"),
      Unhealthy("2026-05-12T12:05:00Z"),
      Passed("2026-05-12T12:01:00Z"),
      Recovered("2026-05-12T12:02:00Z"),
  });
  EXPECT_EQ(model.services.at("saturn/mosquitto").last_check, T("2026-05-12T12:10:00Z"));
  EXPECT_FALSE(model.services.at("saturn/mosquitto").active_incident.empty());
}

TEST(ServiceTest, LastCheckIgnoresDeploymentsWithoutFailure) {
  const Model model = Replay({
      Passed("2026-05-12T12:00:00Z"),
      Ev("deployment_started").At("2026-05-12T12:05:00Z").Node("saturn").Service("mosquitto")
          .Corr("d-1"),
      Ev("deployment_succeeded").At("2026-05-12T12:06:00Z").Corr("d-1"),
  });
  EXPECT_EQ(model.services.at("saturn/mosquitto").last_check, T("2026-05-12T12:00:00Z"));
}

TEST(ServiceTest, DeploymentFailureCountsAsCheck) {
  const Model model = Replay({
      Ev("deployment_failed").At("2026-05-12T12:05:00Z").Node("saturn").Service("mosquitto")
          .Corr("d-1"),
  });
  EXPECT_EQ(model.services.at("saturn/mosquitto").last_check, T("2026-05-12T12:05:00Z"));
  EXPECT_EQ(Status(model), "unhealthy");
}

TEST(ServiceTest, EntryCreatedByEachHealthEventWithNode) {
  for (const char* type : {"healthcheck_passed", "healthcheck_failed", "service_unhealthy",
                           "service_recovered"}) {
    const Model model = Replay({
        Ev(type).At("2026-05-12T12:00:00Z").Node("saturn").Service("mosquitto"),
    });
    ASSERT_EQ(model.services.size(), 1u) << type;
    const json entry = Entry(model, "saturn/mosquitto");
    EXPECT_EQ(entry.at("node"), "saturn") << type;
    EXPECT_EQ(entry.at("service"), "mosquitto") << type;
    EXPECT_EQ(entry.at("in_inventory"), false) << type;
  }
}

TEST(ServiceTest, NoEntryFromEventsThatNameNoHealth) {
  const Model model = Replay({
      Ev("node_heartbeat").At("2026-05-12T12:00:00Z").Node("saturn").Service("mosquitto"),
      Ev("node_down").At("2026-05-12T12:00:00Z").Node("saturn").Service("mosquitto"),
      Ev("custom_thing").At("2026-05-12T12:00:00Z").Node("saturn").Service("mosquitto"),
  });
  EXPECT_TRUE(model.services.empty());
  EXPECT_EQ(ServicesJson(model), json::object());
}

TEST(ServiceTest, RecoveredWithoutNodeCreatesNoEntry) {
  const Model model = Replay({
      Ev("service_recovered").At("2026-05-12T12:00:00Z").Service("mosquitto"),
  });
  EXPECT_TRUE(model.services.empty());
}

TEST(ServiceTest, RecoveredWithoutNodeSignalsEveryEntryOfThatService) {
  const Model model = Replay({
      Ev("deployment_started").At("2026-05-12T12:00:00Z").Node("saturn").Service("mosquitto")
          .Corr("d-1"),
      Unhealthy("2026-05-12T12:01:00Z", "jupiter"),
      Ev("healthcheck_passed").At("2026-05-12T12:02:00Z").Node("saturn").Service("grafana"),
      Ev("service_recovered").At("2026-05-12T12:10:00Z").Service("mosquitto"),
  });
  for (const char* key : {"saturn/mosquitto", "jupiter/mosquitto"}) {
    const json entry = Entry(model, key);
    EXPECT_EQ(entry.at("status"), "healthy") << key;
    EXPECT_EQ(entry.at("last_check"), "2026-05-12T12:10:00Z") << key;
  }
  EXPECT_EQ(Entry(model, "saturn/grafana").at("last_check"), "2026-05-12T12:02:00Z");
  EXPECT_EQ(model.services.size(), 3u);
}

TEST(ServiceTest, RecoveredWithoutNodeSignalsInventoryOnlyEntries) {
  Inventory inventory;
  inventory.nodes["venus"] = {"venus", {}, "", {}};
  inventory.services["venus"] = {"mosquitto", "grafana"};
  const Model model =
      Replay({Ev("service_recovered").At("2026-05-12T12:10:00Z").Service("mosquitto")}, &inventory);
  const json services = ServicesJson(model, &inventory);
  EXPECT_EQ(services.at("venus/mosquitto").at("status"), "healthy");
  EXPECT_EQ(services.at("venus/mosquitto").at("last_check"), "2026-05-12T12:10:00Z");
  EXPECT_EQ(services.at("venus/mosquitto").at("in_inventory"), true);
  EXPECT_EQ(services.at("venus/grafana").at("status"), "unknown");
}

TEST(ServiceTest, DeploymentWithNodeAndServiceCreatesEntry) {
  const Model model = Replay({
      Ev("deployment_stage").At("2026-05-12T12:00:00Z").Node("saturn").Service("mosquitto")
          .Corr("d-1"),
  });
  EXPECT_EQ(Entry(model, "saturn/mosquitto").at("last_deployment"), "d-1");
}

TEST(ServiceTest, DeploymentWithOnlyNodeOrOnlyServiceCreatesNoEntry) {
  const Model model = Replay({
      Ev("deployment_started").At("2026-05-12T12:00:00Z").Node("saturn").Corr("d-1"),
      Ev("deployment_started").At("2026-05-12T12:00:00Z").Service("mosquitto").Corr("d-2"),
      Ev("deployment_succeeded").At("2026-05-12T12:00:00Z").Corr("d-3"),
  });
  EXPECT_TRUE(model.services.empty());
}

TEST(ServiceTest, DeploymentGettingBothOverSeveralEventsCreatesEntry) {
  const Model model = Replay({
      Ev("deployment_started").At("2026-05-12T12:00:00Z").Node("saturn").Corr("d-1"),
      Ev("deployment_succeeded").At("2026-05-12T12:05:00Z").Service("mosquitto").Corr("d-1"),
  });
  EXPECT_EQ(Entry(model, "saturn/mosquitto").at("last_deployment"), "d-1");
}

TEST(ServiceTest, LastDeploymentNullWithoutDeployment) {
  EXPECT_TRUE(Entry(Replay({Passed("2026-05-12T12:00:00Z")}), "saturn/mosquitto")
                  .at("last_deployment")
                  .is_null());
}

TEST(ServiceTest, LastDeploymentSetWhenDeploymentStarts) {
  const Model model = Replay({
      Ev("deployment_started").At("2026-05-12T12:00:00Z").Node("saturn").Service("mosquitto")
          .Corr("d-1"),
      Ev("deployment_succeeded").At("2026-05-12T12:01:00Z").Corr("d-1"),
      Ev("deployment_started").At("2026-05-12T12:02:00Z").Node("saturn").Service("mosquitto")
          .Corr("d-2"),
  });
  EXPECT_EQ(model.services.at("saturn/mosquitto").last_deployment, "d-2");
}

TEST(ServiceTest, LastDeploymentKeptWhenOlderDeploymentFinishes) {
  const Model model = Replay({
      Ev("deployment_started").At("2026-05-12T12:00:00Z").Node("saturn").Service("mosquitto")
          .Corr("d-1"),
      Ev("deployment_started").At("2026-05-12T12:01:00Z").Node("saturn").Service("mosquitto")
          .Corr("d-2"),
      Ev("deployment_succeeded").At("2026-05-12T12:02:00Z").Node("saturn").Service("mosquitto")
          .Corr("d-1"),
      Ev("deployment_stage").At("2026-05-12T12:03:00Z").Corr("d-1").Node("saturn"),
  });
  EXPECT_EQ(model.services.at("saturn/mosquitto").last_deployment, "d-2");
}

TEST(ServiceTest, LastDeploymentSetWhenNewAttemptStarts) {
  const Model model = Replay({
      Ev("deployment_started").At("2026-05-12T12:00:00Z").Node("saturn").Service("mosquitto")
          .Corr("d-1"),
      Ev("deployment_failed").At("2026-05-12T12:01:00Z").Corr("d-1"),
      Ev("deployment_started").At("2026-05-12T12:02:00Z").Node("saturn").Service("mosquitto")
          .Corr("d-2"),
      Ev("deployment_started").At("2026-05-12T12:03:00Z").Corr("d-1"),  // new attempt
  });
  EXPECT_EQ(model.services.at("saturn/mosquitto").last_deployment, "d-1");
  EXPECT_EQ(model.deployments.at("d-1").attempts, 2u);
}

TEST(ServiceTest, LastDeploymentSetWhenCreatedImplicitly) {
  const Model model = Replay({
      Ev("deployment_started").At("2026-05-12T12:00:00Z").Node("saturn").Service("mosquitto")
          .Corr("d-1"),
      // d-2 never had a deployment_started: its first event creates it.
      Ev("deployment_failed").At("2026-05-12T12:05:00Z").Node("saturn").Service("mosquitto")
          .Corr("d-2"),
  });
  EXPECT_EQ(model.services.at("saturn/mosquitto").last_deployment, "d-2");
}

TEST(ServiceTest, LastDeploymentSetWhenDeploymentGetsThisNodeAndService) {
  const Model model = Replay({
      Ev("deployment_started").At("2026-05-12T12:00:00Z").Node("saturn").Service("mosquitto")
          .Corr("d-1"),
      Ev("deployment_started").At("2026-05-12T12:01:00Z").Corr("d-2"),
      Ev("deployment_stage").At("2026-05-12T12:02:00Z").Node("saturn").Service("mosquitto")
          .Corr("d-2"),
  });
  EXPECT_EQ(model.services.at("saturn/mosquitto").last_deployment, "d-2");
}

TEST(ServiceTest, LastDeploymentFollowsDeploymentMovedToAnotherService) {
  const Model model = Replay({
      Ev("deployment_started").At("2026-05-12T12:00:00Z").Node("saturn").Service("mosquitto")
          .Corr("d-1"),
      Ev("deployment_started").At("2026-05-12T12:00:00Z").Node("saturn").Service("grafana")
          .Corr("d-2"),
      Ev("deployment_stage").At("2026-05-12T12:01:00Z").Service("grafana").Corr("d-1"),
  });
  EXPECT_EQ(model.services.at("saturn/grafana").last_deployment, "d-1");
  // The entry it left keeps pointing at it: that was its latest deployment.
  EXPECT_EQ(model.services.at("saturn/mosquitto").last_deployment, "d-1");
}

TEST(ServiceTest, InInventoryMarksInventoryEntries) {
  Inventory inventory;
  inventory.nodes["saturn"] = {"saturn", {"broker"}, "", {}};
  inventory.services["saturn"] = {"mosquitto"};
  const Model model = Replay({
      Passed("2026-05-12T12:00:00Z"),
      Ev("healthcheck_passed").At("2026-05-12T12:00:00Z").Node("saturn").Service("grafana"),
  });
  const json services = ServicesJson(model, &inventory);
  EXPECT_EQ(services.at("saturn/mosquitto").at("in_inventory"), true);
  EXPECT_EQ(services.at("saturn/mosquitto").at("status"), "healthy");
  EXPECT_EQ(services.at("saturn/grafana").at("in_inventory"), false);
}

TEST(ServiceTest, InventoryOnlyEntryIsUnknownWithNulls) {
  Inventory inventory;
  inventory.nodes["saturn"] = {"saturn", {}, "", {}};
  inventory.services["saturn"] = {"mosquitto"};
  const json expected = json::parse(R"({
    "saturn/mosquitto": {
      "node": "saturn",
      "service": "mosquitto",
      "status": "unknown",
      "last_check": null,
      "active_incident": null,
      "in_inventory": true,
      "last_deployment": null,
      "flapping": false,
      "flap_percent": 0,
      "maintenance": false
    }
  })");
  EXPECT_EQ(ServicesJson(Model{}, &inventory), expected);
}

TEST(ServiceTest, EntriesKeyedByNodeSlashService) {
  const Model model = Replay({
      Passed("2026-05-12T12:00:00Z", "saturn"),
      Passed("2026-05-12T12:00:00Z", "jupiter"),
  });
  const json services = ServicesJson(model);
  ASSERT_EQ(services.size(), 2u);
  EXPECT_EQ(services.begin().key(), "jupiter/mosquitto");
  EXPECT_EQ(services.at("saturn/mosquitto").at("node"), "saturn");
}

}  // namespace
}  // namespace hlo
