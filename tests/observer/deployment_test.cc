// Deployments (CONTRACT §4 table, §5 deployments.json, §8 "Deployments",
// diagnostics paths and the deployments counter), on literals.
#include <initializer_list>
#include <map>
#include <string>
#include <string_view>
#include <utility>
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

json DeploymentsJson(const Model& model) {
  SnapshotInputs in;
  in.model = &model;
  in.now = T("2026-05-12T13:00:00Z");
  return json::parse(SerializeWorld(BuildSnapshot(in), *in.model)[0].content);
}

// The raw text of deployments.json, to tell 90 from 90.0.
std::string DeploymentsText(const Model& model) {
  SnapshotInputs in;
  in.model = &model;
  return SerializeWorld(BuildSnapshot(in), *in.model)[0].content;
}

Ev Started(std::string_view at, std::string id = "d-1") {
  Ev ev("deployment_started");
  ev.At(at).Corr(std::move(id));
  return ev;
}
Ev Stage(std::string_view at, std::string stage, std::string id = "d-1") {
  Ev ev("deployment_stage");
  ev.At(at).Corr(std::move(id)).Stage(std::move(stage));
  return ev;
}
Ev Succeeded(std::string_view at, std::string id = "d-1") {
  Ev ev("deployment_succeeded");
  ev.At(at).Corr(std::move(id));
  return ev;
}
Ev Failed(std::string_view at, std::string id = "d-1") {
  Ev ev("deployment_failed");
  ev.At(at).Corr(std::move(id));
  return ev;
}

TEST(DeploymentTest, StartedCreatesRunningDeployment) {
  const Model model = Replay({Started("2026-05-12T12:00:00Z").Node("saturn").Service("mosquitto")});
  const json expected = json::parse(R"({
    "d-1": {
      "correlation_id": "d-1",
      "node": "saturn",
      "service": "mosquitto",
      "status": "running",
      "started_at": "2026-05-12T12:00:00Z",
      "finished_at": null,
      "duration_seconds": null,
      "stages": [],
      "attempts": 1,
      "diagnostics": []
    }
  })");
  EXPECT_EQ(DeploymentsJson(model), expected);
}

TEST(DeploymentTest, UnknownCorrelationIdCreatesIt) {
  for (const Ev& first : {Stage("2026-05-12T12:00:00Z", "pull"), Succeeded("2026-05-12T12:00:00Z"),
                          Failed("2026-05-12T12:00:00Z")}) {
    Model model;
    Apply(model, first.event(), {std::string(kLogsDir), nullptr, {}});
    ASSERT_EQ(model.deployments.size(), 1u);
    const DeploymentState& d = model.deployments.at("d-1");
    EXPECT_EQ(d.correlation_id, "d-1");
    EXPECT_FALSE(d.started_at.has_value());
    EXPECT_EQ(d.attempts, 1u);
    const json j = DeploymentsJson(model).at("d-1");
    EXPECT_TRUE(j.at("started_at").is_null());
    EXPECT_TRUE(j.at("duration_seconds").is_null());
    EXPECT_TRUE(j.at("node").is_null());
    EXPECT_TRUE(j.at("service").is_null());
  }
}

TEST(DeploymentTest, StageOnUnknownIsRunning) {
  const Model model = Replay({Stage("2026-05-12T12:00:00Z", "pull")});
  EXPECT_EQ(model.deployments.at("d-1").status, DeploymentStatus::kRunning);
  EXPECT_EQ(model.deployments.at("d-1").stages,
            (std::vector<DeploymentStage>{{"pull", T("2026-05-12T12:00:00Z")}}));
}

TEST(DeploymentTest, SucceededOnUnknownIsFinishedWithNullDuration) {
  const Model model = Replay({Succeeded("2026-05-12T12:00:00Z")});
  const json j = DeploymentsJson(model).at("d-1");
  EXPECT_EQ(j.at("status"), "succeeded");
  EXPECT_EQ(j.at("finished_at"), "2026-05-12T12:00:00Z");
  EXPECT_TRUE(j.at("duration_seconds").is_null());
}

