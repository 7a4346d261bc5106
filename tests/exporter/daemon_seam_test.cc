// The daemon stepped by hand through its seams: a ChangeSource the test
// answers (so it knows when a batch has run) and an Env whose clock moves only
// when told. Late-event replays wait for --events.replay-min-interval on that
// clock; nothing here sleeps.
#include "exporter/daemon.h"

#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "observer/atomic_file.h"
#include "tests/fakes/manual_changes.h"
#include "tests/fakes/manual_env.h"
#include "tests/fakes/temp_dir.h"

namespace hlo {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

std::string Heartbeat(const std::string& node, const std::string& at) {
  return R"({"timestamp":")" + at + R"(","type":"node_heartbeat","node":")" + node + "\"}\n";
}

class DaemonSeamTest : public ::testing::Test {
 protected:
  DaemonSeamTest() {
    std::filesystem::create_directories(dir_.path() / "events");
    Append("b-saturn.jsonl", Heartbeat("saturn", "2026-12-04T10:00:00Z"));
  }

  ~DaemonSeamTest() override {
    if (thread_.joinable()) {
      daemon_->RequestStop();
      thread_.join();
    }
  }

  void Start() {
    config_.command = Command::kRun;
    config_.root = dir_.path();
    config_.listen_address = "127.0.0.1:0";
    config_.now = ParseTimestamp("2026-12-04T10:05:00Z");
    DaemonSeams seams;
    seams.env = &env_;
    seams.make_changes = [this](WatchOptions) {
      auto changes = std::make_unique<fakes::ManualChanges>();
      changes_ = changes.get();
      return changes;
    };
    daemon_ = std::make_unique<Daemon>(config_, DaemonTiming{}, std::move(seams));
    thread_ = std::thread([this] { exit_code_ = daemon_->Run(); });
    while (changes_.load() == nullptr) std::this_thread::yield();
    changes_.load()->AwaitWaiting();  // the first batch is done
  }

  int Stop() {
    daemon_->RequestStop();
    thread_.join();
    return exit_code_;
  }

  void Append(const std::string& file, const std::string& text) {
    std::ofstream(dir_.path() / "events" / file, std::ios::app) << text;
  }

  json World(const std::string& name) {
    return json::parse(ReadWholeFile(dir_.path() / "world" / name, nullptr).value());
  }
  json Checkpoint() {
    return json::parse(
        ReadWholeFile(dir_.path() / "state" / "observer_checkpoint.json", nullptr).value());
  }

  TempDir dir_;
  fakes::ManualEnv env_;
  Config config_;
  std::unique_ptr<Daemon> daemon_;
  std::atomic<fakes::ManualChanges*> changes_{nullptr};
  std::thread thread_;
  int exit_code_ = -1;
};

TEST_F(DaemonSeamTest, EventInsideTheWindowIsAppliedInTheSameBatch) {
  config_.replay_min_interval = Duration{30'000'000'000};
  Start();
  Append("a-jupiter.jsonl", Heartbeat("jupiter", "2026-12-04T09:58:00Z"));
  changes_.load()->Batch();
  EXPECT_EQ(World("nodes.json").at("jupiter").at("last_seen"), "2026-12-04T09:58:00Z");
  EXPECT_EQ(Checkpoint().at("rebuilds"), 0);
  EXPECT_EQ(Stop(), 0);
}

TEST_F(DaemonSeamTest, LateEventReplayWaitsForTheIntervalOnTheInjectedClock) {
  config_.replay_min_interval = Duration{30'000'000'000};
  Start();
  Append("a-jupiter.jsonl", Heartbeat("jupiter", "2026-12-04T09:00:00Z"));  // an hour late
  Append("b-saturn.jsonl", Heartbeat("saturn", "2026-12-04T10:01:00Z"));
  changes_.load()->Batch();
  EXPECT_FALSE(World("nodes.json").contains("jupiter"));  // waits for the replay
  EXPECT_EQ(World("nodes.json").at("saturn").at("last_seen"), "2026-12-04T10:01:00Z");
  EXPECT_EQ(Checkpoint().at("replay_due"), true);

  env_.Advance(29s);
  changes_.load()->Timeout();
  EXPECT_FALSE(World("nodes.json").contains("jupiter"));
  EXPECT_EQ(Checkpoint().at("rebuilds"), 0);

  env_.Advance(1s);
  changes_.load()->Timeout();
  EXPECT_EQ(World("nodes.json").at("jupiter").at("last_seen"), "2026-12-04T09:00:00Z");
  EXPECT_EQ(Checkpoint().at("rebuilds"), 1);
  EXPECT_EQ(Checkpoint().at("replay_due"), false);
  EXPECT_EQ(Stop(), 0);
}

TEST_F(DaemonSeamTest, ManyLateBatchesWithinOneIntervalCostOneReplay) {
  config_.replay_min_interval = Duration{30'000'000'000};
  Start();
  for (int i = 0; i < 10; ++i) {
    Append("a-jupiter.jsonl", Heartbeat("jupiter", "2026-12-04T09:0" + std::to_string(i) + ":00Z"));
    changes_.load()->Batch();
    env_.Advance(2s);
  }
  EXPECT_EQ(Checkpoint().at("rebuilds"), 0);
  env_.Advance(10s);
  changes_.load()->Timeout();
  EXPECT_EQ(Checkpoint().at("rebuilds"), 1);
  EXPECT_EQ(World("nodes.json").at("jupiter").at("last_seen"), "2026-12-04T09:09:00Z");
  EXPECT_EQ(Stop(), 0);
}

}  // namespace
}  // namespace hlo
