// Incidents (CONTRACT §4 table, §5 incidents.json, §8 "Incidents"), on literals.
#include <algorithm>
#include <deque>
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

json WorldFileJson(const Model& model, std::string_view name) {
  SnapshotInputs in;
  in.model = &model;
  in.now = T("2026-05-12T13:00:00Z");
  for (const WorldFile& file : SerializeWorld(BuildSnapshot(in), *in.model)) {
    if (file.name == name) return json::parse(file.content);
  }
  ADD_FAILURE() << "no world file " << name;
  return json();
}

Ev Unhealthy(std::string_view at, std::string node = "saturn", std::string service = "mosquitto") {
  Ev ev("service_unhealthy");
  ev.At(at).Node(std::move(node)).Service(std::move(service));
  return ev;
}

Ev Recovered(std::string_view at, std::string node = "saturn", std::string service = "mosquitto") {
  Ev ev("service_recovered");
  ev.At(at).Node(std::move(node)).Service(std::move(service));
  return ev;
}

const IncidentState& Only(const Model& model) {
  EXPECT_EQ(model.incidents.size(), 1u);
  return model.incidents.begin()->second;
}

const std::string kSeedId = "inc-1778587500-saturn-mosquitto";  // 2026-05-12T12:05:00Z

TEST(IncidentTest, SeedExampleGivesOneResolvedIncident) {
  const Model model = Replay({
      Ev("service_unhealthy").At("2026-05-12T12:05:00Z").Node("saturn").Service("mosquitto")
          .Corr("hc-1").Sev(Severity::kError),
      Ev("service_unhealthy").At("2026-05-12T12:06:00Z").Node("saturn").Service("mosquitto")
          .Corr("hc-1").Sev(Severity::kError),
      Ev("service_recovered").At("2026-05-12T12:10:00Z").Node("saturn").Service("mosquitto"),
  });
  ASSERT_EQ(model.incidents.size(), 1u);
  const IncidentState& incident = model.incidents.at(kSeedId);
  EXPECT_FALSE(incident.active);
  EXPECT_EQ(incident.occurrence_count, 2u);

  const json expected = json::parse(R"({
    "inc-1778587500-saturn-mosquitto": {
      "id": "inc-1778587500-saturn-mosquitto",
      "node": "saturn",
      "service": "mosquitto",
      "status": "resolved",
      "severity": "error",
      "started_at": "2026-05-12T12:05:00Z",
      "last_occurrence": "2026-05-12T12:06:00Z",
      "occurrence_count": 2,
      "events": ["2026-05-12T12:05:00Z", "2026-05-12T12:06:00Z"],
      "correlation_id": "hc-1",
      "resolved_at": "2026-05-12T12:10:00Z",
      "repeat_of": null,
      "diagnostics": [],
      "duration_seconds": 300,
      "flapping": false,
      "during_maintenance": false
    }
  })");
  EXPECT_EQ(WorldFileJson(model, "incidents.json"), expected);
}

TEST(IncidentTest, FailureOpensActiveIncident) {
  const Model model = Replay({Unhealthy("2026-05-12T12:05:00Z")});
  const IncidentState& incident = Only(model);
  EXPECT_EQ(incident.id, kSeedId);
  EXPECT_TRUE(incident.active);
  EXPECT_EQ(incident.started_at, T("2026-05-12T12:05:00Z"));
  EXPECT_EQ(incident.last_occurrence, T("2026-05-12T12:05:00Z"));
  EXPECT_EQ(incident.occurrence_count, 1u);
  EXPECT_FALSE(incident.resolved_at.has_value());
  EXPECT_EQ(model.services.at("saturn/mosquitto").active_incident, kSeedId);
}

TEST(IncidentTest, HealthcheckFailedIsAFailureToo) {
  const Model model = Replay({
      Ev("healthcheck_failed").At("2026-05-12T12:05:00Z").Node("saturn").Service("mosquitto"),
      Unhealthy("2026-05-12T12:06:00Z"),
  });
  const IncidentState& incident = Only(model);
  EXPECT_EQ(incident.id, kSeedId);
  EXPECT_EQ(incident.occurrence_count, 2u);
}

