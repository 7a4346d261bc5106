// CONTRACT §6: with the same --now, one `once` over everything, a `once`
// after every new file and appended line, and a `once` after the checkpoint
// is lost all give byte-identical world files (and the same
// rejected-events.jsonl). SIGKILL is in crash_test.cc.
#include <gtest/gtest.h>

#include "tests/fakes/temp_dir.h"
#include "tests/integration/process_helpers.h"

namespace hlo {
namespace {

namespace fs = std::filesystem;
using testing::DifferenceFromCleanRun;
using testing::EveryKindLine;
using testing::Once;
using testing::ReadFile;

// One event file of the history, in the order a writer produces it.
struct HistoryFile {
  std::string name;
  std::vector<std::string> lines;  // JSONL lines with '\n'; for a .json, one whole document
};

// About 70 events over .ndjson, .jsonl and .json files, of every kind, good
// and bad, their event times rising in the order the files and lines are
// written. (Small on purpose: the stepwise test runs `once` after each line,
// and each run pays the fsyncs of a real commit.)
std::vector<HistoryFile> History() {
  std::vector<HistoryFile> files;
  // EveryKindLine(i) is at `i` seconds after midnight.
  auto lines = [](uint64_t from, uint64_t to) {
    std::vector<std::string> out;
    for (uint64_t i = from; i < to; ++i) out.push_back(EveryKindLine(i));
    return out;
  };
  files.push_back({"2026-05-12-backup.ndjson", lines(0, 10)});    // 00:00:00 on
  files.push_back({"2026-05-12.jsonl", lines(10, 28)});           // 00:00:10 on
  files.push_back({"2026-05-12T10-deploy.json", {R"([
  {"timestamp": "2026-05-12T10:00:00Z", "type": "deployment_started", "correlation_id": "dep-1", "node": "saturn", "service": "mosquitto"},
  {"timestamp": "2026-05-12T10:01:00Z", "type": "deployment_stage", "correlation_id": "dep-1", "payload": {"stage": "pull"}},
  "not an event",
  {"timestamp": "2026-05-12T10:02:00Z", "type": "deployment_failed", "correlation_id": "dep-1", "payload": {"diagnostics": ["dep-1.log"]}}
]
)"}});
  files.push_back(
      {"2026-05-12T11.json",
       {R"({"timestamp": "2026-05-12T11:00:00Z", "type": "service_recovered", "service": "mosquitto"})"}});
  files.push_back({"2026-05-12T12.jsonl", lines(43200 + 28, 43200 + 48)});  // 12:00:28 on
  files.push_back({"2026-05-13.jsonl", lines(46800 + 48, 46800 + 66)});      // 13:00:48 on
  return files;
}

void WriteWholeHistory(const fs::path& root) {
  for (const HistoryFile& f : History()) {
    std::string content;
    for (const std::string& l : f.lines) content += l;
    testing::WriteFile(root / "events" / f.name, content);
  }
}

bool IsJson(const std::string& name) { return name.ends_with(".json"); }

TEST(ResumeTest, SingleOnceIsIdempotent) {
  TempDir tmp;
  WriteWholeHistory(tmp.path());
  const auto first = Once(tmp.path());
  ASSERT_EQ(first.exit_code, 0) << first.err;
  const auto world = testing::WorldFiles(tmp.path());
  const auto rejected = ReadFile(tmp.path() / "state" / "rejected-events.jsonl");
  const auto second = Once(tmp.path());
  ASSERT_EQ(second.exit_code, 0) << second.err;
  EXPECT_NE(second.out.find("applied 0 new event(s), rejected 0"), std::string::npos) << second.out;
  EXPECT_EQ(testing::WorldFiles(tmp.path()), world);
  EXPECT_EQ(ReadFile(tmp.path() / "state" / "rejected-events.jsonl"), rejected);
  EXPECT_EQ(testing::Checkpoint(tmp.path())["rebuilds"], 0);
}

TEST(ResumeTest, OnceAfterEveryNewFileAndLineGivesSameWorldAsOneOnce) {
  TempDir tmp;
  const fs::path events = tmp.path() / "events";
  fs::create_directories(events);
  int runs = 0;
  auto once = [&] {
    const auto r = Once(tmp.path());
    ASSERT_EQ(r.exit_code, 0) << r.err;
    ++runs;
  };
  for (const HistoryFile& f : History()) {
    if (IsJson(f.name)) {
      // Writers rename a complete .json into place.
      testing::WriteFile(events / ("." + f.name + ".tmp"), f.lines.front());
      fs::rename(events / ("." + f.name + ".tmp"), events / f.name);
      once();
      continue;
    }
    for (size_t i = 0; i < f.lines.size(); ++i) {
      const std::string& line = f.lines[i];
      if (i % 7 == 3) {
        // A line landing in two writes: the first half waits for the rest.
        testing::AppendFile(events / f.name, line.substr(0, line.size() / 2));
        once();
        testing::AppendFile(events / f.name, line.substr(line.size() / 2));
      } else {
        testing::AppendFile(events / f.name, line);
      }
      once();
      if (::testing::Test::HasFatalFailure()) return;
    }
  }
  EXPECT_GT(runs, 70);
  EXPECT_EQ(DifferenceFromCleanRun(tmp.path()), "");
  const auto checkpoint = testing::Checkpoint(tmp.path());
  EXPECT_EQ(checkpoint["rebuilds"], 0) << "appending in event-time order never needs a replay";
  EXPECT_EQ(checkpoint["file"], "2026-05-13.jsonl");
}

// `line` with its timestamp `from` replaced by `to`.
std::string Retimed(std::string line, const std::string& from, const std::string& to) {
  const size_t at = line.find(from);
  if (at != std::string::npos) line.replace(at, from.size(), to);
  return line;
}

TEST(ResumeTest, AppendsToOlderFilesAndASkewedWriterGiveSameWorldAsOneOnce) {
  TempDir tmp;
  const fs::path events = tmp.path() / "events";
  fs::create_directories(events);
  // Three growing files, appended to in turn, one line every ten minutes of
  // event time from 12:00: appends to the first two land before the
  // checkpoint's file (c.jsonl), which alone costs no replay. a.jsonl's
  // writer runs an hour behind: from its second line on, each of its events
  // is 50 minutes behind the latest, beyond --events.max-lateness (5m), and
  // costs a replay.
  const char* names[] = {"a.jsonl", "b.ndjson", "c.jsonl"};
  uint64_t expected_late = 0;
  for (uint64_t i = 0; i < 24; ++i) {
    const bool skewed = i % 3 == 0;
    const int at = 43200 + 600 * static_cast<int>(i) - (skewed ? 3600 : 0);
    testing::AppendFile(events / names[i % 3],
                        Retimed(EveryKindLine(i + 5), testing::At(static_cast<int>(i + 5)),
                                testing::At(at)));
    // Kinds 0 (bad_json) and 9 (missing_field) are rejected: no event.
    const uint64_t kind = (i + 5) % (testing::kSpecialKinds + 3);
    if (skewed && i > 0 && kind != 0 && kind != 9) ++expected_late;
    const auto r = Once(tmp.path());
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
  ASSERT_GE(expected_late, 4u);
  EXPECT_EQ(DifferenceFromCleanRun(tmp.path()), "");
  const auto checkpoint = testing::Checkpoint(tmp.path());
  EXPECT_EQ(checkpoint["rebuilds"].get<uint64_t>(), expected_late);
  EXPECT_EQ(testing::RebuildsFor(checkpoint, "late_event"), expected_late);
  EXPECT_EQ(testing::LateEventsFor(checkpoint, "a.jsonl"), expected_late);
  EXPECT_EQ(testing::LateEventsFor(checkpoint, "b.ndjson"), 0u);
  EXPECT_EQ(testing::LateEventsFor(checkpoint, "c.jsonl"), 0u);
}

TEST(ResumeTest, DeletingCheckpointReplaysToIdenticalWorld) {
  TempDir tmp;
  WriteWholeHistory(tmp.path());
  ASSERT_EQ(Once(tmp.path()).exit_code, 0);
  const auto world = testing::WorldFiles(tmp.path());
  const auto rejected = ReadFile(tmp.path() / "state" / "rejected-events.jsonl");
  const auto processed = testing::Checkpoint(tmp.path())["events_processed"];

  fs::remove(tmp.path() / "state" / "observer_checkpoint.json");
  const auto r = Once(tmp.path());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(testing::WorldFiles(tmp.path()), world);
  EXPECT_EQ(ReadFile(tmp.path() / "state" / "rejected-events.jsonl"), rejected);
  const auto checkpoint = testing::Checkpoint(tmp.path());
  EXPECT_EQ(checkpoint["events_processed"], processed);
  EXPECT_EQ(checkpoint["rebuilds"], 0) << "a missing checkpoint is not a counted replay";
}

TEST(ResumeTest, DeletingCheckpointAfterStepwiseRunsReplaysToIdenticalWorld) {
  TempDir tmp;
  const fs::path events = tmp.path() / "events";
  for (const HistoryFile& f : History()) {
    std::string content;
    for (const std::string& l : f.lines) content += l;
    testing::WriteFile(events / f.name, content);
    ASSERT_EQ(Once(tmp.path()).exit_code, 0);
  }
  const auto world = testing::WorldFiles(tmp.path());
  const auto rejected = ReadFile(tmp.path() / "state" / "rejected-events.jsonl");
  fs::remove(tmp.path() / "state" / "observer_checkpoint.json");
  ASSERT_EQ(Once(tmp.path()).exit_code, 0);
  EXPECT_EQ(testing::WorldFiles(tmp.path()), world);
  EXPECT_EQ(ReadFile(tmp.path() / "state" / "rejected-events.jsonl"), rejected);
}

TEST(ResumeTest, CorruptCheckpointReplaysToIdenticalWorld) {
  TempDir tmp;
  WriteWholeHistory(tmp.path());
  ASSERT_EQ(Once(tmp.path()).exit_code, 0);
  const auto world = testing::WorldFiles(tmp.path());
  const auto rejected = ReadFile(tmp.path() / "state" / "rejected-events.jsonl");
  for (const char* garbage : {"", "{", "{\"version\": 1}", "[1,2,3]", "\xff\xfe"}) {
    tmp.Write("state/observer_checkpoint.json", garbage);
    const auto r = Once(tmp.path());
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(testing::WorldFiles(tmp.path()), world) << "checkpoint: " << garbage;
    EXPECT_EQ(ReadFile(tmp.path() / "state" / "rejected-events.jsonl"), rejected);
  }
}

TEST(ResumeTest, EditedOrDeletedWorldFileIsRebuilt) {
  TempDir tmp;
  WriteWholeHistory(tmp.path());
  ASSERT_EQ(Once(tmp.path()).exit_code, 0);
  const auto world = testing::WorldFiles(tmp.path());
  const auto rebuilds = testing::Checkpoint(tmp.path())["rebuilds"].get<int>();

  tmp.Write("world/incidents.json", "{}\n");
  ASSERT_EQ(Once(tmp.path()).exit_code, 0);
  EXPECT_EQ(testing::WorldFiles(tmp.path()), world);
  fs::remove(tmp.path() / "world" / "services.json");
  ASSERT_EQ(Once(tmp.path()).exit_code, 0);
  EXPECT_EQ(testing::WorldFiles(tmp.path()), world);
  EXPECT_EQ(testing::Checkpoint(tmp.path())["rebuilds"].get<int>(), rebuilds + 2);
  EXPECT_EQ(testing::RebuildsFor(testing::Checkpoint(tmp.path()), "checkpoint"), 2u);
}

TEST(ResumeTest, LostRejectedLogIsRebuilt) {
  TempDir tmp;
  WriteWholeHistory(tmp.path());
  ASSERT_EQ(Once(tmp.path()).exit_code, 0);
  const auto world = testing::WorldFiles(tmp.path());
  const auto rejected = ReadFile(tmp.path() / "state" / "rejected-events.jsonl");
  ASSERT_TRUE(rejected && !rejected->empty());
  fs::remove(tmp.path() / "state" / "rejected-events.jsonl");
  ASSERT_EQ(Once(tmp.path()).exit_code, 0);
  EXPECT_EQ(testing::WorldFiles(tmp.path()), world);
  EXPECT_EQ(ReadFile(tmp.path() / "state" / "rejected-events.jsonl"), rejected);
}

TEST(ResumeTest, RejectedLogMirrorsHistoryAcrossRuns) {
  TempDir tmp;
  tmp.Write("events/a.jsonl",
            "{bad 1\n" + testing::Event("2026-05-12T12:00:00Z", "node_heartbeat", "saturn"));
  ASSERT_EQ(Once(tmp.path()).exit_code, 0);
  testing::AppendFile(tmp.path() / "events" / "a.jsonl", "{bad 2\n");
  ASSERT_EQ(Once(tmp.path()).exit_code, 0);
  ASSERT_EQ(Once(tmp.path()).exit_code, 0);
  const auto lines = testing::RejectedLines(tmp.path());
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0]["line"], 1);
  EXPECT_EQ(lines[1]["line"], 3);
  // A file sorting first: its rejection goes before the others (the log is
  // ordered by file name, then line), not after them.
  tmp.Write("events/0.jsonl", "{bad 0\n");
  ASSERT_EQ(Once(tmp.path()).exit_code, 0);
  const auto replayed = testing::RejectedLines(tmp.path());
  ASSERT_EQ(replayed.size(), 3u);
  EXPECT_EQ(replayed[0]["file"], "0.jsonl");
  EXPECT_EQ(replayed[1]["file"], "a.jsonl");
  EXPECT_EQ(replayed[2]["line"], 3);
  EXPECT_EQ(DifferenceFromCleanRun(tmp.path()), "");
}

}  // namespace
}  // namespace hlo
