// CONTRACT §6 (a `once` killed with SIGKILL at any moment, then run again,
// gives the world files of one clean run) and §8 (rejected-events.jsonl
// holds exactly one line per rejected event of the history; lines a killed
// run wrote after its last checkpoint are dropped).
//
// A history of 100k events over 20 files arrives in batches, some holding
// events hours older than those already applied, beyond
// --events.max-lateness (each such batch costs a full replay, so most runs
// are long). `once` is killed 15 times: after delays spread over a clean
// run's duration, and at the moment a temporary file appears in world/ or
// state/ (during the world and checkpoint writes). A final `once` must then
// equal a clean single run.
#include <gtest/gtest.h>

#include "tests/fakes/temp_dir.h"
#include "tests/integration/process_helpers.h"

namespace hlo {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using testing::MixedLine;

constexpr int kFiles = 20;
constexpr uint64_t kEventsPerFile = 5000;

std::string FileName(int i) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "part-%02d.jsonl", i);
  return buf;
}

std::string FileContent(int i) {
  std::string content;
  const uint64_t first = static_cast<uint64_t>(i) * kEventsPerFile;
  for (uint64_t n = first; n < first + kEventsPerFile; ++n) content += MixedLine(n);
  return content;
}

void WriteEventFile(const fs::path& root, int i) {
  testing::WriteFile(root / "events" / FileName(i), FileContent(i));
}

enum class KillAt {
  kDelay,       // after `fraction` of a clean full run's duration
  kWorldWrite,  // when a new temporary file shows in world/ (+ extra_us)
  kStateWrite,  // when one shows in state/ after one showed in world/ (+ extra_us)
};

struct Step {
  std::vector<int> arrive;  // files written before this run (-1: second half of 19)
  KillAt at = KillAt::kDelay;
  double fraction = 0;
  int extra_us = 0;
};

// File 19 arrives in two parts, the first ending inside a line.
std::pair<std::string, std::string> SplitLastFile() {
  const std::string content = FileContent(kFiles - 1);
  const size_t cut = content.size() / 2 + 17;
  return {content.substr(0, cut), content.substr(cut)};
}

std::vector<Step> Schedule() {
  return {
      {{0, 2, 4, 6, 8, 10}, KillAt::kDelay, 0.02},
      {{}, KillAt::kDelay, 0.15},
      {{}, KillAt::kWorldWrite},
      {{1, 3}, KillAt::kDelay, 0.3},  // late files (events hours older): replay
      {{}, KillAt::kStateWrite},
      {{12, 14, 5}, KillAt::kDelay, 0.5},
      {{}, KillAt::kWorldWrite, 0, 2000},
      {{7, 9, 11, 16}, KillAt::kDelay, 0.7},
      {{}, KillAt::kWorldWrite},
      {{13, 18, 19}, KillAt::kDelay, 0.85},
      {{}, KillAt::kStateWrite},
      {{15, 17}, KillAt::kDelay, 1.0},
      {{-1}, KillAt::kWorldWrite, 0, 5000},
      {{}, KillAt::kDelay, 0.4},
      {{}, KillAt::kStateWrite, 0, 1000},
  };
}

// Hidden names in world/ and state/, tagged with their folder.
std::set<std::string> Temporaries(const fs::path& root, const char* folder) {
  std::set<std::string> out;
  for (const std::string& name : testing::HiddenEntries(root / folder)) {
    out.insert(std::string(folder) + "/" + name);
  }
  return out;
}

bool HasNew(const std::set<std::string>& now, const std::set<std::string>& before) {
  for (const auto& n : now) {
    if (before.count(n) == 0) return true;
  }
  return false;
}

// Runs `once` and SIGKILLs it as `step` says; true when the kill landed
// (the run had not finished by itself).
bool RunAndKill(const fs::path& root, const Step& step, Clock::duration full_run) {
  const auto before_world = Temporaries(root, "world");
  const auto before_state = Temporaries(root, "state");
  const pid_t pid = testing::Start(testing::OnceArgs(root));
  const auto start = Clock::now();
  const auto give_up = start + 4 * full_run + std::chrono::seconds(5);
  bool world_seen = false;
  for (;;) {
    int status = 0;
    if (::waitpid(pid, &status, WNOHANG) == pid) {
      EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "status " << status;
      return false;
    }
    if (Clock::now() > give_up) break;
    if (step.at == KillAt::kDelay) {
      if (Clock::now() - start >= full_run * step.fraction) break;
    } else {
      world_seen = world_seen || HasNew(Temporaries(root, "world"), before_world);
      const bool hit = step.at == KillAt::kWorldWrite
                           ? world_seen
                           : world_seen && HasNew(Temporaries(root, "state"), before_state);
      if (hit) {
        std::this_thread::sleep_for(std::chrono::microseconds(step.extra_us));
        break;
      }
    }
    std::this_thread::sleep_for(std::chrono::microseconds(step.at == KillAt::kDelay ? 1000 : 100));
  }
  const testing::ProcessResult r = testing::KillAndReap(pid);
  if (r.signal == SIGKILL) return true;
  EXPECT_EQ(r.exit_code, 0);
  return false;
}

