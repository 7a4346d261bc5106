// The world files' format (CONTRACT §5, §8 "Times" and "Runs, checkpoint,
// metrics"), on literals.
#include <algorithm>
#include <array>
#include <functional>
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

Model Replay(std::initializer_list<Ev> events) {
  Model model;
  const ApplyContext context{std::string(kLogsDir), nullptr, {}};
  for (const Ev& ev : events) Apply(model, ev.event(), context);
  return model;
}

// A world touching every file and most fields.
Model Busy() {
  Model model = Replay({
      Ev("service_unhealthy").At("2026-05-12T12:05:00Z").Node("saturn").Service("mosquitto")
          .Corr("hc-1").Sev(Severity::kWarning),
      Ev("healthcheck_failed").At("2026-05-12T12:06:00Z").Node("jupiter").Service("grafana")
          .Sev(Severity::kCritical),
      Ev("healthcheck_failed").At("2026-05-12T12:06:00Z").Node("venus").Service("grafana"),
      Ev("service_recovered").At("2026-05-12T12:07:00Z").Node("venus").Service("grafana"),
      Ev("healthcheck_passed").At("2026-05-12T12:07:00Z").Node("mars").Service("nginx"),
      Ev("deployment_started").At("2026-05-12T12:00:00Z").Node("saturn").Service("mosquitto")
          .Corr("d-1"),
      Ev("deployment_stage").At("2026-05-12T12:00:30.120Z").Corr("d-1").Stage("pull"),
      Ev("deployment_succeeded").At("2026-05-12T12:01:30Z").Corr("d-1"),
      Ev("deployment_failed").At("2026-05-12T12:02:00Z").Corr("d-2"),
      Ev("deployment_stage").At("2026-05-12T12:02:00Z").Corr("d-3").Stage("pull"),
      Ev("node_down").At("2026-05-12T12:08:00Z").Node("pluto"),
      Ev("node_heartbeat").At("2026-05-12T14:20:00.500+02:00").Node("saturn"),
  });
  CountRejection(model, RejectReason::kBadJson);
  CountRejection(model, RejectReason::kBadName);
  return model;
}

struct Outside {
  const Inventory* inventory = nullptr;
  const StageMarkers* stages = nullptr;
  std::optional<std::string> checkpoint_file;
  uint64_t checkpoint_offset = 0;
};

std::array<WorldFile, 5> Serialize(const Model& model, const Outside& outside = {}) {
  SnapshotInputs in;
  in.model = &model;
  in.inventory = outside.inventory;
  in.stages = outside.stages;
  in.now = T("2026-05-12T12:30:00Z");
  in.checkpoint_file = outside.checkpoint_file;
  in.checkpoint_offset = outside.checkpoint_offset;
  return SerializeWorld(BuildSnapshot(in), *in.model);
}

json File(const Model& model, std::string_view name, const Outside& outside = {}) {
  for (const WorldFile& file : Serialize(model, outside)) {
    if (file.name == name) return json::parse(file.content);
  }
  ADD_FAILURE() << "no world file " << name;
  return json();
}

std::vector<std::string> Keys(const json& object) {
  std::vector<std::string> keys;
  for (const auto& [key, value] : object.items()) keys.push_back(key);
  return keys;
}

// Visits every object in `j`, keys in document order.
void EachObject(const nlohmann::ordered_json& j,
                const std::function<void(const std::vector<std::string>&)>& visit) {
  if (j.is_object()) {
    std::vector<std::string> keys;
    for (const auto& [key, value] : j.items()) {
      keys.push_back(key);
      EachObject(value, visit);
    }
    visit(keys);
  } else if (j.is_array()) {
    for (const auto& value : j) EachObject(value, visit);
  }
}

TEST(WorldSerializerTest, FilesComeInNameOrder) {
  const auto files = Serialize(Model{});
  for (size_t i = 0; i < files.size(); ++i) EXPECT_EQ(files[i].name, kWorldFileNames[i]);
  EXPECT_EQ(std::vector<std::string_view>(kWorldFileNames.begin(), kWorldFileNames.end()),
            (std::vector<std::string_view>{"deployments.json", "incidents.json", "nodes.json",
                                           "runtime-summary.json", "services.json"}));
}

