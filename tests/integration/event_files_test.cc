// How the program reads events/ (CONTRACT §4, §8 "Inputs"), seen from the
// outside: which files count, in what order (event time, then file name
// bytes, then line), complete lines only, which late events are folded in
// within --events.max-lateness (default 5m) and which cost a replay, and
// which changes behind the checkpoint cost one.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include "tests/fakes/temp_dir.h"
#include "tests/integration/process_helpers.h"

namespace hlo {
namespace {

namespace fs = std::filesystem;
using testing::AppendFile;
using testing::DifferenceFromCleanRun;
using testing::Event;
using testing::Once;

std::string Heartbeat(const std::string& node, const std::string& time = "2026-05-12T12:00:00Z") {
  return Event(time, "node_heartbeat", node);
}

// A deployment_stage named after where it came from: the deployment's
// stages then list events in processing order.
std::string Stage(const std::string& stage, const std::string& time) {
  return Event(time, "deployment_stage", "", "",
               R"("correlation_id":"order","payload":{"stage":")" + stage + "\"}");
}

std::vector<std::string> StageNames(const fs::path& root) {
  std::vector<std::string> names;
  const auto deployments = testing::World(root, "deployments.json");
  for (const auto& s : deployments["order"]["stages"]) names.push_back(s["name"]);
  return names;
}

std::vector<std::string> NodeNames(const fs::path& root) {
  std::vector<std::string> names;
  const auto nodes = testing::World(root, "nodes.json");  // items() must not outlive it
  for (const auto& [name, node] : nodes.items()) names.push_back(name);
  return names;
}

uint64_t Rebuilds(const fs::path& root) {
  return testing::Checkpoint(root)["rebuilds"].get<uint64_t>();
}

// Replays for events later than the lateness window allows.
uint64_t LateReplays(const fs::path& root) {
  return testing::RebuildsFor(testing::Checkpoint(root), "late_event");
}

uint64_t LateEvents(const fs::path& root, const std::string& file) {
  return testing::LateEventsFor(testing::Checkpoint(root), file);
}

uint64_t Processed(const fs::path& root) {
  return testing::World(root, "runtime-summary.json")["events"]["processed"].get<uint64_t>();
}

void RunOnce(const fs::path& root) {
  const auto r = Once(root);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  ASSERT_FALSE(r.timed_out);
}

// Names in order of their raw bytes: '-' < '.' < digits < upper case < '_'
// < lower case < UTF-8 lead bytes.
const std::vector<std::string>& SortedNames() {
  static const std::vector<std::string> sorted = {
      "-x.jsonl", "10.jsonl", "9.jsonl",  "A.json", "Z.ndjson",       "_u.jsonl",
      "a-b.jsonl", "a.jsonl", "aa.jsonl", "b.json", "\xc3\xa9.jsonl"};
  return sorted;
}
// The order they are written in.
const std::vector<size_t> kWriteOrder = {7, 2, 10, 0, 5, 9, 1, 4, 8, 3, 6};

TEST(EventFilesTest, EventsAreProcessedInEventTimeOrderNotByFileNames) {
  // Timestamps run backwards against the names: the i-th name by bytes holds
  // the event at 12:(30 - i), so processing order is the names' reverse.
  const std::vector<std::string>& sorted = SortedNames();
  const std::vector<std::string> by_time(sorted.rbegin(), sorted.rend());
  auto write = [&](TempDir& tmp, size_t i) {
    const std::string t = "2026-05-12T12:" + std::to_string(30 - i) + ":00Z";
    tmp.Write("events/" + sorted[i], Stage(sorted[i], t));
  };
  TempDir tmp;
  for (size_t i : kWriteOrder) write(tmp, i);
  RunOnce(tmp.path());
  EXPECT_EQ(StageNames(tmp.path()), by_time);
  const auto summary = testing::World(tmp.path(), "runtime-summary.json");
  // The checkpoint's file is still the last name read; the last event is
  // the latest in time, which sits in the first name.
  EXPECT_EQ(summary["checkpoint"]["file"], "\xc3\xa9.jsonl");
  EXPECT_EQ(summary["events"]["last_event_at"], "2026-05-12T12:30:00Z");

  // The same files arriving one by one, with a `once` after each, in an
  // order that is neither the names' nor the times': the same world.
  TempDir stepwise;
  for (size_t i : kWriteOrder) {
    write(stepwise, i);
    RunOnce(stepwise.path());
  }
  EXPECT_EQ(StageNames(stepwise.path()), by_time);
  EXPECT_EQ(testing::WorldDifference(tmp.path(), stepwise.path()), "");
}

TEST(EventFilesTest, EventsAtTheSameTimeAreProcessedInByteOrderOfFileNames) {
  TempDir tmp;
  for (size_t i : kWriteOrder) {
    tmp.Write("events/" + SortedNames()[i], Stage(SortedNames()[i], "2026-05-12T12:00:00Z"));
  }
  RunOnce(tmp.path());
  EXPECT_EQ(StageNames(tmp.path()), SortedNames());
  EXPECT_EQ(DifferenceFromCleanRun(tmp.path()), "");
}

TEST(EventFilesTest, LinesOfAFileAreProcessedInEventTimeOrderThenInLineOrder) {
  TempDir tmp;
  tmp.Write("events/a.jsonl", Stage("first", "2026-05-12T12:09:00Z") +
                                  Stage("second", "2026-05-12T12:01:00Z") +
                                  Stage("third", "2026-05-12T12:05:00Z") +
                                  Stage("fourth", "2026-05-12T12:03:00Z") +
                                  Stage("fifth", "2026-05-12T12:03:00Z") +
                                  // The same instant written with an offset.
                                  Stage("sixth", "2026-05-12T14:03:00+02:00"));
  RunOnce(tmp.path());
  EXPECT_EQ(StageNames(tmp.path()), (std::vector<std::string>{"second", "fourth", "fifth",
                                                              "sixth", "third", "first"}));
}

TEST(EventFilesTest, JsonFileHoldsAnObjectOrAnArray) {
  TempDir tmp;
  tmp.Write("events/1-object.json",
            R"({"timestamp": "2026-05-12T12:00:00Z", "type": "node_heartbeat", "node": "saturn"})");
  tmp.Write("events/2-array.json", R"([
    {"timestamp": "2026-05-12T12:01:00Z", "type": "node_heartbeat", "node": "mars"},
    {"timestamp": "2026-05-12T12:02:00Z", "type": "node_heartbeat", "node": 7},
    {"timestamp": "2026-05-12T12:03:00Z", "type": "node_heartbeat", "node": "venus"}
  ])");
  tmp.Write("events/3-empty-array.json", "[]");
  RunOnce(tmp.path());
  EXPECT_EQ(NodeNames(tmp.path()), (std::vector<std::string>{"mars", "saturn", "venus"}));
  const auto rejected = testing::RejectedLines(tmp.path());
  ASSERT_EQ(rejected.size(), 1u);
  EXPECT_EQ(rejected[0]["file"], "2-array.json");
  EXPECT_EQ(rejected[0]["line"], 2);  // the element's 1-based index
  EXPECT_EQ(rejected[0]["reason"], "mistyped_field");
  const auto summary = testing::World(tmp.path(), "runtime-summary.json");
  EXPECT_EQ(summary["checkpoint"]["file"], "3-empty-array.json");
  EXPECT_EQ(summary["checkpoint"]["offset"], 2);  // a .json's offset is its size
}

