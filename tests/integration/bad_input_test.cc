// Bad input through the real program (CONTRACT §4, §8 "Inputs"): every bad
// event is one line of state/rejected-events.jsonl with the right reason,
// the good events around it are applied, memory stays bounded, and the exit
// code stays 0.
#include <gtest/gtest.h>

#include "observer/event_parser.h"
#include "tests/fakes/temp_dir.h"
#include "tests/integration/process_helpers.h"

namespace hlo {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using testing::Event;
using testing::Once;

constexpr size_t kLimit = 1024 * 1024;

std::string Heartbeat(const std::string& node) {
  return Event("2026-05-12T12:00:00Z", "node_heartbeat", node);
}

// A valid heartbeat for `node` of exactly `size` bytes, without '\n'.
std::string HeartbeatOfSize(size_t size, const std::string& node = "saturn") {
  const std::string head =
      R"({"timestamp":"2026-05-12T12:00:00Z","type":"node_heartbeat","node":")" + node +
      R"(","message":")";
  const std::string tail = "\"}";
  return head + std::string(size - head.size() - tail.size(), 'x') + tail;
}

std::vector<std::string> NodeNames(const fs::path& root) {
  std::vector<std::string> names;
  const auto nodes = testing::World(root, "nodes.json");  // items() must not outlive it
  for (const auto& [name, node] : nodes.items()) names.push_back(name);
  return names;
}

// Each rejected line has the contract's fields with the contract's types;
// raw is valid UTF-8 (nlohmann rejects anything else) of at most 1 KiB.
void ExpectWellFormedRejections(const fs::path& root) {
  const auto text = testing::ReadFile(root / "state" / "rejected-events.jsonl").value_or("");
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    json j;
    ASSERT_NO_THROW(j = json::parse(line)) << line.substr(0, 200);
    ASSERT_TRUE(j.is_object());
    EXPECT_TRUE(j["file"].is_string()) << line;
    EXPECT_TRUE(j["line"].is_number_unsigned()) << line;
    EXPECT_GE(j["line"].get<uint64_t>(), 1u) << line;
    EXPECT_TRUE(j["reason"].is_string()) << line;
    EXPECT_TRUE(j["detail"].is_string()) << line;
    ASSERT_TRUE(j["raw"].is_string()) << line;
    EXPECT_LE(j["raw"].get<std::string>().size(), 1024u) << line.substr(0, 200);
    EXPECT_TRUE(IsValidUtf8(j["raw"].get<std::string>()));
    EXPECT_LE(line.size(), 16u * 1024) << "a rejection line should stay small";
  }
}

struct BadLine {
  const char* name;
  std::string line;  // without '\n'
  const char* reason;
};

class BadLineTest : public ::testing::TestWithParam<BadLine> {};

TEST_P(BadLineTest, IsRejectedWithReasonAndNeighboursAreApplied) {
  TempDir tmp;
  tmp.Write("events/a.jsonl", Heartbeat("before") + GetParam().line + "\n" + Heartbeat("after"));
  const auto r = Once(tmp.path());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(NodeNames(tmp.path()), (std::vector<std::string>{"after", "before"}));
  const auto rejected = testing::RejectedLines(tmp.path());
  ASSERT_EQ(rejected.size(), 1u);
  EXPECT_EQ(rejected[0]["file"], "a.jsonl");
  EXPECT_EQ(rejected[0]["line"], 2);
  EXPECT_EQ(rejected[0]["reason"], GetParam().reason);
  EXPECT_FALSE(rejected[0]["detail"].get<std::string>().empty());
  ExpectWellFormedRejections(tmp.path());
  // The operator sees it on stderr too, as FILE:LINE: reason.
  EXPECT_NE(r.err.find("a.jsonl:2: " + std::string(GetParam().reason)), std::string::npos) << r.err;
  const auto summary = testing::World(tmp.path(), "runtime-summary.json");
  EXPECT_EQ(summary["events"]["processed"], 2);
  EXPECT_EQ(summary["events"]["rejected"], 1);
}