TEST(IncidentTest, FailureWhileActiveAddsToIt) {
  const Model model = Replay({
      Unhealthy("2026-05-12T12:05:00Z"),
      Unhealthy("2026-05-12T12:06:00Z"),
      Unhealthy("2026-05-12T12:07:00Z"),
  });
  const IncidentState& incident = Only(model);
  EXPECT_EQ(incident.occurrence_count, 3u);
  EXPECT_EQ(incident.started_at, T("2026-05-12T12:05:00Z"));
  EXPECT_EQ(incident.last_occurrence, T("2026-05-12T12:07:00Z"));
  EXPECT_EQ(incident.events, (std::vector<Timestamp>{T("2026-05-12T12:05:00Z"),
                                                    T("2026-05-12T12:06:00Z"),
                                                    T("2026-05-12T12:07:00Z")}));
}

TEST(IncidentTest, OtherNodeOrServiceOpensItsOwnIncident) {
  const Model model = Replay({
      Unhealthy("2026-05-12T12:05:00Z", "saturn", "mosquitto"),
      Unhealthy("2026-05-12T12:05:00Z", "jupiter", "mosquitto"),
      Unhealthy("2026-05-12T12:05:00Z", "saturn", "grafana"),
  });
  EXPECT_EQ(model.incidents.size(), 3u);
  EXPECT_TRUE(model.incidents.count("inc-1778587500-saturn-mosquitto"));
  EXPECT_TRUE(model.incidents.count("inc-1778587500-jupiter-mosquitto"));
  EXPECT_TRUE(model.incidents.count("inc-1778587500-saturn-grafana"));
}

TEST(IncidentTest, FailureAfterResolveOpensNewIncident) {
  const Model model = Replay({
      Unhealthy("2026-05-12T12:05:00Z"),
      Recovered("2026-05-12T12:10:00Z"),
      Unhealthy("2026-05-12T12:20:00Z"),
  });
  ASSERT_EQ(model.incidents.size(), 2u);
  const IncidentState& second = model.incidents.at("inc-1778588400-saturn-mosquitto");
  EXPECT_TRUE(second.active);
  EXPECT_EQ(second.occurrence_count, 1u);
  EXPECT_FALSE(model.incidents.at(kSeedId).active);
}

TEST(IncidentTest, IdUsesFloorOfFractionalStartedAt) {
  const Model model = Replay({Unhealthy("2026-05-12T12:05:00.999999999Z")});
  EXPECT_EQ(Only(model).id, kSeedId);
}

TEST(IncidentTest, IdUsesUtcSecondsWhateverTheOffset) {
  const Model model = Replay({Unhealthy("2026-05-12T14:05:00+02:00")});
  EXPECT_EQ(Only(model).id, kSeedId);
}

TEST(IncidentTest, IdFloorsPre1970TimesToNegativeSeconds) {
  // -0.5 s floors to -1, not 0.
  EXPECT_EQ(Only(Replay({Unhealthy("1969-12-31T23:59:59.5Z")})).id, "inc--1-saturn-mosquitto");
  EXPECT_EQ(Only(Replay({Unhealthy("1969-12-31T23:59:58Z")})).id, "inc--2-saturn-mosquitto");
  EXPECT_EQ(Only(Replay({Unhealthy("1970-01-01T00:00:00.25Z")})).id, "inc-0-saturn-mosquitto");
}

TEST(IncidentTest, IdClashAddsSuffixEvenWithResolved) {
  const Model model = Replay({
      Unhealthy("2026-05-12T12:05:00Z"),
      Recovered("2026-05-12T12:05:00.2Z"),
      Unhealthy("2026-05-12T12:05:00.4Z"),
      Recovered("2026-05-12T12:05:00.6Z"),
      Unhealthy("2026-05-12T12:05:00.8Z"),
  });
  ASSERT_EQ(model.incidents.size(), 3u);
  EXPECT_FALSE(model.incidents.at(kSeedId).active);
  EXPECT_FALSE(model.incidents.at(kSeedId + "-2").active);
  EXPECT_TRUE(model.incidents.at(kSeedId + "-3").active);
  EXPECT_EQ(model.incidents.at(kSeedId + "-3").id, kSeedId + "-3");
  EXPECT_EQ(model.services.at("saturn/mosquitto").active_incident, kSeedId + "-3");
}

TEST(IncidentTest, IdClashAddsSuffixAgainstActiveIncidentOfAnotherPair) {
  // "a-b"/"c" and "a"/"b-c" spell the same base id.
  const Model model = Replay({
      Unhealthy("2026-05-12T12:05:00Z", "a-b", "c"),
      Unhealthy("2026-05-12T12:05:00Z", "a", "b-c"),
  });
  ASSERT_EQ(model.incidents.size(), 2u);
  EXPECT_EQ(model.incidents.at("inc-1778587500-a-b-c").node, "a-b");
  EXPECT_EQ(model.incidents.at("inc-1778587500-a-b-c-2").node, "a");
  EXPECT_EQ(model.services.at("a/b-c").active_incident, "inc-1778587500-a-b-c-2");
}