TEST(EventFilesTest, JsonlAndNdjsonAreBothRead) {
  TempDir tmp;
  tmp.Write("events/a.jsonl", Heartbeat("saturn") + "\n  \t\r\n" + Heartbeat("mars"));
  tmp.Write("events/b.ndjson", Heartbeat("venus") + "\r\n");
  RunOnce(tmp.path());
  EXPECT_EQ(NodeNames(tmp.path()), (std::vector<std::string>{"mars", "saturn", "venus"}));
  EXPECT_EQ(Processed(tmp.path()), 3u);
  EXPECT_TRUE(testing::RejectedLines(tmp.path()).empty());
}

TEST(EventFilesTest, LastLineWithoutNewlineWaitsForItAndIsConsumedOnce) {
  TempDir tmp;
  const fs::path file = tmp.path() / "events" / "a.jsonl";
  const std::string first = Heartbeat("saturn");
  std::string second = Heartbeat("mars");
  second.pop_back();  // no '\n' yet
  tmp.Write("events/a.jsonl", first + second.substr(0, 20));
  RunOnce(tmp.path());
  EXPECT_EQ(NodeNames(tmp.path()), (std::vector<std::string>{"saturn"}));
  EXPECT_EQ(testing::Checkpoint(tmp.path())["offset"], first.size());

  AppendFile(file, second.substr(20));  // complete JSON, still no newline
  auto r = Once(tmp.path());
  ASSERT_EQ(r.exit_code, 0);
  EXPECT_NE(r.out.find("applied 0 new event(s)"), std::string::npos) << r.out;
  EXPECT_EQ(NodeNames(tmp.path()), (std::vector<std::string>{"saturn"}));
  EXPECT_TRUE(testing::RejectedLines(tmp.path()).empty());

  AppendFile(file, "\n");
  r = Once(tmp.path());
  ASSERT_EQ(r.exit_code, 0);
  EXPECT_NE(r.out.find("applied 1 new event(s)"), std::string::npos) << r.out;
  EXPECT_EQ(NodeNames(tmp.path()), (std::vector<std::string>{"mars", "saturn"}));

  r = Once(tmp.path());
  EXPECT_NE(r.out.find("applied 0 new event(s)"), std::string::npos) << r.out;
  EXPECT_EQ(Processed(tmp.path()), 2u);
  EXPECT_EQ(testing::Checkpoint(tmp.path())["offset"], first.size() + second.size() + 1);
  EXPECT_EQ(DifferenceFromCleanRun(tmp.path()), "");
}