TEST(WorldSerializerTest, KeysSortedInEveryObject) {
  Inventory inventory;
  inventory.nodes["zeta"] = {"zeta", {"b", "a"}, "", {}};
  inventory.services["zeta"] = {"zz", "aa"};
  StageMarkers stages;
  stages["alpha"] = {{"02", T("2026-05-12T11:00:00Z")}, {"01", T("2026-05-12T11:00:00Z")}};
  for (const WorldFile& file : Serialize(Busy(), {&inventory, &stages, "events-1.jsonl", 42})) {
    const auto doc = nlohmann::ordered_json::parse(file.content);
    int objects = 0;
    EachObject(doc, [&](const std::vector<std::string>& keys) {
      ++objects;
      EXPECT_TRUE(std::is_sorted(keys.begin(), keys.end())) << file.name;
    });
    EXPECT_GT(objects, 0) << file.name;
  }
}

TEST(WorldSerializerTest, EntityObjectsKeyedById) {
  const Model model = Busy();
  const json incidents = File(model, "incidents.json");
  for (const auto& [key, value] : incidents.items()) EXPECT_EQ(value.at("id"), key);
  const json deployments = File(model, "deployments.json");
  for (const auto& [key, value] : deployments.items()) {
    EXPECT_EQ(value.at("correlation_id"), key);
  }
  const json nodes = File(model, "nodes.json");
  for (const auto& [key, value] : nodes.items()) EXPECT_EQ(value.at("name"), key);
  const json services = File(model, "services.json");
  for (const auto& [key, value] : services.items()) {
    EXPECT_EQ(value.at("node").get<std::string>() + "/" + value.at("service").get<std::string>(),
              key);
  }
  EXPECT_EQ(Keys(File(model, "nodes.json")),
            (std::vector<std::string>{"jupiter", "mars", "pluto", "saturn", "venus"}));
  EXPECT_EQ(Keys(File(model, "deployments.json")), (std::vector<std::string>{"d-1", "d-2", "d-3"}));
}

TEST(WorldSerializerTest, EntityFieldsAreExactlyTheContracts) {
  const Model model = Busy();
  const auto fields = [](const json& file) { return Keys(file.begin().value()); };
  EXPECT_EQ(fields(File(model, "incidents.json")),
            (std::vector<std::string>{"correlation_id", "diagnostics", "duration_seconds",
                                      "during_maintenance", "events", "flapping", "id",
                                      "last_occurrence", "node", "occurrence_count", "repeat_of",
                                      "resolved_at", "service", "severity", "started_at",
                                      "status"}));
  EXPECT_EQ(fields(File(model, "services.json")),
            (std::vector<std::string>{"active_incident", "flap_percent", "flapping",
                                      "in_inventory", "last_check", "last_deployment",
                                      "maintenance", "node", "service", "status"}));
  EXPECT_EQ(fields(File(model, "nodes.json")),
            (std::vector<std::string>{"in_inventory", "last_seen", "maintenance", "name", "roles",
                                      "stages", "status"}));
  EXPECT_EQ(fields(File(model, "deployments.json")),
            (std::vector<std::string>{"attempts", "correlation_id", "diagnostics",
                                      "duration_seconds", "finished_at", "node", "service",
                                      "stages", "started_at", "status"}));
}

TEST(WorldSerializerTest, TimesAreUtcWithZAndTrimmedFraction) {
  const Model model = Busy();
  EXPECT_EQ(File(model, "nodes.json").at("saturn").at("last_seen"), "2026-05-12T12:20:00.5Z");
  EXPECT_EQ(File(model, "deployments.json").at("d-1").at("stages").at(0).at("at"),
            "2026-05-12T12:00:30.12Z");
  EXPECT_EQ(File(model, "deployments.json").at("d-1").at("started_at"), "2026-05-12T12:00:00Z");
  const json summary = File(model, "runtime-summary.json");
  EXPECT_EQ(summary.at("generated_at"), "2026-05-12T12:30:00Z");
  EXPECT_EQ(summary.at("events").at("last_event_at"), "2026-05-12T12:20:00.5Z");
}