TEST(IncidentTest, IdClashSkipsSuffixesAlreadyTaken) {
  // Service "mosquitto-2" naturally owns "<base>-2", so the next clash of
  // saturn/mosquitto must go on to -3.
  const Model model = Replay({
      Unhealthy("2026-05-12T12:05:00Z", "saturn", "mosquitto"),
      Unhealthy("2026-05-12T12:05:00Z", "saturn", "mosquitto-2"),
      Recovered("2026-05-12T12:05:01Z", "saturn", "mosquitto"),
      Unhealthy("2026-05-12T12:05:00Z", "saturn", "mosquitto"),
  });
  ASSERT_EQ(model.incidents.size(), 3u);
  EXPECT_EQ(model.incidents.at(kSeedId + "-2").service, "mosquitto-2");
  EXPECT_EQ(model.incidents.at(kSeedId + "-3").service, "mosquitto");
  EXPECT_TRUE(model.incidents.at(kSeedId + "-3").active);
}

TEST(IncidentTest, EventsKeepLastHundredInProcessingOrder) {
  Model model;
  // 130 occurrences, each a second after the last: the latest 100 are kept,
  // oldest first.
  std::vector<Timestamp> processed;
  for (int i = 0; i < 130; ++i) {
    Event e = Unhealthy("2026-05-12T12:00:00Z").event();
    e.timestamp.seconds += i;
    processed.push_back(e.timestamp);
    Apply(model, e, {std::string(kLogsDir), nullptr, {}});
  }
  const IncidentState& incident = Only(model);
  EXPECT_EQ(incident.occurrence_count, 130u);
  ASSERT_EQ(incident.events.size(), kMaxIncidentEvents);
  EXPECT_EQ(kMaxIncidentEvents, 100u);
  EXPECT_TRUE(std::equal(incident.events.begin(), incident.events.end(), processed.begin() + 30));
  EXPECT_EQ(incident.started_at, processed.front());
  EXPECT_EQ(incident.last_occurrence, processed.back());

  const json file = WorldFileJson(model, "incidents.json");
  const json& events = file.at(incident.id).at("events");
  ASSERT_EQ(events.size(), 100u);
  EXPECT_EQ(events.front(), FormatTimestamp(processed[30]));
  EXPECT_EQ(events.back(), FormatTimestamp(processed[129]));
  EXPECT_EQ(file.at(incident.id).at("occurrence_count"), 130);
}

TEST(IncidentTest, EventsAtExactlyHundredDropNothing) {
  Model model;
  for (int i = 0; i < 100; ++i) {
    Event e = Unhealthy("2026-05-12T12:00:00Z").event();
    e.timestamp.seconds += i;
    Apply(model, e, {std::string(kLogsDir), nullptr, {}});
  }
  const IncidentState& incident = Only(model);
  ASSERT_EQ(incident.events.size(), 100u);
  EXPECT_EQ(incident.events.front(), T("2026-05-12T12:00:00Z"));
}

TEST(IncidentTest, SeverityDefaultsToError) {
  EXPECT_EQ(Only(Replay({Unhealthy("2026-05-12T12:05:00Z")})).severity, Severity::kError);
  const Model model = Replay({
      Ev("healthcheck_failed").At("2026-05-12T12:05:00Z").Node("saturn").Service("mosquitto"),
  });
  EXPECT_EQ(WorldFileJson(model, "incidents.json").at(kSeedId).at("severity"), "error");
}

TEST(IncidentTest, SeverityOnlyRises) {
  Model model = Replay({Unhealthy("2026-05-12T12:05:00Z").Sev(Severity::kInfo)});
  EXPECT_EQ(Only(model).severity, Severity::kInfo);
  Feed(model, {Unhealthy("2026-05-12T12:06:00Z").Sev(Severity::kWarning)});
  EXPECT_EQ(Only(model).severity, Severity::kWarning);
  Feed(model, {Unhealthy("2026-05-12T12:07:00Z").Sev(Severity::kCritical)});
  EXPECT_EQ(Only(model).severity, Severity::kCritical);
  Feed(model, {Unhealthy("2026-05-12T12:08:00Z").Sev(Severity::kInfo),
               Unhealthy("2026-05-12T12:09:00Z")});
  EXPECT_EQ(Only(model).severity, Severity::kCritical);
  EXPECT_EQ(WorldFileJson(model, "incidents.json").at(kSeedId).at("severity"), "critical");
}

