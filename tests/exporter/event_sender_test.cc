// The sender's logic (batching, ids, retries and backoff, the spool) on a
// FakeHttpClient, and the parsing of its input.
#include "exporter/event_sender.h"

#include <nlohmann/json.hpp>

#include <gtest/gtest.h>

#include "exporter/send_input.h"
#include "tests/fakes/fake_http_client.h"
#include "tests/fakes/temp_dir.h"

namespace hlo {
namespace {

using std::chrono::milliseconds;
using Kind = HttpResult::Kind;

constexpr char kUrl[] = "http://observer:9847/api/v1/events";

std::vector<SpooledEvent> Events(int n) {
  std::vector<SpooledEvent> out;
  for (int i = 0; i < n; ++i) {
    out.push_back({"{\"id\":\"e" + std::to_string(i) + "\",\"type\":\"node_heartbeat\"}",
                   "in:" + std::to_string(i + 1)});
  }
  return out;
}

size_t LineCount(const std::string& body) { return static_cast<size_t>(std::count(body.begin(), body.end(), '\n')); }

struct Fixture {
  FakeHttpClient http;
  std::vector<milliseconds> sleeps;
  SenderOptions options;
  SendReport Run(Outbox& outbox) {
    Sender sender(http, kUrl, options, [this](milliseconds d) { sleeps.push_back(d); }, 42);
    return sender.Run(outbox);
  }
};

TEST(EventSenderTest, BatchesByCountAsNdjson) {
  Fixture f;
  MemoryOutbox outbox(Events(2500));
  const SendReport report = f.Run(outbox);
  ASSERT_EQ(f.http.requests.size(), 3u);
  EXPECT_EQ(LineCount(f.http.requests[0].body), 1000u);
  EXPECT_EQ(LineCount(f.http.requests[2].body), 500u);
  EXPECT_EQ(f.http.requests[0].content_type, "application/x-ndjson");
  EXPECT_EQ(f.http.requests[0].url, kUrl);
  EXPECT_EQ(report.accepted, 2500u);
  EXPECT_EQ(report.batches, 3u);
  EXPECT_EQ(report.failure, "");
  EXPECT_EQ(outbox.Remaining(), 0u);
  EXPECT_TRUE(f.sleeps.empty());
}

TEST(EventSenderTest, BatchesByBytes) {
  Fixture f;
  f.options.batch_bytes = 100;  // each event is 44 bytes with its newline
  MemoryOutbox outbox(Events(5));
  f.Run(outbox);
  ASSERT_EQ(f.http.requests.size(), 3u);
  EXPECT_EQ(LineCount(f.http.requests[0].body), 2u);
}

TEST(EventSenderTest, TransientFailuresAreRetriedWithTheSameBody) {
  for (const HttpResult& transient :
       {FakeHttpClient::Failure(Kind::kConnectError), FakeHttpClient::Failure(Kind::kTimeout),
        FakeHttpClient::Failure(Kind::kSendError), FakeHttpClient::Answer(408),
        FakeHttpClient::Answer(429), FakeHttpClient::Answer(500), FakeHttpClient::Answer(503)}) {
    Fixture f;
    f.http.script = {transient, transient};
    MemoryOutbox outbox(Events(3));
    const SendReport report = f.Run(outbox);
    ASSERT_EQ(f.http.requests.size(), 3u) << transient.status;
    EXPECT_EQ(f.http.requests[0].body, f.http.requests[2].body);  // same ids: a retry is harmless
    EXPECT_EQ(report.retries, 2u);
    EXPECT_EQ(report.accepted, 3u);
    EXPECT_EQ(report.failure, "");
    EXPECT_EQ(f.sleeps.size(), 2u);
  }
}

TEST(EventSenderTest, BackoffGrowsExponentiallyWithJitterUpToTheCap) {
  Fixture f;
  f.options.retries = 12;
  f.http.otherwise = [](const FakeHttpClient::Request&) {
    return FakeHttpClient::Failure(Kind::kConnectError, "connection refused");
  };
  MemoryOutbox outbox(Events(1));
  const SendReport report = f.Run(outbox);
  ASSERT_EQ(f.sleeps.size(), 12u);
  for (size_t i = 0; i < f.sleeps.size(); ++i) {
    const int64_t d = std::min<int64_t>(30000, 500LL << i);
    EXPECT_GE(f.sleeps[i].count(), d / 2) << i;
    EXPECT_LE(f.sleeps[i].count(), d) << i;
  }
  EXPECT_NE(report.failure.find("gave up after 13 attempts"), std::string::npos) << report.failure;
  EXPECT_NE(report.failure.find("connection refused"), std::string::npos) << report.failure;
  EXPECT_EQ(outbox.Remaining(), 1u);
}

TEST(EventSenderTest, JitterDiffersBetweenSenders) {
  SenderOptions options;
  FakeHttpClient http;
  Sender a(http, kUrl, options, [](milliseconds) {}, 1);
  Sender b(http, kUrl, options, [](milliseconds) {}, 2);
  int same = 0;
  for (int i = 0; i < 10; ++i) same += a.Backoff(5, std::nullopt) == b.Backoff(5, std::nullopt);
  EXPECT_LT(same, 3);
}

TEST(EventSenderTest, RetryAfterIsHonoured) {
  Fixture f;
  HttpResult busy = FakeHttpClient::Answer(503, "busy");
  busy.retry_after = milliseconds(7000);
  f.http.script = {busy};
  MemoryOutbox outbox(Events(1));
  f.Run(outbox);
  ASSERT_EQ(f.sleeps.size(), 1u);
  EXPECT_EQ(f.sleeps[0], milliseconds(7000));
}

TEST(EventSenderTest, RetryAfterIsCapped) {
  Fixture f;
  HttpResult busy = FakeHttpClient::Answer(429);
  busy.retry_after = milliseconds(86'400'000);
  f.http.script = {busy};
  MemoryOutbox outbox(Events(1));
  f.Run(outbox);
  ASSERT_EQ(f.sleeps.size(), 1u);
  EXPECT_EQ(f.sleeps[0], f.options.retry_after_max);
}

TEST(EventSenderTest, OtherClientErrorsArePermanentAndLeaveTheEvents) {
  for (int status : {400, 401, 403, 404, 415}) {
    Fixture f;
    f.http.script = {FakeHttpClient::Answer(200), FakeHttpClient::Answer(status, "no\n")};
    f.http.script.front().body = R"({"accepted":2,"duplicates":0,"rejected":[]})";
    f.options.batch_events = 2;
    MemoryOutbox outbox(Events(5));
    const SendReport report = f.Run(outbox);
    EXPECT_EQ(f.http.requests.size(), 2u) << status;
    EXPECT_TRUE(f.sleeps.empty());
    EXPECT_NE(report.failure.find("HTTP " + std::to_string(status) + ": no"), std::string::npos)
        << report.failure;
    EXPECT_EQ(outbox.Remaining(), 3u);
  }
}

TEST(EventSenderTest, PermanentTransportErrorIsNotRetried) {
  Fixture f;
  f.http.script = {FakeHttpClient::Failure(Kind::kPermanent, "certificate verify failed")};
  MemoryOutbox outbox(Events(1));
  const SendReport report = f.Run(outbox);
  EXPECT_EQ(f.http.requests.size(), 1u);
  EXPECT_NE(report.failure.find("certificate verify failed"), std::string::npos);
}

TEST(EventSenderTest, RejectionsAndDuplicatesAreMappedToTheirOrigins) {
  Fixture f;
  f.http.script = {FakeHttpClient::Answer(
      202, R"({"accepted":1,"duplicates":1,"rejected":[{"line":3,"reason":"bad_timestamp","detail":"not RFC 3339"}]})")};
  MemoryOutbox outbox(Events(3));
  const SendReport report = f.Run(outbox);
  EXPECT_EQ(report.accepted, 1u);
  EXPECT_EQ(report.duplicates, 1u);
  ASSERT_EQ(report.rejected.size(), 1u);
  EXPECT_EQ(report.rejected[0].origin, "in:3");
  EXPECT_EQ(report.rejected[0].reason, "bad_timestamp");
  EXPECT_EQ(report.rejected[0].event, Events(3)[2].json);
  EXPECT_EQ(outbox.Remaining(), 0u);  // a rejection is an answer: not sent again
}

TEST(EventSenderTest, AcceptedCountThatIncludesDuplicatesIsNotCountedTwice) {
  Fixture f;
  f.http.script = {FakeHttpClient::Answer(202, R"({"accepted":3,"duplicates":2,"rejected":[]})")};
  MemoryOutbox outbox(Events(3));
  const SendReport report = f.Run(outbox);
  EXPECT_EQ(report.accepted, 1u);
  EXPECT_EQ(report.duplicates, 2u);
}

TEST(EventSenderTest, TooLargeBatchIsHalvedAndALoneTooLargeEventRejected) {
  Fixture f;
  f.http.otherwise = [](const FakeHttpClient::Request& r) {
    if (r.body.size() > 100) return FakeHttpClient::Answer(413, "too large");
    size_t lines = LineCount(r.body);
    return FakeHttpClient::Answer(202, "{\"accepted\":" + std::to_string(lines) + "}");
  };
  std::vector<SpooledEvent> events = Events(8);
  events[6].json = "{\"id\":\"big\",\"message\":\"" + std::string(200, 'x') + "\"}";
  MemoryOutbox outbox(events);
  const SendReport report = f.Run(outbox);
  EXPECT_EQ(report.failure, "");
  EXPECT_EQ(report.accepted, 7u);
  ASSERT_EQ(report.rejected.size(), 1u);
  EXPECT_EQ(report.rejected[0].origin, "in:7");
  EXPECT_EQ(report.rejected[0].reason, "too_large");
  EXPECT_FALSE(report.warnings.empty());
}

TEST(EventSenderTest, AnswerThatIsNotJsonCountsAsAcceptedWithAWarning) {
  Fixture f;
  f.http.script = {FakeHttpClient::Answer(202, "Accepted")};
  MemoryOutbox outbox(Events(2));
  const SendReport report = f.Run(outbox);
  EXPECT_EQ(report.accepted, 2u);
  EXPECT_EQ(report.warnings.size(), 1u);
}

TEST(EventSenderTest, SpoolKeepsWhatWasNotDeliveredForTheNextRun) {
  TempDir dir;
  std::string error;
  std::vector<std::string> lines;
  for (const SpooledEvent& e : Events(5)) lines.push_back(e.json);
  {
    auto spool = Spool::Open(dir.path(), &error);
    ASSERT_TRUE(spool && spool->Append(lines, &error) && spool->TryLockForDrain(&error)) << error;
    Fixture f;
    f.options.batch_events = 2;
    f.options.retries = 1;
    f.http.script = {FakeHttpClient::Answer(202, R"({"accepted":2})")};
    f.http.otherwise = [](const FakeHttpClient::Request&) {
      return FakeHttpClient::Failure(Kind::kConnectError);
    };
    SpoolOutbox outbox(*spool);
    const SendReport report = f.Run(outbox);
    EXPECT_NE(report.failure, "");
    EXPECT_EQ(outbox.Remaining(), 3u);
  }
  auto spool = Spool::Open(dir.path(), &error);
  ASSERT_TRUE(spool && spool->TryLockForDrain(&error));
  Fixture f;
  SpoolOutbox outbox(*spool);
  const SendReport report = f.Run(outbox);
  EXPECT_EQ(report.failure, "");
  ASSERT_EQ(f.http.requests.size(), 1u);
  EXPECT_EQ(f.http.requests[0].body, lines[2] + "\n" + lines[3] + "\n" + lines[4] + "\n");
  EXPECT_EQ(outbox.Remaining(), 0u);
}

TEST(EventsEndpointTest, BaseUrlsGetThePath) {
  const std::pair<const char*, const char*> cases[] = {
      {"http://obs:9847", "http://obs:9847/api/v1/events"},
      {"http://obs:9847/", "http://obs:9847/api/v1/events"},
      {"https://obs/observer/", "https://obs/observer/api/v1/events"},
      {"http://obs:9847/api/v1/events", "http://obs:9847/api/v1/events"},
      {"http://obs:9847/api/v1/events?x=1", "http://obs:9847/api/v1/events?x=1"},
      {"http://obs:9847/?x=1", "http://obs:9847/api/v1/events?x=1"},
  };
  for (const auto& [in, out] : cases) EXPECT_EQ(EventsEndpoint(in), out) << in;
}

// ------------------------------------------------------------- input ----

std::function<std::string()> Counter() {
  auto n = std::make_shared<int>(0);
  return [n] { return "gen-" + std::to_string(++*n); };
}

nlohmann::json Parsed(const SendEvent& e) { return nlohmann::json::parse(e.json); }

TEST(SendInputTest, NdjsonLinesKeepTheirLineNumbers) {
  const SendInput in = ParseSendInput(
      "{\"type\":\"a\"}\n\n{\"type\":\"b\",\"id\":\"mine\"}\r\n{bad\n[1]\n\"x\"\n", Counter());
  EXPECT_EQ(in.format, "ndjson");
  ASSERT_EQ(in.events.size(), 2u);
  EXPECT_EQ(in.events[0].line, 1u);
  EXPECT_EQ(Parsed(in.events[0])["id"], "gen-1");
  EXPECT_EQ(in.events[1].line, 3u);
  EXPECT_EQ(Parsed(in.events[1])["id"], "mine");  // kept: re-sending it is harmless
  ASSERT_EQ(in.problems.size(), 3u);
  EXPECT_EQ(in.problems[0].line, 4u);
  EXPECT_EQ(in.problems[0].reason, "bad_json");
  EXPECT_EQ(in.problems[1].reason, "not_object");
  EXPECT_EQ(in.problems[2].line, 6u);
}

TEST(SendInputTest, ArrayElementsAreNumberedFromOne) {
  const SendInput in = ParseSendInput(" [{\"type\":\"a\"}, 3, {\"type\":\"c\",\"id\":null}]", Counter());
  EXPECT_EQ(in.format, "array");
  ASSERT_EQ(in.events.size(), 2u);
  EXPECT_EQ(in.events[1].line, 3u);
  EXPECT_EQ(Parsed(in.events[1])["id"], "gen-2");
  ASSERT_EQ(in.problems.size(), 1u);
  EXPECT_EQ(in.problems[0].line, 2u);
}

TEST(SendInputTest, OnePrettyPrintedObjectIsOneEvent) {
  const SendInput in = ParseSendInput("\xEF\xBB\xBF{\n  \"type\": \"a\",\n  \"id\": \"\"\n}\n", Counter());
  EXPECT_EQ(in.format, "json");
  ASSERT_EQ(in.events.size(), 1u);
  EXPECT_EQ(in.events[0].json, R"({"id":"gen-1","type":"a"})");
}

TEST(SendInputTest, BrokenArrayIsOneProblemAndEmptyInputNothing) {
  EXPECT_EQ(ParseSendInput("[{}, ", Counter()).problems.size(), 1u);
  const SendInput empty = ParseSendInput(" \n\n", Counter());
  EXPECT_TRUE(empty.events.empty());
  EXPECT_TRUE(empty.problems.empty());
}

TEST(SendInputTest, InvalidUtf8IsBadEncoding) {
  const SendInput in = ParseSendInput("{\"type\":\"a\xff\"}\n{\"type\":\"b\"}\n", Counter());
  ASSERT_EQ(in.problems.size(), 1u);
  EXPECT_EQ(in.problems[0].reason, "bad_encoding");
  EXPECT_EQ(in.events.size(), 1u);
}

TEST(SendInputTest, EventOverOneMebibyteIsNotSent) {
  const std::string big = "{\"message\":\"" + std::string(1 << 20, 'x') + "\"}\n{\"type\":\"a\"}\n";
  const SendInput in = ParseSendInput(big, Counter());
  ASSERT_EQ(in.problems.size(), 1u);
  EXPECT_EQ(in.problems[0].reason, "too_large");
  EXPECT_EQ(in.events.size(), 1u);
}

TEST(SendInputTest, RandomIdsNameTheHostAndDiffer) {
  const std::string a = RandomEventId(), b = RandomEventId();
  EXPECT_NE(a, b);
  ASSERT_GT(a.size(), 33u);
  EXPECT_EQ(a[a.size() - 33], '-');
  EXPECT_EQ(a.find_first_not_of("0123456789abcdef", a.size() - 32), std::string::npos);
}

}  // namespace
}  // namespace hlo
