// The command line as scripts see it (CONTRACT §1, §2, §8 "Runs"): exit
// codes, where messages go, and which failures are fatal.
#include <gtest/gtest.h>

#include "tests/fakes/temp_dir.h"
#include "tests/integration/process_helpers.h"

namespace hlo {
namespace {

namespace fs = std::filesystem;
using testing::Event;
using testing::RunProgram;

const std::string kHeartbeat = Event("2026-05-12T12:00:00Z", "node_heartbeat", "saturn");

TEST(CliTest, HelpPrintsUsageAndExitsZero) {
  const auto r = RunProgram({"--help"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.out.find("Usage"), std::string::npos) << r.out;
  for (const char* word : {"once", "run", "validate", "--root", "--inventory", "--now",
                           "--node-stale-after", "--textfile"}) {
    EXPECT_NE(r.out.find(word), std::string::npos) << word;
  }
}

TEST(CliTest, VersionPrintsVersionAndExitsZero) {
  const auto r = RunProgram({"--version"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.out.find("homelab-observer"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find_first_of("0123456789"), std::string::npos) << r.out;
}

struct UsageCase {
  const char* name;
  std::vector<std::string> args;
};

class CliUsageTest : public ::testing::TestWithParam<UsageCase> {};

TEST_P(CliUsageTest, ExitsTwoWithMessageOnStderrAndWritesNothing) {
  TempDir tmp;
  tmp.Write("events/a.jsonl", kHeartbeat);
  std::vector<std::string> args = GetParam().args;
  for (std::string& a : args) {
    if (a == "ROOT") a = tmp.path().string();
  }
  const auto r = RunProgram(args);
  EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
  EXPECT_FALSE(r.err.empty());
  EXPECT_FALSE(fs::exists(tmp.path() / "state"));
  EXPECT_FALSE(fs::exists(tmp.path() / "world"));
}

INSTANTIATE_TEST_SUITE_P(
    BadCommandLines, CliUsageTest,
    ::testing::Values(
        UsageCase{"NoCommand", {"--root", "ROOT"}},
        UsageCase{"UnknownCommand", {"frobnicate", "--root", "ROOT"}},
        UsageCase{"UnknownFlag", {"once", "--root", "ROOT", "--frobnicate", "1"}},
        UsageCase{"UnknownFlagWithEquals", {"once", "--root", "ROOT", "--frobnicate=1"}},
        UsageCase{"NowSoon", {"once", "--root", "ROOT", "--now", "soon"}},
        UsageCase{"NowWithoutZone", {"once", "--root", "ROOT", "--now", "2026-05-12T12:00:00"}},
        UsageCase{"NowMissingValue", {"once", "--root", "ROOT", "--now"}},
        UsageCase{"StaleAfterX", {"once", "--root", "ROOT", "--node-stale-after", "x"}},
        UsageCase{"StaleAfterNoUnit", {"once", "--root", "ROOT", "--node-stale-after", "10"}},
        UsageCase{"ValidateNowSoon", {"validate", "--root", "ROOT", "--now", "soon"}},
        UsageCase{"TwoCommands", {"once", "validate", "--root", "ROOT"}}),
    [](const ::testing::TestParamInfo<UsageCase>& info) { return info.param.name; });

TEST(CliTest, FlagsAcceptEqualsFormAndDurationForms) {
  TempDir tmp;
  tmp.Write("events/a.jsonl", kHeartbeat);
  for (const char* stale : {"90s", "10m", "1h", "1h30m"}) {
    const auto r =
        RunProgram({"once", "--root=" + tmp.path().string(), "--now=2026-05-12T12:05:00Z",
                    std::string("--node-stale-after=") + stale});
    EXPECT_EQ(r.exit_code, 0) << stale << ": " << r.err;
  }
}

TEST(CliTest, StaleAfterDecidesNodeStatus) {
  TempDir tmp;
  tmp.Write("events/a.jsonl", kHeartbeat);  // seen at 12:00:00
  auto status = [&](const char* now, const char* stale) {
    const auto r = RunProgram(
        {"once", "--root", tmp.path().string(), "--now", now, "--node-stale-after", stale});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return testing::World(tmp.path(), "nodes.json")["saturn"]["status"].get<std::string>();
  };
  EXPECT_EQ(status("2026-05-12T12:01:30Z", "90s"), "up");  // exactly the window: not older
  EXPECT_EQ(status("2026-05-12T12:01:30.000000001Z", "90s"), "down");
  EXPECT_EQ(status("2026-05-12T13:29:59Z", "1h30m"), "up");
  EXPECT_EQ(status("2026-05-12T13:30:01Z", "1h30m"), "down");
  EXPECT_EQ(status("2026-05-12T11:00:00Z", "90s"), "up");  // last_seen in the future
}

// --root pointed at events/ itself: its files would be silently ignored.
TEST(CliTest, RootWithoutEventsFolderButWithEventFilesWarnsWhatRootShouldBe) {
  TempDir tmp;
  tmp.Write("events/a.jsonl", kHeartbeat);
  const fs::path events = tmp.path() / "events";
  for (const char* command : {"once", "validate"}) {
    const auto r = RunProgram({command, "--root", events.string()});
    EXPECT_EQ(r.exit_code, 0) << command << ": " << r.err;
    EXPECT_NE(r.err.find("WARNING: " + events.string() + " has no events/ folder"),
              std::string::npos)
        << command << ": " << r.err;
    EXPECT_NE(r.err.find("--root " + tmp.path().string()), std::string::npos) << r.err;
  }
  // The right root: no warning.
  const auto r = RunProgram({"once", "--root", tmp.path().string()});
  EXPECT_EQ(r.err.find("WARNING"), std::string::npos) << r.err;
}

TEST(CliTest, EveryCommandHasItsOwnHelpWithTheFlagsItTakes) {
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"help", "once"}, std::vector<std::string>{"once", "--help"},
        std::vector<std::string>{"--help", "once"}}) {
    const auto r = RunProgram(args);
    EXPECT_EQ(r.exit_code, 0) << args[0];
    EXPECT_EQ(r.out.rfind("Usage: homelab-observer once", 0), 0u) << r.out;
    EXPECT_NE(r.out.find("--textfile"), std::string::npos);
    EXPECT_NE(r.out.find("--root"), std::string::npos);
    EXPECT_EQ(r.out.find("--web.listen-address"), std::string::npos) << "a run-only flag";
    EXPECT_EQ(r.out.find("--url"), std::string::npos) << "a send-only flag";
    EXPECT_NE(r.out.find("Examples:\n  homelab-observer once"), std::string::npos);
  }
  const auto send = RunProgram({"send", "--help"});
  EXPECT_NE(send.out.find("--spool"), std::string::npos);
  EXPECT_EQ(send.out.find("--root"), std::string::npos);
  const auto run = RunProgram({"help", "run"});
  EXPECT_NE(run.out.find("--web.enable-ingest"), std::string::npos);
  EXPECT_EQ(run.out.find("--textfile"), std::string::npos);
  const auto all = RunProgram({"help"});
  EXPECT_EQ(all.exit_code, 0);
  EXPECT_EQ(all.out, RunProgram({"--help"}).out);
  const auto bad = RunProgram({"help", "bogus"});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.err.find("help bogus"), std::string::npos);
}

TEST(CliTest, VersionIsACommandToo) {
  const auto r = RunProgram({"version"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.out, RunProgram({"--version"}).out);
  EXPECT_EQ(r.out.rfind("homelab-observer ", 0), 0u);
}

TEST(CliTest, NodeStaleAfterZeroIsAUsageError) {
  TempDir tmp;
  const auto r = RunProgram({"once", "--root", tmp.path().string(), "--node-stale-after", "0s"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--node-stale-after 0s: at least 1s"), std::string::npos) << r.err;
}

TEST(CliTest, MissingRootExitsOne) {
  TempDir tmp;
  const auto r = testing::Once(tmp.path() / "nope");
  EXPECT_EQ(r.exit_code, 1) << r.out;
  EXPECT_FALSE(r.err.empty());
  EXPECT_FALSE(fs::exists(tmp.path() / "nope"));
}

TEST(CliTest, RootThatIsAFileExitsOne) {
  TempDir tmp;
  const fs::path file = tmp.Write("root", "not a folder");
  const auto r = testing::Once(file);
  EXPECT_EQ(r.exit_code, 1) << r.out;
  EXPECT_FALSE(r.err.empty());
}

// Tests run as root, where chmod does not stop writes; a regular file where
// the folder should be does.
TEST(CliTest, WorldThatCannotBeAFolderExitsOne) {
  TempDir tmp;
  tmp.Write("events/a.jsonl", kHeartbeat);
  tmp.Write("world", "a file, not a folder");
  const auto r = testing::Once(tmp.path());
  EXPECT_EQ(r.exit_code, 1) << r.out;
  EXPECT_NE(r.err.find("world"), std::string::npos) << r.err;
  EXPECT_EQ(testing::ReadFile(tmp.path() / "world"), "a file, not a folder");
}

TEST(CliTest, StateThatCannotBeAFolderExitsOne) {
  TempDir tmp;
  tmp.Write("events/a.jsonl", kHeartbeat);
  tmp.Write("state", "a file, not a folder");
  const auto r = testing::Once(tmp.path());
  EXPECT_EQ(r.exit_code, 1) << r.out;
  EXPECT_NE(r.err.find("state"), std::string::npos) << r.err;
}

TEST(CliTest, WorldFileThatCannotBeReplacedExitsOneAndKeepsCheckpoint) {
  TempDir tmp;
  tmp.Write("events/a.jsonl", kHeartbeat);
  ASSERT_EQ(testing::Once(tmp.path()).exit_code, 0);
  const auto checkpoint = testing::ReadFile(tmp.path() / "state" / "observer_checkpoint.json");
  // rename() cannot put a file over a non-empty folder.
  fs::remove(tmp.path() / "world" / "nodes.json");
  tmp.Write("world/nodes.json/blocker", "x");
  tmp.Write("events/b.jsonl", Event("2026-05-12T12:01:00Z", "node_heartbeat", "mars"));
  const auto r = testing::Once(tmp.path());
  EXPECT_EQ(r.exit_code, 1) << r.out;
  EXPECT_NE(r.err.find("nodes.json"), std::string::npos) << r.err;
  EXPECT_EQ(testing::ReadFile(tmp.path() / "state" / "observer_checkpoint.json"), checkpoint);
}

TEST(CliTest, CreatesStateAndWorldWhenAbsent) {
  TempDir tmp;
  tmp.Write("events/a.jsonl", kHeartbeat);
  const auto r = testing::Once(tmp.path());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(fs::is_regular_file(tmp.path() / "state" / "observer_checkpoint.json"));
  for (const char* name : testing::kWorldFiles) {
    EXPECT_TRUE(fs::is_regular_file(tmp.path() / "world" / name)) << name;
  }
  const auto checkpoint = testing::Checkpoint(tmp.path());
  EXPECT_EQ(checkpoint["file"], "a.jsonl");
  EXPECT_EQ(checkpoint["offset"], kHeartbeat.size());
  EXPECT_EQ(checkpoint["events_processed"], 1);
}

TEST(CliTest, MissingEventsFolderMeansNoEvents) {
  TempDir tmp;
  const auto r = testing::Once(tmp.path());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(testing::ReadFile(tmp.path() / "world" / "nodes.json"), "{}\n");
  const auto summary = testing::World(tmp.path(), "runtime-summary.json");
  EXPECT_TRUE(summary["checkpoint"]["file"].is_null());
  EXPECT_EQ(summary["checkpoint"]["offset"], 0);
  EXPECT_EQ(summary["events"]["processed"], 0);
  EXPECT_TRUE(summary["events"]["last_event_at"].is_null());
  EXPECT_EQ(summary["generated_at"], testing::kNow);
}

TEST(CliTest, BadEventsDoNotChangeTheExitCode) {
  TempDir tmp;
  tmp.Write("events/a.jsonl", "garbage\n{}\n[]\n");
  tmp.Write("events/b.json", "{");
  const auto r = testing::Once(tmp.path());
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(testing::World(tmp.path(), "runtime-summary.json")["events"]["rejected"], 4);
}

TEST(CliTest, TextfileIsWrittenWhenAsked) {
  TempDir tmp;
  tmp.Write("events/a.jsonl", kHeartbeat);
  const fs::path textfile = tmp.path() / "textfile" / "homelab.prom";
  fs::create_directories(textfile.parent_path());
  const auto r = testing::Once(tmp.path(), {"--textfile", textfile.string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto text = testing::ReadFile(textfile);
  ASSERT_TRUE(text);
  // Seen at 12:00, stale at --now 12:15.
  EXPECT_NE(text->find("homelab_node_up{node=\"saturn\"} 0"), std::string::npos) << *text;
  EXPECT_NE(text->find("homelab_observer_events_processed_total{type=\"node_heartbeat\"} 1"),
            std::string::npos)
      << *text;
}

}  // namespace
}  // namespace hlo
