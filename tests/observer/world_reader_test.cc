// Reading incidents.json and deployments.json back into the model: exact round
// trips through SerializeWorld, and strict rejection of anything else.
#include "observer/world_reader.h"

#include <array>
#include <cstdint>
#include <functional>
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
using fakes::T;

const ApplyContext kContext{"/opt/homelab/logs", nullptr, {}};

Model Replay(const std::vector<Ev>& events) {
  Model model;
  for (const Ev& ev : events) Apply(model, ev.event(), kContext);
  return model;
}

// The two files as SerializeWorld writes them: {incidents, deployments}.
std::pair<std::string, std::string> HistoryFiles(const Model& model) {
  SnapshotInputs in;
  in.model = &model;
  in.now = T("2026-05-12T13:00:00Z");
  std::array<WorldFile, 5> files = SerializeWorld(BuildSnapshot(in), model);
  EXPECT_EQ(files[1].name, "incidents.json");
  EXPECT_EQ(files[0].name, "deployments.json");
  return {std::move(files[1].content), std::move(files[0].content)};
}

// Reads both files back, compares them with the model, and checks that the
// read model serializes to the same bytes.
void ExpectRoundTrip(const Model& model) {
  const auto [incidents_text, deployments_text] = HistoryFiles(model);
  std::string error;
  const auto incidents = ReadIncidents(incidents_text, &error);
  ASSERT_TRUE(incidents.has_value()) << error;
  EXPECT_TRUE(*incidents == model.incidents);
  const auto deployments = ReadDeployments(deployments_text, &error);
  ASSERT_TRUE(deployments.has_value()) << error;
  EXPECT_TRUE(*deployments == model.deployments);

  Model again;
  again.incidents = *incidents;
  again.deployments = *deployments;
  const auto [incidents_again, deployments_again] = HistoryFiles(again);
  EXPECT_TRUE(incidents_again == incidents_text) << "incidents.json bytes differ";
  EXPECT_TRUE(deployments_again == deployments_text) << "deployments.json bytes differ";
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

TEST(WorldReaderTest, ActiveAndResolvedIncidentsRoundTrip) {
  const Model model = Replay({
      Unhealthy("2026-05-12T12:05:00Z").Corr("hc-1"),
      Unhealthy("2026-05-12T12:06:00Z").Corr("hc-2"),
      Recovered("2026-05-12T12:10:00Z"),
      Unhealthy("2026-05-12T12:20:00Z"),  // repeat_of the first, no correlation id
      Unhealthy("2026-05-12T12:21:00Z", "jupiter", "grafana"),
  });
  ASSERT_EQ(model.incidents.size(), 3u);
  const IncidentState& repeat = model.incidents.at("inc-1778588400-saturn-mosquitto");
  EXPECT_EQ(repeat.repeat_of, "inc-1778587500-saturn-mosquitto");
  EXPECT_TRUE(repeat.correlation_id.empty());
  ExpectRoundTrip(model);
}

TEST(WorldReaderTest, EverySeverityRoundTrips) {
  std::vector<Ev> events;
  for (Severity severity : kAllSeverities) {
    events.push_back(
        Unhealthy("2026-05-12T12:05:00Z", "saturn", std::string(SeverityName(severity)))
            .Sev(severity));
  }
  const Model model = Replay(events);
  ASSERT_EQ(model.incidents.size(), 4u);
  ExpectRoundTrip(model);
}

TEST(WorldReaderTest, CappedEventsKeepTheirCountAndNewestTimestamps) {
  std::vector<Ev> events;
  for (int i = 0; i < 150; ++i) {
    events.push_back(Unhealthy("2026-05-12T12:05:00Z").At(Timestamp{1778587500 + i, i * 1000}));
  }
  const Model model = Replay(events);
  const IncidentState& incident = model.incidents.begin()->second;
  ASSERT_EQ(incident.events.size(), kMaxIncidentEvents);
  ASSERT_EQ(incident.occurrence_count, 150u);
  ExpectRoundTrip(model);
}

TEST(WorldReaderTest, IncidentDiagnosticsAndDeploymentCorrelationRoundTrip) {
  const Model model = Replay({
      Ev("deployment_started").At("2026-05-12T12:00:00Z").Corr("d-1").Node("saturn")
          .Service("grafana"),
      Ev("deployment_failed").At("2026-05-12T12:01:00Z").Corr("d-1")
          .Diag({"deploy-1.log", "/opt/homelab/logs/sub/trace.txt"}),
      Ev("deployment_started").At("2026-05-12T12:02:00Z").Corr("d-1"),
      Ev("deployment_failed").At("2026-05-12T12:03:00Z").Corr("d-1").Sev(Severity::kCritical)
          .Diag({"deploy-2.log"}),
  });
  const IncidentState& incident = model.incidents.begin()->second;
  EXPECT_EQ(incident.diagnostics,
            (std::vector<std::string>{"logs/deploy-1.log", "logs/sub/trace.txt",
                                      "logs/deploy-2.log"}));
  EXPECT_EQ(incident.correlation_id, "d-1");
  ExpectRoundTrip(model);
}

TEST(WorldReaderTest, DeploymentsInEveryStatusRoundTrip) {
  const Model model = Replay({
      Ev("deployment_started").At("2026-05-12T12:00:00Z").Corr("run").Node("saturn")
          .Service("grafana"),
      Ev("deployment_stage").At("2026-05-12T12:00:01.25Z").Corr("run").Stage("pull"),
      Ev("deployment_started").At("2026-05-12T12:00:00Z").Corr("ok").Node("saturn")
          .Service("mosquitto"),
      Ev("deployment_stage").At("2026-05-12T12:00:30Z").Corr("ok").Stage("pull"),
      Ev("deployment_stage").At("2026-05-12T12:00:45.000000001Z").Corr("ok").Stage("restart"),
      Ev("deployment_succeeded").At("2026-05-12T12:01:00Z").Corr("ok"),  // whole duration
      Ev("deployment_started").At("2026-05-12T12:00:00.1Z").Corr("bad").Node("jupiter")
          .Service("grafana"),
      Ev("deployment_failed").At("2026-05-12T12:00:02.35Z").Corr("bad")  // fractional
          .Diag({"deploy-bad.log"}),
  });
  ASSERT_EQ(model.deployments.size(), 3u);
  EXPECT_EQ(model.deployments.at("run").status, DeploymentStatus::kRunning);
  EXPECT_EQ(model.deployments.at("ok").status, DeploymentStatus::kSucceeded);
  EXPECT_EQ(model.deployments.at("bad").status, DeploymentStatus::kFailed);
  ExpectRoundTrip(model);
}

TEST(WorldReaderTest, RetriedDeploymentRoundTrips) {
  const Model model = Replay({
      Ev("deployment_started").At("2026-05-12T12:00:00Z").Corr("d-1").Node("saturn")
          .Service("grafana"),
      Ev("deployment_failed").At("2026-05-12T12:01:00Z").Corr("d-1"),
      Ev("deployment_started").At("2026-05-12T12:02:00.5Z").Corr("d-1"),
      Ev("deployment_stage").At("2026-05-12T12:02:10Z").Corr("d-1").Stage("pull"),
      Ev("deployment_succeeded").At("2026-05-12T12:03:00Z").Corr("d-1"),
  });
  ASSERT_EQ(model.deployments.at("d-1").attempts, 2u);
  ExpectRoundTrip(model);
}

TEST(WorldReaderTest, DeploymentWithoutNodeServiceOrStartRoundTrips) {
  const Model model = Replay({
      Ev("deployment_stage").At("2026-05-12T12:00:00Z").Corr("orphan").Stage("pull"),
      Ev("deployment_succeeded").At("2026-05-12T12:00:05Z").Corr("half").Service("grafana"),
  });
  const DeploymentState& orphan = model.deployments.at("orphan");
  EXPECT_TRUE(orphan.node.empty() && orphan.service.empty() && !orphan.started_at);
  ExpectRoundTrip(model);
}

TEST(WorldReaderTest, ExtremeTimestampsRoundTrip) {
  const Model model = Replay({
      Unhealthy("0000-01-01T00:00:00.000000001Z"),
      Unhealthy("1969-12-31T23:59:59.5Z"),
      Recovered("9999-12-31T23:59:59.999999999Z"),
  });
  ExpectRoundTrip(model);
}

TEST(WorldReaderTest, EscapedAndNonAsciiStringsRoundTrip) {
  const std::string node = "s\xc3\xa4turn \"q\" \\ \x01\t";  // ä, quote, backslash, controls
  const Model model = Replay({
      Ev("deployment_started").At("2026-05-12T12:00:00Z").Corr("d-\xe2\x82\xac/1").Node(node)
          .Service("gr\xc3\xa4""fana"),
      Ev("deployment_stage").At("2026-05-12T12:00:01Z").Corr("d-\xe2\x82\xac/1")
          .Stage("p\"u\\ll\n"),
      Ev("deployment_failed").At("2026-05-12T12:00:02Z").Corr("d-\xe2\x82\xac/1")
          .Diag({"\xf0\x9f\x93\x9c log.txt"}),
  });
  ASSERT_EQ(model.incidents.size(), 1u);
  ExpectRoundTrip(model);
}

TEST(WorldReaderTest, EmptyFilesGiveEmptyMaps) {
  ExpectRoundTrip(Model{});
  std::string error;
  EXPECT_TRUE(ReadIncidents("{}", &error).value().empty());
  EXPECT_TRUE(ReadDeployments("{}\n", &error).value().empty());
}

// splitmix64: the same sequence everywhere, unlike <random>'s distributions.
class Rng {
 public:
  explicit Rng(uint64_t seed) : state_(seed) {}
  uint64_t Below(uint64_t n) {
    uint64_t z = (state_ += 0x9e3779b97f4a7c15);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9;
    z = (z ^ (z >> 27)) * 0x94d049bb133111eb;
    return (z ^ (z >> 31)) % n;
  }

 private:
  uint64_t state_;
};

// Nanoseconds of every precision: none, milli, micro, nano.
int32_t RandomNanos(Rng& rng) {
  static constexpr int32_t kUnit[] = {1'000'000'000, 1'000'000, 1'000, 1};
  const int32_t unit = kUnit[rng.Below(4)];
  return unit == 1'000'000'000 ? 0 : static_cast<int32_t>(rng.Below(1'000'000'000 / unit)) * unit;
}