const std::string kTs = R"("timestamp":"2026-05-12T12:00:00Z")";

INSTANTIATE_TEST_SUITE_P(
    Lines, BadLineTest,
    ::testing::Values(
        BadLine{"Malformed", "{\"timestamp\" \"x\"}", "bad_json"},
        BadLine{"Truncated", "{" + kTs + R"(,"type":"node_heartbeat","no)", "bad_json"},
        BadLine{"TrailingGarbage", "{" + kTs + R"(,"type":"node_heartbeat","node":"x"} {})",
                "bad_json"},
        BadLine{"TrailingComma", "{" + kTs + R"(,"type":"node_heartbeat","node":"x",})",
                "bad_json"},
        BadLine{"NaN", "{" + kTs + R"(,"type":"node_heartbeat","node":"x","v":NaN})", "bad_json"},
        BadLine{"Infinity", "{" + kTs + R"(,"type":"node_heartbeat","node":"x","v":-Infinity})",
                "bad_json"},
        BadLine{"NumberOverflow", "{" + kTs + R"(,"type":"node_heartbeat","node":"x","v":-2e308})",
                "bad_json"},
        BadLine{"LoneSurrogate", "{" + kTs + R"(,"type":"node_heartbeat","node":"\udc00"})",
                "bad_json"},
        BadLine{"ByteOrderMarkInside",
                "\xEF\xBB\xBF{" + kTs + R"(,"type":"node_heartbeat","node":"x"})", "bad_json"},
        BadLine{"InvalidUtf8InValue",
                "{" + kTs + ",\"type\":\"node_heartbeat\",\"node\":\"x\",\"message\":\"\xff\xfe\"}",
                "bad_encoding"},
        BadLine{"InvalidUtf8InKey",
                "{" + kTs + ",\"type\":\"node_heartbeat\",\"node\":\"x\",\"\xc3\":1}",
                "bad_encoding"},
        BadLine{"OverlongUtf8", "{" + kTs + ",\"type\":\"node_heartbeat\",\"node\":\"\xc0\xaf\"}",
                "bad_encoding"},
        BadLine{"EncodedSurrogate",
                "{" + kTs + ",\"type\":\"node_heartbeat\",\"node\":\"\xed\xa0\x80\"}",
                "bad_encoding"},
        BadLine{"TruncatedUtf8AtEnd",
                "{" + kTs + ",\"type\":\"node_heartbeat\",\"node\":\"x\"}\xe2\x82", "bad_encoding"},
        BadLine{"Array", "[1,2]", "not_object"}, BadLine{"Number", "42", "not_object"},
        BadLine{"Null", "null", "not_object"},
        BadLine{"NoTimestamp", R"({"type":"node_heartbeat","node":"x"})", "missing_field"},
        BadLine{"NoType", "{" + kTs + R"(,"node":"x"})", "missing_field"},
        BadLine{"NullNode", "{" + kTs + R"(,"type":"node_heartbeat","node":null})",
                "missing_field"},
        BadLine{"EmptyService",
                "{" + kTs + R"(,"type":"healthcheck_passed","node":"x","service":""})",
                "missing_field"},
        BadLine{"RecoveredWithoutService", "{" + kTs + R"(,"type":"service_recovered","node":"x"})",
                "missing_field"},
        BadLine{"DeploymentWithoutCorrelation", "{" + kTs + R"(,"type":"deployment_succeeded"})",
                "missing_field"},
        BadLine{"StageWithoutStage",
                "{" + kTs + R"(,"type":"deployment_stage","correlation_id":"d","payload":{}})",
                "missing_field"},
        BadLine{"NumericNode", "{" + kTs + R"(,"type":"node_heartbeat","node":5})",
                "mistyped_field"},
        BadLine{"NumericTimestamp",
                R"({"timestamp":1778587500,"type":"node_heartbeat","node":"x"})", "mistyped_field"},
        BadLine{"BooleanType", "{" + kTs + R"(,"type":true,"node":"x"})", "mistyped_field"},
        BadLine{"ObjectMessage", "{" + kTs + R"(,"type":"node_heartbeat","node":"x","message":{}})",
                "mistyped_field"},
        BadLine{"StringPayload",
                "{" + kTs + R"(,"type":"node_heartbeat","node":"x","payload":"p"})",
                "mistyped_field"},
        BadLine{"UnknownTypeMistypedService",
                "{" + kTs + R"(,"type":"whatever","node":"x","service":[]})", "mistyped_field"},
        BadLine{
            "DiagnosticsNotArray",
            "{" + kTs +
                R"(,"type":"deployment_failed","correlation_id":"d","payload":{"diagnostics":{}}})",
            "mistyped_field"},
        BadLine{"NoZone",
                R"({"timestamp":"2026-05-12T12:00:00","type":"node_heartbeat","node":"x"})",
                "bad_timestamp"},
        BadLine{"Feb29NotLeap",
                R"({"timestamp":"2026-02-29T12:00:00Z","type":"node_heartbeat","node":"x"})",
                "bad_timestamp"},
        BadLine{"SpaceSeparator",
                R"({"timestamp":"2026-05-12 12:00:00Z","type":"node_heartbeat","node":"x"})",
                "bad_timestamp"},
        BadLine{"Hour24",
                R"({"timestamp":"2026-05-12T24:00:00Z","type":"node_heartbeat","node":"x"})",
                "bad_timestamp"},
        BadLine{"SeverityUpperCase",
                "{" + kTs +
                    R"(,"type":"service_unhealthy","node":"x","service":"y","severity":"Error"})",
                "bad_severity"},
        BadLine{"SeverityNumber",
                "{" + kTs + R"(,"type":"service_unhealthy","node":"x","service":"y","severity":3})",
                "bad_severity"},
        BadLine{"SlashInService",
                "{" + kTs + R"(,"type":"healthcheck_passed","node":"x","service":"a/b"})",
                "bad_name"},
        BadLine{"ControlInNode", "{" + kTs + R"(,"type":"node_heartbeat","node":"a\u001fb"})",
                "bad_name"},
        BadLine{"DelInNode", "{" + kTs + R"(,"type":"node_heartbeat","node":"a\u007fb"})",
                "bad_name"},
        BadLine{"NodeTooLong",
                "{" + kTs + R"(,"type":"node_heartbeat","node":")" + std::string(254, 'n') + "\"}",
                "bad_name"}),
    [](const ::testing::TestParamInfo<BadLine>& info) { return info.param.name; });

