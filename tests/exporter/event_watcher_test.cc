#include "exporter/event_watcher.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <pthread.h>
#include <signal.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <atomic>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "tests/fakes/temp_dir.h"

namespace hlo {
namespace {

namespace fs = std::filesystem;
using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

constexpr milliseconds kPollInterval{20};
// Only reached when a change is missed.
constexpr milliseconds kPatience{2000};

void WriteFile(const fs::path& path, const std::string& content,
               std::ios::openmode mode = std::ios::trunc) {
  std::ofstream out(path, std::ios::binary | std::ios::out | mode);
  out << content;
  ASSERT_TRUE(out.good()) << path;
}

// Runs every test twice: with inotify (force_poll false) and polling.
class EventWatcherTest : public ::testing::TestWithParam<bool> {
 protected:
  void SetUp() override {
    if (!ForcePoll()) {
      const int fd = ::inotify_init1(IN_CLOEXEC);
      if (fd < 0) GTEST_SKIP() << "inotify is not available here";
      ::close(fd);
    }
  }

  bool ForcePoll() const { return GetParam(); }

  // With inotify the safety-net scan is pushed beyond the test's length, so
  // a change reported there was reported by inotify itself (the net has a
  // test of its own).
  WatchOptions Options(std::vector<fs::path> paths, bool short_safety_net = false) const {
    WatchOptions options;
    options.paths = std::move(paths);
    options.force_poll = ForcePoll();
    options.poll_interval =
        ForcePoll() || short_safety_net ? kPollInterval : milliseconds(60'000);
    return options;
  }

  WatchMode ExpectedMode() const { return ForcePoll() ? WatchMode::kPoll : WatchMode::kInotify; }

  // A change must be reported well before kPatience runs out.
  static bool SeesChange(EventWatcher& watcher) {
    const auto start = Clock::now();
    const bool seen = watcher.Wait(kPatience);
    EXPECT_LT(Clock::now() - start, milliseconds(1000));
    return seen;
  }

  // Long enough for three polling scans; inotify delivers at once.
  milliseconds Quiet() const { return ForcePoll() ? 3 * kPollInterval : milliseconds(30); }

  bool StaysQuiet(EventWatcher& watcher) const { return !watcher.Wait(Quiet()); }

  // Consumes the reports of what already happened, until a quiet Wait.
  void Settle(EventWatcher& watcher) const {
    for (int i = 0; i < 20 && watcher.Wait(Quiet()); ++i) {
    }
  }

  TempDir dir_;  // mkdtemp'd, removed with everything in it
  const fs::path root_ = dir_.path();
};

TEST_P(EventWatcherTest, RunsInTheRequestedMode) {
  EventWatcher watcher(Options({root_ / "events"}));
  EXPECT_EQ(watcher.mode(), ExpectedMode());
  EXPECT_EQ(watcher.fallback_reason(), "");
}

TEST_P(EventWatcherTest, NewFileIsSeen) {
  fs::create_directory(root_ / "events");
  EventWatcher watcher(Options({root_ / "events"}));
  EXPECT_TRUE(StaysQuiet(watcher));
  WriteFile(root_ / "events" / "a.jsonl", "{}\n");
  EXPECT_TRUE(SeesChange(watcher));
}

TEST_P(EventWatcherTest, AppendIsSeen) {
  fs::create_directory(root_ / "events");
  WriteFile(root_ / "events" / "a.jsonl", "{}\n");
  EventWatcher watcher(Options({root_ / "events"}));
  EXPECT_TRUE(StaysQuiet(watcher));
  WriteFile(root_ / "events" / "a.jsonl", "{\"type\":\"x\"}\n", std::ios::app);
  EXPECT_TRUE(SeesChange(watcher));
}

TEST_P(EventWatcherTest, RenameIntoPlaceIsSeen) {
  fs::create_directory(root_ / "events");
  fs::create_directory(root_ / "staging");
  WriteFile(root_ / "staging" / "b.json", "{}");
  EventWatcher watcher(Options({root_ / "events"}));
  EXPECT_TRUE(StaysQuiet(watcher));
  fs::rename(root_ / "staging" / "b.json", root_ / "events" / "b.json");
  EXPECT_TRUE(SeesChange(watcher));
}

TEST_P(EventWatcherTest, TimeoutReturnsFalseWhenNothingHappened) {
  fs::create_directory(root_ / "events");
  WriteFile(root_ / "events" / "a.jsonl", "{}\n");
  EventWatcher watcher(Options({root_ / "events", root_ / "missing"}));
  const auto start = Clock::now();
  EXPECT_FALSE(watcher.Wait(milliseconds(100)));
  const auto elapsed = Clock::now() - start;
  EXPECT_GE(elapsed, milliseconds(100));
  EXPECT_LT(elapsed, milliseconds(1000));
  EXPECT_FALSE(watcher.Wait(milliseconds(0)));
}

TEST_P(EventWatcherTest, WakeFromAnotherThreadReturnsPromptly) {
  EventWatcher watcher(Options({root_ / "events"}));
  std::thread waker([&watcher] {
    std::this_thread::sleep_for(milliseconds(50));
    watcher.Wake();
  });
  const auto start = Clock::now();
  EXPECT_TRUE(watcher.Wait(milliseconds(10'000)));
  EXPECT_LT(Clock::now() - start, milliseconds(1000));
  waker.join();
  EXPECT_FALSE(watcher.Wait(milliseconds(0))) << "a Wake is reported once";
}

TEST_P(EventWatcherTest, WakeBeforeWaitIsNotLost) {
  EventWatcher watcher(Options({root_ / "events"}));
  watcher.Wake();
  watcher.Wake();
  const auto start = Clock::now();
  EXPECT_TRUE(watcher.Wait(milliseconds(10'000)));
  EXPECT_LT(Clock::now() - start, milliseconds(500));
  EXPECT_FALSE(watcher.Wait(milliseconds(0)));
}

std::atomic<EventWatcher*> signalled_watcher{nullptr};

void WakeOnSignal(int) {
  if (EventWatcher* watcher = signalled_watcher.load()) watcher->Wake();
}

TEST_P(EventWatcherTest, WakeFromASignalHandlerReturnsPromptly) {
  EventWatcher watcher(Options({root_ / "events"}));
  struct sigaction action = {};
  struct sigaction previous = {};
  action.sa_handler = WakeOnSignal;
  sigemptyset(&action.sa_mask);
  ASSERT_EQ(::sigaction(SIGUSR1, &action, &previous), 0);
  signalled_watcher.store(&watcher);
  // Aimed at the waiting thread itself, so poll(2) is interrupted (EINTR).
  const pthread_t waiting = ::pthread_self();
  std::thread signaller([waiting] {
    std::this_thread::sleep_for(milliseconds(50));
    ::pthread_kill(waiting, SIGUSR1);
  });
  const auto start = Clock::now();
  EXPECT_TRUE(watcher.Wait(milliseconds(10'000)));
  EXPECT_LT(Clock::now() - start, milliseconds(1000));
  signaller.join();
  signalled_watcher.store(nullptr);
  ::sigaction(SIGUSR1, &previous, nullptr);
}

TEST_P(EventWatcherTest, FolderDeletedAndRecreatedIsStillWatched) {
  const fs::path events = root_ / "events";
  fs::create_directory(events);
  WriteFile(events / "a.jsonl", "{}\n");
  EventWatcher watcher(Options({events}));
  EXPECT_TRUE(StaysQuiet(watcher));

  fs::remove_all(events);
  EXPECT_TRUE(SeesChange(watcher));
  Settle(watcher);

  fs::create_directory(events);
  EXPECT_TRUE(SeesChange(watcher));
  Settle(watcher);

  // Only a watch placed on the new folder can see this in inotify mode.
  WriteFile(events / "b.jsonl", "{}\n");
  EXPECT_TRUE(SeesChange(watcher));
  Settle(watcher);
  WriteFile(events / "b.jsonl", "{}\n", std::ios::app);
  EXPECT_TRUE(SeesChange(watcher));
}

TEST_P(EventWatcherTest, FolderRenamedAwayAndReplacedIsStillWatched) {
  const fs::path events = root_ / "events";
  fs::create_directory(events);
  fs::create_directory(root_ / "events.new");
  EventWatcher watcher(Options({events}));
  EXPECT_TRUE(StaysQuiet(watcher));

  fs::rename(events, root_ / "events.old");
  fs::rename(root_ / "events.new", events);
  EXPECT_TRUE(SeesChange(watcher));
  Settle(watcher);

  // The old folder is no longer the watched path: quiet.
  WriteFile(root_ / "events.old" / "x.jsonl", "{}\n");
  EXPECT_TRUE(StaysQuiet(watcher));
  WriteFile(events / "y.jsonl", "{}\n");
  EXPECT_TRUE(SeesChange(watcher));
}

TEST_P(EventWatcherTest, MissingFolderIsPickedUpWhenCreated) {
  const fs::path events = root_ / "events";
  EventWatcher watcher(Options({events}));
  EXPECT_EQ(watcher.mode(), ExpectedMode());
  EXPECT_TRUE(StaysQuiet(watcher));

  fs::create_directory(events);
  EXPECT_TRUE(SeesChange(watcher));
  Settle(watcher);

  WriteFile(events / "a.json", "{}");
  EXPECT_TRUE(SeesChange(watcher));
}

TEST_P(EventWatcherTest, MissingParentIsPickedUpByTheSafetyScan) {
  // Nothing exists to hang a watch on: both modes find it by scanning.
  const fs::path events = root_ / "a" / "b" / "events";
  EventWatcher watcher(Options({events}, /*short_safety_net=*/true));
  EXPECT_TRUE(StaysQuiet(watcher));

  fs::create_directories(events);
  EXPECT_TRUE(SeesChange(watcher));
  Settle(watcher);

  WriteFile(events / "a.jsonl", "{}\n");
  EXPECT_TRUE(SeesChange(watcher));
}

TEST_P(EventWatcherTest, InventoryFileReplacedViaRenameIsSeen) {
  const fs::path inventory = root_ / "inventory";
  fs::create_directory(inventory);
  WriteFile(inventory / "topology.yaml", "nodes: []\n");
  EventWatcher watcher(Options({inventory / "topology.yaml"}));
  EXPECT_TRUE(StaysQuiet(watcher));

  // An editor's temporary file next to it is not the watched file.
  WriteFile(inventory / ".topology.yaml.swp", "nodes: [a]\n");
  EXPECT_TRUE(StaysQuiet(watcher));

  fs::rename(inventory / ".topology.yaml.swp", inventory / "topology.yaml");
  EXPECT_TRUE(SeesChange(watcher));
  Settle(watcher);

  WriteFile(inventory / "topology.yaml", "nodes: [a, b]\n");
  EXPECT_TRUE(SeesChange(watcher));
}

TEST_P(EventWatcherTest, FileThatDoesNotExistYetIsSeenWhenCreated) {
  const fs::path host = root_ / "hosts" / "n1";
  fs::create_directories(host);
  EventWatcher watcher(Options({host / "services.yaml"}));
  EXPECT_TRUE(StaysQuiet(watcher));
  WriteFile(host / "services.yaml", "services: [web]\n");
  EXPECT_TRUE(SeesChange(watcher));
  Settle(watcher);
  fs::remove(host / "services.yaml");
  EXPECT_TRUE(SeesChange(watcher));
}

TEST_P(EventWatcherTest, EverythingQueuedIsConsumedByOneWait) {
  const fs::path events = root_ / "events";
  fs::create_directory(events);
  EventWatcher watcher(Options({events}));
  for (int i = 0; i < 40; ++i) {
    WriteFile(events / ("e" + std::to_string(i) + ".jsonl"), "{}\n");
  }
  EXPECT_TRUE(SeesChange(watcher));
  EXPECT_FALSE(watcher.Wait(milliseconds(0)));
}

TEST_P(EventWatcherTest, TrailingSlashNamesTheFolder) {
  fs::create_directory(root_ / "events");
  EventWatcher watcher(Options({root_.string() + "/events/"}));
  EXPECT_TRUE(StaysQuiet(watcher));
  WriteFile(root_ / "events" / "a.jsonl", "{}\n");
  EXPECT_TRUE(SeesChange(watcher));
}

INSTANTIATE_TEST_SUITE_P(EventWatcher, EventWatcherTest, ::testing::Bool(),
                         [](const ::testing::TestParamInfo<bool>& info) {
                           return info.param ? "Poll" : "Inotify";
                         });

// More events than the kernel queues (IN_Q_OVERFLOW): still one change, and
// watching goes on. Alternating between two files keeps the kernel from
// merging the events into one.
TEST(EventWatcherInotifyTest, QueueOverflowIsReportedAndWatchingGoesOn) {
  std::ifstream limit_file("/proc/sys/fs/inotify/max_queued_events");
  long limit = 0;
  if (!(limit_file >> limit) || limit <= 0 || limit > 200'000) {
    GTEST_SKIP() << "cannot size an overflow here";
  }
  TempDir dir;
  const fs::path events = dir.path() / "events";
  fs::create_directory(events);
  WatchOptions options;
  options.paths = {events};
  options.poll_interval = milliseconds(60'000);
  EventWatcher watcher(options);
  if (watcher.mode() != WatchMode::kInotify) GTEST_SKIP() << "inotify is not available here";

  const int a = ::open((events / "a.jsonl").c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
  const int b = ::open((events / "b.jsonl").c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
  ASSERT_GE(a, 0);
  ASSERT_GE(b, 0);
  for (long i = 0; i < limit / 2 + 100; ++i) {
    ASSERT_EQ(::write(a, "\n", 1), 1);
    ASSERT_EQ(::write(b, "\n", 1), 1);
  }
  ::close(a);
  ::close(b);
  EXPECT_TRUE(watcher.Wait(kPatience));
  EXPECT_FALSE(watcher.Wait(milliseconds(0)));

  WriteFile(events / "c.jsonl", "{}\n");
  EXPECT_TRUE(watcher.Wait(kPatience));
}

TEST(EventWatcherModeTest, ModesAreNamedForOperators) {
  EXPECT_EQ(WatchModeName(WatchMode::kInotify), "inotify");
  EXPECT_EQ(WatchModeName(WatchMode::kPoll), "poll");
}

}  // namespace
}  // namespace hlo

namespace hlo {
namespace {

// The polling schedule runs on the injected clock: a change is looked for
// only once the clock has moved a poll interval, and Wait(0) never sleeps.
TEST(EventWatcherClockTest, PollingFollowsTheInjectedClockWithoutSleeping) {
  TempDir dir;
  std::atomic<int64_t> elapsed_ms{0};
  WatchOptions options;
  options.paths = {dir.path()};
  options.force_poll = true;
  options.poll_interval = std::chrono::milliseconds(60'000);
  options.clock = [&] {
    return std::chrono::steady_clock::time_point(std::chrono::milliseconds(elapsed_ms.load()));
  };
  EventWatcher watcher(options);
  dir.Write("2026-12-04.jsonl", "{}\n");
  EXPECT_FALSE(watcher.Wait(std::chrono::milliseconds(0)));  // not time to look yet
  elapsed_ms += 59'999;
  EXPECT_FALSE(watcher.Wait(std::chrono::milliseconds(0)));
  elapsed_ms += 1;
  EXPECT_TRUE(watcher.Wait(std::chrono::milliseconds(0)));  // looked, and saw it
  elapsed_ms += 60'000;
  EXPECT_FALSE(watcher.Wait(std::chrono::milliseconds(0)));  // nothing new since
}

}  // namespace
}  // namespace hlo