TEST(WorldSerializerTest, PreEpochTimesFormatAsDates) {
  const Model model = Replay({Ev("node_heartbeat").At("1969-12-31T23:59:59.25Z").Node("old")});
  EXPECT_EQ(File(model, "nodes.json").at("old").at("last_seen"), "1969-12-31T23:59:59.25Z");
}

TEST(WorldSerializerTest, NullsWhereTheContractSaysNull) {
  const Model model = Busy();
  const json incident = File(model, "incidents.json").at("inc-1778587560-jupiter-grafana");
  EXPECT_TRUE(incident.at("correlation_id").is_null());
  EXPECT_TRUE(incident.at("resolved_at").is_null());
  EXPECT_TRUE(incident.at("repeat_of").is_null());

  const json service = File(model, "services.json").at("mars/nginx");
  EXPECT_TRUE(service.at("active_incident").is_null());
  EXPECT_TRUE(service.at("last_deployment").is_null());

  EXPECT_TRUE(File(model, "nodes.json").at("pluto").at("last_seen").is_null());

  const json running = File(model, "deployments.json").at("d-3");
  for (const char* field : {"node", "service", "started_at", "finished_at", "duration_seconds"}) {
    EXPECT_TRUE(running.at(field).is_null()) << field;
  }
  const json empty_summary = File(Model{}, "runtime-summary.json");
  EXPECT_TRUE(empty_summary.at("events").at("last_event_at").is_null());
  EXPECT_TRUE(empty_summary.at("checkpoint").at("file").is_null());
}

TEST(WorldSerializerTest, EmptyWorldIsEmptyObjects) {
  const auto files = Serialize(Model{});
  EXPECT_EQ(files[0].content, "{}\n");
  EXPECT_EQ(files[1].content, "{}\n");
  EXPECT_EQ(files[2].content, "{}\n");
  EXPECT_EQ(files[4].content, "{}\n");
}

TEST(WorldSerializerTest, RuntimeSummaryShapeOfEmptyWorld) {
  const json expected = json::parse(R"({
    "generated_at": "2026-05-12T12:30:00Z",
    "nodes": {"total": 0, "up": 0, "down": 0, "unknown": 0},
    "services": {"total": 0, "healthy": 0, "unhealthy": 0, "stale": 0, "unknown": 0},
    "incidents": {
      "active": 0,
      "resolved": 0,
      "active_by_severity": {"info": 0, "warning": 0, "error": 0, "critical": 0}
    },
    "deployments": {"total": 0, "running": 0, "succeeded": 0, "failed": 0},
    "events": {"processed": 0, "rejected": 0, "last_event_at": null},
    "checkpoint": {"file": null, "offset": 0}
  })");
  EXPECT_EQ(File(Model{}, "runtime-summary.json"), expected);
}

// The two healthy services sit on nodes that are down at 12:30: stale.
TEST(WorldSerializerTest, RuntimeSummaryCountsTheWorld) {
  Inventory inventory;
  inventory.nodes["neptune"] = {"neptune", {}, "", {}};
  inventory.services["neptune"] = {"dns"};
  const json expected = json::parse(R"({
    "generated_at": "2026-05-12T12:30:00Z",
    "nodes": {"total": 6, "up": 1, "down": 4, "unknown": 1},
    "services": {"total": 5, "healthy": 0, "unhealthy": 2, "stale": 2, "unknown": 1},
    "incidents": {
      "active": 2,
      "resolved": 1,
      "active_by_severity": {"info": 0, "warning": 1, "error": 0, "critical": 1}
    },
    "deployments": {"total": 3, "running": 1, "succeeded": 1, "failed": 1},
    "events": {"processed": 12, "rejected": 2, "last_event_at": "2026-05-12T12:20:00.5Z"},
    "checkpoint": {"file": "events-0002.jsonl", "offset": 4096}
  })");
  EXPECT_EQ(File(Busy(), "runtime-summary.json", {&inventory, nullptr, "events-0002.jsonl", 4096}),
            expected);
}

