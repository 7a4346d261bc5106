// The observer's ordering, lateness and replay rules, on real files but an
// injected clock (fakes::ManualEnv): no sleeping.
#include "observer/observer.h"

#include <gtest/gtest.h>

#include <fstream>

#include "observer/atomic_file.h"
#include "tests/fakes/manual_env.h"
#include "tests/fakes/temp_dir.h"

namespace hlo {
namespace {

using namespace std::chrono_literals;

std::string Heartbeat(const std::string& node, const std::string& at) {
  return R"({"timestamp":")" + at + R"(","type":"node_heartbeat","node":")" + node + "\"}\n";
}

void Append(const std::filesystem::path& file, const std::string& text) {
  std::ofstream(file, std::ios::app) << text;
}

class ObserverTest : public ::testing::Test {
 protected:
  ObserverTest() { std::filesystem::create_directories(dir_.path() / "events"); }

  std::unique_ptr<Observer> Open(Duration replay_interval = Duration{0}) {
    ObserverOptions options;
    options.root = dir_.path();
    options.env = &env_;
    options.replay_min_interval = replay_interval;
    auto observer = std::make_unique<Observer>(std::move(options));
    std::string error;
    EXPECT_TRUE(observer->Open(&error)) << error;
    return observer;
  }

  BatchResult Process(Observer& observer) {
    BatchResult result;
    std::string error;
    EXPECT_TRUE(observer.ProcessPending(&result, &error)) << error;
    return result;
  }

  bool Commit(Observer& observer, std::string* error) {
    const WorldSnapshot world =
        observer.Snapshot(Timestamp{1'800'000'000, 0}, Duration{600'000'000'000}, {});
    return observer.Commit(world, error);
  }

  void Commit(Observer& observer) {
    std::string error;
    EXPECT_TRUE(Commit(observer, &error)) << error;
  }

  std::string LastSeen(Observer& observer, const std::string& node) {
    const auto it = observer.checkpoint().model.nodes.find(node);
    if (it == observer.checkpoint().model.nodes.end() || !it->second.last_seen) return "";
    return FormatTimestamp(*it->second.last_seen);
  }

  std::filesystem::path Events(const std::string& name) { return dir_.path() / "events" / name; }