TEST(EventFilesTest, OtherNamesAndNonRegularFilesAreIgnored) {
  TempDir tmp;
  tmp.Write("events/real.jsonl", Heartbeat("saturn"));
  const std::string ghost = Heartbeat("ghost");
  for (const char* name :
       {".hidden.jsonl", ".hidden.json", "x.jsonl.tmp", "x.tmp", "x.JSONL", "x.Json", "x.json.bak",
        "x.txt", "jsonl", "x.jsonl~", "sub/nested.jsonl", "dir.jsonl/inner.jsonl"}) {
    tmp.Write(std::string("events/") + name, ghost);
  }
  const fs::path outside = tmp.Write("elsewhere/target.jsonl", ghost);
  fs::create_symlink(outside, tmp.path() / "events" / "link.jsonl");
  fs::create_symlink(tmp.path() / "events" / "real.jsonl", tmp.path() / "events" / "link2.json");
  ASSERT_EQ(::mkfifo((tmp.path() / "events" / "fifo.jsonl").c_str(), 0644), 0);
  ASSERT_EQ(::mkfifo((tmp.path() / "events" / "fifo.json").c_str(), 0644), 0);

  const auto r =
      testing::RunProgram(testing::OnceArgs(tmp.path()), {.timeout = std::chrono::seconds(20)});
  ASSERT_FALSE(r.timed_out) << "the program blocked (on a FIFO?)";
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(NodeNames(tmp.path()), (std::vector<std::string>{"saturn"}));
  EXPECT_EQ(Processed(tmp.path()), 1u);
  EXPECT_TRUE(testing::RejectedLines(tmp.path()).empty());
  EXPECT_EQ(testing::Checkpoint(tmp.path())["file"], "real.jsonl");

  const auto v = testing::RunProgram({"validate", "--root", tmp.path().string()},
                                     {.timeout = std::chrono::seconds(20)});
  ASSERT_FALSE(v.timed_out) << "validate blocked (on a FIFO?)";
  EXPECT_EQ(v.exit_code, 0) << v.out;
  EXPECT_NE(v.out.find("1 events, 0 invalid"), std::string::npos) << v.out;
}

