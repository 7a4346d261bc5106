#include "observer/event_parser.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <random>
#include <set>
#include <string>
#include <variant>

namespace hlo {
namespace {

using namespace std::string_literals;

// A helper so failures print what the parser actually said.
std::string Describe(const ParseResult& r) {
  if (const auto* rej = std::get_if<Rejection>(&r)) {
    return std::string(RejectReasonName(rej->reason)) + ": " + rej->detail;
  }
  return "accepted";
}

// By value: the results passed in are mostly temporaries.
Event Accepted(const ParseResult& r) {
  const auto* e = std::get_if<Event>(&r);
  EXPECT_NE(e, nullptr) << Describe(r);
  return e != nullptr ? *e : Event{};
}

Rejection Rejected(const ParseResult& r) {
  const auto* rej = std::get_if<Rejection>(&r);
  EXPECT_NE(rej, nullptr) << "expected a rejection, the event was accepted";
  return rej != nullptr ? *rej : Rejection{RejectReason::kBadJson, "<accepted>"};
}

// An event line whose message pads it to exactly `size` bytes.
std::string LineOfSize(size_t size, std::string_view tail = "") {
  const std::string head =
      R"({"timestamp":"2026-05-12T12:05:00Z","type":"node_heartbeat","node":"n1","message":")";
  const std::string end = "\"}"s + std::string(tail);
  return head + std::string(size - head.size() - end.size(), 'x') + end;
}

// An event whose deepest value sits at `depth` (the event object is level 1).
std::string EventWithDepth(int depth) {
  return R"({"timestamp":"2026-05-12T12:05:00Z","type":"node_heartbeat","node":"n1","x":)" +
         std::string(static_cast<size_t>(depth - 1), '[') +
         std::string(static_cast<size_t>(depth - 1), ']') + "}";
}

// ------------------------------------------------------------- names ------

TEST(EventParserTest, EventTypeNamesRoundTrip) {
  for (int i = 0; i < static_cast<int>(EventType::kUnknown); ++i) {
    const auto type = static_cast<EventType>(i);
    EXPECT_EQ(EventTypeFromName(EventTypeName(type)), type) << EventTypeName(type);
  }
  EXPECT_EQ(EventTypeName(EventType::kDeploymentFailed), "deployment_failed");
  EXPECT_EQ(EventTypeName(EventType::kUnknown), "unknown");
}

TEST(EventParserTest, UnlistedTypeNamesAreUnknown) {
  for (const char* name : {"unknown", "disk_full", "Node_Heartbeat", "node_heartbeat ", ""}) {
    EXPECT_EQ(EventTypeFromName(name), EventType::kUnknown) << name;
  }
}

TEST(EventParserTest, SeverityIsOneOfFourLowercaseWords) {
  for (Severity s : kAllSeverities) EXPECT_EQ(SeverityFromName(SeverityName(s)), s);
  EXPECT_EQ(SeverityFromName("critical"), Severity::kCritical);
  for (const char* name : {"Error", "ERROR", "fatal", "warn", ""}) {
    EXPECT_FALSE(SeverityFromName(name)) << name;
  }
  EXPECT_LT(Severity::kInfo, Severity::kWarning);
  EXPECT_LT(Severity::kError, Severity::kCritical);
}

TEST(EventParserTest, RejectReasonNamesMatchTheContract) {
  std::set<std::string_view> names;
  for (RejectReason r : kAllRejectReasons) names.insert(RejectReasonName(r));
  EXPECT_EQ(names, (std::set<std::string_view>{"bad_json", "bad_encoding", "not_object",
                                               "missing_field", "mistyped_field",
                                               "bad_timestamp", "bad_severity", "bad_name",
                                               "too_large"}));
}

// ------------------------------------------------------------ accepted ----

TEST(EventParserTest, AcceptsAFullHealthcheckFailure) {
  const Event& e = Accepted(ParseEventLine(
      R"({"timestamp":"2026-05-12T12:05:00.250Z","type":"healthcheck_failed","node":"web-01",)"
      R"("service":"nginx","correlation_id":"dep-7","severity":"critical","message":"502"})"));
  EXPECT_EQ(e.type, EventType::kHealthcheckFailed);
  EXPECT_EQ(e.timestamp, *ParseTimestamp("2026-05-12T12:05:00.250Z"));
  EXPECT_EQ(e.node, "web-01");
  EXPECT_EQ(e.service, "nginx");
  EXPECT_EQ(e.correlation_id, "dep-7");
  EXPECT_EQ(e.severity, Severity::kCritical);
  EXPECT_EQ(e.message, "502");
}

TEST(EventParserTest, AcceptsTimestampsWithOffsetLowercaseAndFraction) {
  struct Case {
    const char* timestamp;
    const char* utc;
  };
  for (const Case& c : {Case{"2026-05-12T14:05:00+02:00", "2026-05-12T12:05:00Z"},
                        Case{"2026-05-12t12:05:00z", "2026-05-12T12:05:00Z"},
                        Case{"2026-05-12T12:05:00.123456789Z", "2026-05-12T12:05:00.123456789Z"},
                        Case{"2026-05-12T07:05:00.5-05:00", "2026-05-12T12:05:00.5Z"}}) {
    const Event& e = Accepted(ParseEventLine(R"({"timestamp":")"s + c.timestamp +
                                             R"(","type":"node_heartbeat","node":"n1"})"));
    EXPECT_EQ(FormatTimestamp(e.timestamp), c.utc) << c.timestamp;
  }
}

TEST(EventParserTest, UnknownTypeIsAcceptedAndKeepsItsNode) {
  const Event& e = Accepted(ParseEventLine(
      R"({"timestamp":"2026-05-12T12:05:00Z","type":"disk_full","node":"nas"})"));
  EXPECT_EQ(e.type, EventType::kUnknown);
  EXPECT_EQ(e.node, "nas");
  // An unknown type needs nothing beyond timestamp and type.
  EXPECT_EQ(Accepted(ParseEventLine(R"({"timestamp":"2026-05-12T12:05:00Z","type":"Node_Down"})"))
                .type,
            EventType::kUnknown);
}

TEST(EventParserTest, NullCountsAsAbsent) {
  const Event& e = Accepted(ParseEventLine(
      R"({"timestamp":"2026-05-12T12:05:00Z","type":"service_recovered","service":"dns",)"
      R"("node":null,"correlation_id":null,"severity":null,"message":null,"payload":null})"));
  EXPECT_EQ(e.node, "");
  EXPECT_FALSE(e.severity);
  EXPECT_EQ(e.message, "");

  const Event& failed = Accepted(ParseEventLine(
      R"({"timestamp":"2026-05-12T12:05:00Z","type":"deployment_failed","correlation_id":"d1",)"
      R"("payload":{"diagnostics":null}})"));
  EXPECT_TRUE(failed.diagnostics.empty());
}