TEST(IncidentTest, SeverityOfDefaultedFailureRaisesInfoToError) {
  const Model model = Replay({
      Unhealthy("2026-05-12T12:05:00Z").Sev(Severity::kInfo),
      Unhealthy("2026-05-12T12:06:00Z"),
  });
  EXPECT_EQ(Only(model).severity, Severity::kError);
}

TEST(IncidentTest, CorrelationIdIsFirstNonEmptyAmongFailures) {
  const Model model = Replay({
      Unhealthy("2026-05-12T12:05:00Z"),
      Unhealthy("2026-05-12T12:06:00Z").Corr("hc-1"),
      Unhealthy("2026-05-12T12:07:00Z").Corr("hc-2"),
  });
  EXPECT_EQ(Only(model).correlation_id, "hc-1");
}

TEST(IncidentTest, CorrelationIdIgnoresResolvingEvent) {
  const Model model = Replay({
      Unhealthy("2026-05-12T12:05:00Z"),
      Recovered("2026-05-12T12:10:00Z").Corr("rec-1"),
  });
  EXPECT_EQ(Only(model).correlation_id, "");
  EXPECT_TRUE(WorldFileJson(model, "incidents.json").at(kSeedId).at("correlation_id").is_null());
}

TEST(IncidentTest, RepeatOfIsMostRecentlyOpenedEarlierIncident) {
  const Model model = Replay({
      Unhealthy("2026-05-12T12:05:00Z"),
      Recovered("2026-05-12T12:06:00Z"),
      Unhealthy("2026-05-12T12:20:00Z"),
      Recovered("2026-05-12T12:21:00Z"),
      // Earlier timestamp, processed later: still the most recently opened.
      Unhealthy("2026-05-12T11:00:00Z"),
  });
  ASSERT_EQ(model.incidents.size(), 3u);
  EXPECT_EQ(model.incidents.at(kSeedId).repeat_of, "");
  EXPECT_EQ(model.incidents.at("inc-1778588400-saturn-mosquitto").repeat_of, kSeedId);
  EXPECT_EQ(model.incidents.at("inc-1778583600-saturn-mosquitto").repeat_of,
            "inc-1778588400-saturn-mosquitto");
  const json file = WorldFileJson(model, "incidents.json");
  EXPECT_TRUE(file.at(kSeedId).at("repeat_of").is_null());
  EXPECT_EQ(file.at("inc-1778588400-saturn-mosquitto").at("repeat_of"), kSeedId);
}

TEST(IncidentTest, RepeatOfIgnoresOtherNodesAndServices) {
  const Model model = Replay({
      Unhealthy("2026-05-12T12:00:00Z", "jupiter", "mosquitto"),
      Unhealthy("2026-05-12T12:01:00Z", "saturn", "grafana"),
      Unhealthy("2026-05-12T12:05:00Z", "saturn", "mosquitto"),
  });
  EXPECT_EQ(model.incidents.at(kSeedId).repeat_of, "");
}

TEST(IncidentTest, OccurrencesFollowEventTimeNotArrival) {
  const Model model = fakes::ApplyInProcessingOrder({
      Unhealthy("2026-05-12T12:05:00Z"),
      Unhealthy("2026-05-12T12:10:00Z"),
      Unhealthy("2026-05-12T12:07:00Z"),
  });
  const IncidentState& incident = Only(model);
  EXPECT_EQ(incident.last_occurrence, T("2026-05-12T12:10:00Z"));
  EXPECT_EQ(incident.events,
            (std::vector<Timestamp>{T("2026-05-12T12:05:00Z"), T("2026-05-12T12:07:00Z"),
                                    T("2026-05-12T12:10:00Z")}));
  EXPECT_EQ(incident.occurrence_count, 3u);
}

TEST(IncidentTest, HealthcheckPassedDoesNotResolve) {
  const Model model = Replay({
      Unhealthy("2026-05-12T12:05:00Z"),
      Ev("healthcheck_passed").At("2026-05-12T12:06:00Z").Node("saturn").Service("mosquitto"),
      Ev("node_heartbeat").At("2026-05-12T12:07:00Z").Node("saturn"),
  });
  EXPECT_TRUE(Only(model).active);
  EXPECT_FALSE(Only(model).resolved_at.has_value());
}