TEST(BadInputTest, NodeNameOf253BytesIsAccepted) {
  TempDir tmp;
  // 84 three-byte characters and one ASCII byte: 253 bytes of UTF-8.
  std::string name;
  for (int i = 0; i < 84; ++i) name += "\xe2\x82\xac";
  name += "n";
  tmp.Write("events/a.jsonl", Heartbeat(name));
  ASSERT_EQ(Once(tmp.path()).exit_code, 0);
  EXPECT_EQ(NodeNames(tmp.path()), std::vector<std::string>{name});
}

TEST(BadInputTest, FiftyMegabyteLineIsRejectedTooLargeWithBoundedMemory) {
  TempDir tmp;
  tmp.Write("events/a.jsonl", Heartbeat("small"));
  const testing::RunOptions sampled{.sample_memory = true};
  const auto baseline = testing::RunProgram(testing::OnceArgs(tmp.path()), sampled);
  ASSERT_EQ(baseline.exit_code, 0);

  TempDir big;
  {
    const std::string huge = HeartbeatOfSize(50u * 1024 * 1024, "huge");
    big.Write("events/a.jsonl", Heartbeat("before") + huge + "\n" + Heartbeat("after1") + huge +
                                    Heartbeat("after2"));  // a huge line to a '\n' too
  }
  const auto r = testing::RunProgram(testing::OnceArgs(big.path()), sampled);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(NodeNames(big.path()), (std::vector<std::string>{"after1", "before"}));
  const auto rejected = testing::RejectedLines(big.path());
  ASSERT_EQ(rejected.size(), 2u);
  EXPECT_EQ(rejected[0]["line"], 2);
  EXPECT_EQ(rejected[0]["reason"], "too_large");
  EXPECT_EQ(rejected[1]["line"], 4);
  EXPECT_EQ(rejected[1]["reason"], "too_large");
  ExpectWellFormedRejections(big.path());
  // Neither line is held whole: the peak stays far below their 50 MB.
  ASSERT_GT(r.peak_rss_kb, 0);
  EXPECT_LT(r.peak_rss_kb - baseline.peak_rss_kb, 20 * 1024)
      << "peak RSS " << r.peak_rss_kb << " KiB vs " << baseline.peak_rss_kb << " KiB";
  // The checkpoint is small too, and a second run reads nothing again.
  EXPECT_LT(fs::file_size(big.path() / "state" / "observer_checkpoint.json"), 64u * 1024);
  const auto again = Once(big.path());
  EXPECT_NE(again.out.find("applied 0 new event(s), rejected 0"), std::string::npos) << again.out;
}