TEST(DeploymentTest, StartedOnFinishedIsNewAttempt) {
  for (const Ev& end : {Succeeded("2026-05-12T12:05:00Z"),
                        Failed("2026-05-12T12:05:00Z").Diag({"d-1.log"})}) {
    Model model = Replay({Started("2026-05-12T12:00:00Z"), Stage("2026-05-12T12:01:00Z", "pull")});
    Apply(model, end.event(), {std::string(kLogsDir), nullptr, {}});
    Feed(model, {Started("2026-05-12T12:10:00Z")});
    const json expected = json::parse(R"({
      "correlation_id": "d-1",
      "node": null,
      "service": null,
      "status": "running",
      "started_at": "2026-05-12T12:10:00Z",
      "finished_at": null,
      "duration_seconds": null,
      "stages": [],
      "attempts": 2,
      "diagnostics": []
    })");
    EXPECT_EQ(DeploymentsJson(model).at("d-1"), expected) << EventTypeName(end.event().type);
  }
}

TEST(DeploymentTest, EachNewAttemptCounts) {
  const Model model = Replay({
      Started("2026-05-12T12:00:00Z"), Failed("2026-05-12T12:01:00Z"),
      Started("2026-05-12T12:02:00Z"), Failed("2026-05-12T12:03:00Z"),
      Started("2026-05-12T12:04:00Z"), Succeeded("2026-05-12T12:05:30Z"),
  });
  const json j = DeploymentsJson(model).at("d-1");
  EXPECT_EQ(j.at("attempts"), 3);
  EXPECT_EQ(j.at("status"), "succeeded");
  EXPECT_EQ(j.at("duration_seconds"), 90);
}

TEST(DeploymentTest, StartedOnUnknownFinishedIsNewAttempt) {
  // Created by its end event (attempts 1, started_at null), then started.
  const Model model = Replay({Succeeded("2026-05-12T12:00:00Z"), Started("2026-05-12T12:10:00Z")});
  const DeploymentState& d = model.deployments.at("d-1");
  EXPECT_EQ(d.attempts, 2u);
  EXPECT_EQ(d.status, DeploymentStatus::kRunning);
  EXPECT_EQ(d.started_at, T("2026-05-12T12:10:00Z"));
  EXPECT_FALSE(d.finished_at.has_value());
}

TEST(DeploymentTest, StartedOnRunningOnlyFillsNullStartedAt) {
  Model model = Replay({Stage("2026-05-12T12:01:00Z", "pull")});
  Feed(model, {Started("2026-05-12T12:00:00Z")});
  EXPECT_EQ(model.deployments.at("d-1").started_at, T("2026-05-12T12:00:00Z"));
  Feed(model, {Started("2026-05-12T12:02:00Z")});
  const DeploymentState& d = model.deployments.at("d-1");
  EXPECT_EQ(d.started_at, T("2026-05-12T12:00:00Z"));
  EXPECT_EQ(d.attempts, 1u);
  EXPECT_EQ(d.stages.size(), 1u);
  EXPECT_EQ(d.status, DeploymentStatus::kRunning);
}

TEST(DeploymentTest, NodeAndServiceAreLatestNonEmpty) {
  Model model = Replay({Started("2026-05-12T12:00:00Z").Node("saturn").Service("mosquitto")});
  Feed(model, {Stage("2026-05-12T12:01:00Z", "pull")});
  EXPECT_EQ(model.deployments.at("d-1").node, "saturn");
  EXPECT_EQ(model.deployments.at("d-1").service, "mosquitto");
  Feed(model, {Stage("2026-05-12T12:02:00Z", "restart").Node("jupiter")});
  EXPECT_EQ(model.deployments.at("d-1").node, "jupiter");
  EXPECT_EQ(model.deployments.at("d-1").service, "mosquitto");
  Feed(model, {Succeeded("2026-05-12T12:03:00Z").Service("grafana")});
  EXPECT_EQ(model.deployments.at("d-1").node, "jupiter");
  EXPECT_EQ(model.deployments.at("d-1").service, "grafana");
}

TEST(DeploymentTest, SucceededAndFailedAlwaysSetStatusAndFinishedAt) {
  Model model = Replay({Started("2026-05-12T12:00:00Z"), Succeeded("2026-05-12T12:05:00Z")});
  Feed(model, {Failed("2026-05-12T12:04:00Z")});
  EXPECT_EQ(model.deployments.at("d-1").status, DeploymentStatus::kFailed);
  EXPECT_EQ(model.deployments.at("d-1").finished_at, T("2026-05-12T12:04:00Z"));
  Feed(model, {Succeeded("2026-05-12T12:06:00Z")});
  EXPECT_EQ(model.deployments.at("d-1").status, DeploymentStatus::kSucceeded);
  EXPECT_EQ(model.deployments.at("d-1").finished_at, T("2026-05-12T12:06:00Z"));
  EXPECT_EQ(model.deployments.at("d-1").attempts, 1u);
}