Model RandomModel(uint64_t seed, int events) {
  static constexpr std::string_view kTypes[] = {
      "service_unhealthy",  "healthcheck_failed", "service_recovered",    "healthcheck_passed",
      "deployment_started", "deployment_stage",   "deployment_succeeded", "deployment_failed"};
  Rng rng(seed);
  Model model;
  int64_t seconds = 1778587500;
  for (int i = 0; i < events; ++i) {
    seconds += static_cast<int64_t>(rng.Below(120)) - 10;  // mostly rising
    Ev ev(kTypes[rng.Below(std::size(kTypes))]);
    ev.At(Timestamp{seconds, RandomNanos(rng)});
    if (rng.Below(8) != 0) ev.Node("node-" + std::to_string(rng.Below(150)));
    if (rng.Below(8) != 0) ev.Service("svc-" + std::to_string(rng.Below(6)));
    if (rng.Below(2) == 0) ev.Corr("d-" + std::to_string(rng.Below(3000)));
    if (rng.Below(2) == 0) ev.Sev(kAllSeverities[rng.Below(4)]);
    ev.Stage("stage-" + std::to_string(rng.Below(5)));
    if (rng.Below(4) == 0) ev.Diag({"d-" + std::to_string(rng.Below(50)) + ".log"});
    Event event = ev.event();
    const bool needs_pair = event.type == EventType::kServiceUnhealthy ||
                            event.type == EventType::kHealthcheckFailed ||
                            event.type == EventType::kHealthcheckPassed;
    if (needs_pair && (event.node.empty() || event.service.empty())) continue;
    if (event.type >= EventType::kDeploymentStarted && event.correlation_id.empty()) continue;
    if (event.type == EventType::kServiceRecovered && event.service.empty()) continue;
    Apply(model, event, kContext);
  }
  return model;
}

