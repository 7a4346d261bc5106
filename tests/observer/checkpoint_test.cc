// The checkpoint's encoding (CONTRACT §3, §4 replay, §6): a lossless
// round-trip of the model and read positions; anything else is refused
// with a reason, never a throw.
#include <cstdio>
#include <functional>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "observer/apply.h"
#include "observer/checkpoint.h"
#include "observer/world_serializer.h"
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

void FirstHalf(Model& model) {
  Feed(model, {
      Ev("node_heartbeat").At("2026-05-12T12:00:00.123456789Z").Node("saturn"),
      Ev("node_down").At("2026-05-12T12:01:00Z").Node("pluto"),
      Ev("custom_type").At("1969-07-20T20:17:40.5Z").Node("eagle"),
      Ev("service_unhealthy").At("2026-05-12T12:05:00Z").Node("saturn").Service("mosquitto")
          .Corr("hc-1").Sev(Severity::kWarning),
      Ev("healthcheck_failed").At("2026-05-12T12:05:30Z").Node("saturn").Service("mosquitto")
          .Sev(Severity::kCritical),
      Ev("healthcheck_passed").At("2026-05-12T12:06:00Z").Node("mars").Service("nginx"),
      Ev("deployment_started").At("2026-05-12T12:00:00Z").Node("jupiter").Service("grafana")
          .Corr("d-1"),
      Ev("deployment_stage").At("2026-05-12T12:00:30Z").Corr("d-1").Stage("pull"),
  });
  CountRejection(model, RejectReason::kBadJson);
}

void SecondHalf(Model& model) {
  Feed(model, {
      Ev("deployment_failed").At("2026-05-12T12:01:00.25Z").Corr("d-1")
          .Diag({"d-1.log", "/opt/homelab/logs/sub/x.log"}),
      Ev("service_recovered").At("2026-05-12T12:10:00Z").Service("mosquitto"),
      Ev("service_unhealthy").At("2026-05-12T12:11:00Z").Node("saturn").Service("mosquitto"),
      Ev("service_recovered").At("2026-05-12T12:12:00Z").Node("saturn").Service("mosquitto"),
      Ev("service_unhealthy").At("2026-05-12T12:11:00Z").Node("saturn").Service("mosquitto"),
      Ev("deployment_succeeded").At("2026-05-12T12:20:00Z").Corr("d-2").Service("grafana"),
      Ev("deployment_started").At("2026-05-12T12:21:00Z").Corr("d-2"),
  });
  CountRejection(model, RejectReason::kBadTimestamp);
  CountRejection(model, RejectReason::kBadTimestamp);
}

Model Busy() {
  Model model;
  FirstHalf(model);
  SecondHalf(model);
  for (int i = 0; i < 120; ++i) {  // an incident holding the full 100 events
    Feed(model, {Ev("healthcheck_failed").At("2026-05-12T13:00:00Z").Node("venus")
                     .Service("dns")});
  }
  return model;
}

Checkpoint Sample() {
  Checkpoint c;
  c.file = "2026-05-12-b.jsonl";
  c.offset = 8192;
  c.files = {{"2026-05-12-a.json", {512, 3}}, {"2026-05-12-b.jsonl", {8192, 77}}};
  c.rebuilds = 4;
  c.rejected_log.bytes = 333;
  c.world_digest = "0123456789abcdef";
  c.model = Busy();
  return c;
}

void ExpectSame(const Checkpoint& a, const Checkpoint& b) {
  EXPECT_EQ(a.file, b.file);
  EXPECT_EQ(a.offset, b.offset);
  EXPECT_EQ(a.files, b.files);
  EXPECT_EQ(a.rebuilds, b.rebuilds);
  EXPECT_EQ(a.rejected_log.bytes, b.rejected_log.bytes);
  EXPECT_EQ(a.world_digest, b.world_digest);
  EXPECT_TRUE(a.model == b.model);
}