TEST(IncidentTest, OnlyServiceRecoveredResolves) {
  const Model model = Replay({
      Unhealthy("2026-05-12T12:05:00Z"),
      Ev("deployment_succeeded").At("2026-05-12T12:06:00Z").Node("saturn").Service("mosquitto")
          .Corr("d-1"),
      Ev("some_custom_event").At("2026-05-12T12:07:00Z").Node("saturn").Service("mosquitto"),
  });
  EXPECT_TRUE(Only(model).active);
}

TEST(IncidentTest, RecoveryResolvesOnlyThatNode) {
  const Model model = Replay({
      Unhealthy("2026-05-12T12:05:00Z", "saturn"),
      Unhealthy("2026-05-12T12:05:00Z", "jupiter"),
      Recovered("2026-05-12T12:10:00Z", "saturn"),
  });
  EXPECT_FALSE(model.incidents.at("inc-1778587500-saturn-mosquitto").active);
  EXPECT_EQ(model.incidents.at("inc-1778587500-saturn-mosquitto").resolved_at,
            T("2026-05-12T12:10:00Z"));
  EXPECT_TRUE(model.incidents.at("inc-1778587500-jupiter-mosquitto").active);
  EXPECT_EQ(model.services.at("saturn/mosquitto").active_incident, "");
  EXPECT_EQ(model.services.at("jupiter/mosquitto").active_incident,
            "inc-1778587500-jupiter-mosquitto");
}

TEST(IncidentTest, RecoveryResolvesOnlyThatService) {
  const Model model = Replay({
      Unhealthy("2026-05-12T12:05:00Z", "saturn", "mosquitto"),
      Unhealthy("2026-05-12T12:05:00Z", "saturn", "grafana"),
      Recovered("2026-05-12T12:10:00Z", "saturn", "mosquitto"),
  });
  EXPECT_FALSE(model.incidents.at("inc-1778587500-saturn-mosquitto").active);
  EXPECT_TRUE(model.incidents.at("inc-1778587500-saturn-grafana").active);
}

TEST(IncidentTest, RecoveryWithoutNodeResolvesOnEveryNode) {
  const Model model = Replay({
      Unhealthy("2026-05-12T12:05:00Z", "saturn"),
      Unhealthy("2026-05-12T12:05:00Z", "jupiter"),
      Unhealthy("2026-05-12T12:05:00Z", "saturn", "grafana"),
      Ev("service_recovered").At("2026-05-12T12:10:00Z").Service("mosquitto"),
  });
  for (const char* id : {"inc-1778587500-saturn-mosquitto", "inc-1778587500-jupiter-mosquitto"}) {
    EXPECT_FALSE(model.incidents.at(id).active) << id;
    EXPECT_EQ(model.incidents.at(id).resolved_at, T("2026-05-12T12:10:00Z")) << id;
  }
  EXPECT_TRUE(model.incidents.at("inc-1778587500-saturn-grafana").active);
}

TEST(IncidentTest, RecoveryWithoutNodeResolvesOnEveryNodeWithInventory) {
  Inventory inventory;
  inventory.nodes["venus"] = {"venus", {}, "", {}};
  inventory.services["venus"] = {"mosquitto"};
  inventory.services["saturn"] = {"mosquitto"};
  const Model model = Replay(
      {
          Unhealthy("2026-05-12T12:05:00Z", "saturn"),
          Unhealthy("2026-05-12T12:05:00Z", "jupiter"),
          Ev("service_recovered").At("2026-05-12T12:10:00Z").Service("mosquitto"),
      },
      &inventory);
  EXPECT_FALSE(model.incidents.at("inc-1778587500-saturn-mosquitto").active);
  EXPECT_FALSE(model.incidents.at("inc-1778587500-jupiter-mosquitto").active);
  EXPECT_EQ(model.incidents.size(), 2u);
}

TEST(IncidentTest, RecoveryWithoutActiveIncidentChangesNoIncident) {
  const Model model = Replay({
      Unhealthy("2026-05-12T12:05:00Z"),
      Recovered("2026-05-12T12:10:00Z"),
      Recovered("2026-05-12T12:20:00Z"),
  });
  EXPECT_EQ(Only(model).resolved_at, T("2026-05-12T12:10:00Z"));
}