TEST(CrashTest, SigkillAtAnyMomentThenOnceEqualsCleanRun) {
  // The reference: every file at once, one clean run.
  TempDir clean;
  for (int i = 0; i < kFiles; ++i) WriteEventFile(clean.path(), i);
  const auto t0 = Clock::now();
  const auto reference = testing::Once(clean.path());
  const auto full_run = Clock::now() - t0;
  ASSERT_EQ(reference.exit_code, 0) << reference.err;
  const auto clean_checkpoint = testing::Checkpoint(clean.path());
  ASSERT_EQ(clean_checkpoint["events_processed"].get<uint64_t>() +
                clean_checkpoint["events_rejected"].get<uint64_t>(),
            kFiles * kEventsPerFile);
  ASSERT_GT(clean_checkpoint["events_rejected"].get<uint64_t>(), 1000u);

  TempDir crashed;
  const fs::path root = crashed.path();
  const auto [head19, tail19] = SplitLastFile();
  int kills = 0;
  int steps = 0;
  for (const Step& step : Schedule()) {
    for (int i : step.arrive) {
      if (i == kFiles - 1) {
        testing::WriteFile(root / "events" / FileName(i), head19);
      } else if (i == -1) {
        testing::AppendFile(root / "events" / FileName(kFiles - 1), tail19);
      } else {
        WriteEventFile(root, i);
      }
    }
    kills += RunAndKill(root, step, full_run) ? 1 : 0;
    ++steps;
    if (::testing::Test::HasFailure()) return;
  }
  ASSERT_EQ(steps, 15);
  // The writes-phase kills land whatever the machine's speed.
  EXPECT_GE(kills, 6) << "too few runs were actually killed to prove anything";
  std::cout << "[ info ] " << kills << " of " << steps << " runs were killed; a clean run took "
            << std::chrono::duration_cast<std::chrono::milliseconds>(full_run).count() << " ms\n";

  const auto final_run = testing::Once(root);
  ASSERT_EQ(final_run.exit_code, 0) << final_run.err;
  EXPECT_EQ(testing::WorldDifference(clean.path(), root), "");
  EXPECT_EQ(testing::FirstDifference(
                testing::ReadFile(clean.path() / "state" / "rejected-events.jsonl").value_or("?"),
                testing::ReadFile(root / "state" / "rejected-events.jsonl").value_or("")),
            "");
  const auto checkpoint = testing::Checkpoint(root);
  EXPECT_EQ(checkpoint["events_processed"], clean_checkpoint["events_processed"]);
  EXPECT_EQ(checkpoint["events_rejected"], clean_checkpoint["events_rejected"]);
  EXPECT_EQ(testing::RejectedLines(root).size(), clean_checkpoint["events_rejected"].get<size_t>());
  EXPECT_EQ(checkpoint["file"], clean_checkpoint["file"]);
  EXPECT_EQ(checkpoint["offset"], clean_checkpoint["offset"]);

  // Killed writers leave temporary files; the next run clears them away.
  EXPECT_EQ(testing::HiddenEntries(root / "world"), std::set<std::string>{});
  EXPECT_EQ(testing::HiddenEntries(root / "state"), std::set<std::string>{});

  // And one more run changes nothing.
  const auto world = testing::WorldFiles(root);
  const auto again = testing::Once(root);
  EXPECT_NE(again.out.find("applied 0 new event(s), rejected 0"), std::string::npos) << again.out;
  EXPECT_EQ(testing::WorldFiles(root), world);
}

// Kills landing while rejected lines are appended: the run after must drop
// what the killed run wrote past its checkpoint.
TEST(CrashTest, RejectedLinesOfKilledRunsAreNotDuplicated) {
  constexpr int kBadLines = 2000;
  TempDir tmp;
  const fs::path root = tmp.path();
  std::string bad;
  for (int i = 0; i < kBadLines; ++i) bad += "{\"bad line\": " + std::to_string(i) + "\n";
  testing::WriteFile(root / "events" / "a.jsonl", bad);
  ASSERT_EQ(testing::Once(root).exit_code, 0);
  // Each new file adds rejections; kill its run at varied moments.
  int kills = 0;
  for (int round = 0; round < 8; ++round) {
    testing::WriteFile(root / "events" / ("b" + std::to_string(round) + ".jsonl"), bad);
    const pid_t pid = testing::Start(testing::OnceArgs(root));
    std::this_thread::sleep_for(std::chrono::milliseconds(5 + 20 * round));
    kills += testing::KillAndReap(pid).signal == SIGKILL ? 1 : 0;
  }
  EXPECT_GE(kills, 1);
  ASSERT_EQ(testing::Once(root).exit_code, 0);
  EXPECT_EQ(testing::DifferenceFromCleanRun(root), "");
  EXPECT_EQ(testing::RejectedLines(root).size(), 9u * kBadLines);
  EXPECT_EQ(testing::Checkpoint(root)["events_rejected"], 9u * kBadLines);
}

}  // namespace
}  // namespace hlo