std::optional<Checkpoint> Parse(std::string_view text, std::string* error) {
  std::optional<Checkpoint> parsed;
  EXPECT_NO_THROW(parsed = ParseCheckpoint(text, error)) << text.substr(0, 200);
  return parsed;
}

// world/deployments.json and world/incidents.json as written from `model`.
std::pair<std::string, std::string> HistoryFiles(const Model& model) {
  SnapshotInputs in;
  in.model = &model;
  auto files = SerializeWorld(BuildSnapshot(in), model);
  return {std::move(files[0].content), std::move(files[1].content)};
}

// What a restart sees: the checkpoint's text, then the history read back
// from the world files written with it.
std::optional<Checkpoint> Resume(const Checkpoint& saved, std::string* error) {
  std::optional<Checkpoint> parsed = Parse(SerializeCheckpoint(saved), error);
  if (!parsed) return parsed;
  const auto [deployments, incidents] = HistoryFiles(saved.model);
  bool attached = false;
  EXPECT_NO_THROW(attached = AttachHistory(*parsed, incidents, deployments, error));
  if (!attached) return std::nullopt;
  return parsed;
}

TEST(CheckpointTest, BusyModelIsNonTrivial) {
  const Model model = Busy();
  EXPECT_GE(model.nodes.size(), 5u);
  EXPECT_GE(model.incidents.size(), 4u);
  EXPECT_EQ(model.incidents.at("inc-1778590800-venus-dns").events.size(), kMaxIncidentEvents);
  EXPECT_EQ(model.deployments.at("d-2").attempts, 2u);
  EXPECT_FALSE(model.deployments.at("d-1").diagnostics.empty());
  EXPECT_FALSE(model.counters.deployments_finished.empty());
  EXPECT_EQ(model.counters.events_rejected, 3u);
}

TEST(CheckpointTest, RoundTripsNonTrivialModelExactly) {
  const Checkpoint original = Sample();
  std::string error;
  const std::optional<Checkpoint> parsed = Resume(original, &error);
  ASSERT_TRUE(parsed.has_value()) << error;
  ExpectSame(original, *parsed);
}

TEST(CheckpointTest, RoundTripsEmptyCheckpointWithNullFile) {
  const Checkpoint original;
  std::string error;
  const std::optional<Checkpoint> parsed = Resume(original, &error);
  ASSERT_TRUE(parsed.has_value()) << error;
  EXPECT_FALSE(parsed->file.has_value());
  ExpectSame(original, *parsed);
  EXPECT_TRUE(json::parse(SerializeCheckpoint(original)).at("file").is_null());
}

TEST(CheckpointTest, RoundTripsExtremeTimes) {
  Checkpoint original;
  NodeState& node = original.model.nodes["n"];
  node.last_seen = Timestamp{-62135596800, 999999999};  // 0001-01-01T00:00:00.999999999Z
  node.down = true;
  original.model.nodes["m"].last_seen = Timestamp{253402300799, 1};  // 9999-12-31T23:59:59
  original.model.counters.last_event_at = Timestamp{-1, 0};
  std::string error;
  const std::optional<Checkpoint> parsed = Resume(original, &error);
  ASSERT_TRUE(parsed.has_value()) << error;
  ExpectSame(original, *parsed);
}

TEST(CheckpointTest, RoundTripsFileNamesThatAreNotUtf8) {
  // Event file names are raw bytes; a lossy name would look like a late
  // arrival on the next run and force a replay every time.
  Checkpoint original;
  original.file = "b-\xff\xfe.jsonl";
  original.offset = 10;
  original.files = {{"a-\xc3(.json", {5, 1}}, {"b-\xff\xfe.jsonl", {10, 2}}, {"c.jsonl", {1, 1}}};
  std::string error;
  const std::optional<Checkpoint> parsed = Resume(original, &error);
  ASSERT_TRUE(parsed.has_value()) << error;
  ExpectSame(original, *parsed);
}