TEST(IncidentTest, DeploymentFailedWithNodeAndServiceOpensIncident) {
  const Model model = Replay({
      Ev("deployment_failed").At("2026-05-12T12:05:00Z").Node("saturn").Service("mosquitto")
          .Corr("deploy-42").Diag({"deploy-42.log"}),
  });
  const IncidentState& incident = Only(model);
  EXPECT_EQ(incident.id, kSeedId);
  EXPECT_EQ(incident.severity, Severity::kError);
  EXPECT_EQ(incident.correlation_id, "deploy-42");
  EXPECT_EQ(incident.diagnostics, std::vector<std::string>{"logs/deploy-42.log"});
  EXPECT_EQ(model.services.at("saturn/mosquitto").active_incident, kSeedId);
}

TEST(IncidentTest, DeploymentFailedTakesNodeAndServiceFromItsDeployment) {
  const Model model = Replay({
      Ev("deployment_started").At("2026-05-12T12:00:00Z").Node("saturn").Corr("deploy-42"),
      Ev("deployment_stage").At("2026-05-12T12:01:00Z").Service("mosquitto").Corr("deploy-42"),
      Ev("deployment_failed").At("2026-05-12T12:05:00Z").Corr("deploy-42")
          .Sev(Severity::kCritical),
  });
  const IncidentState& incident = Only(model);
  EXPECT_EQ(incident.id, kSeedId);
  EXPECT_EQ(incident.severity, Severity::kCritical);
  EXPECT_EQ(incident.correlation_id, "deploy-42");
}

TEST(IncidentTest, DeploymentFailedPrefersItsOwnNodeAndService) {
  const Model model = Replay({
      Ev("deployment_started").At("2026-05-12T12:00:00Z").Node("jupiter").Service("grafana")
          .Corr("deploy-42"),
      Ev("deployment_failed").At("2026-05-12T12:05:00Z").Node("saturn").Corr("deploy-42"),
  });
  EXPECT_EQ(Only(model).id, "inc-1778587500-saturn-grafana");
}

TEST(IncidentTest, DeploymentFailedWithoutKnownServiceOpensNoIncident) {
  const Model model = Replay({
      Ev("deployment_started").At("2026-05-12T12:00:00Z").Node("saturn").Corr("d-1"),
      Ev("deployment_failed").At("2026-05-12T12:05:00Z").Corr("d-1"),
      Ev("deployment_failed").At("2026-05-12T12:05:00Z").Service("mosquitto").Corr("d-2"),
  });
  EXPECT_TRUE(model.incidents.empty());
}

TEST(IncidentTest, DeploymentSucceededIsNotAFailure) {
  const Model model = Replay({
      Ev("deployment_succeeded").At("2026-05-12T12:05:00Z").Node("saturn").Service("mosquitto")
          .Corr("d-1"),
  });
  EXPECT_TRUE(model.incidents.empty());
}

TEST(IncidentTest, DiagnosticsGatherInOrderWithoutDuplicates) {
  const Model model = Replay({
      Unhealthy("2026-05-12T12:04:00Z"),
      Ev("deployment_failed").At("2026-05-12T12:05:00Z").Node("saturn").Service("mosquitto")
          .Corr("d-1").Diag({"b.log", "a.log", "b.log"}),
      Ev("deployment_failed").At("2026-05-12T12:06:00Z").Node("saturn").Service("mosquitto")
          .Corr("d-2").Diag({"c.log", "/opt/homelab/logs/a.log", "../../etc/passwd", "./d.log"}),
  });
  const IncidentState& incident = Only(model);
  EXPECT_EQ(incident.occurrence_count, 3u);
  EXPECT_EQ(incident.correlation_id, "d-1");  // the first failure had none
  EXPECT_EQ(incident.diagnostics,
            (std::vector<std::string>{"logs/b.log", "logs/a.log", "logs/c.log", "logs/d.log"}));
  EXPECT_EQ(WorldFileJson(model, "incidents.json").at("inc-1778587440-saturn-mosquitto")
                .at("diagnostics"),
            json::parse(R"(["logs/b.log", "logs/a.log", "logs/c.log", "logs/d.log"])"));
}

TEST(IncidentTest, IncidentsSerializedSortedById) {
  const Model model = Replay({
      Unhealthy("2026-05-12T12:05:00Z", "zeus"),
      Unhealthy("2026-05-12T12:05:00Z", "apollo"),
  });
  SnapshotInputs in;
  in.model = &model;
  const std::string text = SerializeWorld(BuildSnapshot(in), *in.model)[1].content;
  EXPECT_LT(text.find("inc-1778587500-apollo-mosquitto"),
            text.find("inc-1778587500-zeus-mosquitto"));
}

}  // namespace
}  // namespace hlo