TEST(DeploymentTest, StageAfterEndIsAppendedAndStatusStays) {
  const Model model = Replay({
      Started("2026-05-12T12:00:00Z"),
      Stage("2026-05-12T12:01:00Z", "pull"),
      Failed("2026-05-12T12:02:00Z"),
      Stage("2026-05-12T12:03:00Z", "cleanup"),
  });
  const json j = DeploymentsJson(model).at("d-1");
  EXPECT_EQ(j.at("status"), "failed");
  EXPECT_EQ(j.at("finished_at"), "2026-05-12T12:02:00Z");
  EXPECT_EQ(j.at("stages"), json::parse(R"([
    {"name": "pull", "at": "2026-05-12T12:01:00Z"},
    {"name": "cleanup", "at": "2026-05-12T12:03:00Z"}
  ])"));
  EXPECT_EQ(j.at("duration_seconds"), 120);
}

TEST(DeploymentTest, StagesKeepProcessingOrderAndRepeats) {
  const Model model = Replay({
      Stage("2026-05-12T12:03:00Z", "b"),
      Stage("2026-05-12T12:01:00Z", "a"),
      Stage("2026-05-12T12:04:00Z", "b"),
  });
  const auto& stages = model.deployments.at("d-1").stages;
  ASSERT_EQ(stages.size(), 3u);
  EXPECT_EQ(stages[0].name, "b");
  EXPECT_EQ(stages[1].name, "a");
  EXPECT_EQ(stages[1].at, T("2026-05-12T12:01:00Z"));
}

TEST(DeploymentTest, DurationIsIntegerWhenWhole) {
  const Model model = Replay({Started("2026-05-12T12:00:00Z"), Succeeded("2026-05-12T12:01:30Z")});
  EXPECT_NE(DeploymentsText(model).find("\"duration_seconds\": 90,"), std::string::npos)
      << DeploymentsText(model);
  EXPECT_TRUE(DeploymentsJson(model).at("d-1").at("duration_seconds").is_number_integer());
}

TEST(DeploymentTest, DurationIsIntegerWhenWholeAcrossFractions) {
  const Model model =
      Replay({Started("2026-05-12T12:00:00.25Z"), Succeeded("2026-05-12T12:00:02.25Z")});
  EXPECT_NE(DeploymentsText(model).find("\"duration_seconds\": 2,"), std::string::npos);
}

TEST(DeploymentTest, DurationIsFloatWhenFractional) {
  const Model model = Replay({Started("2026-05-12T12:00:00Z"), Failed("2026-05-12T12:00:01.5Z")});
  EXPECT_NE(DeploymentsText(model).find("\"duration_seconds\": 1.5,"), std::string::npos)
      << DeploymentsText(model);
  const Model tiny =
      Replay({Started("2026-05-12T12:00:00.999999999Z"), Failed("2026-05-12T12:00:01Z")});
  EXPECT_DOUBLE_EQ(DeploymentsJson(tiny).at("d-1").at("duration_seconds").get<double>(), 1e-9);
}

TEST(DeploymentTest, DurationNullWhileRunning) {
  const Model model = Replay({Started("2026-05-12T12:00:00Z"), Stage("2026-05-12T12:01:00Z", "x")});
  EXPECT_TRUE(DeploymentsJson(model).at("d-1").at("duration_seconds").is_null());
}

TEST(DeploymentTest, DurationNullWhenStartedAtUnknown) {
  const Model model = Replay({Stage("2026-05-12T12:00:00Z", "x"), Failed("2026-05-12T12:01:00Z")});
  const json j = DeploymentsJson(model).at("d-1");
  EXPECT_TRUE(j.at("started_at").is_null());
  EXPECT_TRUE(j.at("duration_seconds").is_null());
}