TEST(EventParserTest, DeploymentStageKeepsItsStage) {
  const Event& e = Accepted(ParseEventLine(
      R"({"timestamp":"2026-05-12T12:05:00Z","type":"deployment_stage","correlation_id":"d1",)"
      R"("payload":{"stage":"migrate","extra":[1,{"stage":5}]}})"));
  EXPECT_EQ(e.type, EventType::kDeploymentStage);
  EXPECT_EQ(e.stage, "migrate");
}

TEST(EventParserTest, DiagnosticsKeepStringsAsWrittenAndDropTheRest) {
  const Event& e = Accepted(ParseEventLine(
      R"({"timestamp":"2026-05-12T12:05:00Z","type":"deployment_failed","correlation_id":"d1",)"
      R"("payload":{"diagnostics":["deploy-42.log",5,null,{"p":"x"},["y"],)"
      R"("/opt/homelab/logs/a.log","../../etc/passwd",""]}})"));
  EXPECT_EQ(e.diagnostics, (std::vector<std::string>{"deploy-42.log", "/opt/homelab/logs/a.log",
                                                     "../../etc/passwd", ""}));
}

TEST(EventParserTest, PayloadRulesApplyOnlyToTheirType) {
  // A stage or diagnostics of the wrong shape on another type is just ignored.
  const Event& e = Accepted(ParseEventLine(
      R"({"timestamp":"2026-05-12T12:05:00Z","type":"node_heartbeat","node":"n1",)"
      R"("payload":{"stage":5,"diagnostics":"x"}})"));
  EXPECT_EQ(e.stage, "");
  EXPECT_TRUE(e.diagnostics.empty());
}

TEST(EventParserTest, IgnoresUnknownFieldsWhateverTheyHold) {
  const Event& e = Accepted(ParseEventLine(
      R"({"timestamp":"2026-05-12T12:05:00Z","type":"node_heartbeat","node":"n1",)"
      R"("labels":{"node":"a/b","timestamp":5},"tags":[null,{"type":1}],"version":1.5e3})"));
  EXPECT_EQ(e.node, "n1");
}

TEST(EventParserTest, LastDuplicateKeyWins) {
  const Event& e = Accepted(ParseEventLine(
      R"({"timestamp":"2026-05-12T12:05:00Z","type":"node_heartbeat","node":"a/b","node":"ok"})"));
  EXPECT_EQ(e.node, "ok");
  EXPECT_EQ(Rejected(ParseEventLine(
                R"({"timestamp":"2026-05-12T12:05:00Z","type":"deployment_stage",)"
                R"("correlation_id":"d","payload":{"stage":"s"},"payload":null})"))
                .reason,
            RejectReason::kMissingField);
}

TEST(EventParserTest, AcceptsNamesUpTo253Bytes) {
  for (const std::string& name :
       {std::string(253, 'n'), std::string("é") + std::string(251, 'n'), "web-01.lan"s,
        "ñandú"s, "my service"s, "a\\u0085b"s /* C1 controls are not in the contract's list */}) {
    const Event& e = Accepted(ParseEventLine(
        R"({"timestamp":"2026-05-12T12:05:00Z","type":"healthcheck_passed","node":")" + name +
        R"(","service":")" + name + R"("})"));
    EXPECT_FALSE(e.node.empty()) << name;
  }
}

TEST(EventParserTest, CrlfLineParses) {
  EXPECT_EQ(Accepted(ParseEventLine(
                R"({"timestamp":"2026-05-12T12:05:00Z","type":"node_heartbeat","node":"n1"})"
                "\r"))
                .node,
            "n1");
}

TEST(EventParserTest, AcceptsStrictJsonEdgeCases) {
  for (const char* value :
       {"1e308", "-1e308", "5e-324", "123456789012345678901234567890", "-0", R"("\ud83d\ude00")",
        R"("nul \u0000 inside")", R"("\/\b\f\n\r\t")", "true"}) {
    const std::string line =
        R"({"timestamp":"2026-05-12T12:05:00Z","type":"node_heartbeat","node":"n1","x":)"s +
        value + "} \t";
    Accepted(ParseEventLine(line));
  }
}

// ----------------------------------------------------------- field rules --

struct FieldCase {
  const char* name;
  const char* json;
  RejectReason reason;
  const char* detail;  // a substring of the expected detail
};

