// `validate` (CONTRACT §2): every problem as FILE:LINE: reason, a last line
// `N events, M invalid`, exit 0 only when all is valid, and nothing written.
#include <gtest/gtest.h>

#include <regex>

#include "tests/fakes/temp_dir.h"
#include "tests/integration/process_helpers.h"

namespace hlo {
namespace {

namespace fs = std::filesystem;
using testing::Event;
using testing::RunProgram;

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

// Every entry under `dir`, for "nothing was written" checks.
std::set<std::string> Tree(const fs::path& dir) {
  std::set<std::string> out;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    out.insert(fs::relative(e.path(), dir).string());
  }
  return out;
}

TEST(ValidateTest, AllValidExitsZeroAndWritesNothing) {
  TempDir tmp;
  tmp.Write("events/a.jsonl",
            Event("2026-05-12T12:00:00Z", "node_heartbeat", "saturn") + "\n" +
                Event("2026-05-12T12:01:00Z", "healthcheck_passed", "saturn", "mosquitto"));
  tmp.Write("events/b.json",
            R"([{"timestamp":"2026-05-12T12:02:00Z","type":"node_down","node":"mars"}])");
  const auto before = Tree(tmp.path());
  const auto r = RunProgram({"validate", "--root", tmp.path().string()});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  const auto lines = Lines(r.out);
  ASSERT_FALSE(lines.empty());
  EXPECT_EQ(lines.back(), "3 events, 0 invalid");
  EXPECT_EQ(Tree(tmp.path()), before);
  EXPECT_FALSE(fs::exists(tmp.path() / "state"));
  EXPECT_FALSE(fs::exists(tmp.path() / "world"));
}

TEST(ValidateTest, PrintsFileLineReasonForEachProblemAndExitsOne) {
  TempDir tmp;
  tmp.Write("events/a.jsonl",
            Event("2026-05-12T12:00:00Z", "node_heartbeat", "saturn") + "\n" +   // line 1, 2 blank
                "{not json\n" +                                                  // 3
                Event("2026-05-12T12:00:00Z", "healthcheck_failed", "saturn") +  // 4: no service
                Event("2026-05-12T25:00:00Z", "node_heartbeat", "saturn"));      // 5
  tmp.Write("events/b.json",
            R"([{"timestamp":"2026-05-12T12:02:00Z","type":"node_down","node":"mars"}, 7])");
  tmp.Write("events/c.ndjson", Event("2026-05-12T12:00:00Z", "node_heartbeat", "a/b"));
  tmp.Write("events/ignored.tmp", "garbage\n");
  const auto before = Tree(tmp.path());
  const auto r = RunProgram({"validate", "--root", tmp.path().string()});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  const auto lines = Lines(r.out);
  ASSERT_FALSE(lines.empty());
  EXPECT_EQ(lines.back(), "7 events, 5 invalid");
  const std::string events = (tmp.path() / "events").string();
  const std::vector<std::string> expected_prefixes = {
      events + "/a.jsonl:3: bad_json", events + "/a.jsonl:4: missing_field",
      events + "/a.jsonl:5: bad_timestamp", events + "/b.json:2: not_object",
      events + "/c.ndjson:1: bad_name"};
  std::vector<std::string> problems(lines.begin(), lines.end() - 1);
  ASSERT_EQ(problems.size(), expected_prefixes.size()) << r.out;
  for (size_t i = 0; i < problems.size(); ++i) {
    EXPECT_EQ(problems[i].rfind(expected_prefixes[i], 0), 0u) << problems[i];
  }
  const std::regex shape(R"(^.+:[0-9]+: [a-z_]+.*$)");
  for (const auto& p : problems) EXPECT_TRUE(std::regex_match(p, shape)) << p;
  EXPECT_EQ(Tree(tmp.path()), before);
}

TEST(ValidateTest, TooLargeLineIsInvalid) {
  TempDir tmp;
  tmp.Write("events/a.jsonl", std::string(2 * 1024 * 1024, ' ') + "{}\n" +
                                  Event("2026-05-12T12:00:00Z", "node_heartbeat", "saturn"));
  const auto r = RunProgram({"validate", "--root", tmp.path().string()});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.out.find("a.jsonl:1: too_large"), std::string::npos) << r.out;
  EXPECT_EQ(Lines(r.out).back(), "2 events, 1 invalid");
}

TEST(ValidateTest, NoEventsFolderIsZeroEvents) {
  TempDir tmp;
  const auto r = RunProgram({"validate", "--root", tmp.path().string()});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(Lines(r.out).back(), "0 events, 0 invalid");
  EXPECT_TRUE(Tree(tmp.path()).empty());
}

TEST(ValidateTest, MissingRootExitsOneAndCreatesNothing) {
  TempDir tmp;
  const fs::path root = tmp.path() / "typo";
  const auto r = RunProgram({"validate", "--root", root.string()});
  EXPECT_EQ(r.exit_code, 1) << r.out;
  EXPECT_NE(r.err.find("typo"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(root));
  tmp.Write("file", "x");
  EXPECT_EQ(RunProgram({"validate", "--root", (tmp.path() / "file").string()}).exit_code, 1);
}

TEST(ValidateTest, ChecksTheWholeHistoryWhateverTheCheckpointSays) {
  TempDir tmp;
  tmp.Write("events/a.jsonl", "{broken\n");
  ASSERT_EQ(testing::Once(tmp.path()).exit_code, 0);
  const auto r = RunProgram({"validate", "--root", tmp.path().string()});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(Lines(r.out).back(), "1 events, 1 invalid");
}

TEST(ValidateTest, BrokenInventoryIsReportedWithFileAndLine) {
  TempDir tmp;
  tmp.Write("events/a.jsonl", Event("2026-05-12T12:00:00Z", "node_heartbeat", "saturn"));
  tmp.Write("checkout/inventory/topology.yaml", "nodes:\n  - name: [unclosed\n");
  const auto r = RunProgram({"validate", "--root", tmp.path().string(), "--inventory",
                             (tmp.path() / "checkout").string()});
  EXPECT_EQ(r.exit_code, 1) << r.out;
  EXPECT_NE(r.out.find("topology.yaml:"), std::string::npos) << r.out;
  EXPECT_EQ(Lines(r.out).back(), "1 events, 0 invalid");
  EXPECT_FALSE(fs::exists(tmp.path() / "state"));
  EXPECT_FALSE(fs::exists(tmp.path() / "world"));
}

}  // namespace
}  // namespace hlo
