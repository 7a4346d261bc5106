// Maintenance (CONTRACT §9): maintenance_started / maintenance_ended, node-wide
// or for one node/service pair; `maintenance` in nodes.json and services.json;
// incidents' `during_maintenance`; failures and resolutions go on as usual.
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "observer/apply.h"
#include "observer/event_parser.h"
#include "observer/inventory.h"
#include "tests/fakes/event_builder.h"
#include "tests/fakes/world_json.h"

namespace hlo {
namespace {

using fakes::ApplyAll;
using fakes::ApplyInProcessingOrder;
using fakes::Context;
using fakes::Ev;
using fakes::T;
using fakes::WorldEntry;
using fakes::WorldJson;
using nlohmann::json;

Ev Started(std::string_view at, std::string node = "saturn", std::string service = "") {
  Ev ev("maintenance_started");
  ev.At(at).Node(std::move(node)).Service(std::move(service));
  return ev;
}
Ev Ended(std::string_view at, std::string node = "saturn", std::string service = "") {
  Ev ev("maintenance_ended");
  ev.At(at).Node(std::move(node)).Service(std::move(service));
  return ev;
}
Ev Failed(std::string_view at, std::string node = "saturn", std::string service = "mosquitto") {
  Ev ev("healthcheck_failed");
  ev.At(at).Node(std::move(node)).Service(std::move(service));
  return ev;
}
Ev Passed(std::string_view at, std::string node = "saturn", std::string service = "mosquitto") {
  Ev ev("healthcheck_passed");
  ev.At(at).Node(std::move(node)).Service(std::move(service));
  return ev;
}
Ev Recovered(std::string_view at, std::string node = "saturn", std::string service = "mosquitto") {
  Ev ev("service_recovered");
  ev.At(at).Node(std::move(node)).Service(std::move(service));
  return ev;
}

Model Replay(const std::vector<Ev>& events, const Inventory* inventory = nullptr) {
  Model model;
  ApplyAll(model, events, Context(inventory));
  return model;
}

json Node(const Model& model, const std::string& name = "saturn") {
  return WorldEntry(model, "nodes.json", name);
}
json Service(const Model& model, const std::string& key = "saturn/mosquitto",
             const Inventory* inventory = nullptr) {
  return WorldEntry(model, "services.json", key, {.inventory = inventory});
}

// The only incident of saturn/mosquitto that started at `at`, from incidents.json.
json IncidentStartedAt(const Model& model, std::string_view at) {
  for (const auto& [id, incident] : model.incidents) {
    if (incident.started_at == T(at)) return WorldEntry(model, "incidents.json", id);
  }
  ADD_FAILURE() << "no incident started at " << at;
  return json();
}

// ------------------------------------------------------- the flags ----

TEST(MaintenanceTest, NodeWideMaintenanceMarksTheNodeAndEveryServiceOnIt) {
  Inventory inventory;
  inventory.nodes["saturn"] = {"saturn", {}, "", {}};
  inventory.services["saturn"] = {"grafana"};  // an inventory-only entry
  const Model model = Replay({Passed("2026-05-12T12:00:00Z"),
                              Passed("2026-05-12T12:00:00Z", "jupiter"),
                              Started("2026-05-12T12:01:00Z")},
                             &inventory);
  EXPECT_EQ(Node(model).at("maintenance"), true);
  EXPECT_EQ(Node(model, "jupiter").at("maintenance"), false);
  EXPECT_EQ(Service(model, "saturn/mosquitto", &inventory).at("maintenance"), true);
  EXPECT_EQ(Service(model, "saturn/grafana", &inventory).at("maintenance"), true);
  EXPECT_EQ(Service(model, "jupiter/mosquitto", &inventory).at("maintenance"), false);
}

TEST(MaintenanceTest, NodeWideMaintenanceEndsWithItsEndedEvent) {
  const Model model = Replay({Passed("2026-05-12T12:00:00Z"), Started("2026-05-12T12:01:00Z"),
                              Ended("2026-05-12T12:02:00Z")});
  EXPECT_EQ(Node(model).at("maintenance"), false);
  EXPECT_EQ(Service(model).at("maintenance"), false);
}

TEST(MaintenanceTest, ServiceMaintenanceMarksOnlyThatPair) {
  const Model model = Replay({Passed("2026-05-12T12:00:00Z"),
                              Passed("2026-05-12T12:00:00Z", "saturn", "grafana"),
                              Passed("2026-05-12T12:00:00Z", "jupiter", "mosquitto"),
                              Started("2026-05-12T12:01:00Z", "saturn", "mosquitto")});
  EXPECT_EQ(Service(model).at("maintenance"), true);
  EXPECT_EQ(Service(model, "saturn/grafana").at("maintenance"), false);
  EXPECT_EQ(Service(model, "jupiter/mosquitto").at("maintenance"), false);
  EXPECT_EQ(Node(model).at("maintenance"), false);  // the node's own is not the service's
}

TEST(MaintenanceTest, NodeAndServiceMaintenanceAreEndedSeparately) {
  // The node's end does not end the service's own, nor the reverse.
  const Model service_left = Replay({Started("2026-05-12T12:00:00Z"),
                                     Started("2026-05-12T12:01:00Z", "saturn", "mosquitto"),
                                     Ended("2026-05-12T12:02:00Z")});
  EXPECT_EQ(Node(service_left).at("maintenance"), false);
  EXPECT_EQ(Service(service_left).at("maintenance"), true);

  const Model node_left = Replay({Started("2026-05-12T12:00:00Z"),
                                  Started("2026-05-12T12:01:00Z", "saturn", "mosquitto"),
                                  Ended("2026-05-12T12:02:00Z", "saturn", "mosquitto")});
  EXPECT_EQ(Node(node_left).at("maintenance"), true);
  EXPECT_EQ(Service(node_left).at("maintenance"), true);  // its node's

  const Model both_left = Replay({Started("2026-05-12T12:00:00Z"),
                                  Started("2026-05-12T12:01:00Z", "saturn", "mosquitto"),
                                  Ended("2026-05-12T12:02:00Z", "saturn", "mosquitto"),
                                  Ended("2026-05-12T12:03:00Z")});
  EXPECT_EQ(Service(both_left).at("maintenance"), false);
}

TEST(MaintenanceTest, StartAndEndApplyInEventTimeOrder) {
  // The end is written first but happened last: maintenance is over.
  const Model over = ApplyInProcessingOrder({Ended("2026-05-12T12:10:00Z"),
                                             Started("2026-05-12T12:00:00Z")},
                                            Context());
  EXPECT_EQ(Node(over).at("maintenance"), false);
  // The start is written first but happened last: maintenance is on.
  const Model on = ApplyInProcessingOrder({Started("2026-05-12T12:10:00Z"),
                                           Ended("2026-05-12T12:00:00Z")},
                                          Context());
  EXPECT_EQ(Node(on).at("maintenance"), true);
}

TEST(MaintenanceTest, NodesAndServicesWithoutMaintenanceEventsAreNotInMaintenance) {
  const Model model = Replay({Passed("2026-05-12T12:00:00Z")});
  EXPECT_EQ(Node(model).at("maintenance"), false);
  EXPECT_EQ(Service(model).at("maintenance"), false);
}

// ------------------------------------------------- entries and nodes ----

TEST(MaintenanceTest, NamingAServiceCreatesItsEntry) {
  const Model model = Replay({Started("2026-05-12T12:00:00Z", "saturn", "mosquitto")});
  const json entry = Service(model);
  EXPECT_EQ(entry.at("node"), "saturn");
  EXPECT_EQ(entry.at("service"), "mosquitto");
  EXPECT_EQ(entry.at("maintenance"), true);
  // It is no health signal.
  EXPECT_EQ(entry.at("status"), "unknown");
  EXPECT_TRUE(entry.at("last_check").is_null());
  EXPECT_EQ(entry.at("flap_percent"), 0);

  const Model ended = Replay({Ended("2026-05-12T12:00:00Z", "saturn", "nextcloud")});
  EXPECT_EQ(Service(ended, "saturn/nextcloud").at("maintenance"), false);
}

TEST(MaintenanceTest, NodeWideMaintenanceCreatesNoServiceEntry) {
  const Model model = Replay({Started("2026-05-12T12:00:00Z"), Ended("2026-05-12T12:01:00Z")});
  EXPECT_TRUE(WorldJson(model, "services.json").empty());
  EXPECT_TRUE(WorldJson(model, "nodes.json").contains("saturn"));
}

TEST(MaintenanceTest, EventsCountAsTheNodeBeingSeen) {
  for (const Ev& ev : {Started("2026-05-12T12:05:00Z"), Ended("2026-05-12T12:05:00Z"),
                       Started("2026-05-12T12:05:00Z", "saturn", "mosquitto"),
                       Ended("2026-05-12T12:05:00Z", "saturn", "mosquitto")}) {
    const Model model = Replay({Ev("node_down").At("2026-05-12T12:00:00Z").Node("saturn"), ev});
    const json node = WorldEntry(model, "nodes.json", "saturn", {.now = "2026-05-12T12:06:00Z"});
    EXPECT_EQ(node.at("last_seen"), "2026-05-12T12:05:00Z") << ev.event().service;
    EXPECT_EQ(node.at("status"), "up") << "a maintenance event lifts node_down";
  }
}

TEST(MaintenanceTest, EventsAreCountedAsProcessedByTheirType) {
  const Model model = Replay({Started("2026-05-12T12:00:00Z"), Ended("2026-05-12T12:01:00Z"),
                              Ended("2026-05-12T12:02:00Z", "saturn", "mosquitto")});
  EXPECT_EQ(model.counters.processed_by_type.at("maintenance_started"), 1u);
  EXPECT_EQ(model.counters.processed_by_type.at("maintenance_ended"), 2u);
}

// ------------------------------------------------------ the parser ----

RejectReason ReasonOf(std::string_view line) {
  const ParseResult r = ParseEventLine(line);
  const auto* rejection = std::get_if<Rejection>(&r);
  EXPECT_NE(rejection, nullptr) << line << " was accepted";
  return rejection != nullptr ? rejection->reason : RejectReason::kBadJson;
}

TEST(MaintenanceTest, EventWithoutNodeIsRejectedLikeOtherEventsThatNeedOne) {
  const RejectReason expected = ReasonOf(
      R"({"timestamp":"2026-05-12T12:00:00Z","type":"healthcheck_passed","service":"mosquitto"})");
  EXPECT_EQ(expected, RejectReason::kMissingField);
  for (const char* line : {
           R"({"timestamp":"2026-05-12T12:00:00Z","type":"maintenance_started"})",
           R"({"timestamp":"2026-05-12T12:00:00Z","type":"maintenance_ended"})",
           R"({"timestamp":"2026-05-12T12:00:00Z","type":"maintenance_started","service":"mosquitto"})",
           R"({"timestamp":"2026-05-12T12:00:00Z","type":"maintenance_ended","node":"","service":"mosquitto"})",
           R"({"timestamp":"2026-05-12T12:00:00Z","type":"maintenance_started","node":null})",
       }) {
    EXPECT_EQ(ReasonOf(line), expected) << line;
  }
}

TEST(MaintenanceTest, EventNeedsNoServiceAndChecksNamesLikeAnyEvent) {
  for (const char* line : {
           R"({"timestamp":"2026-05-12T12:00:00Z","type":"maintenance_started","node":"saturn"})",
           R"({"timestamp":"2026-05-12T12:00:00Z","type":"maintenance_ended","node":"saturn","service":"mosquitto"})",
       }) {
    const ParseResult r = ParseEventLine(line);
    EXPECT_TRUE(std::holds_alternative<Event>(r)) << line;
  }
  EXPECT_EQ(ReasonOf(R"({"timestamp":"2026-05-12T12:00:00Z","type":"maintenance_started","node":"sat/urn"})"),
            RejectReason::kBadName);
  EXPECT_EQ(ReasonOf(R"({"timestamp":"2026-05-12T12:00:00Z","type":"maintenance_ended","node":"saturn","service":7})"),
            RejectReason::kMistypedField);
}

// ---------------------------------------------------------- incidents ----

TEST(MaintenanceTest, FailuresDuringMaintenanceStillOpenAndUpdateIncidents) {
  const Model model = Replay({Started("2026-05-12T12:00:00Z"), Failed("2026-05-12T12:01:00Z"),
                              Failed("2026-05-12T12:02:00Z")});
  const json incident = IncidentStartedAt(model, "2026-05-12T12:01:00Z");
  EXPECT_EQ(incident.at("status"), "active");
  EXPECT_EQ(incident.at("occurrence_count"), 2);
  EXPECT_EQ(incident.at("during_maintenance"), true);
  EXPECT_EQ(Service(model).at("status"), "unhealthy");
}

TEST(MaintenanceTest, IncidentWithoutOccurrenceInMaintenanceIsNotDuringMaintenance) {
  // Maintenance before the incident, and after its last occurrence.
  const Model model = Replay({Started("2026-05-12T12:00:00Z"), Ended("2026-05-12T12:01:00Z"),
                              Failed("2026-05-12T12:02:00Z"), Failed("2026-05-12T12:03:00Z"),
                              Started("2026-05-12T12:04:00Z"), Recovered("2026-05-12T12:05:00Z")});
  EXPECT_EQ(IncidentStartedAt(model, "2026-05-12T12:02:00Z").at("during_maintenance"), false);
}

TEST(MaintenanceTest, OneOccurrenceInMaintenanceIsEnough) {
  // Opened outside, one later occurrence inside the node's maintenance.
  const Model later = Replay({Failed("2026-05-12T12:00:00Z"), Started("2026-05-12T12:01:00Z"),
                              Failed("2026-05-12T12:02:00Z"), Ended("2026-05-12T12:03:00Z"),
                              Failed("2026-05-12T12:04:00Z")});
  EXPECT_EQ(IncidentStartedAt(later, "2026-05-12T12:00:00Z").at("during_maintenance"), true);
  // Opened inside the service's own maintenance, going on after it.
  const Model first = Replay({Started("2026-05-12T12:00:00Z", "saturn", "mosquitto"),
                              Failed("2026-05-12T12:01:00Z"),
                              Ended("2026-05-12T12:02:00Z", "saturn", "mosquitto"),
                              Failed("2026-05-12T12:03:00Z")});
  EXPECT_EQ(IncidentStartedAt(first, "2026-05-12T12:01:00Z").at("during_maintenance"), true);
}

TEST(MaintenanceTest, AnotherServicesMaintenanceDoesNotCount) {
  const Model model = Replay({Started("2026-05-12T12:00:00Z", "saturn", "grafana"),
                              Started("2026-05-12T12:00:00Z", "jupiter"),
                              Failed("2026-05-12T12:01:00Z")});
  EXPECT_EQ(IncidentStartedAt(model, "2026-05-12T12:01:00Z").at("during_maintenance"), false);
}

TEST(MaintenanceTest, DeploymentFailureDuringMaintenanceIsDuringMaintenance) {
  const Model model = Replay({
      Ev("deployment_started").At("2026-05-12T12:00:00Z").Node("saturn").Service("mosquitto")
          .Corr("d-1"),
      Started("2026-05-12T12:01:00Z"),
      Ev("deployment_failed").At("2026-05-12T12:02:00Z").Corr("d-1"),
  });
  EXPECT_EQ(IncidentStartedAt(model, "2026-05-12T12:02:00Z").at("during_maintenance"), true);
}

TEST(MaintenanceTest, MaintenanceDoesNotSuppressResolutions) {
  const Model with_node = Replay({Failed("2026-05-12T12:00:00Z"), Started("2026-05-12T12:01:00Z"),
                                  Recovered("2026-05-12T12:02:00Z")});
  EXPECT_EQ(IncidentStartedAt(with_node, "2026-05-12T12:00:00Z").at("status"), "resolved");
  EXPECT_EQ(Service(with_node).at("status"), "healthy");

  const Model nodeless = Replay({Failed("2026-05-12T12:00:00Z"),
                                 Started("2026-05-12T12:01:00Z", "saturn", "mosquitto"),
                                 Ev("service_recovered").At("2026-05-12T12:02:00Z")
                                     .Service("mosquitto")});
  const json incident = IncidentStartedAt(nodeless, "2026-05-12T12:00:00Z");
  EXPECT_EQ(incident.at("status"), "resolved");
  EXPECT_EQ(incident.at("resolved_at"), "2026-05-12T12:02:00Z");
}

TEST(MaintenanceTest, HealthResultsGoOnDuringMaintenance) {
  // 21 alternating results, all inside the node's maintenance: flapping.
  std::vector<Ev> events = {Started("2026-05-12T11:00:00Z")};
  for (int i = 0; i < 21; ++i) {
    const std::string at = "2026-05-12T12:00:" + std::string(i < 10 ? "0" : "") + std::to_string(i) + "Z";
    events.push_back(i % 2 == 0 ? Passed(at) : Failed(at));
  }
  const Model model = Replay(events);
  EXPECT_EQ(Service(model).at("flap_percent"), 100);
  EXPECT_EQ(Service(model).at("flapping"), true);
}

}  // namespace
}  // namespace hlo