// Each case goes through ParseEventLine, a one-object .json and a one-element
// .json array: the streaming and DOM paths must agree.
const FieldCase kFieldCases[] = {
    // Missing required fields; null and "" count as absent.
    {"NoTimestamp", R"({"type":"node_heartbeat","node":"n1"})", RejectReason::kMissingField,
     "missing field 'timestamp'"},
    {"NullTimestamp", R"({"timestamp":null,"type":"node_heartbeat","node":"n1"})",
     RejectReason::kMissingField, "'timestamp'"},
    {"NoType", R"({"timestamp":"2026-05-12T12:05:00Z","node":"n1"})", RejectReason::kMissingField,
     "missing field 'type'"},
    {"EmptyType", R"({"timestamp":"2026-05-12T12:05:00Z","type":"","node":"n1"})",
     RejectReason::kMissingField, "'type'"},
    {"HeartbeatWithoutNode", R"({"timestamp":"2026-05-12T12:05:00Z","type":"node_heartbeat"})",
     RejectReason::kMissingField, "missing field 'node' (required for node_heartbeat)"},
    {"NodeDownWithNullNode",
     R"({"timestamp":"2026-05-12T12:05:00Z","type":"node_down","node":null})",
     RejectReason::kMissingField, "'node'"},
    {"HealthcheckFailedWithEmptyNode",
     R"({"timestamp":"2026-05-12T12:05:00Z","type":"healthcheck_failed","node":"",)"
     R"("service":"nginx"})",
     RejectReason::kMissingField, "missing field 'node' (required for healthcheck_failed"},
    {"HealthcheckPassedWithoutService",
     R"({"timestamp":"2026-05-12T12:05:00Z","type":"healthcheck_passed","node":"n1"})",
     RejectReason::kMissingField, "missing field 'service' (required for healthcheck_passed)"},
    {"ServiceUnhealthyWithNullService",
     R"({"timestamp":"2026-05-12T12:05:00Z","type":"service_unhealthy","node":"n1",)"
     R"("service":null})",
     RejectReason::kMissingField, "'service'"},
    {"ServiceRecoveredWithoutService",
     R"({"timestamp":"2026-05-12T12:05:00Z","type":"service_recovered","node":"n1"})",
     RejectReason::kMissingField, "'service' (required for service_recovered)"},
    {"DeploymentStartedWithoutCorrelationId",
     R"({"timestamp":"2026-05-12T12:05:00Z","type":"deployment_started","node":"n1"})",
     RejectReason::kMissingField, "'correlation_id' (required for deployment_started)"},
    {"DeploymentSucceededWithEmptyCorrelationId",
     R"({"timestamp":"2026-05-12T12:05:00Z","type":"deployment_succeeded","correlation_id":""})",
     RejectReason::kMissingField, "'correlation_id'"},
    {"DeploymentStageWithoutPayload",
     R"({"timestamp":"2026-05-12T12:05:00Z","type":"deployment_stage","correlation_id":"d1"})",
     RejectReason::kMissingField, "missing field 'payload.stage' (required for deployment_stage)"},
    {"DeploymentStageWithoutStage",
     R"({"timestamp":"2026-05-12T12:05:00Z","type":"deployment_stage","correlation_id":"d1",)"
     R"("payload":{"step":"migrate"}})",
     RejectReason::kMissingField, "'payload.stage'"},
    {"DeploymentStageWithEmptyStage",
     R"({"timestamp":"2026-05-12T12:05:00Z","type":"deployment_stage","correlation_id":"d1",)"
     R"("payload":{"stage":""}})",
     RejectReason::kMissingField, "'payload.stage'"},
    {"DeploymentStageWithNullStage",
     R"({"timestamp":"2026-05-12T12:05:00Z","type":"deployment_stage","correlation_id":"d1",)"
     R"("payload":{"stage":null}})",
     RejectReason::kMissingField, "'payload.stage'"},

    // Wrong JSON types, whatever the event type.
    {"NumericNode", R"({"timestamp":"2026-05-12T12:05:00Z","type":"node_heartbeat","node":5})",
     RejectReason::kMistypedField, "field 'node' must be a string, not a number"},
    {"BooleanService",
     R"({"timestamp":"2026-05-12T12:05:00Z","type":"node_heartbeat","node":"n","service":true})",
     RejectReason::kMistypedField, "'service' must be a string, not a boolean"},
    {"ArrayCorrelationId",
     R"({"timestamp":"2026-05-12T12:05:00Z","type":"node_heartbeat","node":"n",)"
     R"("correlation_id":["d1"]})",
     RejectReason::kMistypedField, "'correlation_id' must be a string, not an array"},
    {"ObjectMessage",
     R"({"timestamp":"2026-05-12T12:05:00Z","type":"node_heartbeat","node":"n","message":{}})",
     RejectReason::kMistypedField, "'message' must be a string, not an object"},
    {"NumericTimestamp", R"({"timestamp":1778587500,"type":"node_heartbeat","node":"n"})",
     RejectReason::kMistypedField, "'timestamp' must be a string"},
    {"NumericType", R"({"timestamp":"2026-05-12T12:05:00Z","type":7,"node":"n"})",
     RejectReason::kMistypedField, "'type' must be a string"},
    {"ArrayPayload",
     R"({"timestamp":"2026-05-12T12:05:00Z","type":"node_heartbeat","node":"n","payload":[]})",
     RejectReason::kMistypedField, "field 'payload' must be an object, not an array"},
    {"StringPayload",
     R"({"timestamp":"2026-05-12T12:05:00Z","type":"deployment_started","correlation_id":"d",)"
     R"("payload":"x"})",
     RejectReason::kMistypedField, "'payload' must be an object, not a string"},
    {"MistypedBeatsMissing", R"({"timestamp":5})", RejectReason::kMistypedField, "'timestamp'"},
    {"MistypedNodeOnUnknownType",
     R"({"timestamp":"2026-05-12T12:05:00Z","type":"disk_full","node":{"name":"n"}})",
     RejectReason::kMistypedField, "'node'"},
    {"NumericStage",
     R"({"timestamp":"2026-05-12T12:05:00Z","type":"deployment_stage","correlation_id":"d1",)"
     R"("payload":{"stage":3}})",
     RejectReason::kMistypedField, "'payload.stage' must be a string, not a number"},
    {"DiagnosticsNotAnArray",
     R"({"timestamp":"2026-05-12T12:05:00Z","type":"deployment_failed","correlation_id":"d1",)"
     R"("payload":{"diagnostics":"logs/deploy.log"}})",
     RejectReason::kMistypedField, "'payload.diagnostics' must be an array, not a string"},
    {"DiagnosticsObject",
     R"({"timestamp":"2026-05-12T12:05:00Z","type":"deployment_failed","correlation_id":"d1",)"
     R"("payload":{"diagnostics":{"0":"a.log"}}})",
     RejectReason::kMistypedField, "'payload.diagnostics'"},

    // Timestamps.
    {"EmptyTimestamp", R"({"timestamp":"","type":"node_heartbeat","node":"n"})",
     RejectReason::kBadTimestamp, "timestamp '' is not RFC 3339"},
    {"SpaceSeparatedTimestamp",
     R"({"timestamp":"2026-05-12 12:05:00Z","type":"node_heartbeat","node":"n"})",
     RejectReason::kBadTimestamp, "'2026-05-12 12:05:00Z'"},
    {"TimestampWithoutZone",
     R"({"timestamp":"2026-05-12T12:05:00","type":"node_heartbeat","node":"n"})",
     RejectReason::kBadTimestamp, "not RFC 3339"},
    {"NonexistentDate", R"({"timestamp":"2026-02-30T00:00:00Z","type":"node_heartbeat","node":"n"})",
     RejectReason::kBadTimestamp, "2026-02-30"},
    {"UnixTimestampString", R"({"timestamp":"1778587500","type":"node_heartbeat","node":"n"})",
     RejectReason::kBadTimestamp, "'1778587500'"},

    // Severity.
    {"UnknownSeverity",
     R"({"timestamp":"2026-05-12T12:05:00Z","type":"healthcheck_failed","node":"n",)"
     R"("service":"s","severity":"fatal"})",
     RejectReason::kBadSeverity, "not 'fatal'"},
    {"UppercaseSeverity",
     R"({"timestamp":"2026-05-12T12:05:00Z","type":"node_heartbeat","node":"n","severity":"ERROR"})",
     RejectReason::kBadSeverity, "'ERROR'"},
    {"EmptySeverity",
     R"({"timestamp":"2026-05-12T12:05:00Z","type":"node_heartbeat","node":"n","severity":""})",
     RejectReason::kBadSeverity, "one of info, warning, error, critical"},
    {"NumericSeverity",
     R"({"timestamp":"2026-05-12T12:05:00Z","type":"node_heartbeat","node":"n","severity":3})",
     RejectReason::kBadSeverity, "not a number"},

    // Names.
    {"NodeWithSlash",
     R"({"timestamp":"2026-05-12T12:05:00Z","type":"node_heartbeat","node":"rack1/web"})",
     RejectReason::kBadName, "node 'rack1/web' contains '/'"},
    {"ServiceWithSlash",
     R"({"timestamp":"2026-05-12T12:05:00Z","type":"service_recovered","service":"web/api"})",
     RejectReason::kBadName, "service 'web/api'"},
    {"NodeWithBell",
     R"({"timestamp":"2026-05-12T12:05:00Z","type":"node_heartbeat","node":"a\u0007b"})",
     RejectReason::kBadName, "control character U+0007"},
    {"NodeWithNul",
     R"({"timestamp":"2026-05-12T12:05:00Z","type":"node_heartbeat","node":"a\u0000b"})",
     RejectReason::kBadName, "U+0000"},
    {"NodeWithTab",
     R"({"timestamp":"2026-05-12T12:05:00Z","type":"node_heartbeat","node":"a\tb"})",
     RejectReason::kBadName, "U+0009"},
    {"ServiceWithDelete",
     R"({"timestamp":"2026-05-12T12:05:00Z","type":"service_recovered","service":"x\u007f"})",
     RejectReason::kBadName, "U+007F"},
    {"OptionalNodeIsCheckedToo",
     R"({"timestamp":"2026-05-12T12:05:00Z","type":"deployment_started","correlation_id":"d",)"
     R"("node":"../etc"})",
     RejectReason::kBadName, "node '../etc' contains '/'"},
    {"NodeOnUnknownTypeIsChecked",
     R"({"timestamp":"2026-05-12T12:05:00Z","type":"disk_full","node":"\n"})",
     RejectReason::kBadName, "U+000A"},

    // Duplicate keys: the last one wins on both paths.
    {"DuplicateNodeLastWins",
     R"({"timestamp":"2026-05-12T12:05:00Z","type":"node_heartbeat","node":"ok","node":"a/b"})",
     RejectReason::kBadName, "node 'a/b'"},
    {"DuplicatePayloadLastWins",
     R"({"timestamp":"2026-05-12T12:05:00Z","type":"deployment_stage","correlation_id":"d",)"
     R"("payload":{"stage":"s"},"payload":{"step":"s"}})",
     RejectReason::kMissingField, "'payload.stage'"},

    // Order among the field rules.
    {"BadTimestampBeforeBadSeverity",
     R"({"timestamp":"now","type":"node_heartbeat","node":"n","severity":"fatal"})",
     RejectReason::kBadTimestamp, "'now'"},
    {"BadSeverityBeforeMissingNode",
     R"({"timestamp":"2026-05-12T12:05:00Z","type":"node_heartbeat","severity":"fatal"})",
     RejectReason::kBadSeverity, "'fatal'"},
    {"MissingServiceBeforeBadNode",
     R"({"timestamp":"2026-05-12T12:05:00Z","type":"healthcheck_failed","node":"a/b"})",
     RejectReason::kMissingField, "'service'"},
    {"BadNameBeforeMissingStage",
     R"({"timestamp":"2026-05-12T12:05:00Z","type":"deployment_stage","correlation_id":"d",)"
     R"("service":"a/b"})",
     RejectReason::kBadName, "service 'a/b'"},
};