TEST(EventFilesTest, FileSortingFirstIsFoldedInUnlessItsEventsAreOlderThanTheWindow) {
  TempDir tmp;
  tmp.Write("events/2026-05-12.jsonl", Stage("b", "2026-05-12T12:00:00Z"));
  tmp.Write("events/2026-05-13.jsonl", Stage("c", "2026-05-12T12:01:00Z"));
  RunOnce(tmp.path());
  EXPECT_EQ(Rebuilds(tmp.path()), 0u);
  // A name sorting before every other is not a late arrival by itself.
  tmp.Write("events/2026-05-11.jsonl", Stage("a", "2026-05-12T12:02:00Z"));
  auto r = Once(tmp.path());
  ASSERT_EQ(r.exit_code, 0);
  EXPECT_NE(r.out.find("applied 1 new event(s)"), std::string::npos) << r.out;
  EXPECT_EQ(Rebuilds(tmp.path()), 0u);
  EXPECT_EQ(StageNames(tmp.path()), (std::vector<std::string>{"b", "c", "a"}));
  // Nor is an event older than those applied, within --events.max-lateness
  // (5m) of the latest: folded in at its place, without a replay; a .json too.
  tmp.Write("events/2026-05-12-x.json", Stage("a2", "2026-05-12T11:58:00Z"));
  r = Once(tmp.path());
  EXPECT_NE(r.out.find("applied 1 new event(s)"), std::string::npos) << r.out;
  EXPECT_EQ(Rebuilds(tmp.path()), 0u);
  EXPECT_EQ(StageNames(tmp.path()), (std::vector<std::string>{"a2", "b", "c", "a"}));
  EXPECT_EQ(Processed(tmp.path()), 4u);
  EXPECT_EQ(DifferenceFromCleanRun(tmp.path()), "");

  // The latest event moves on 30 minutes: everything before 12:25 leaves
  // the window. An event older than what left it needs a replay, counted
  // with reason late_event and against its file.
  testing::AppendFile(tmp.path() / "events" / "2026-05-13.jsonl",
                      Stage("d", "2026-05-12T12:30:00Z"));
  RunOnce(tmp.path());
  EXPECT_EQ(Rebuilds(tmp.path()), 0u);
  tmp.Write("events/2026-05-14.jsonl", Stage("late", "2026-05-12T11:00:00Z"));
  RunOnce(tmp.path());
  EXPECT_EQ(Rebuilds(tmp.path()), 1u);
  EXPECT_EQ(LateReplays(tmp.path()), 1u);
  EXPECT_EQ(LateEvents(tmp.path(), "2026-05-14.jsonl"), 1u);
  EXPECT_EQ(StageNames(tmp.path()),
            (std::vector<std::string>{"late", "a2", "b", "c", "a", "d"}));
  EXPECT_EQ(Processed(tmp.path()), 6u);
  EXPECT_EQ(DifferenceFromCleanRun(tmp.path()), "");
  // A late .json the same way.
  tmp.Write("events/2026-05-15.json", Stage("late2", "2026-05-12T11:30:00Z"));
  RunOnce(tmp.path());
  EXPECT_EQ(Rebuilds(tmp.path()), 2u);
  EXPECT_EQ(LateReplays(tmp.path()), 2u);
  EXPECT_EQ(LateEvents(tmp.path(), "2026-05-15.json"), 1u);
  EXPECT_EQ(StageNames(tmp.path()),
            (std::vector<std::string>{"late", "late2", "a2", "b", "c", "a", "d"}));
  EXPECT_EQ(DifferenceFromCleanRun(tmp.path()), "");
  // Nothing new: no replay.
  RunOnce(tmp.path());
  EXPECT_EQ(Rebuilds(tmp.path()), 2u);
  EXPECT_EQ(testing::RebuildsByReasonSum(testing::Checkpoint(tmp.path())), 2u);
}

TEST(EventFilesTest, FileSortingAfterCheckpointIsReadWithoutReplay) {
  TempDir tmp;
  tmp.Write("events/2026-05-12.jsonl", Stage("a", "2026-05-12T12:00:00Z"));
  RunOnce(tmp.path());
  tmp.Write("events/2026-05-13.json", Stage("b", "2026-05-12T12:00:00Z"));
  tmp.Write("events/2026-05-14.jsonl", Stage("c", "2026-05-12T12:00:00Z"));
  const auto r = Once(tmp.path());
  EXPECT_NE(r.out.find("applied 2 new event(s)"), std::string::npos) << r.out;
  EXPECT_EQ(Rebuilds(tmp.path()), 0u);
  EXPECT_EQ(StageNames(tmp.path()), (std::vector<std::string>{"a", "b", "c"}));
}