TEST(BadInputTest, FiftyMegabyteJsonFileIsOneTooLargeRejection) {
  TempDir tmp;
  tmp.Write("events/a.json", "[" + HeartbeatOfSize(50u * 1024 * 1024) + "]");
  tmp.Write("events/b.json", Heartbeat("after"));
  const auto r = Once(tmp.path());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(NodeNames(tmp.path()), std::vector<std::string>{"after"});
  const auto rejected = testing::RejectedLines(tmp.path());
  ASSERT_EQ(rejected.size(), 1u);
  EXPECT_EQ(rejected[0]["file"], "a.json");
  EXPECT_EQ(rejected[0]["line"], 1);
  EXPECT_EQ(rejected[0]["reason"], "too_large");
  ExpectWellFormedRejections(tmp.path());
}

TEST(BadInputTest, LineOfExactlyOneMebibyteIsAcceptedOneMoreIsTooLarge) {
  TempDir tmp;
  tmp.Write("events/a.jsonl", HeartbeatOfSize(kLimit, "exact") + "\n" +
                                  HeartbeatOfSize(kLimit + 1, "over") + "\n" +
                                  HeartbeatOfSize(kLimit - 1, "exactcr") + "\r\n" +  // CR counts
                                  HeartbeatOfSize(kLimit, "overcr") + "\r\n");
  tmp.Write("events/b.json", HeartbeatOfSize(kLimit, "exactjson"));
  tmp.Write("events/c.json", HeartbeatOfSize(kLimit + 1, "overjson"));
  ASSERT_EQ(Once(tmp.path()).exit_code, 0);
  EXPECT_EQ(NodeNames(tmp.path()), (std::vector<std::string>{"exact", "exactcr", "exactjson"}));
  const auto rejected = testing::RejectedLines(tmp.path());
  ASSERT_EQ(rejected.size(), 3u);
  EXPECT_EQ(rejected[0]["line"], 2);
  EXPECT_EQ(rejected[1]["line"], 4);
  EXPECT_EQ(rejected[2]["file"], "c.json");
  for (const auto& r : rejected) EXPECT_EQ(r["reason"], "too_large");
}

// The BOM is skipped, not part of the first line: that line may still be
// the full 1 MiB.
TEST(BadInputTest, FirstLineOfExactlyOneMebibyteAfterByteOrderMarkIsAccepted) {
  TempDir tmp;
  tmp.Write("events/a.jsonl", "\xEF\xBB\xBF" + HeartbeatOfSize(kLimit, "exact") + "\n");
  tmp.Write("events/b.jsonl", "\xEF\xBB\xBF" + HeartbeatOfSize(kLimit + 1, "over") + "\n");
  ASSERT_EQ(Once(tmp.path()).exit_code, 0);
  EXPECT_EQ(NodeNames(tmp.path()), std::vector<std::string>{"exact"});
  const auto rejected = testing::RejectedLines(tmp.path());
  ASSERT_EQ(rejected.size(), 1u);
  EXPECT_EQ(rejected[0]["file"], "b.jsonl");
  EXPECT_EQ(rejected[0]["reason"], "too_large");
}