class EventFieldRulesTest : public testing::TestWithParam<FieldCase> {};

TEST_P(EventFieldRulesTest, RejectsWithReasonOnEveryPath) {
  const FieldCase& c = GetParam();
  const Rejection& line = Rejected(ParseEventLine(c.json));
  EXPECT_EQ(RejectReasonName(line.reason), RejectReasonName(c.reason)) << line.detail;
  EXPECT_NE(line.detail.find(c.detail), std::string::npos) << line.detail;

  for (const std::string& doc : {std::string(c.json), "[" + std::string(c.json) + "]"}) {
    const auto items = ParseEventDocument(doc);
    ASSERT_EQ(items.size(), 1u) << doc;
    EXPECT_EQ(items[0].line, 1u);
    const Rejection& in_doc = Rejected(items[0].result);
    EXPECT_EQ(in_doc.reason, line.reason) << doc;
    EXPECT_EQ(in_doc.detail, line.detail) << doc;
  }
}

INSTANTIATE_TEST_SUITE_P(EventParserTest, EventFieldRulesTest, testing::ValuesIn(kFieldCases),
                         [](const auto& info) { return std::string(info.param.name); });

TEST(EventParserTest, RejectsNamesOver253Bytes) {
  for (const std::string& name :
       {std::string(254, 'n'), std::string(253, 'n') + "é", "é"s + std::string(252, 'n')}) {
    const Rejection& r = Rejected(ParseEventLine(
        R"({"timestamp":"2026-05-12T12:05:00Z","type":"node_heartbeat","node":")" + name + "\"}"));
    EXPECT_EQ(r.reason, RejectReason::kBadName);
    EXPECT_NE(r.detail.find("limit 253"), std::string::npos) << r.detail;
  }
}

// ----------------------------------------------------------- JSON rules ---

TEST(EventParserTest, RejectsNonStrictJsonAsBadJson) {
  const std::string prefix =
      R"({"timestamp":"2026-05-12T12:05:00Z","type":"node_heartbeat","node":"n1","x":)";
  for (const char* value :
       {"NaN", "-NaN", "Infinity", "-Infinity", "1e400", "-1e400", "1e99999", "01", "0x1F", "+1",
        ".5", R"("\ud800")", R"("\udc00")", R"("\ud800\u0041")", R"("\ud83d")", R"('single')",
        R"("\x41")", "\"raw\x01control\"", "undefined", "[1,]", "}"}) {
    const Rejection& r = Rejected(ParseEventLine(prefix + value + "}"));
    EXPECT_EQ(r.reason, RejectReason::kBadJson) << value << " → " << r.detail;
    EXPECT_FALSE(r.detail.empty());
    EXPECT_EQ(r.detail.find("[json.exception"), std::string::npos) << r.detail;
  }
}

TEST(EventParserTest, RejectsBrokenLinesAsBadJson) {
  for (const std::string& line :
       {""s, "   "s, "{"s, R"({"timestamp":"2026-05-12T12:05:00Z",})"s, "{} {}"s,
        R"({"a":1} // comment)"s, "{'a':1}"s, R"({"a" 1})"s, "\xEF\xBB\xBF{}"s,
        R"({"timestamp":"2026-05-12T12:05:00Z","type":"node_heartbeat","node":"n1"})"
        "\n{}"s}) {
    EXPECT_EQ(Rejected(ParseEventLine(line)).reason, RejectReason::kBadJson) << line;
  }
}