TEST(CheckpointTest, TextHoldsFileOffsetAndEventsProcessed) {
  const Checkpoint original = Sample();
  const json j = json::parse(SerializeCheckpoint(original));
  EXPECT_EQ(j.at("file"), "2026-05-12-b.jsonl");
  EXPECT_EQ(j.at("offset"), 8192);
  EXPECT_EQ(j.at("events_processed"), original.model.counters.events_processed);
}

TEST(CheckpointTest, SerializationIsDeterministic) {
  EXPECT_EQ(SerializeCheckpoint(Sample()), SerializeCheckpoint(Sample()));
  EXPECT_EQ(SerializeCheckpoint(Sample()).back(), '\n');
}

TEST(CheckpointTest, ResumedModelContinuesLikeUninterrupted) {
  Model uninterrupted;
  FirstHalf(uninterrupted);
  SecondHalf(uninterrupted);

  Checkpoint saved;
  FirstHalf(saved.model);
  std::string error;
  std::optional<Checkpoint> resumed = Resume(saved, &error);
  ASSERT_TRUE(resumed.has_value()) << error;
  SecondHalf(resumed->model);
  EXPECT_TRUE(resumed->model == uninterrupted);
}

TEST(CheckpointTest, CorruptTextIsRefusedWithReason) {
  for (std::string_view text : {"", " ", "garbage", "null", "[]", "42", "\"text\"", "{}",
                                "{\"version\": 1}", "{\"version\": 1, \"file\": null}",
                                "\xff\xfe{}"}) {
    std::string error;
    EXPECT_FALSE(Parse(text, &error).has_value()) << text;
    EXPECT_FALSE(error.empty()) << text;
  }
}

TEST(CheckpointTest, EveryTruncationIsRefused) {
  const std::string text = SerializeCheckpoint(Sample());
  // The final newline is optional whitespace; anything shorter is corrupt.
  for (size_t size = 0; size + 1 < text.size(); size += 7) {
    std::string error;
    EXPECT_FALSE(Parse(std::string_view(text).substr(0, size), &error).has_value()) << size;
    EXPECT_FALSE(error.empty()) << size;
  }
}

TEST(CheckpointTest, NullErrorPointerIsAllowed) {
  EXPECT_FALSE(Parse("garbage", nullptr).has_value());
  EXPECT_FALSE(Parse("{\"version\": 99}", nullptr).has_value());
  std::string text = SerializeCheckpoint(Sample());
  text.replace(text.find("\"model\""), 7, "\"mode1\"");
  EXPECT_FALSE(Parse(text, nullptr).has_value());
}

// A valid checkpoint's JSON, changed by `edit`, must be refused.
void ExpectRefusedAfter(const char* what, const std::function<void(json&)>& edit) {
  json j = json::parse(SerializeCheckpoint(Sample()));
  edit(j);
  std::string error;
  EXPECT_FALSE(Parse(j.dump(), &error).has_value()) << what;
  EXPECT_FALSE(error.empty()) << what;
}

TEST(CheckpointTest, WrongVersionIsRefused) {
  ExpectRefusedAfter("version 2", [](json& j) { j["version"] = kCheckpointVersion + 1; });
  ExpectRefusedAfter("version 0", [](json& j) { j["version"] = 0; });
  ExpectRefusedAfter("version text", [](json& j) { j["version"] = "1"; });
  ExpectRefusedAfter("no version", [](json& j) { j.erase("version"); });
}