TEST(BadInputTest, RawIsCutToOneKibibyteAtCharacterBoundaryAndSanitized) {
  TempDir tmp;
  // 'x' then many 3-byte characters: 1024 falls inside one of them. Invalid
  // bytes come first so that replacement happens before the cut.
  std::string line = "{\"bad\xff\":\"x";
  for (int i = 0; i < 1000; ++i) line += "\xe2\x82\xac";
  line += "\"}";
  tmp.Write("events/a.jsonl", line + "\n");
  ASSERT_EQ(Once(tmp.path()).exit_code, 0);
  const auto rejected = testing::RejectedLines(tmp.path());
  ASSERT_EQ(rejected.size(), 1u);
  EXPECT_EQ(rejected[0]["reason"], "bad_encoding");
  const std::string raw = rejected[0]["raw"];
  EXPECT_LE(raw.size(), 1024u);
  EXPECT_GE(raw.size(), 1021u);
  EXPECT_TRUE(IsValidUtf8(raw));
  EXPECT_EQ(raw.rfind("{\"bad\xEF\xBF\xBD\":\"x\xe2\x82\xac", 0), 0u) << raw.substr(0, 40);
  ExpectWellFormedRejections(tmp.path());
}

std::string Nested(int depth) {
  // The event object is level 1 and payload level 2: `depth - 2` arrays
  // inside payload bring the deepest value to `depth`.
  const int arrays = depth - 2;
  return "{" + kTs + R"(,"type":"node_heartbeat","node":"n)" + std::to_string(depth) +
         R"(","payload":{"a":)" + std::string(static_cast<size_t>(arrays), '[') +
         std::string(static_cast<size_t>(arrays), ']') + "}}";
}

TEST(BadInputTest, NestingOf64IsAcceptedDeeperIsBadJsonAndVeryDeepDoesNotCrash) {
  TempDir tmp;
  std::string very_deep = "{" + kTs + R"(,"type":"node_heartbeat","node":"deep","payload":)";
  very_deep += std::string(500000, '[');
  tmp.Write("events/a.jsonl", Nested(64) + "\n" + Nested(65) + "\n" + very_deep + "\n" +
                                  std::string(300000, '{') + "\n" + Heartbeat("after"));
  tmp.Write("events/b.json", "[" + Nested(63) + "]");  // the array adds a level: 64
  tmp.Write("events/c.json", "[" + Nested(64) + "]");  // 65: the whole file is rejected
  const auto r = Once(tmp.path());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(NodeNames(tmp.path()), (std::vector<std::string>{"after", "n63", "n64"}));
  const auto rejected = testing::RejectedLines(tmp.path());
  ASSERT_EQ(rejected.size(), 4u);
  EXPECT_EQ(rejected[0]["line"], 2);
  EXPECT_EQ(rejected[1]["line"], 3);
  EXPECT_EQ(rejected[2]["line"], 4);
  EXPECT_EQ(rejected[3]["file"], "c.json");
  EXPECT_EQ(rejected[3]["line"], 1);
  for (const auto& j : rejected) EXPECT_EQ(j["reason"], "bad_json");
  ExpectWellFormedRejections(tmp.path());
}