TEST(EventParserTest, BomInsideAJsonlFileIsBadJson) {
  const Rejection& r = Rejected(ParseEventLine(
      "\xEF\xBB\xBF"
      R"({"timestamp":"2026-05-12T12:05:00Z","type":"node_heartbeat","node":"n1"})"));
  EXPECT_EQ(r.reason, RejectReason::kBadJson);
  EXPECT_NE(r.detail.find("byte order mark"), std::string::npos);
}

// The record names the file's line; the detail adds the column inside it,
// not nlohmann's "line 1" of a one-line input.
TEST(EventParserTest, SyntaxErrorInALineNamesTheColumnOnly) {
  const Rejection& r = Rejected(ParseEventLine(
      R"({"timestamp":"2026-05-12T12:05:00Z","type":"node_heartbeat","node":"n1",})"));
  EXPECT_EQ(r.reason, RejectReason::kBadJson);
  EXPECT_EQ(r.detail.rfind("parse error at column 73: syntax error", 0), 0u) << r.detail;
  EXPECT_EQ(r.detail.find("line"), std::string::npos) << r.detail;
}

// A .json document is one record at line 1: its detail names the file's line.
TEST(EventParserTest, SyntaxErrorInADocumentNamesTheLineOfTheFile) {
  const auto items = ParseEventDocument(
      "[\n{\"timestamp\":\"2026-05-12T12:00:00Z\",\"type\":\"node_heartbeat\",\"node\":\"a\"},\n"
      "{\"type\" \"node_heartbeat\"}\n]\n");
  ASSERT_EQ(items.size(), 1u);
  const Rejection& r = Rejected(items[0].result);
  EXPECT_EQ(items[0].line, 1u);
  EXPECT_EQ(r.detail.rfind("parse error at line 3, column 24 of the file: ", 0), 0u) << r.detail;
}

TEST(EventParserTest, NumberOverflowDetailNamesTheNumber) {
  const Rejection& r = Rejected(ParseEventLine(
      R"({"timestamp":"2026-05-12T12:05:00Z","type":"node_heartbeat","node":"n1","x":1e400})"));
  EXPECT_NE(r.detail.find("1e400"), std::string::npos) << r.detail;
}

TEST(EventParserTest, LoneSurrogateEscapeIsBadJson) {
  const Rejection& r = Rejected(ParseEventLine(
      R"({"timestamp":"2026-05-12T12:05:00Z","type":"node_heartbeat","node":"\ud800"})"));
  EXPECT_EQ(r.reason, RejectReason::kBadJson);
  EXPECT_NE(r.detail.find("surrogate"), std::string::npos) << r.detail;
}

TEST(EventParserTest, RejectsValuesThatAreNotObjects) {
  for (const char* line : {"[]", "[{}]", "42", R"("event")", "null", "true",
                           R"([{"timestamp":"2026-05-12T12:05:00Z","type":"node_down","node":"n"}])"}) {
    const Rejection& r = Rejected(ParseEventLine(line));
    EXPECT_EQ(r.reason, RejectReason::kNotObject) << line;
    EXPECT_NE(r.detail.find("not an object"), std::string::npos) << r.detail;
  }
}

TEST(EventParserTest, DepthOf64IsAcceptedAnd65IsBadJson) {
  Accepted(ParseEventLine(EventWithDepth(64)));
  const Rejection& r = Rejected(ParseEventLine(EventWithDepth(65)));
  EXPECT_EQ(r.reason, RejectReason::kBadJson);
  EXPECT_NE(r.detail.find("nesting deeper than 64"), std::string::npos) << r.detail;

  std::string objects = "{\"a\":1}";
  for (int depth = 2; depth <= 64; ++depth) objects = "{\"a\":" + objects + "}";
  EXPECT_EQ(Rejected(ParseEventLine(objects)).reason, RejectReason::kMissingField);  // 64: parses
  EXPECT_EQ(Rejected(ParseEventLine("{\"a\":" + objects + "}")).reason, RejectReason::kBadJson);
}

TEST(EventParserTest, MegabyteOfOpenBracketsIsBadJsonWithoutBuildingIt) {
  const Rejection& r = Rejected(ParseEventLine(std::string(kMaxEventBytes, '[')));
  EXPECT_EQ(r.reason, RejectReason::kBadJson);
  EXPECT_NE(r.detail.find("nesting"), std::string::npos);
  // The parser stops at level 65 (the detail says so) instead of building it.
}

// ------------------------------------------------------------- size -------

TEST(EventParserTest, LineOfExactlyOneMebibyteIsAccepted) {
  const std::string line = LineOfSize(kMaxEventBytes);
  ASSERT_EQ(line.size(), 1048576u);
  const Event& e = Accepted(ParseEventLine(line));
  EXPECT_GT(e.message.size(), 1048000u);
  EXPECT_EQ(e.message.find_first_not_of('x'), std::string::npos);
}

TEST(EventParserTest, LineOneByteOverIsTooLarge) {
  const Rejection& r = Rejected(ParseEventLine(LineOfSize(kMaxEventBytes + 1)));
  EXPECT_EQ(r.reason, RejectReason::kTooLarge);
  EXPECT_EQ(r.detail, "line is 1048577 bytes, limit 1048576");
}

TEST(EventParserTest, TrailingCrCountsTowardTheLimit) {
  Accepted(ParseEventLine(LineOfSize(kMaxEventBytes, "\r")));
  EXPECT_EQ(Rejected(ParseEventLine(LineOfSize(kMaxEventBytes + 1, "\r"))).reason,
            RejectReason::kTooLarge);
}

TEST(EventParserTest, FiftyMegabyteLineIsTooLargeAtOnce) {
  const std::string line(50u << 20, '[');
  const Rejection& r = Rejected(ParseEventLine(line));
  EXPECT_EQ(r.reason, RejectReason::kTooLarge);
  EXPECT_EQ(r.detail, "line is 52428800 bytes, limit 1048576");
}

TEST(EventParserTest, TooLargeIsCheckedBeforeEncoding) {
  EXPECT_EQ(Rejected(ParseEventLine(std::string(kMaxEventBytes + 1, '\xFF'))).reason,
            RejectReason::kTooLarge);
}

// ----------------------------------------------------------- encoding -----

struct Utf8Case {
  const char* name;
  std::string bytes;
};