TEST(EventFilesTest, LineAppendedToOlderFileIsFoldedInOrReplaysWhenOlderThanTheWindow) {
  TempDir tmp;
  const fs::path older = tmp.path() / "events" / "a.jsonl";
  tmp.Write("events/a.jsonl", Stage("a1", "2026-05-12T12:00:00Z"));
  tmp.Write("events/b.jsonl", Stage("b1", "2026-05-12T12:00:00Z"));
  RunOnce(tmp.path());

  // An append to a file sorting before the checkpoint's, at a time before
  // everything applied but within the window: folded in at its place.
  AppendFile(older, Stage("a2", "2026-05-12T11:59:00Z"));
  RunOnce(tmp.path());
  EXPECT_EQ(Rebuilds(tmp.path()), 0u);
  EXPECT_EQ(StageNames(tmp.path()), (std::vector<std::string>{"a2", "a1", "b1"}));
  EXPECT_EQ(DifferenceFromCleanRun(tmp.path()), "");

  // b's writer moves on by 20 minutes: a2, a1 and b1 leave the window.
  AppendFile(tmp.path() / "events" / "b.jsonl", Stage("b2", "2026-05-12T12:20:00Z"));
  RunOnce(tmp.path());
  EXPECT_EQ(Rebuilds(tmp.path()), 0u);

  // An incomplete line is not a late arrival yet.
  std::string late = Stage("a3", "2026-05-12T11:00:00Z");
  AppendFile(older, late.substr(0, 30));
  RunOnce(tmp.path());
  EXPECT_EQ(Rebuilds(tmp.path()), 0u);
  EXPECT_EQ(LateEvents(tmp.path(), "a.jsonl"), 0u);
  EXPECT_EQ(StageNames(tmp.path()), (std::vector<std::string>{"a2", "a1", "b1", "b2"}));

  // Complete, and older than what left the window: a counted replay.
  AppendFile(older, late.substr(30));
  RunOnce(tmp.path());
  EXPECT_EQ(Rebuilds(tmp.path()), 1u);
  EXPECT_EQ(LateReplays(tmp.path()), 1u);
  EXPECT_EQ(LateEvents(tmp.path(), "a.jsonl"), 1u);
  EXPECT_EQ(StageNames(tmp.path()), (std::vector<std::string>{"a3", "a2", "a1", "b1", "b2"}));
  EXPECT_EQ(DifferenceFromCleanRun(tmp.path()), "");

  // Blank lines appended to an older file change nothing.
  AppendFile(older, "\n \t\n");
  RunOnce(tmp.path());
  EXPECT_EQ(Rebuilds(tmp.path()), 1u);
  EXPECT_EQ(LateEvents(tmp.path(), "a.jsonl"), 1u);
}

TEST(EventFilesTest, ShrunkProcessedFileReplays) {
  TempDir tmp;
  tmp.Write("events/a.jsonl",
            Stage("a1", "2026-05-12T12:00:00Z") + Stage("a2", "2026-05-12T12:00:00Z"));
  tmp.Write("events/b.jsonl",
            Stage("b1", "2026-05-12T12:00:00Z") + Stage("b2", "2026-05-12T12:00:00Z"));
  RunOnce(tmp.path());
  tmp.Write("events/b.jsonl", Stage("b1", "2026-05-12T12:00:00Z"));  // the checkpoint's file
  RunOnce(tmp.path());
  EXPECT_EQ(Rebuilds(tmp.path()), 1u);
  EXPECT_EQ(testing::RebuildsFor(testing::Checkpoint(tmp.path()), "file_shrank"), 1u);
  EXPECT_EQ(StageNames(tmp.path()), (std::vector<std::string>{"a1", "a2", "b1"}));
  EXPECT_EQ(DifferenceFromCleanRun(tmp.path()), "");

  tmp.Write("events/a.jsonl", "");  // an older file
  RunOnce(tmp.path());
  EXPECT_EQ(Rebuilds(tmp.path()), 2u);
  EXPECT_EQ(testing::RebuildsFor(testing::Checkpoint(tmp.path()), "file_shrank"), 2u);
  EXPECT_EQ(StageNames(tmp.path()), (std::vector<std::string>{"b1"}));
  EXPECT_EQ(DifferenceFromCleanRun(tmp.path()), "");
}

