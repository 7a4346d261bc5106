// `once` and `run` summarise rejected events on stderr (issue 12): a file of
// 1,000 bad lines costs a handful of lines naming the counts per reason,
// the first few and where the full list is; `validate` still lists each.
#include <gtest/gtest.h>

#include "tests/integration/daemon_helpers.h"

namespace hlo::testing {
namespace {

size_t Lines(const std::string& text) {
  return static_cast<size_t>(std::count(text.begin(), text.end(), '\n'));
}

// 1,000 bad lines: 600 that are not JSON, 400 without a timestamp, as the
// only events (the example's own few bad ones removed).
void WriteBadEvents(const fs::path& root) {
  fs::remove_all(root / "events");
  fs::create_directories(root / "events");
  std::string text;
  for (int i = 0; i < 1000; ++i) {
    text += i % 5 < 3 ? "{not json\n"
                      : R"({"type":"node_heartbeat","node":"saturn"})" "\n";
  }
  WriteFile(root / "events" / "flood.jsonl", text);
}

TEST(RejectionSummaryTest, OnceSummarisesAThousandRejectionsInAFewLines) {
  TempDir dir;
  CopyExample(dir.path() / "homelab");
  const fs::path root = dir.path() / "homelab";
  WriteBadEvents(root);
  const ProcessResult r =
      RunTool({HLO_BINARY, "once", "--root", root.string(), "--now", kExampleNow});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_LE(Lines(r.err), 10u) << r.err;
  EXPECT_NE(r.err.find("1000 event(s) rejected (600 bad_json, 400 missing_field); the first 5:"),
            std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("  events/flood.jsonl:1: bad_json: "), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("995 more; every rejection is in " +
                       (root / "state" / "rejected-events.jsonl").string()),
            std::string::npos)
      << r.err;
  EXPECT_EQ(RejectedLines(root).size(), 1000u);
}

TEST(RejectionSummaryTest, ValidateStillListsEveryProblem) {
  TempDir dir;
  CopyExample(dir.path() / "homelab");
  const fs::path root = dir.path() / "homelab";
  WriteBadEvents(root);
  const ProcessResult r = RunTool({HLO_BINARY, "validate", "--root", root.string()});
  EXPECT_EQ(r.exit_code, 1);
  const std::string all = r.out + r.err;
  EXPECT_GE(Lines(all), 1000u);
  EXPECT_NE(all.find("flood.jsonl:1000:"), std::string::npos);
}

TEST(RejectionSummaryTest, RunSummarisesAThousandRejectionsInAFewLines) {
  TempDir dir;
  CopyExample(dir.path() / "homelab");
  const fs::path root = dir.path() / "homelab";
  WriteBadEvents(root);
  DaemonProcess daemon(root);
  ASSERT_EQ(daemon.Start(), "");
  EXPECT_NE(daemon.Err().find("1000 event(s) rejected (600 bad_json, 400 missing_field)"),
            std::string::npos)
      << daemon.Err();
  // Another flood right after: gathered for the next summary, not logged
  // line by line.
  std::string more;
  for (int i = 0; i < 500; ++i) more += "{not json\n";
  AppendFile(root / "events" / "flood.jsonl", more);
  EXPECT_TRUE(daemon.WaitForMetrics([](const std::vector<Sample>& m) {
    return Sum(m, "homelab_observer_events_rejected_total").value_or(0) == 1500;
  }));
  const ProcessResult stopped = daemon.Stop();
  EXPECT_EQ(stopped.exit_code, 0);
  // At the stop, what waited is summarised.
  EXPECT_NE(stopped.err.find("500 event(s) rejected (500 bad_json)"), std::string::npos)
      << stopped.err;
  EXPECT_LE(Lines(stopped.err), 25u) << stopped.err;
}

}  // namespace
}  // namespace hlo::testing