TEST(BadInputTest, DiagnosticsOutsideLogsAreDroppedAndTheEventIsApplied) {
  TempDir tmp;
  const std::string root = tmp.path().string();
  const json diagnostics = {"a.log",
                            "./b//c.log",
                            "sub/../d.log",
                            root + "/logs/abs.log",
                            root + "//logs/./x/../abs2.log",
                            "a.log",
                            "../escape.log",
                            "../../etc/passwd",
                            "x/../../escape2.log",
                            "/etc/passwd",
                            root + "/logs/../state/observer_checkpoint.json",
                            root + "/logsfoo/x.log",
                            root + "/logs",
                            root + "/logs/",
                            ".",
                            "",
                            42,
                            nullptr};
  const json event = {{"timestamp", "2026-05-12T12:00:00Z"},
                      {"type", "deployment_failed"},
                      {"correlation_id", "dep-1"},
                      {"node", "saturn"},
                      {"service", "mosquitto"},
                      {"payload", {{"diagnostics", diagnostics}}}};
  tmp.Write("events/a.jsonl", event.dump() + "\n");
  // Through a root spelled with "." and a trailing '/': absolute paths are
  // judged against the normalised root.
  const auto r = testing::RunProgram(testing::OnceArgs(tmp.path() / "." / ""));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::vector<std::string> kept = {"logs/a.log", "logs/b/c.log", "logs/d.log", "logs/abs.log",
                                         "logs/abs2.log"};
  const auto deployment = testing::World(tmp.path(), "deployments.json")["dep-1"];
  EXPECT_EQ(deployment["status"], "failed");
  EXPECT_EQ(deployment["diagnostics"].get<std::vector<std::string>>(), kept);
  const auto incidents = testing::World(tmp.path(), "incidents.json");
  ASSERT_EQ(incidents.size(), 1u);
  EXPECT_EQ(incidents.begin().value()["diagnostics"].get<std::vector<std::string>>(), kept);
  EXPECT_TRUE(testing::RejectedLines(tmp.path()).empty());
}

TEST(BadInputTest, BadJsonFilesAreOneRejectionEach) {
  TempDir tmp;
  tmp.Write("events/1.json", "");
  tmp.Write("events/2.json", "   \n");
  tmp.Write("events/3.json", "{\"timestamp\":");
  tmp.Write("events/4.json", "42");
  tmp.Write("events/5.json", "[1, {\"x\": 1}, " + Heartbeat("inarray") + "]");
  tmp.Write("events/6.json", "\xff{}");
  tmp.Write("events/7.json", Heartbeat("a") + Heartbeat("b"));  // two objects: not JSON
  tmp.Write("events/8.json", Heartbeat("last"));
  ASSERT_EQ(Once(tmp.path()).exit_code, 0);
  EXPECT_EQ(NodeNames(tmp.path()), (std::vector<std::string>{"inarray", "last"}));
  const auto rejected = testing::RejectedLines(tmp.path());
  std::vector<std::string> got;
  for (const auto& j : rejected) {
    got.push_back(j["file"].get<std::string>() + ":" + std::to_string(j["line"].get<int>()) + ":" +
                  j["reason"].get<std::string>());
  }
  EXPECT_EQ(got, (std::vector<std::string>{"1.json:1:bad_json", "2.json:1:bad_json",
                                           "3.json:1:bad_json", "4.json:1:not_object",
                                           "5.json:1:not_object", "5.json:2:missing_field",
                                           "6.json:1:bad_encoding", "7.json:1:bad_json"}));
  ExpectWellFormedRejections(tmp.path());
}

TEST(BadInputTest, UnknownTypeIsCountedAndItsNodeSeen) {
  TempDir tmp;
  tmp.Write("events/a.jsonl", Event("2026-05-12T12:00:00Z", "backup_completed", "pluto", "restic",
                                    R"("payload":{"bytes":12},"extra":[1,2])"));
  const auto r = Once(tmp.path());
  ASSERT_EQ(r.exit_code, 0);
  EXPECT_EQ(NodeNames(tmp.path()), std::vector<std::string>{"pluto"});
  EXPECT_EQ(testing::World(tmp.path(), "runtime-summary.json")["events"]["processed"], 1);
  EXPECT_EQ(testing::ReadFile(tmp.path() / "world" / "services.json"), "{}\n");
}

}  // namespace
}  // namespace hlo