  TempDir dir_;
  fakes::ManualEnv env_;
};

TEST_F(ObserverTest, AnUnreadableFileIsNamedInTheBatchAndReadOnceItIsReadableAgain) {
  Append(Events("a.jsonl"), Heartbeat("saturn", "2026-12-04T10:00:00Z"));
  Append(Events("b.jsonl"), Heartbeat("jupiter", "2026-12-04T10:00:01Z"));
  env_.FailReadsOf("b.jsonl");
  auto observer = Open();
  BatchResult batch = Process(*observer);
  ASSERT_EQ(batch.unreadable.size(), 1u);
  EXPECT_EQ(batch.unreadable[0].first, "b.jsonl");
  EXPECT_NE(batch.unreadable[0].second.find("Permission denied"), std::string::npos);
  EXPECT_TRUE(batch.unfinished.empty()) << "an unreadable file is not an unfinished line";
  EXPECT_EQ(batch.applied, 1u);
  EXPECT_EQ(LastSeen(*observer, "jupiter"), "");
  env_.FailReadsOf("");
  batch = Process(*observer);
  EXPECT_TRUE(batch.unreadable.empty());
  EXPECT_EQ(LastSeen(*observer, "jupiter"), "2026-12-04T10:00:01Z");
}

TEST_F(ObserverTest, ALastLineWithoutItsNewlineIsNamedAsUnfinished) {
  Append(Events("a.jsonl"), Heartbeat("saturn", "2026-12-04T10:00:00Z"));
  std::string partial = Heartbeat("jupiter", "2026-12-04T10:00:01Z");
  partial.pop_back();  // its newline
  Append(Events("b.jsonl"), partial);
  auto observer = Open();
  BatchResult batch = Process(*observer);
  EXPECT_EQ(batch.unfinished, std::vector<std::string>{"b.jsonl"});
  Append(Events("b.jsonl"), "\n");
  batch = Process(*observer);
  EXPECT_TRUE(batch.unfinished.empty());
  EXPECT_EQ(LastSeen(*observer, "jupiter"), "2026-12-04T10:00:01Z");
}

TEST_F(ObserverTest, EventInsideTheWindowIsFoldedInWithoutAReplay) {
  Append(Events("b-saturn.jsonl"), Heartbeat("saturn", "2026-12-04T10:00:00Z"));
  auto observer = Open();
  Process(*observer);
  // Host a writes later, but its event happened a minute earlier.
  Append(Events("a-jupiter.jsonl"), Heartbeat("jupiter", "2026-12-04T09:59:00Z") +
                                        Heartbeat("saturn", "2026-12-04T09:59:30Z"));
  const BatchResult batch = Process(*observer);
  EXPECT_FALSE(batch.replayed);
  EXPECT_EQ(batch.reordered, 2u);
  EXPECT_EQ(batch.late, 0u);
  // In event-time order saturn's 10:00 heartbeat comes last.
  EXPECT_EQ(LastSeen(*observer, "saturn"), "2026-12-04T10:00:00Z");
  EXPECT_EQ(LastSeen(*observer, "jupiter"), "2026-12-04T09:59:00Z");
}

TEST_F(ObserverTest, EventOlderThanTheWindowReplaysAtOnceWithoutAnInterval) {
  Append(Events("b.jsonl"), Heartbeat("saturn", "2026-12-04T10:00:00Z"));
  auto observer = Open();
  Process(*observer);
  Append(Events("a.jsonl"), Heartbeat("jupiter", "2026-12-04T09:00:00Z"));
  const BatchResult batch = Process(*observer);
  EXPECT_TRUE(batch.replayed);
  EXPECT_EQ(batch.late, 1u);
  EXPECT_EQ(observer->rebuilds_by_reason().at("late_event"), 1u);
  EXPECT_EQ(observer->late_events_by_file().at("a.jsonl"), 1u);
  EXPECT_EQ(LastSeen(*observer, "jupiter"), "2026-12-04T09:00:00Z");
}

TEST_F(ObserverTest, ReplaysForLateEventsWaitForTheIntervalOnTheEnvClock) {
  Append(Events("b.jsonl"), Heartbeat("saturn", "2026-12-04T10:00:00Z"));
  auto observer = Open(Duration{30'000'000'000});
  Process(*observer);  // the first replay starts the interval
  Append(Events("a.jsonl"), Heartbeat("jupiter", "2026-12-04T09:00:00Z"));
  Append(Events("b.jsonl"), Heartbeat("saturn", "2026-12-04T10:01:00Z"));
  BatchResult batch = Process(*observer);
  EXPECT_FALSE(batch.replayed);
  EXPECT_TRUE(batch.replay_deferred);
  EXPECT_EQ(batch.late, 1u);
  EXPECT_EQ(LastSeen(*observer, "saturn"), "2026-12-04T10:01:00Z");  // in order: applied
  EXPECT_EQ(LastSeen(*observer, "jupiter"), "");                     // late: waits
  ASSERT_TRUE(observer->ReplayDueIn().has_value());
  EXPECT_EQ(*observer->ReplayDueIn(), 30s);

  env_.Advance(29s);
  batch = Process(*observer);
  EXPECT_FALSE(batch.replayed);
  EXPECT_EQ(*observer->ReplayDueIn(), 1s);
  env_.Advance(1s);
  batch = Process(*observer);
  EXPECT_TRUE(batch.replayed);
  EXPECT_EQ(LastSeen(*observer, "jupiter"), "2026-12-04T09:00:00Z");
  EXPECT_FALSE(observer->ReplayDueIn().has_value());
  EXPECT_EQ(observer->rebuilds_by_reason().at("late_event"), 1u);
}

TEST_F(ObserverTest, ADueReplaySurvivesARestart) {
  Append(Events("b.jsonl"), Heartbeat("saturn", "2026-12-04T10:00:00Z"));
  {
    auto observer = Open(Duration{30'000'000'000});
    Process(*observer);
    Append(Events("a.jsonl"), Heartbeat("jupiter", "2026-12-04T09:00:00Z"));
    EXPECT_TRUE(Process(*observer).replay_deferred);
    Commit(*observer);
  }
  auto observer = Open(Duration{30'000'000'000});
  const BatchResult batch = Process(*observer);
  EXPECT_TRUE(batch.replayed);
  EXPECT_EQ(LastSeen(*observer, "jupiter"), "2026-12-04T09:00:00Z");
}

TEST_F(ObserverTest, TheWindowSurvivesARestartSoALateEventStillFolds) {
  Append(Events("b.jsonl"), Heartbeat("saturn", "2026-12-04T10:00:00Z"));
  {
    auto observer = Open();
    Process(*observer);
    Commit(*observer);
  }
  auto observer = Open();
  Append(Events("a.jsonl"), Heartbeat("saturn", "2026-12-04T09:58:00Z"));
  const BatchResult batch = Process(*observer);
  EXPECT_FALSE(batch.replayed) << batch.replay_reason;
  EXPECT_EQ(batch.reordered, 1u);
  EXPECT_EQ(LastSeen(*observer, "saturn"), "2026-12-04T10:00:00Z");
}

TEST_F(ObserverTest, RejectedLogStaysInFileThenLineOrder) {
  Append(Events("b.jsonl"), "not json\n");
  auto observer = Open();
  Process(*observer);
  Commit(*observer);
  Append(Events("a.jsonl"), Heartbeat("saturn", "2026-12-04T10:00:00Z") + "{\"x\":1}\n");
  Append(Events("b.jsonl"), "still not json\n");
  Process(*observer);
  Commit(*observer);
  const std::string log =
      ReadWholeFile(dir_.path() / "state" / "rejected-events.jsonl", nullptr).value();
  const size_t a2 = log.find("\"file\":\"a.jsonl\",\"line\":2");
  const size_t b1 = log.find("\"file\":\"b.jsonl\",\"line\":1");
  const size_t b2 = log.find("\"file\":\"b.jsonl\",\"line\":2");
  ASSERT_NE(a2, std::string::npos) << log;
  ASSERT_NE(b1, std::string::npos) << log;
  ASSERT_NE(b2, std::string::npos) << log;
  EXPECT_LT(a2, b1);
  EXPECT_LT(b1, b2);
  // The merged log is the one the checkpoint vouches for: no replay on reopen.
  observer.reset();
  auto reopened = Open();
  EXPECT_FALSE(Process(*reopened).replayed);
}

TEST_F(ObserverTest, AFailedCommitLeavesTheCheckpointAsItWas) {
  Append(Events("a.jsonl"), Heartbeat("saturn", "2026-12-04T10:00:00Z"));
  auto observer = Open();
  Process(*observer);
  Commit(*observer);
  const std::string before =
      ReadWholeFile(dir_.path() / "state" / "observer_checkpoint.json", nullptr).value();
  Append(Events("a.jsonl"), Heartbeat("jupiter", "2026-12-04T10:00:01Z"));
  Process(*observer);
  env_.FailWrites(true);
  std::string error;
  EXPECT_FALSE(Commit(*observer, &error));
  EXPECT_NE(error.find("injected"), std::string::npos) << error;
  EXPECT_EQ(ReadWholeFile(dir_.path() / "state" / "observer_checkpoint.json", nullptr).value(),
            before);
  env_.FailWrites(false);
  Commit(*observer);
  auto reopened = Open();
  EXPECT_FALSE(Process(*reopened).replayed);
  EXPECT_EQ(LastSeen(*reopened, "jupiter"), "2026-12-04T10:00:01Z");
}

}  // namespace
}  // namespace hlo
