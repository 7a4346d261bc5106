// The rejection summary of `once` and `run`: counts per reason, the first
// few, where the rest are; and `run`'s rate limit, on a hand-stepped clock.
#include "exporter/rejection_report.h"

#include <gtest/gtest.h>

#include "observer/event_parser.h"

namespace hlo {
namespace {

using namespace std::chrono_literals;

RejectedEvent Bad(uint64_t line, RejectReason reason = RejectReason::kBadJson,
                  std::string detail = "unexpected end of input") {
  RejectedEvent r;
  r.file = "bad.jsonl";
  r.line = line;
  r.reason = reason;
  r.detail = std::move(detail);
  r.raw = std::string(1024, 'x');
  return r;
}

constexpr char kLog[] = "/opt/homelab/state/rejected-events.jsonl";

TEST(RejectionSummaryTest, ThousandRejectionsGiveAHandfulOfLinesWithTheCounts) {
  RejectionTally tally;
  for (uint64_t i = 1; i <= 1000; ++i) {
    tally.Add(Bad(i, i % 5 == 0 ? RejectReason::kMissingField : RejectReason::kBadJson));
  }
  const std::vector<std::string> lines = SummarizeRejections(tally, kLog);
  ASSERT_EQ(lines.size(), 7u);
  EXPECT_EQ(lines[0], "1000 event(s) rejected (800 bad_json, 200 missing_field); the first 5:");
  EXPECT_EQ(lines[1], "  events/bad.jsonl:1: bad_json: unexpected end of input");
  EXPECT_EQ(lines[5], "  events/bad.jsonl:5: missing_field: unexpected end of input");
  EXPECT_EQ(lines[6], std::string("995 more; every rejection is in ") + kLog);
}

TEST(RejectionSummaryTest, FewRejectionsAreAllListed) {
  RejectionTally tally;
  tally.Add(Bad(3, RejectReason::kBadTimestamp, "not RFC 3339"));
  const std::vector<std::string> lines = SummarizeRejections(tally, kLog);
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[0], "1 event(s) rejected (1 bad_timestamp):");
  EXPECT_EQ(lines[1], "  events/bad.jsonl:3: bad_timestamp: not RFC 3339");
  EXPECT_EQ(lines[2], std::string("every rejection is in ") + kLog);
}

TEST(RejectionSummaryTest, NoRejectionsNoLines) {
  EXPECT_TRUE(SummarizeRejections(RejectionTally{}, kLog).empty());
}

TEST(RejectionSummaryTest, LongOrControlCharacterDetailStaysOneShortLine) {
  RejectionTally tally;
  tally.Add(Bad(1, RejectReason::kBadName, "a\nb" + std::string(500, 'y')));
  const std::string line = SummarizeRejections(tally, kLog)[1];
  EXPECT_EQ(line.find('\n'), std::string::npos);
  EXPECT_LT(line.size(), 260u);
  EXPECT_EQ(line.substr(line.size() - 3), "...");
}

TEST(RejectionSummaryTest, TallyKeepsNoRawText) {
  RejectionTally tally;
  tally.Add(Bad(1));
  EXPECT_TRUE(tally.first.front().raw.empty());
}

TEST(RejectionReportTest, FirstBatchIsReportedAtOnce) {
  RejectionReport report(kLog, 60s);
  const auto t0 = std::chrono::steady_clock::time_point(1h);
  EXPECT_EQ(report.Add({Bad(1)}, t0).size(), 3u);
}

TEST(RejectionReportTest, LaterBatchesWaitForTheIntervalAndAreGathered) {
  RejectionReport report(kLog, 60s);
  const auto t0 = std::chrono::steady_clock::time_point(1h);
  ASSERT_FALSE(report.Add({Bad(1)}, t0).empty());
  // A flood: a bad line every second for a minute is silent until then...
  for (int s = 1; s < 60; ++s) {
    EXPECT_TRUE(report.Add({Bad(static_cast<uint64_t>(s + 1))}, t0 + std::chrono::seconds(s)).empty())
        << s;
  }
  // ... then one summary of all 59.
  const std::vector<std::string> lines = report.Add({}, t0 + 60s);
  ASSERT_EQ(lines.size(), 7u);
  EXPECT_EQ(lines[0], "59 event(s) rejected (59 bad_json); the first 5:");
  EXPECT_EQ(lines[1], "  events/bad.jsonl:2: bad_json: unexpected end of input");
  EXPECT_TRUE(report.Add({}, t0 + 61s).empty());
}

TEST(RejectionReportTest, QuietIntervalsCostNothing) {
  RejectionReport report(kLog, 60s);
  const auto t0 = std::chrono::steady_clock::time_point(1h);
  EXPECT_TRUE(report.Add({}, t0).empty());
  EXPECT_TRUE(report.Add({}, t0 + 120s).empty());
  EXPECT_FALSE(report.Add({Bad(1)}, t0 + 121s).empty());
}

TEST(RejectionReportTest, FlushReportsWhatWaits) {
  RejectionReport report(kLog, 60s);
  const auto t0 = std::chrono::steady_clock::time_point(1h);
  report.Add({Bad(1)}, t0);
  EXPECT_TRUE(report.Add({Bad(2), Bad(3)}, t0 + 1s).empty());
  const std::vector<std::string> lines = report.Flush();
  ASSERT_FALSE(lines.empty());
  EXPECT_EQ(lines[0], "2 event(s) rejected (2 bad_json):");
  EXPECT_TRUE(report.Flush().empty());
}

}  // namespace
}  // namespace hlo