const Utf8Case kInvalidUtf8[] = {
    {"LoneContinuation", "\x80"},
    {"LoneContinuationBF", "\xBF"},
    {"OverlongNul", "\xC0\x80"},
    {"OverlongC1", "\xC1\xBF"},
    {"Overlong3Byte", "\xE0\x80\x80"},
    {"Overlong3ByteU07FF", "\xE0\x9F\xBF"},
    {"Overlong4Byte", "\xF0\x80\x80\x80"},
    {"Overlong4ByteUFFFF", "\xF0\x8F\xBF\xBF"},
    {"SurrogateD800", "\xED\xA0\x80"},
    {"SurrogateDFFF", "\xED\xBF\xBF"},
    {"SurrogatePairAsCesu8", "\xED\xA0\xBD\xED\xB8\x80"},
    {"AboveU10FFFF", "\xF4\x90\x80\x80"},
    {"LeadF5", "\xF5\x80\x80\x80"},
    {"ByteFE", "\xFE"},
    {"ByteFF", "\xFF"},
    {"Truncated2Byte", "\xC3"},
    {"Truncated3Byte", "\xE2\x82"},
    {"Truncated4Byte", "\xF0\x9F\x98"},
    {"TruncatedThenAscii", "\xE2\x82z"},
    {"BadSecondByte", "\xC3\x28"},
    {"Latin1", "caf\xE9"},
};

const Utf8Case kValidUtf8[] = {
    {"Empty", ""},
    {"Ascii", "plain ascii"},
    {"Nul", "a\0b"s},
    {"U0080", "\xC2\x80"},
    {"U07FF", "\xDF\xBF"},
    {"U0800", "\xE0\xA0\x80"},
    {"UD7FF", "\xED\x9F\xBF"},
    {"UE000", "\xEE\x80\x80"},
    {"UFEFF", "\xEF\xBB\xBF"},
    {"UFFFF", "\xEF\xBF\xBF"},
    {"U10000", "\xF0\x90\x80\x80"},
    {"U10FFFF", "\xF4\x8F\xBF\xBF"},
    {"Mixed", "caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80!"},
};

class Utf8Test : public testing::TestWithParam<Utf8Case> {};
class Utf8InvalidTest : public Utf8Test {};
class Utf8ValidTest : public Utf8Test {};

TEST_P(Utf8InvalidTest, IsRejected) {
  const std::string& bytes = GetParam().bytes;
  EXPECT_FALSE(IsValidUtf8(bytes));
  // Behind the 16-byte ASCII fast path too.
  EXPECT_FALSE(IsValidUtf8(std::string(37, 'a') + bytes));
  const std::string line =
      R"({"timestamp":"2026-05-12T12:05:00Z","type":"node_heartbeat","node":"n)" + bytes +
      R"("})";
  const Rejection& r = Rejected(ParseEventLine(line));
  EXPECT_EQ(r.reason, RejectReason::kBadEncoding);
  EXPECT_TRUE(r.detail.starts_with("invalid UTF-8 at byte offset ")) << r.detail;
}

TEST_P(Utf8ValidTest, IsAccepted) {
  EXPECT_TRUE(IsValidUtf8(GetParam().bytes));
  EXPECT_TRUE(IsValidUtf8(std::string(37, 'a') + GetParam().bytes + std::string(20, 'b')));
}

INSTANTIATE_TEST_SUITE_P(EventParserTest, Utf8InvalidTest, testing::ValuesIn(kInvalidUtf8),
                         [](const auto& info) { return std::string(info.param.name); });
INSTANTIATE_TEST_SUITE_P(EventParserTest, Utf8ValidTest, testing::ValuesIn(kValidUtf8),
                         [](const auto& info) { return std::string(info.param.name); });

TEST(EventParserUtf8Test, FindsABadByteAtEveryOffset) {
  for (size_t at = 0; at < 48; ++at) {
    std::string s(48, 'a');
    s[at] = '\xFF';
    EXPECT_FALSE(IsValidUtf8(s)) << at;
    s[at] = '\x7F';
    EXPECT_TRUE(IsValidUtf8(s)) << at;
  }
  for (size_t len = 1; len < 40; ++len) {  // a lead byte cut off by the end
    EXPECT_FALSE(IsValidUtf8(std::string(len, 'a') + "\xE2\x82")) << len;
    EXPECT_TRUE(IsValidUtf8(std::string(len, 'a') + "\xE2\x82\xAC")) << len;
  }
}

TEST(EventParserUtf8Test, InvalidBytesOutsideStringsAreBadEncodingNotBadJson) {
  EXPECT_EQ(Rejected(ParseEventLine("{\xFF}")).reason, RejectReason::kBadEncoding);
  EXPECT_EQ(Rejected(ParseEventLine("\xC0\xBB")).reason, RejectReason::kBadEncoding);
}

TEST(EventParserTest, BadJsonDetailIsValidUtf8AndBounded) {
  // nlohmann quotes the offending token: here a lone lead byte, there 1 MiB.
  for (const std::string& line :
       {R"({"timestamp": é})"s, R"({"message":")" + std::string(1000000, 'a'),
        R"({"x":)" + std::string(500000, '1') + "e999999}"}) {
    const Rejection& r = Rejected(ParseEventLine(line));
    EXPECT_EQ(r.reason, RejectReason::kBadJson);
    EXPECT_TRUE(IsValidUtf8(r.detail)) << r.detail;
    EXPECT_LE(r.detail.size(), 512u);
  }
}

TEST(EventParserTest, QuotedValuesInDetailsAreCutAndEscaped) {
  const Rejection& r = Rejected(ParseEventLine(
      R"({"timestamp":"2026-05-12T12:05:00Z","type":"node_heartbeat","node":"n","severity":")" +
      std::string(10000, 'e') + "\"}"));
  EXPECT_EQ(r.reason, RejectReason::kBadSeverity);
  EXPECT_LT(r.detail.size(), 200u);
  EXPECT_NE(r.detail.find("…"), std::string::npos);

  const Rejection& ctl = Rejected(ParseEventLine(
      R"({"timestamp":"2026-05-12T12:05:00Z","type":"node_heartbeat","node":"a\u001bb"})"));
  EXPECT_NE(ctl.detail.find(R"('a\u001bb')"), std::string::npos) << ctl.detail;
}

// ----------------------------------------------------------- documents ----

TEST(EventParserDocumentTest, SingleObjectIsOneItemOnLine1) {
  const std::string doc =
      "{\"timestamp\":\"2026-05-12T12:05:00Z\",\n \"type\":\"node_heartbeat\",\"node\":\"n1\"}\n";
  const auto items = ParseEventDocument(doc);
  ASSERT_EQ(items.size(), 1u);
  EXPECT_EQ(items[0].line, 1u);
  EXPECT_EQ(Accepted(items[0].result).node, "n1");
  EXPECT_EQ(items[0].raw, doc);
}

