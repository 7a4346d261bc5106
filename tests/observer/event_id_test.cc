// Event ids (CONTRACT §4): an event whose id an earlier event (in processing
// order) had is a duplicate — counted, not applied — across files, batches,
// restarts, the lateness window and replays.
#include <gtest/gtest.h>

#include <fstream>
#include <variant>

#include "observer/apply.h"
#include "observer/event_parser.h"
#include "observer/observer.h"
#include "tests/fakes/event_builder.h"
#include "tests/fakes/manual_env.h"
#include "tests/fakes/temp_dir.h"

namespace hlo {
namespace {

using fakes::Ev;

std::string Failure(const std::string& id, const std::string& at, const std::string& node = "web") {
  std::string line = R"({"timestamp":")" + at +
                     R"(","type":"service_unhealthy","node":")" + node + R"(","service":"nginx")";
  if (!id.empty()) line += R"(,"id":")" + id + "\"";
  return line + "}\n";
}

void Append(const std::filesystem::path& file, const std::string& text) {
  std::ofstream(file, std::ios::app) << text;
}

TEST(EventIdParseTest, IdIsReadAsAString) {
  const ParseResult r = ParseEventLine(R"({"timestamp":"2026-05-12T12:00:00Z","type":"node_heartbeat","node":"a","id":"a/42"})");
  ASSERT_TRUE(std::holds_alternative<Event>(r));
  EXPECT_EQ(std::get<Event>(r).id, "a/42");
}

TEST(EventIdParseTest, NonStringIdIsMistyped) {
  const ParseResult r = ParseEventLine(R"({"timestamp":"2026-05-12T12:00:00Z","type":"node_heartbeat","node":"a","id":42})");
  ASSERT_TRUE(std::holds_alternative<Rejection>(r));
  EXPECT_EQ(std::get<Rejection>(r).reason, RejectReason::kMistypedField);
}

TEST(EventIdParseTest, IdWithAControlCharacterOrTooLongIsABadName) {
  const ParseResult control = ParseEventLine(R"({"timestamp":"2026-05-12T12:00:00Z","type":"node_heartbeat","node":"a","id":"a\nb"})");
  ASSERT_TRUE(std::holds_alternative<Rejection>(control));
  EXPECT_EQ(std::get<Rejection>(control).reason, RejectReason::kBadName);
  const ParseResult longer = ParseEventLine(R"({"timestamp":"2026-05-12T12:00:00Z","type":"node_heartbeat","node":"a","id":")" +
                                       std::string(254, 'x') + "\"}");
  ASSERT_TRUE(std::holds_alternative<Rejection>(longer));
  EXPECT_EQ(std::get<Rejection>(longer).reason, RejectReason::kBadName);
}

TEST(EventIdApplyTest, SecondEventWithTheSameIdIsCountedNotApplied) {
  Model model;
  const ApplyContext context{"/x/logs", nullptr, {}};
  Apply(model, Ev("service_unhealthy").At("2026-05-12T12:00:00Z").Node("a").Service("dns").Id("e1").event(), context);
  Apply(model, Ev("service_unhealthy").At("2026-05-12T12:01:00Z").Node("a").Service("dns").Id("e1").event(), context);
  Apply(model, Ev("service_unhealthy").At("2026-05-12T12:02:00Z").Node("a").Service("dns").Id("e2").event(), context);
  Apply(model, Ev("service_unhealthy").At("2026-05-12T12:03:00Z").Node("a").Service("dns").event(), context);
  EXPECT_EQ(model.counters.events_processed, 3u);
  EXPECT_EQ(model.counters.events_duplicate, 1u);
  ASSERT_EQ(model.incidents.size(), 1u);
  EXPECT_EQ(model.incidents.begin()->second.occurrence_count, 3u);
}

class EventIdObserverTest : public ::testing::Test {
 protected:
  EventIdObserverTest() { std::filesystem::create_directories(dir_.path() / "events"); }

  std::unique_ptr<Observer> Open() {
    ObserverOptions options;
    options.root = dir_.path();
    options.env = &env_;
    options.replay_min_interval = Duration{0};
    auto observer = std::make_unique<Observer>(std::move(options));
    std::string error;
    EXPECT_TRUE(observer->Open(&error)) << error;
    return observer;
  }

  BatchResult ProcessAndCommit(Observer& observer) {
    BatchResult result;
    std::string error;
    EXPECT_TRUE(observer.ProcessPending(&result, &error)) << error;
    const WorldSnapshot world =
        observer.Snapshot(Timestamp{1'800'000'000, 0}, Duration{600'000'000'000}, {});
    EXPECT_TRUE(observer.Commit(world, &error)) << error;
    return result;
  }