TEST(WorldReaderTest, LargeRandomModelRoundTripsWhole) {
  const Model model = RandomModel(/*seed=*/42, /*events=*/60'000);
  ASSERT_GT(model.incidents.size(), 2000u);
  ASSERT_GT(model.deployments.size(), 2000u);
  ExpectRoundTrip(model);
}

TEST(WorldReaderTest, EveryFormattedTimestampParsesBackExactly) {
  Rng rng(7);
  const int64_t first = T("0000-01-01T00:00:00Z").seconds;
  const int64_t span = T("9999-12-31T23:59:59Z").seconds - first + 1;
  for (int i = 0; i < 100'000; ++i) {
    const Timestamp t{first + static_cast<int64_t>(rng.Below(static_cast<uint64_t>(span))),
                      RandomNanos(rng)};
    ASSERT_EQ(ParseTimestamp(FormatTimestamp(t)), t) << FormatTimestamp(t);
  }
}

// -------------------------------------------------------------- rejections --

struct Spoiled {
  std::string_view name;
  std::function<void(json&)> spoil;  // applied to a good file
  std::string_view error;            // expected in the message
};

Model SmallWorld() {
  return Replay({
      Unhealthy("2026-05-12T12:05:00Z").Corr("hc-1"),
      Recovered("2026-05-12T12:10:00Z"),
      Ev("deployment_started").At("2026-05-12T12:00:00Z").Corr("d-1").Node("saturn")
          .Service("grafana"),
      Ev("deployment_stage").At("2026-05-12T12:00:01Z").Corr("d-1").Stage("pull"),
      Ev("deployment_succeeded").At("2026-05-12T12:00:02Z").Corr("d-1"),
  });
}

constexpr std::string_view kIncident = "inc-1778587500-saturn-mosquitto";

json& Incident(json& file) { return file[std::string(kIncident)]; }
json& Deployment(json& file) { return file["d-1"]; }

TEST(WorldReaderTest, RejectsIncidentsUnlikeTheSerializers) {
  const std::vector<Spoiled> cases = {
      {"wrong type", [](json& f) { Incident(f)["occurrence_count"] = "2"; },
       "'occurrence_count': not an unsigned integer"},
      {"negative count", [](json& f) { Incident(f)["occurrence_count"] = -1; },
       "'occurrence_count': not an unsigned integer"},
      {"unknown status", [](json& f) { Incident(f)["status"] = "closed"; }, "unknown status"},
      {"unknown severity", [](json& f) { Incident(f)["severity"] = "fatal"; }, "unknown severity"},
      {"bad timestamp", [](json& f) { Incident(f)["started_at"] = "2026-02-30T00:00:00Z"; },
       "'started_at': bad timestamp"},
      {"bad event", [](json& f) { Incident(f)["events"][0] = "yesterday"; },
       "not an array of timestamps"},
      {"missing field", [](json& f) { Incident(f).erase("repeat_of"); },
       "missing field 'repeat_of'"},
      {"unknown field", [](json& f) { Incident(f)["owner"] = "me"; }, "unknown field 'owner'"},
      {"empty string for null", [](json& f) { Incident(f)["repeat_of"] = ""; },
       "where null is written"},
      {"key differs from id", [](json& f) { Incident(f)["id"] = "inc-other"; },
       "key differs from id"},
      {"status without resolved_at", [](json& f) { Incident(f)["resolved_at"] = nullptr; },
       "status disagrees with resolved_at"},
      {"too many events",
       [](json& f) {
         Incident(f)["events"] = json(std::vector<std::string>(101, "2026-05-12T12:05:00Z"));
       },
       "more events than kept"},
      {"entry not an object", [](json& f) { Incident(f) = json::array(); }, "not an object"},
      {"not an object", [](json& f) { f = json::array(); }, "not an object"},
  };
  const std::string good = HistoryFiles(SmallWorld()).first;
  for (const Spoiled& c : cases) {
    json file = json::parse(good);
    c.spoil(file);
    std::string error;
    EXPECT_FALSE(ReadIncidents(file.dump(2), &error).has_value()) << c.name;
    EXPECT_NE(error.find(c.error), std::string::npos) << c.name << ": " << error;
    EXPECT_EQ(error.rfind("incidents.json: ", 0), 0u) << c.name << ": " << error;
  }
}

TEST(WorldReaderTest, RejectsDeploymentsUnlikeTheSerializers) {
  const std::vector<Spoiled> cases = {
      {"unknown status", [](json& f) { Deployment(f)["status"] = "paused"; }, "unknown status"},
      {"key differs from correlation_id",
       [](json& f) { Deployment(f)["correlation_id"] = "d-2"; }, "key differs from correlation_id"},
      {"wrong attempts", [](json& f) { Deployment(f)["attempts"] = 1.5; },
       "'attempts': not an unsigned integer"},
      {"stage without at", [](json& f) { Deployment(f)["stages"][0].erase("at"); },
       "not an array of {name, at}"},
      {"bad finished_at", [](json& f) { Deployment(f)["finished_at"] = "2026-05-12 12:00:02"; },
       "'finished_at': bad timestamp"},
      {"duration not a number", [](json& f) { Deployment(f)["duration_seconds"] = "2"; },
       "'duration_seconds': not a number or null"},
      {"missing duration", [](json& f) { Deployment(f).erase("duration_seconds"); },
       "missing field 'duration_seconds'"},
      {"diagnostic not a string", [](json& f) { Deployment(f)["diagnostics"] = json::array({1}); },
       "not an array of strings"},
  };
  const std::string good = HistoryFiles(SmallWorld()).second;
  for (const Spoiled& c : cases) {
    json file = json::parse(good);
    c.spoil(file);
    std::string error;
    EXPECT_FALSE(ReadDeployments(file.dump(2), &error).has_value()) << c.name;
    EXPECT_NE(error.find(c.error), std::string::npos) << c.name << ": " << error;
  }
}

TEST(WorldReaderTest, RejectsTruncatedFiles) {
  const auto [incidents, deployments] = HistoryFiles(SmallWorld());
  auto cuts = [](std::string_view text) {
    return std::vector<std::string_view>{text.substr(0, 0), text.substr(0, 1),
                                         text.substr(0, text.size() / 2),
                                         text.substr(0, text.size() - 3)};
  };
  for (std::string_view cut : cuts(incidents)) {
    std::string error;
    EXPECT_FALSE(ReadIncidents(cut, &error).has_value()) << cut;
    EXPECT_FALSE(error.empty()) << cut;
  }
  for (std::string_view cut : cuts(deployments)) {
    std::string error;
    EXPECT_FALSE(ReadDeployments(cut, &error).has_value()) << cut;
    EXPECT_FALSE(error.empty()) << cut;
  }
}

TEST(WorldReaderTest, RejectsRepeatedKeys) {
  const std::string entry = HistoryFiles(SmallWorld()).second;
  const std::string inner = entry.substr(1, entry.rfind('}') - 1);  // "d-1": {...}
  std::string error;
  EXPECT_FALSE(ReadDeployments("{" + inner + "," + inner + "}", &error).has_value());
  EXPECT_NE(error.find("repeated key"), std::string::npos) << error;
}

TEST(WorldReaderTest, ErrorMayBeNull) {
  EXPECT_FALSE(ReadIncidents("[", nullptr).has_value());
  EXPECT_FALSE(ReadDeployments("", nullptr).has_value());
}

}  // namespace
}  // namespace hlo