TEST(EventFilesTest, TruncatingOnlyAnUnconsumedPartialLineIsNotAShrink) {
  TempDir tmp;
  const std::string line = Stage("a1", "2026-05-12T12:00:00Z");
  tmp.Write("events/a.jsonl", line + "{\"partial");
  RunOnce(tmp.path());
  tmp.Write("events/a.jsonl", line);
  RunOnce(tmp.path());
  EXPECT_EQ(Rebuilds(tmp.path()), 0u);
}

TEST(EventFilesTest, DeletingProcessedFilesLeavesWorldUnchanged) {
  TempDir tmp;
  tmp.Write("events/2026-05-10.jsonl", Heartbeat("saturn") + "{bad\n");
  tmp.Write("events/2026-05-11.json", Stage("x", "2026-05-12T12:00:00Z"));
  tmp.Write("events/2026-05-12.jsonl", Heartbeat("mars"));
  RunOnce(tmp.path());
  const auto world = testing::WorldFiles(tmp.path());
  const auto rejected = testing::ReadFile(tmp.path() / "state" / "rejected-events.jsonl");

  fs::remove(tmp.path() / "events" / "2026-05-10.jsonl");
  fs::remove(tmp.path() / "events" / "2026-05-11.json");
  RunOnce(tmp.path());
  EXPECT_EQ(testing::WorldFiles(tmp.path()), world);
  EXPECT_EQ(testing::ReadFile(tmp.path() / "state" / "rejected-events.jsonl"), rejected);

  fs::remove(tmp.path() / "events" / "2026-05-12.jsonl");  // even the checkpoint's own file
  RunOnce(tmp.path());
  EXPECT_EQ(testing::WorldFiles(tmp.path()), world);
  EXPECT_EQ(Rebuilds(tmp.path()), 0u);

  // New files keep being read on top of what retention removed.
  tmp.Write("events/2026-05-13.jsonl", Heartbeat("venus"));
  RunOnce(tmp.path());
  EXPECT_EQ(NodeNames(tmp.path()), (std::vector<std::string>{"mars", "saturn", "venus"}));
  EXPECT_EQ(Rebuilds(tmp.path()), 0u);
}

TEST(EventFilesTest, ReplayAfterRetentionRebuildsFromFilesPresent) {
  TempDir tmp;
  tmp.Write("events/2026-05-10.jsonl", Heartbeat("saturn", "2026-05-12T10:00:00Z"));
  tmp.Write("events/2026-05-12.jsonl", Heartbeat("mars", "2026-05-12T12:00:00Z"));
  RunOnce(tmp.path());  // saturn's event has left the lateness window
  fs::remove(tmp.path() / "events" / "2026-05-10.jsonl");
  // Within the window: folded in, and retention still changes nothing.
  tmp.Write("events/2026-05-11.jsonl", Heartbeat("venus", "2026-05-12T11:57:00Z"));
  RunOnce(tmp.path());
  EXPECT_EQ(Rebuilds(tmp.path()), 0u);
  EXPECT_EQ(NodeNames(tmp.path()), (std::vector<std::string>{"mars", "saturn", "venus"}));
  // Older than what left the window: a replay, from the files present.
  tmp.Write("events/2026-05-13.jsonl", Heartbeat("pluto", "2026-05-12T09:00:00Z"));
  RunOnce(tmp.path());
  EXPECT_EQ(LateReplays(tmp.path()), 1u);
  EXPECT_EQ(NodeNames(tmp.path()), (std::vector<std::string>{"mars", "pluto", "venus"}));
  EXPECT_EQ(DifferenceFromCleanRun(tmp.path()), "");
}

TEST(EventFilesTest, SecondOnceAppliesNothingNew) {
  TempDir tmp;
  tmp.Write("events/a.jsonl", Heartbeat("saturn") + "{bad\n");
  tmp.Write("events/b.json", Heartbeat("mars"));
  auto r = Once(tmp.path());
  EXPECT_NE(r.out.find("applied 2 new event(s), rejected 1"), std::string::npos) << r.out;
  r = Once(tmp.path());
  EXPECT_NE(r.out.find("applied 0 new event(s), rejected 0"), std::string::npos) << r.out;
  EXPECT_EQ(Processed(tmp.path()), 2u);
  EXPECT_EQ(testing::RejectedLines(tmp.path()).size(), 1u);
}