  uint64_t Occurrences(const Observer& observer) {
    uint64_t n = 0;
    for (const auto& [id, incident] : observer.checkpoint().model.incidents) n += incident.occurrence_count;
    return n;
  }

  std::filesystem::path Events(const std::string& name) { return dir_.path() / "events" / name; }
  std::filesystem::path State(const std::string& name) { return dir_.path() / "state" / name; }

  TempDir dir_;
  fakes::ManualEnv env_;
};

TEST_F(EventIdObserverTest, DuplicateInAnotherFileIsNotAppliedTwice) {
  Append(Events("a.jsonl"), Failure("x1", "2026-12-04T10:00:00Z") + Failure("x2", "2026-12-04T10:00:01Z"));
  Append(Events("b.jsonl"), Failure("x1", "2026-12-04T10:00:00Z"));
  auto observer = Open();
  ProcessAndCommit(*observer);
  EXPECT_EQ(Occurrences(*observer), 2u);
  EXPECT_EQ(observer->checkpoint().model.counters.events_duplicate, 1u);
}

TEST_F(EventIdObserverTest, DuplicateAfterARestartIsStillCaught) {
  Append(Events("a.jsonl"), Failure("x1", "2026-12-04T10:00:00Z"));
  {
    auto observer = Open();
    ProcessAndCommit(*observer);
  }
  // An hour later (far outside the lateness window), a retry of x1.
  Append(Events("b.jsonl"), Failure("x1", "2026-12-04T10:00:00Z") + Failure("x3", "2026-12-04T11:00:00Z"));
  auto observer = Open();
  const BatchResult batch = ProcessAndCommit(*observer);
  EXPECT_EQ(Occurrences(*observer), 2u);
  EXPECT_EQ(observer->checkpoint().model.counters.events_duplicate, 1u);
  EXPECT_EQ(observer->checkpoint().rebuilds, batch.replayed ? 1u : 0u);
}

TEST_F(EventIdObserverTest, ReplayGivesTheSameModelAsIncrementalRuns) {
  Append(Events("a.jsonl"), Failure("x1", "2026-12-04T10:00:00Z"));
  {
    auto observer = Open();
    ProcessAndCommit(*observer);
  }
  // A retry that sorts before the original (an earlier file name, the same
  // time): inside the window the original is taken back and becomes the
  // duplicate.
  Append(Events("0-retry.jsonl"), Failure("x1", "2026-12-04T10:00:00Z", "web") +
                                      Failure("x4", "2026-12-04T10:00:02Z", "db"));
  Model incremental;
  {
    auto observer = Open();
    ProcessAndCommit(*observer);
    incremental = observer->checkpoint().model;
  }
  std::filesystem::remove(State("observer_checkpoint.json"));
  auto observer = Open();
  ProcessAndCommit(*observer);
  EXPECT_EQ(observer->checkpoint().model, incremental);
  EXPECT_EQ(incremental.counters.events_duplicate, 1u);
  EXPECT_EQ(incremental.event_ids.size(), 2u);
}

TEST_F(EventIdObserverTest, EventIdLogNotMatchingTheCheckpointCausesAReplay) {
  Append(Events("a.jsonl"), Failure("x1", "2026-12-04T10:00:00Z"));
  {
    auto observer = Open();
    ProcessAndCommit(*observer);
  }
  std::ofstream(State("event-ids.log"), std::ios::trunc) << "other\n";
  Append(Events("b.jsonl"), Failure("x1", "2026-12-04T10:00:00Z"));
  auto observer = Open();
  const BatchResult batch = ProcessAndCommit(*observer);
  EXPECT_TRUE(batch.replayed);
  EXPECT_EQ(Occurrences(*observer), 1u);
  EXPECT_EQ(observer->checkpoint().model.counters.events_duplicate, 1u);
}

TEST_F(EventIdObserverTest, IdsLoggedAfterTheLastCheckpointAreCut) {
  Append(Events("a.jsonl"), Failure("x1", "2026-12-04T10:00:00Z"));
  {
    auto observer = Open();
    ProcessAndCommit(*observer);
  }
  // A run killed between appending to the log and writing the checkpoint.
  Append(State("event-ids.log"), "x9\n");
  Append(Events("b.jsonl"), Failure("x9", "2026-12-04T10:00:05Z"));
  auto observer = Open();
  const BatchResult batch = ProcessAndCommit(*observer);
  EXPECT_FALSE(batch.replayed);
  EXPECT_EQ(Occurrences(*observer), 2u);
  EXPECT_EQ(observer->checkpoint().model.counters.events_duplicate, 0u);
}

}  // namespace
}  // namespace hlo