TEST(WorldSerializerTest, ActiveBySeverityAlwaysHasAllFourKeys) {
  const Model model = Replay({
      Ev("service_unhealthy").At("2026-05-12T12:05:00Z").Node("saturn").Service("mosquitto"),
  });
  const json by_severity =
      File(model, "runtime-summary.json").at("incidents").at("active_by_severity");
  EXPECT_EQ(by_severity, json::parse(R"({"info": 0, "warning": 0, "error": 1, "critical": 0})"));
}

TEST(WorldSerializerTest, ResolvedIncidentsLeaveActiveBySeverity) {
  const Model model = Replay({
      Ev("service_unhealthy").At("2026-05-12T12:05:00Z").Node("saturn").Service("mosquitto")
          .Sev(Severity::kCritical),
      Ev("service_recovered").At("2026-05-12T12:06:00Z").Node("saturn").Service("mosquitto"),
  });
  const json incidents = File(model, "runtime-summary.json").at("incidents");
  EXPECT_EQ(incidents.at("active"), 0);
  EXPECT_EQ(incidents.at("resolved"), 1);
  EXPECT_EQ(incidents.at("active_by_severity").at("critical"), 0);
}

TEST(WorldSerializerTest, EveryFileEndsWithOneNewline) {
  for (const Model& model : {Model{}, Busy()}) {
    for (const WorldFile& file : Serialize(model)) {
      ASSERT_FALSE(file.content.empty()) << file.name;
      EXPECT_EQ(file.content.back(), '\n') << file.name;
      EXPECT_NE(file.content.substr(file.content.size() - 2), "\n\n") << file.name;
    }
  }
}

TEST(WorldSerializerTest, IdenticalInputGivesIdenticalBytes) {
  Inventory inventory;
  inventory.nodes["neptune"] = {"neptune", {"dns"}, "", {}};
  StageMarkers stages;
  stages["neptune"] = {{"01", T("2026-05-12T11:00:00Z")}};
  const Outside outside{&inventory, &stages, "e.jsonl", 7};
  const auto first = Serialize(Busy(), outside);
  const auto second = Serialize(Busy(), outside);
  for (size_t i = 0; i < first.size(); ++i) {
    EXPECT_EQ(first[i].content, second[i].content) << first[i].name;
  }
}

TEST(WorldSerializerTest, GeneratedAtIsTheOnlyClockDependentBytes) {
  const Model model = Replay({Ev("node_heartbeat").At("2026-05-12T12:00:00Z").Node("saturn")});
  SnapshotInputs in;
  in.model = &model;
  in.now = T("2026-05-12T12:01:00Z");
  const auto early = SerializeWorld(BuildSnapshot(in), *in.model);
  in.now = T("2026-05-12T12:02:00Z");
  const auto later = SerializeWorld(BuildSnapshot(in), *in.model);
  EXPECT_EQ(early[0].content, later[0].content);
  EXPECT_EQ(early[1].content, later[1].content);
  EXPECT_EQ(early[2].content, later[2].content);
  EXPECT_EQ(early[4].content, later[4].content);
  EXPECT_NE(early[3].content, later[3].content);
}

TEST(WorldSerializerTest, InvalidUtf8NamesDoNotThrow) {
  StageMarkers stages;
  stages["bad\xff"] = {{"st\xfe", T("2026-05-12T11:00:00Z")}};
  SnapshotInputs in;
  const Model model;
  in.model = &model;
  in.stages = &stages;
  std::array<WorldFile, 5> files;
  EXPECT_NO_THROW(files = SerializeWorld(BuildSnapshot(in), *in.model));
  EXPECT_TRUE(json::accept(files[2].content));
}

}  // namespace
}  // namespace hlo