TEST(EventFilesTest, JsonFileIsReadOnceAndLaterChangesAreIgnored) {
  TempDir tmp;
  tmp.Write("events/a.json", Heartbeat("saturn"));
  RunOnce(tmp.path());
  tmp.Write("events/a.json", "[" + Heartbeat("mars") + "," + Heartbeat("venus") + "]");
  RunOnce(tmp.path());
  EXPECT_EQ(NodeNames(tmp.path()), (std::vector<std::string>{"saturn"}));
  EXPECT_EQ(Rebuilds(tmp.path()), 0u);
}

// Enough .json files for the program to read them ahead on a second thread,
// holding every kind of content, all at one event time: they are still
// applied in byte order of their names, ones older than the lateness window
// replay, retention changes nothing, and every step matches one clean run.
TEST(EventFilesTest, ManyJsonFilesOfEveryKindAtOneTimeAreAppliedInNameOrder) {
  TempDir tmp;
  auto name = [](int i) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "events/d-%04d.json", i);
    return std::string(buf);
  };
  std::map<int, std::vector<std::string>> stages;  // file number → stage names it applies
  auto write = [&](int i, const std::string& t = "2026-05-12T12:00:00Z") {
    const std::string a = "s" + std::to_string(i), b = a + "b";
    std::string content;
    switch (i % 5) {
      case 0: content = Stage(a, t); stages[i] = {a}; break;
      case 1: content = "[" + Stage(a, t) + "," + Stage(b, t) + "]"; stages[i] = {a, b}; break;
      case 2: content = "{\"timestamp\": \"" + t + "\", bad"; break;
      case 3: content = "[1, " + Stage(a, t) + "]"; stages[i] = {a}; break;
      case 4: content = i % 100 == 4 ? std::string((1 << 20) + 1, ' ') : ""; break;
    }
    tmp.Write(name(i), content);
  };
  auto expected = [&] {
    std::vector<std::string> names;
    for (const auto& [i, s] : stages) names.insert(names.end(), s.begin(), s.end());
    return names;
  };
  for (int i = 0; i < 600; i += 2) write(i);
  // An hour later, a heartbeat: every d-*.json event leaves the window.
  tmp.Write("events/z.jsonl", Heartbeat("saturn", "2026-05-12T13:00:00Z"));
  RunOnce(tmp.path());
  EXPECT_EQ(StageNames(tmp.path()), expected());
  EXPECT_EQ(DifferenceFromCleanRun(tmp.path()), "");
  EXPECT_EQ(Rebuilds(tmp.path()), 0u);

  // Late: at 12:00, an hour behind the latest event.
  for (int i = 1; i < 600; i += 2) write(i);
  RunOnce(tmp.path());
  EXPECT_EQ(Rebuilds(tmp.path()), 1u);
  EXPECT_EQ(LateReplays(tmp.path()), 1u);
  EXPECT_EQ(LateEvents(tmp.path(), "d-0001.json"), 2u);  // an array of two events
  EXPECT_EQ(LateEvents(tmp.path(), "d-0595.json"), 1u);
  EXPECT_EQ(StageNames(tmp.path()), expected());
  EXPECT_EQ(DifferenceFromCleanRun(tmp.path()), "");
  const auto rejected = testing::RejectedLines(tmp.path());
  ASSERT_FALSE(rejected.empty());
  EXPECT_EQ(rejected.front()["file"], "d-0002.json");

  const auto world = testing::WorldFiles(tmp.path());
  for (int i = 0; i < 450; ++i) fs::remove(tmp.path() / name(i));  // retention
  RunOnce(tmp.path());
  EXPECT_EQ(testing::WorldFiles(tmp.path()), world);
  write(600, "2026-05-12T13:00:00Z");  // within the window: no replay
  RunOnce(tmp.path());
  EXPECT_EQ(Rebuilds(tmp.path()), 1u);
  EXPECT_EQ(StageNames(tmp.path()), expected());
  EXPECT_EQ(StageNames(tmp.path()).back(), "s600");
}