TEST(CheckpointTest, InconsistentOrMistypedContentIsRefused) {
  ExpectRefusedAfter("no model", [](json& j) { j.erase("model"); });
  ExpectRefusedAfter("model array", [](json& j) { j["model"] = json::array(); });
  ExpectRefusedAfter("offset text", [](json& j) { j["offset"] = "8192"; });
  ExpectRefusedAfter("file number", [](json& j) { j["file"] = 3; });
  ExpectRefusedAfter("files entry", [](json& j) { j["files"]["x"] = "y"; });
  ExpectRefusedAfter("events_processed disagrees", [](json& j) {
    j["events_processed"] = j["events_processed"].get<uint64_t>() + 1;
  });
  ExpectRefusedAfter("nanos too big", [](json& j) {
    j["model"]["counters"]["last_event_at"] = json::array({0, 1'000'000'000});
  });
  ExpectRefusedAfter("negative nanos", [](json& j) {
    j["model"]["counters"]["last_event_at"] = json::array({0, -1});
  });
  ExpectRefusedAfter("missing counters", [](json& j) { j["model"].erase("counters"); });
  ExpectRefusedAfter("node not a pair", [](json& j) {
    j["model"]["nodes"]["saturn"] = json::object();
  });
  ExpectRefusedAfter("hex name not hex", [](json& j) {
    j["files_hex"] = {{"zz", json::array({1, 1})}};
  });
  ExpectRefusedAfter("hex name odd", [](json& j) { j["file_hex"] = "abc"; });
  ExpectRefusedAfter("negative offset", [](json& j) { j["offset"] = -1; });
  ExpectRefusedAfter("fractional count", [](json& j) { j["rebuilds"] = 1.5; });
  ExpectRefusedAfter("file entry too short", [](json& j) {
    j["files"]["2026-05-12-a.json"] = json::array({512});
  });
  ExpectRefusedAfter("stamp not hex", [](json& j) {
    j["files"]["2026-05-12-b.jsonl"] = json::array({8192, 77, "00ff", "xyz"});
  });
  ExpectRefusedAfter("service without node", [](json& j) {
    j["model"]["services"].begin().value().erase("node");
  });
  ExpectRefusedAfter("node seen at a string", [](json& j) {
    j["model"]["nodes"]["saturn"] = json::array({"2026-05-12T12:00:00Z", false});
  });
}

// The text is what a JSON DOM's compact dump of it would be: keys sorted,
// no spaces. Checkpoints written before the streaming writer had exactly
// these bytes.
TEST(CheckpointTest, TextIsCompactJsonWithSortedKeys) {
  Checkpoint c = Sample();
  c.files["z-\xff.jsonl"] = {10, 2};
  c.files["y.jsonl"].fingerprint = "0123456789abcdef";
  c.files["y.jsonl"].stamp = 0xfedcba9876543210ULL;
  const std::string text = SerializeCheckpoint(c);
  EXPECT_EQ(text, json::parse(text).dump(-1, ' ', false, json::error_handler_t::replace) + "\n");
}

TEST(CheckpointTest, RoundTripsManyFiles) {
  Checkpoint original = Sample();
  for (int i = 0; i < 20000; ++i) {
    char name[32];
    std::snprintf(name, sizeof name, i % 1000 == 7 ? "e-%06d-\xfe.jsonl" : "e-%06d.json", i);
    FileProgress& p = original.files[name];
    p = {static_cast<uint64_t>(i) * 211, 1};
    if (i % 3 == 0) {
      p.fingerprint = "00000000000000" + std::to_string(i % 100);
      p.stamp = static_cast<uint64_t>(i) << 40;
    }
  }
  std::string error;
  const std::optional<Checkpoint> parsed = Resume(original, &error);
  ASSERT_TRUE(parsed.has_value()) << error;
  ExpectSame(original, *parsed);
}

// Files are written sorted and read in one pass assuming so; a checkpoint
// sorted otherwise (by hand) must still read the same.
TEST(CheckpointTest, FilesInAnotherOrderAreReadTheSame) {
  Checkpoint original = Sample();
  original.files["0.json"] = {3, 1};
  original.files["zzz.jsonl"] = {9, 4};
  const std::string text = SerializeCheckpoint(original);
  const json files = json::parse(text).at("files");
  std::string reversed = "{";
  for (auto it = files.items().begin(); it != files.items().end(); ++it) {
    reversed.insert(1, json(it.key()).dump() + ":" + it.value().dump() +
                           (reversed.size() > 1 ? "," : ""));
  }
  reversed += "}";
  std::string edited = text;
  const size_t at = edited.find(files.dump());
  ASSERT_NE(at, std::string::npos);
  edited.replace(at, files.dump().size(), reversed);
  ASSERT_NE(edited, text);
  std::string error;
  const std::optional<Checkpoint> parsed = Parse(edited, &error);
  ASSERT_TRUE(parsed.has_value()) << error;
  EXPECT_EQ(parsed->files, original.files);
}

TEST(CheckpointTest, TextLeavesHistoryToTheWorldFiles) {
  const Checkpoint original = Sample();
  const json j = json::parse(SerializeCheckpoint(original));
  EXPECT_FALSE(j.at("model").contains("incidents"));
  EXPECT_FALSE(j.at("model").contains("deployments"));
  EXPECT_EQ(j.at("incidents"), original.model.incidents.size());
  EXPECT_EQ(j.at("deployments"), original.model.deployments.size());
}

// History files that do not belong to the checkpoint must be refused.
void ExpectHistoryRefused(const char* what, const std::string& incidents,
                          const std::string& deployments) {
  std::string error;
  std::optional<Checkpoint> parsed = Parse(SerializeCheckpoint(Sample()), &error);
  ASSERT_TRUE(parsed.has_value()) << error;
  error.clear();
  EXPECT_FALSE(AttachHistory(*parsed, incidents, deployments, &error)) << what;
  EXPECT_FALSE(error.empty()) << what;
}

TEST(CheckpointTest, HistoryThatDoesNotMatchIsRefused) {
  const Model busy = Busy();
  const auto [deployments, incidents] = HistoryFiles(busy);
  ExpectHistoryRefused("garbage incidents", "garbage", deployments);
  ExpectHistoryRefused("garbage deployments", incidents, "[]");
  ExpectHistoryRefused("empty history", "{}\n", "{}\n");

  Model fewer = busy;  // one resolved incident less: the count gives it away
  for (auto it = fewer.incidents.begin(); it != fewer.incidents.end(); ++it) {
    if (!it->second.active) {
      fewer.incidents.erase(it);
      break;
    }
  }
  ExpectHistoryRefused("an incident missing", HistoryFiles(fewer).second, deployments);

  Model resolved = busy;  // a service's active incident shown as resolved
  IncidentState& venus = resolved.incidents.at("inc-1778590800-venus-dns");
  venus.active = false;
  venus.resolved_at = venus.last_occurrence;
  ExpectHistoryRefused("active incident resolved", HistoryFiles(resolved).second, deployments);

  Model extra = busy;  // one deployment more
  extra.deployments["d-9"].correlation_id = "d-9";
  ExpectHistoryRefused("a deployment too many", incidents, HistoryFiles(extra).first);
}


// ------------------------------------------- CONTRACT §9 state survives ----

// 25 alternating checks of saturn/mosquitto (flapping, an incident that
// flapped, during the node's maintenance), then mars/grafana's own
// maintenance, all under --flap.high 50 --flap.low 10.
const FlapThresholds kCustomFlap{.high = 50, .low = 10};

void FlappingFirstHalf(Model& model) {
  const ApplyContext context{std::string(kLogsDir), nullptr, kCustomFlap};
  Apply(model, Ev("maintenance_started").At("2026-05-12T11:59:00Z").Node("saturn").event(), context);
  for (int i = 0; i < 25; ++i) {
    Apply(model,
          Ev(i % 2 == 0 ? "healthcheck_failed" : "healthcheck_passed")
              .At(Add(T("2026-05-12T12:00:00Z"), Duration{i * 1'000'000'000LL}))
              .Node("saturn").Service("mosquitto").event(),
          context);
  }
  Apply(model, Ev("maintenance_started").At("2026-05-12T12:01:00Z").Node("mars").Service("grafana")
                   .event(), context);
}

void FlappingSecondHalf(Model& model) {
  const ApplyContext context{std::string(kLogsDir), nullptr, kCustomFlap};
  Apply(model, Ev("maintenance_ended").At("2026-05-12T12:02:00Z").Node("saturn").event(), context);
  for (int i = 0; i < 12; ++i) {
    Apply(model,
          Ev(i % 3 == 0 ? "healthcheck_failed" : "service_recovered")
              .At(Add(T("2026-05-12T12:03:00Z"), Duration{i * 1'000'000'000LL}))
              .Node("saturn").Service("mosquitto").event(),
          context);
  }
  Apply(model, Ev("healthcheck_failed").At("2026-05-12T12:04:00Z").Node("mars").Service("grafana")
                   .event(), context);
}

TEST(CheckpointTest, RoundTripsHealthResultsFlappingMaintenanceAndThresholds) {
  Checkpoint original;
  original.flap = kCustomFlap;
  FlappingFirstHalf(original.model);
  // The state worth keeping is there to keep.
  const ServiceState& flappy = original.model.services.at("saturn/mosquitto");
  ASSERT_TRUE(flappy.flapping);
  ASSERT_EQ(flappy.results, kFlapResults);
  ASSERT_TRUE(original.model.nodes.at("saturn").maintenance);
  ASSERT_TRUE(original.model.services.at("mars/grafana").maintenance);
  ASSERT_TRUE(original.model.incidents.begin()->second.flapping);
  ASSERT_TRUE(original.model.incidents.begin()->second.during_maintenance);

  std::string error;
  const std::optional<Checkpoint> parsed = Resume(original, &error);
  ASSERT_TRUE(parsed.has_value()) << error;
  ExpectSame(original, *parsed);
  EXPECT_EQ(parsed->flap, kCustomFlap);
}

TEST(CheckpointTest, ResumedFlapAndMaintenanceStateContinueLikeUninterrupted) {
  Model uninterrupted;
  FlappingFirstHalf(uninterrupted);
  FlappingSecondHalf(uninterrupted);

  Checkpoint saved;
  saved.flap = kCustomFlap;
  FlappingFirstHalf(saved.model);
  std::string error;
  std::optional<Checkpoint> resumed = Resume(saved, &error);
  ASSERT_TRUE(resumed.has_value()) << error;
  FlappingSecondHalf(resumed->model);
  EXPECT_TRUE(resumed->model == uninterrupted);
  EXPECT_EQ(resumed->model.services.at("saturn/mosquitto").result_bits,
            uninterrupted.services.at("saturn/mosquitto").result_bits);
}

TEST(CheckpointTest, IncidentFlagsRoundTripThroughTheWorldFiles) {
  // An incident with only during_maintenance, one with only flapping.
  Checkpoint original;
  IncidentState a;
  a.id = "inc-1-saturn-mosquitto";
  a.node = "saturn";
  a.service = "mosquitto";
  a.active = false;
  a.started_at = Timestamp{1, 0};
  a.last_occurrence = Timestamp{1, 0};
  a.resolved_at = Timestamp{2, 500000000};
  a.occurrence_count = 1;
  a.events = {Timestamp{1, 0}};
  a.during_maintenance = true;
  IncidentState b = a;
  b.id = "inc-1-saturn-mosquitto-2";
  b.during_maintenance = false;
  b.flapping = true;
  original.model.incidents[a.id] = a;
  original.model.incidents[b.id] = b;
  std::string error;
  const std::optional<Checkpoint> parsed = Resume(original, &error);
  ASSERT_TRUE(parsed.has_value()) << error;
  EXPECT_TRUE(parsed->model.incidents.at(a.id) == a);
  EXPECT_TRUE(parsed->model.incidents.at(b.id) == b);
}

}  // namespace
}  // namespace hlo