TEST(EventParserDocumentTest, ArrayGivesOneItemPerElementByIndex) {
  const auto items = ParseEventDocument(R"([
    {"timestamp":"2026-05-12T12:05:00Z","type":"node_heartbeat","node":"n1"},
    5,
    {"type":"node_down","timestamp":"2026-05-12T12:06:00Z"},
    "text",
    {"timestamp":"2026-05-12T12:07:00Z","type":"deployment_failed","correlation_id":"d",
     "payload":{"diagnostics":["a.log",1]}}
  ])");
  ASSERT_EQ(items.size(), 5u);
  for (uint64_t i = 0; i < items.size(); ++i) EXPECT_EQ(items[i].line, i + 1);
  EXPECT_EQ(Accepted(items[0].result).node, "n1");
  EXPECT_EQ(Rejected(items[1].result).reason, RejectReason::kNotObject);
  EXPECT_EQ(items[1].raw, "5");
  EXPECT_EQ(Rejected(items[2].result).reason, RejectReason::kMissingField);
  EXPECT_EQ(items[2].raw, R"({"timestamp":"2026-05-12T12:06:00Z","type":"node_down"})");
  EXPECT_EQ(Rejected(items[3].result).reason, RejectReason::kNotObject);
  EXPECT_EQ(items[3].raw, R"("text")");
  EXPECT_EQ(Accepted(items[4].result).diagnostics, std::vector<std::string>{"a.log"});
}

// An accepted array element's `raw` is the element re-serialized, exactly as
// nlohmann's dump writes it: keys sorted, the last duplicate winning, every
// number and escape as nlohmann prints them.
TEST(EventParserDocumentTest, ArrayElementRawIsTheElementAsNlohmannDumpsIt) {
  const std::string extras[] = {
      R"("z":1,"a":2,"m":{"y":[1,2,{"b":true,"a":null}],"x":-0})",
      R"("dup":1,"dup":"second","node":"n2",)"
      R"("n":[0,-0,-0.0,1.0,1e2,1E-400,0.1,5e-324,1.7976931348623157e308,2.5e-3,)"
      R"(18446744073709551615,-9223372036854775808,123456789012345678,1e15,1e16,-1.5e-7])",
      R"("s":"\u0000\u001f\"\\\/\b\f\n\r\t\u007f\u00e9\ud83d\ude00 caf\u00e9 \u2028 é")",
      R"("payload":{"stage":"x","diagnostics":["a.log",{"k":[]},[],{}]},"e":[],"o":{},"":"")",
  };
  for (const std::string& extra : extras) {
    const std::string element =
        R"({"timestamp":"2026-05-12T12:05:00Z","type":"node_heartbeat","node":"n1",)" + extra +
        "}";
    const std::string expected = nlohmann::json::parse(element).dump(
        -1, ' ', false, nlohmann::json::error_handler_t::replace);
    const auto items = ParseEventDocument("[" + element + ",\n " + element + "]");
    ASSERT_EQ(items.size(), 2u) << element;
    for (const DocumentItem& item : items) {
      Accepted(item.result);
      EXPECT_EQ(item.raw, expected);
    }
    // The element alone, as a line, is the same event.
    const Event as_line = Accepted(ParseEventLine(element));
    const Event in_array = Accepted(items[0].result);
    EXPECT_EQ(as_line.node, in_array.node);
    EXPECT_EQ(as_line.timestamp, in_array.timestamp);
  }
}

TEST(EventParserDocumentTest, EmptyArrayYieldsNothing) {
  EXPECT_TRUE(ParseEventDocument("[]").empty());
  EXPECT_TRUE(ParseEventDocument(" [ ]\n").empty());
}

TEST(EventParserDocumentTest, SkipsOneLeadingBom) {
  const std::string object =
      R"({"timestamp":"2026-05-12T12:05:00Z","type":"node_heartbeat","node":"n1"})";
  auto items = ParseEventDocument("\xEF\xBB\xBF" + object);
  ASSERT_EQ(items.size(), 1u);
  Accepted(items[0].result);
  EXPECT_EQ(items[0].raw, object);

  items = ParseEventDocument("\xEF\xBB\xBF[" + object + "," + object + "]");
  ASSERT_EQ(items.size(), 2u);
  Accepted(items[1].result);

  items = ParseEventDocument("\xEF\xBB\xBF\xEF\xBB\xBF" + object);
  ASSERT_EQ(items.size(), 1u);
  EXPECT_EQ(Rejected(items[0].result).reason, RejectReason::kBadJson);
}

struct WholeFileCase {
  const char* name;
  std::string content;
  RejectReason reason;
};

const WholeFileCase kWholeFileCases[] = {
    {"Empty", "", RejectReason::kBadJson},
    {"Whitespace", " \r\n\t", RejectReason::kBadJson},
    {"OnlyBom", "\xEF\xBB\xBF", RejectReason::kBadJson},
    {"Truncated", R"([{"timestamp":"2026-05-12T12:05:00Z")", RejectReason::kBadJson},
    {"TrailingGarbage", R"({"a":1} x)", RejectReason::kBadJson},
    {"TwoObjects", "{}\n{}", RejectReason::kBadJson},
    {"NaNInOneElement", R"([{"a":1},{"a":NaN}])", RejectReason::kBadJson},
    {"Number", "42", RejectReason::kNotObject},
    {"String", R"("event")", RejectReason::kNotObject},
    {"Null", "null", RejectReason::kNotObject},
    {"Boolean", "false", RejectReason::kNotObject},
    {"InvalidUtf8", "[{\"node\":\"\xC0\x80\"}]", RejectReason::kBadEncoding},
    {"InvalidUtf8AfterBom", "\xEF\xBB\xBF{\"a\":\"\xED\xA0\x80\"}", RejectReason::kBadEncoding},
};

class EventDocumentWholeFileTest : public testing::TestWithParam<WholeFileCase> {};

TEST_P(EventDocumentWholeFileTest, IsOneRejectionOnLine1) {
  const auto items = ParseEventDocument(GetParam().content);
  ASSERT_EQ(items.size(), 1u);
  EXPECT_EQ(items[0].line, 1u);
  const Rejection& r = Rejected(items[0].result);
  EXPECT_EQ(RejectReasonName(r.reason), RejectReasonName(GetParam().reason)) << r.detail;
  EXPECT_FALSE(r.detail.empty());
}