TEST(EventFilesTest, ByteOrderMarkAtFileStartIsSkipped) {
  TempDir tmp;
  const std::string bom = "\xEF\xBB\xBF";
  tmp.Write("events/a.jsonl", bom + Heartbeat("saturn") + bom + Heartbeat("mars"));
  tmp.Write("events/b.json", bom + Heartbeat("venus"));
  tmp.Write("events/c.ndjson", bom + "\n" + Heartbeat("pluto"));  // a BOM-only first line is blank
  RunOnce(tmp.path());
  EXPECT_EQ(NodeNames(tmp.path()), (std::vector<std::string>{"pluto", "saturn", "venus"}));
  const auto rejected = testing::RejectedLines(tmp.path());
  ASSERT_EQ(rejected.size(), 1u);  // a BOM anywhere else is not skipped
  EXPECT_EQ(rejected[0]["file"], "a.jsonl");
  EXPECT_EQ(rejected[0]["line"], 2);
  EXPECT_EQ(rejected[0]["reason"], "bad_json");
}

TEST(EventFilesTest, ByteOrderMarkOfAFileWrittenInPiecesIsSkipped) {
  TempDir tmp;
  const fs::path file = tmp.path() / "events" / "a.jsonl";
  tmp.Write("events/a.jsonl", "\xEF\xBB\xBF{\"timestamp\":");
  RunOnce(tmp.path());
  AppendFile(file, "\"2026-05-12T12:00:00Z\",\"type\":\"node_heartbeat\",\"node\":\"saturn\"}\n");
  RunOnce(tmp.path());
  EXPECT_EQ(NodeNames(tmp.path()), (std::vector<std::string>{"saturn"}));
  EXPECT_TRUE(testing::RejectedLines(tmp.path()).empty());
}

// Names are bytes, not text: one that is not UTF-8 still sorts by its bytes,
// is read once, is counted (by its bytes) when late, and is named (with
// U+FFFD) in rejected-events.jsonl.
TEST(EventFilesTest, FileNameThatIsNotUtf8IsReadOnce) {
  TempDir tmp;
  tmp.Write("events/a.jsonl", Stage("a", "2026-05-12T12:00:00Z"));
  tmp.Write("events/x\xff.jsonl", Stage("x", "2026-05-12T12:00:00Z") + "{bad\n");
  RunOnce(tmp.path());
  RunOnce(tmp.path());
  // Sorts before it, at the same time: folded in, no replay.
  tmp.Write("events/b.jsonl", Stage("b", "2026-05-12T12:00:00Z"));
  RunOnce(tmp.path());
  EXPECT_EQ(StageNames(tmp.path()), (std::vector<std::string>{"a", "b", "x"}));
  EXPECT_EQ(Rebuilds(tmp.path()), 0u);
  // Then a, b and x leave the window, and the non-UTF-8 file gets a line
  // older than them: a replay.
  AppendFile(tmp.path() / "events" / "b.jsonl", Stage("c", "2026-05-12T12:10:00Z"));
  RunOnce(tmp.path());
  AppendFile(tmp.path() / "events" / "x\xff.jsonl", Stage("y", "2026-05-12T11:00:00Z"));
  RunOnce(tmp.path());
  RunOnce(tmp.path());
  EXPECT_EQ(StageNames(tmp.path()), (std::vector<std::string>{"y", "a", "b", "x", "c"}));
  EXPECT_EQ(Rebuilds(tmp.path()), 1u);
  EXPECT_EQ(LateEvents(tmp.path(), "x\xff.jsonl"), 1u);
  const auto rejected = testing::RejectedLines(tmp.path());
  ASSERT_EQ(rejected.size(), 1u);
  EXPECT_EQ(rejected[0]["file"], "x\xEF\xBF\xBD.jsonl");
  EXPECT_EQ(DifferenceFromCleanRun(tmp.path()), "");
}

TEST(EventFilesTest, LineNumbersCountEveryLine) {
  TempDir tmp;
  tmp.Write("events/a.jsonl", "\n\n" + Heartbeat("saturn") + "  \n{bad\n");
  RunOnce(tmp.path());
  AppendFile(tmp.path() / "events" / "a.jsonl", "\n{bad again\n");
  RunOnce(tmp.path());
  const auto rejected = testing::RejectedLines(tmp.path());
  ASSERT_EQ(rejected.size(), 2u);
  EXPECT_EQ(rejected[0]["line"], 5);
  EXPECT_EQ(rejected[1]["line"], 7);
}

}  // namespace
}  // namespace hlo