TEST(DeploymentTest, DiagnosticsPathsNormalise) {
  const std::string logs(kLogsDir);
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"x", "logs/x"},
      {"deploy-42.log", "logs/deploy-42.log"},
      {"a//b/./c", "logs/a/b/c"},
      {"a/../b", "logs/b"},
      {"./x/", "logs/x"},
      {"../logs/x", "logs/x"},  // lexically back inside
      {"../etc/passwd", ""},
      {"logs/../../x", ""},
      {"..", ""},
      {"a/../..", ""},
      {".", ""},
      {"", ""},
      {"a/..", ""},  // logs/ itself is not strictly inside
      {"/opt/homelab/logs/deploy.log", "logs/deploy.log"},
      {"/opt/homelab/logs//sub/./x.log", "logs/sub/x.log"},
      {"/opt/homelab/logs/sub/../x.log", "logs/x.log"},
      {"/opt/homelab/logs", ""},
      {"/opt/homelab/logs/", ""},
      {"/opt/homelab/logs/..", ""},
      {"/opt/homelab/logs/../state/x", ""},
      {"/opt/homelab/logsx/y", ""},
      {"/etc/passwd", ""},
      {"/", ""},
      {"/../opt/homelab/logs/x", "logs/x"},  // "/.." is "/"
  };
  for (const auto& [in, out] : cases) {
    EXPECT_EQ(NormalizeDiagnosticsPath(in, logs), out) << "path: '" << in << "'";
  }
}

TEST(DeploymentTest, AbsoluteDiagnosticsDroppedWithoutLogsDir) {
  EXPECT_EQ(NormalizeDiagnosticsPath("/etc/passwd", ""), "");
  EXPECT_EQ(NormalizeDiagnosticsPath("x.log", ""), "logs/x.log");
}

TEST(DeploymentTest, DiagnosticsAttachedNormalisedInOrderWithoutDuplicates) {
  const Model model = Replay({
      Started("2026-05-12T12:00:00Z"),
      Failed("2026-05-12T12:01:00Z")
          .Diag({"b.log", "../etc/passwd", "/opt/homelab/logs/a.log", "./b.log", "", "."}),
      Failed("2026-05-12T12:02:00Z").Diag({"a.log", "c.log"}),
  });
  EXPECT_EQ(DeploymentsJson(model).at("d-1").at("diagnostics"),
            json::parse(R"(["logs/b.log", "logs/a.log", "logs/c.log"])"));
}

TEST(DeploymentTest, DroppedDiagnosticsStillApplyTheEvent) {
  const Model model =
      Replay({Started("2026-05-12T12:00:00Z"),
              Failed("2026-05-12T12:01:00Z").Diag({"/etc/shadow"})});
  const DeploymentState& d = model.deployments.at("d-1");
  EXPECT_EQ(d.status, DeploymentStatus::kFailed);
  EXPECT_TRUE(d.diagnostics.empty());
}

TEST(DeploymentTest, DiagnosticsOnlyFromCurrentAttempt) {
  const Model model = Replay({
      Started("2026-05-12T12:00:00Z"),
      Failed("2026-05-12T12:01:00Z").Diag({"first.log"}),
      Started("2026-05-12T12:02:00Z"),
      Failed("2026-05-12T12:03:00Z").Diag({"second.log"}),
  });
  EXPECT_EQ(model.deployments.at("d-1").diagnostics, std::vector<std::string>{"logs/second.log"});
}

TEST(DeploymentTest, DeploymentsCounterCountsFinishEventsByService) {
  const Model model = Replay({
      Started("2026-05-12T12:00:00Z").Node("saturn").Service("mosquitto"),
      Stage("2026-05-12T12:00:30Z", "pull"),
      Failed("2026-05-12T12:01:00Z"),
      Started("2026-05-12T12:02:00Z"),
      Succeeded("2026-05-12T12:03:00Z"),
      Succeeded("2026-05-12T12:04:00Z"),  // every applied event counts
      Started("2026-05-12T12:00:00Z", "d-2"),
      Failed("2026-05-12T12:01:00Z", "d-2"),  // no service: ""
      Succeeded("2026-05-12T12:01:00Z", "d-3").Service("grafana"),
  });
  using Key = std::pair<std::string, std::string>;
  const std::map<Key, uint64_t> expected = {
      {{"mosquitto", "succeeded"}, 2},
      {{"mosquitto", "failed"}, 1},
      {{"", "failed"}, 1},
      {{"grafana", "succeeded"}, 1},
  };
  EXPECT_EQ(model.counters.deployments_finished, expected);
}

TEST(DeploymentTest, DeploymentsSortedByCorrelationId) {
  const Model model =
      Replay({Started("2026-05-12T12:00:00Z", "zz"), Started("2026-05-12T12:00:00Z", "aa")});
  const std::string text = DeploymentsText(model);
  EXPECT_LT(text.find("\"aa\""), text.find("\"zz\""));
}

}  // namespace
}  // namespace hlo