INSTANTIATE_TEST_SUITE_P(EventParserTest, EventDocumentWholeFileTest,
                         testing::ValuesIn(kWholeFileCases),
                         [](const auto& info) { return std::string(info.param.name); });

TEST(EventParserDocumentTest, OneTooDeepElementMakesTheWholeFileBadJson) {
  // Array = level 1, so an element of depth 63 reaches 64 and one of 64 reaches 65.
  const std::string ok = EventWithDepth(10);
  auto items = ParseEventDocument("[" + ok + "," + EventWithDepth(63) + "," + ok + "]");
  ASSERT_EQ(items.size(), 3u);
  Accepted(items[1].result);

  items = ParseEventDocument("[" + ok + "," + EventWithDepth(64) + "," + ok + "]");
  ASSERT_EQ(items.size(), 1u);
  EXPECT_EQ(items[0].line, 1u);
  EXPECT_EQ(Rejected(items[0].result).reason, RejectReason::kBadJson);

  // A single object counts itself as level 1.
  items = ParseEventDocument(EventWithDepth(64));
  ASSERT_EQ(items.size(), 1u);
  Accepted(items[0].result);
  items = ParseEventDocument(EventWithDepth(65));
  ASSERT_EQ(items.size(), 1u);
  EXPECT_EQ(Rejected(items[0].result).reason, RejectReason::kBadJson);
}

TEST(EventParserDocumentTest, MegabyteOfOpenBracketsIsBadJson) {
  const auto items = ParseEventDocument(std::string(kMaxEventBytes, '['));
  ASSERT_EQ(items.size(), 1u);
  EXPECT_EQ(Rejected(items[0].result).reason, RejectReason::kBadJson);
}

TEST(EventParserDocumentTest, SizeLimitIsTheFileSize) {
  auto items = ParseEventDocument(LineOfSize(kMaxEventBytes));
  ASSERT_EQ(items.size(), 1u);
  Accepted(items[0].result);

  for (const std::string& doc : {LineOfSize(kMaxEventBytes + 1),
                                 "\xEF\xBB\xBF" + LineOfSize(kMaxEventBytes - 2),
                                 std::string(50u << 20, '[')}) {
    items = ParseEventDocument(doc);
    ASSERT_EQ(items.size(), 1u);
    EXPECT_EQ(items[0].line, 1u);
    const Rejection& r = Rejected(items[0].result);
    EXPECT_EQ(r.reason, RejectReason::kTooLarge);
    EXPECT_EQ(r.detail, "file is " + std::to_string(doc.size()) + " bytes, limit 1048576");
    // Enough of the content is kept for SanitizeRaw.
    EXPECT_EQ(SanitizeRaw(items[0].raw), SanitizeRaw(doc));
  }
}

TEST(EventParserDocumentTest, BadEncodingKeepsTheContentAsRaw) {
  const std::string doc = "{\"node\":\"caf\xE9\"}";
  const auto items = ParseEventDocument(doc);
  ASSERT_EQ(items.size(), 1u);
  EXPECT_EQ(Rejected(items[0].result).detail, "invalid UTF-8 at byte offset 12");
  EXPECT_EQ(items[0].raw, doc);
  EXPECT_EQ(SanitizeRaw(items[0].raw), "{\"node\":\"caf\xEF\xBF\xBD\"}");
}

// ----------------------------------------------------------- SanitizeRaw --

TEST(EventParserSanitizeRawTest, KeepsValidShortTextUnchanged) {
  for (const std::string& s : {""s, "plain"s, "caf\xC3\xA9 \xF0\x9F\x98\x80"s, "a\0b"s}) {
    EXPECT_EQ(SanitizeRaw(s), s);
  }
}

TEST(EventParserSanitizeRawTest, ReplacesEachMaximalInvalidSubsequence) {
  struct Case {
    std::string in;
    std::string out;
  };
  const std::string r = "\xEF\xBF\xBD";  // U+FFFD
  for (const Case& c : {Case{"a\xFF" "b", "a" + r + "b"},
                        Case{"\xE2\x82z", r + "z"},
                        Case{"\xF0\x9F\x98", r},
                        Case{"\xC0\x80", r + r},
                        Case{"\xED\xA0\x80", r + r + r},
                        Case{"\xF4\x90\x80\x80", r + r + r + r},
                        Case{"\x80\x80", r + r},
                        Case{"caf\xE9!", "caf" + r + "!"}}) {
    EXPECT_EQ(SanitizeRaw(c.in), c.out);
  }
}

TEST(EventParserSanitizeRawTest, CutsAt1024BytesOnACharacterBoundary) {
  struct Case {
    std::string in;
    std::string out;
  };
  const std::string a1021(1021, 'a'), a1022(1022, 'a'), a1023(1023, 'a');
  for (const Case& c : {Case{std::string(2000, 'a'), std::string(1024, 'a')},
                        Case{std::string(1024, 'a'), std::string(1024, 'a')},
                        Case{a1023 + "\xC3\xA9", a1023},
                        Case{a1022 + "\xC3\xA9", a1022 + "\xC3\xA9"},
                        Case{a1021 + "\xE2\x82\xAC", a1021 + "\xE2\x82\xAC"},
                        Case{a1022 + "\xE2\x82\xAC", a1022},
                        Case{a1021 + "\xF0\x9F\x98\x80", a1021},
                        Case{a1022 + "\xFF", a1022},
                        Case{a1021 + "\xFF" + "tail", a1021 + "\xEF\xBF\xBD"}}) {
    const std::string out = SanitizeRaw(c.in);
    EXPECT_EQ(out.size(), c.out.size());
    EXPECT_EQ(out, c.out);
  }
}

TEST(EventParserSanitizeRawTest, AlwaysYieldsValidUtf8WithinTheLimit) {
  std::mt19937 rng(42);
  for (int round = 0; round < 2000; ++round) {
    std::string s(rng() % 1500, '\0');
    for (char& c : s) c = static_cast<char>(rng() % 4 == 0 ? rng() % 256 : 0x20 + rng() % 0x60);
    const std::string out = SanitizeRaw(s);
    ASSERT_TRUE(IsValidUtf8(out)) << round;
    ASSERT_LE(out.size(), 1024u);
    if (IsValidUtf8(s) && s.size() <= 1024) {
      ASSERT_EQ(out, s);
    }
  }
}

TEST(EventParserSanitizeRawTest, HugeInputIsCutWithoutScanningItAll) {
  const std::string huge(50u << 20, '\xFF');
  const std::string out = SanitizeRaw(huge);
  EXPECT_EQ(out.size(), 1023u);  // 341 replacement characters
}

}  // namespace
}  // namespace hlo
