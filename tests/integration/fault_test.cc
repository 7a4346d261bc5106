// Faults from outside, seen from the outside (issue "Reliability and
// security"): a full or unwritable world/ folder, events/ removed and
// recreated under a running daemon, an inventory file deleted mid-run, the
// clock going backwards, and event files rewritten after they were read.
//
// What an operator may rely on, and what these tests pin down:
// - A world write that fails (ENOSPC, EROFS, …) leaves all five previous
//   world files whole and the checkpoint on disk where it was; `once` exits
//   1, `run` logs it, counts it (homelab_observer_world_write_failures_total)
//   and retries on its next batch — at the latest the 5 s refresh — so the
//   events applied meanwhile reach the world files once space is back,
//   neither lost nor counted twice.
// - events/ removed, or left empty, forgets nothing: a file that comes back
//   unchanged is not read again; one that comes back shorter or rewritten
//   costs a replay; new names are read on. A processed .jsonl deleted by
//   retention is remembered too: if it comes back grown it is read on.
// - A deleted topology.yaml is a broken inventory: the last good one stays in
//   use, homelab_observer_inventory_ok is 0 until the file is back.
// - The clock is an input of the snapshot only. Node staleness is computed
//   from --now, or in `run` without --now from the wall clock at each batch
//   and 5 s refresh; a clock that goes backwards makes nodes whose last_seen
//   lies in its future `up`, and nothing stored depends on it.
// - A processed .jsonl/.ndjson whose consumed bytes change is noticed by a
//   fingerprint (its first and its last 4 KiB before the offset, checked
//   when the file's size/mtime/ctime/inode moved) and costs a counted replay.
//   A rewrite confined to the middle of a file larger than 8 KiB goes
//   unnoticed: that is the price of never rereading whole files. A .json is
//   read once; later changes to it are ignored (CONTRACT §4).
#include <gtest/gtest.h>
#include <sched.h>
#include <sys/mount.h>

#include "tests/fakes/temp_dir.h"
#include "tests/integration/daemon_helpers.h"
#include "tests/integration/process_helpers.h"

namespace hlo {
namespace {

namespace fs = std::filesystem;
using testing::DaemonProcess;
using testing::Event;
using testing::Millis;
using testing::Sample;
using testing::Value;

constexpr Millis kDeadline{10000};

// ------------------------------------------------------------- helpers ----

std::string Heartbeat(const std::string& node, int at = 600) {
  return Event(testing::At(at), "node_heartbeat", node);
}

// A line that opens an incident on node/service: it grows every world file.
std::string Failure(const std::string& node, const std::string& service, int at = 700) {
  return Event(testing::At(at), "service_unhealthy", node, service);
}

// Writes events/NAME the way writers should: under a hidden name, then
// renamed into place, so a scan never sees it half-written.
void Install(const fs::path& root, const std::string& name, const std::string& content) {
  testing::WriteFile(root / "events" / ("." + name + ".part"), content);
  fs::rename(root / "events" / ("." + name + ".part"), root / "events" / name);
}

// "" when root's world files are still `before`; else which changed, and how.
std::string ChangedWorldFiles(const std::map<std::string, std::string>& before,
                              const fs::path& root) {
  std::string out;
  for (const auto& [name, content] : testing::WorldFiles(root)) {
    const std::string diff = testing::FirstDifference(before.at(name), content);
    if (!diff.empty()) out += name + ": " + diff + "\n";
  }
  return out;
}

std::string CheckpointBytes(const fs::path& root) {
  return testing::ReadFile(root / "state" / "observer_checkpoint.json").value_or("<missing>");
}

uint64_t Rebuilds(const fs::path& root) {
  return testing::Checkpoint(root)["rebuilds"].get<uint64_t>();
}

// Replays counted for `reason` (checkpoint, file_rewritten, file_shrank,
// late_event).
uint64_t Rebuilds(const fs::path& root, std::string_view reason) {
  return testing::RebuildsFor(testing::Checkpoint(root), reason);
}

// Names of temporary files (".*.tmp") left in `dir`.
std::set<std::string> Temporaries(const fs::path& dir) {
  std::set<std::string> out;
  for (const std::string& name : testing::HiddenEntries(dir)) {
    if (name.ends_with(".tmp")) out.insert(name);
  }
  return out;
}


double Metric(const DaemonProcess& daemon, const std::string& name,
              const std::map<std::string, std::string>& labels = {}) {
  return Value(daemon.Metrics(), name, labels).value_or(-1);
}

// homelab_observer_rebuilds_total summed over its reasons; -1 when absent.
double Replays(const DaemonProcess& daemon) {
  return testing::Sum(daemon.Metrics(), "homelab_observer_rebuilds_total").value_or(-1);
}

double Batches(const DaemonProcess& daemon) {
  return Metric(daemon, "homelab_observer_batch_duration_seconds_count");
}

// Waits until the daemon has finished a batch that started after this call.
bool WaitForNextBatches(const DaemonProcess& daemon, int how_many = 1) {
  const double before = Batches(daemon);
  return daemon.WaitForMetrics(
      [&](const std::vector<Sample>& s) {
        const auto n = Value(s, "homelab_observer_batch_duration_seconds_count");
        return n && *n >= before + how_many;
      },
      kDeadline, Millis(5));
}

// ------------------------------------------------------------ small fs ----

// This test process (and so every child it starts) in a mount namespace of
// its own, with nothing propagating back: mounts made here are invisible to
// the machine and vanish with the process. "" when done, else why not.
const std::string& PrivateMountNamespace() {
  static const std::string why = []() -> std::string {
    if (::unshare(CLONE_NEWNS) != 0)
      return std::string("unshare(CLONE_NEWNS): ") + std::strerror(errno);
    if (::mount("none", "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) {
      return std::string("mount --make-rprivate /: ") + std::strerror(errno);
    }
    return "";
  }();
  return why;
}

// A tmpfs of a few hundred KiB over a folder: a real "No space left on
// device" without filling a real disk. Needs CAP_SYS_ADMIN; skipped_because()
// says why it could not be had.
class SmallFilesystem {
 public:
  SmallFilesystem(const fs::path& dir, size_t bytes) : dir_(dir) {
    why_ = PrivateMountNamespace();
    if (!why_.empty()) return;
    fs::create_directories(dir);
    const std::string options = "size=" + std::to_string(bytes) + ",mode=0755";
    if (::mount("tmpfs", dir.c_str(), "tmpfs", 0, options.c_str()) != 0) {
      why_ = "mount -t tmpfs " + dir.string() + ": " + std::strerror(errno);
      return;
    }
    mounted_ = true;
  }
  ~SmallFilesystem() {
    if (mounted_) ::umount2(dir_.c_str(), MNT_DETACH);
  }
  SmallFilesystem(const SmallFilesystem&) = delete;
  SmallFilesystem& operator=(const SmallFilesystem&) = delete;

  const std::string& skipped_because() const { return why_; }

  // Takes every free byte with a hidden filler file.
  void Fill() {
    const int fd = ::open(Filler().c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    ASSERT_GE(fd, 0) << std::strerror(errno);
    const std::string block(4096, 'f');
    size_t size = 0;
    for (;;) {
      const ssize_t n = ::write(fd, block.data(), block.size());
      if (n <= 0) break;
      size += static_cast<size_t>(n);
    }
    ::close(fd);
    filled_ = size;
  }
  // From a Fill(): gives `pages` pages back.
  void LeaveFree(size_t pages) {
    ASSERT_EQ(
        ::truncate(Filler().c_str(), static_cast<off_t>(filled_ - std::min(filled_, pages * 4096))),
        0);
  }
  void Empty() { fs::remove(Filler()); }

 private:
  fs::path Filler() const { return dir_ / ".filler"; }

  fs::path dir_;
  std::string why_;
  bool mounted_ = false;
  size_t filled_ = 0;
};

// Events that touch every world file, with one rejection; `tag` makes them
// new nodes, services and deployments.
std::string Batch(const std::string& tag, int count) {
  std::string lines;
  for (int i = 0; i < count; ++i) {
    const std::string node = tag + "-node-" + std::to_string(i);
    lines += Heartbeat(node, 600 + i);
    lines += Failure(node, "svc-" + std::to_string(i), 601 + i);
    lines += Event(testing::At(602 + i), "deployment_started", node, "svc",
                   R"("correlation_id":")" + tag + "-dep-" + std::to_string(i) + "\"");
  }
  return lines + "{\"broken\": \n";
}

// --------------------------------------------------- 1. world/ full ----

TEST(WorldFullTest, OnceExitsOneAndLeavesWorldAndCheckpointUntouched) {
  TempDir tmp;
  const fs::path root = tmp.path();
  SmallFilesystem world(root / "world", 512 * 1024);
  if (!world.skipped_because().empty()) GTEST_SKIP() << world.skipped_because();

  testing::WriteFile(root / "events" / "a.jsonl", Batch("first", 5));
  ASSERT_EQ(testing::Once(root).exit_code, 0);
  const auto world_before = testing::WorldFiles(root);
  const std::string checkpoint_before = CheckpointBytes(root);

  // Enough new entities that the new world files need several pages.
  testing::AppendFile(root / "events" / "a.jsonl", Batch("second", 60));
  world.Fill();
  // With 0, 1, 2, … pages free, some of the five temporary files fit and
  // the rest do not: none may replace its world file.
  int failures = 0, partial = 0;
  size_t pages = 0;
  for (;; ++pages) {
    world.LeaveFree(pages);
    const auto r = testing::Once(root);
    if (r.exit_code == 0) break;
    ASSERT_EQ(r.exit_code, 1) << r.err;
    ++failures;
    if (pages > 0) ++partial;
    EXPECT_NE(r.err.find("No space left on device"), std::string::npos) << r.err;
    EXPECT_EQ(ChangedWorldFiles(world_before, root), "") << "with " << pages << " pages free";
    EXPECT_EQ(CheckpointBytes(root), checkpoint_before) << "with " << pages << " pages free";
    EXPECT_EQ(Temporaries(root / "world"), std::set<std::string>{});
    ASSERT_LT(pages, 64u) << "once never succeeded";
    if (::testing::Test::HasFailure()) return;
  }
  std::printf("[ info ] once failed with 0..%zu free pages (%d runs), succeeded with %zu\n",
              pages - 1, failures, pages);
  EXPECT_GE(partial, 2) << "no run failed after writing some of the temporary files";
  // The successful run is the history of one clean run: nothing lost or
  // doubled by the failed ones (their rejected lines were cut back).
  EXPECT_EQ(testing::DifferenceFromCleanRun(root, {}, testing::kNow), "");
  EXPECT_EQ(Rebuilds(root), 0u);
}

TEST(WorldFullTest, RunKeepsGoingCountsFailuresAndCatchesUpWhenSpaceIsBack) {
  TempDir tmp;
  const fs::path root = tmp.path();
  SmallFilesystem world(root / "world", 512 * 1024);
  if (!world.skipped_because().empty()) GTEST_SKIP() << world.skipped_because();

  testing::WriteFile(root / "events" / "a.jsonl", Batch("first", 5));
  DaemonProcess daemon(root, {}, testing::kNow);
  ASSERT_EQ(daemon.Start(), "");
  const auto world_before = testing::WorldFiles(root);
  const std::string checkpoint_before = CheckpointBytes(root);
  ASSERT_EQ(Metric(daemon, "homelab_observer_world_write_failures_total"), 0);

  world.Fill();
  testing::AppendFile(root / "events" / "a.jsonl", Batch("second", 20));
  // /metrics follows the events even while the files cannot be written.
  ASSERT_TRUE(daemon.WaitForMetrics(
      [](const std::vector<Sample>& s) {
        const auto failures = Value(s, "homelab_observer_world_write_failures_total");
        return failures && *failures >= 1 &&
               Value(s, "homelab_node_up", {{"node", "second-node-19"}}).has_value();
      },
      kDeadline))
      << daemon.Err();
  testing::AppendFile(root / "events" / "b.jsonl", Batch("third", 5));
  ASSERT_TRUE(daemon.WaitForMetrics(
      [](const std::vector<Sample>& s) {
        const auto failures = Value(s, "homelab_observer_world_write_failures_total");
        return failures && *failures >= 2 &&
               Value(s, "homelab_node_up", {{"node", "third-node-4"}}).has_value();
      },
      kDeadline))
      << daemon.Err();
  EXPECT_TRUE(daemon.Running());
  EXPECT_EQ(ChangedWorldFiles(world_before, root), "");
  EXPECT_EQ(CheckpointBytes(root), checkpoint_before);
  EXPECT_EQ(Temporaries(root / "world"), std::set<std::string>{});
  EXPECT_NE(daemon.Err().find("cannot write the world files (will retry)"), std::string::npos)
      << daemon.Err();
  EXPECT_NE(daemon.Err().find("No space left on device"), std::string::npos) << daemon.Err();

  // Space comes back; no new event: the retry on the next refresh writes
  // what was applied meanwhile.
  world.Empty();
  const double failures = Metric(daemon, "homelab_observer_world_write_failures_total");
  const auto start = testing::Clock::now();
  ASSERT_TRUE(testing::WaitUntil(
      [&] {
        const auto nodes = testing::ReadFile(root / "world" / "nodes.json").value_or("");
        return nodes.find("third-node-4") != std::string::npos;
      },
      kDeadline, Millis(20)))
      << daemon.Err();
  std::printf("[ info ] world files caught up %.0f ms after space came back\n",
              testing::MillisSince(start));
  EXPECT_EQ(Metric(daemon, "homelab_observer_world_write_failures_total"), failures);

  testing::AppendFile(root / "events" / "b.jsonl", Heartbeat("after"));
  ASSERT_TRUE(daemon.WaitForMetrics(
      [](const std::vector<Sample>& s) {
        return Value(s, "homelab_node_up", {{"node", "after"}}).has_value();
      },
      kDeadline));
  ASSERT_EQ(daemon.Stop().exit_code, 0);
  EXPECT_EQ(testing::DifferenceFromCleanRun(root, {}, testing::kNow), "");
  EXPECT_EQ(Rebuilds(root), 0u);
}

// A read-only world/ (a bind mount remounted read-only): EROFS instead of
// ENOSPC, the same outcome.
TEST(WorldFullTest, ReadOnlyWorldFolderIsAFailedWriteToo) {
  TempDir tmp;
  const fs::path root = tmp.path();
  const std::string& why = PrivateMountNamespace();
  if (!why.empty()) GTEST_SKIP() << why;
  testing::WriteFile(root / "events" / "a.jsonl", Batch("first", 3));
  ASSERT_EQ(testing::Once(root).exit_code, 0);
  const auto world_before = testing::WorldFiles(root);
  const std::string checkpoint_before = CheckpointBytes(root);
  const fs::path dir = root / "world";
  ASSERT_EQ(::mount(dir.c_str(), dir.c_str(), nullptr, MS_BIND, nullptr), 0)
      << std::strerror(errno);
  ASSERT_EQ(::mount(nullptr, dir.c_str(), nullptr, MS_REMOUNT | MS_BIND | MS_RDONLY, nullptr), 0)
      << std::strerror(errno);
  testing::AppendFile(root / "events" / "a.jsonl", Batch("second", 3));
  const auto r = testing::Once(root);
  ::umount2(dir.c_str(), MNT_DETACH);
  // Open() already sees world/ is not writable: exit 1 before anything.
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find("world"), std::string::npos) << r.err;
  EXPECT_EQ(ChangedWorldFiles(world_before, root), "");
  EXPECT_EQ(CheckpointBytes(root), checkpoint_before);
  ASSERT_EQ(testing::Once(root).exit_code, 0);
  EXPECT_EQ(testing::DifferenceFromCleanRun(root, {}, testing::kNow), "");
}

// ------------------------------------- 2. events/ removed and recreated ----

TEST(EventsFolderTest, RemovedAndRecreatedWhileRunningForgetsNothingAndReadsNewFiles) {
  TempDir tmp;
  const fs::path root = tmp.path();
  TempDir reference;  // every file the daemon saw, for the clean run
  const auto add = [&](const std::string& name, const std::string& content) {
    Install(root, name, content);
    testing::WriteFile(reference.path() / "events" / name, content);
  };
  add("a.jsonl", Heartbeat("alpha") + Failure("alpha", "web"));
  add("b.jsonl", Heartbeat("beta") + "{bad\n");
  const std::string a = testing::ReadFile(root / "events" / "a.jsonl").value();
  const std::string b = testing::ReadFile(root / "events" / "b.jsonl").value();
  DaemonProcess daemon(root, {}, testing::kNow);
  ASSERT_EQ(daemon.Start(), "");
  const auto world_before = testing::WorldFiles(root);

  fs::remove_all(root / "events");
  ASSERT_TRUE(WaitForNextBatches(daemon)) << daemon.Err();  // seen missing
  fs::create_directory(root / "events");
  ASSERT_TRUE(WaitForNextBatches(daemon)) << daemon.Err();  // seen empty
  EXPECT_TRUE(daemon.Running());
  EXPECT_EQ(ChangedWorldFiles(world_before, root), "") << "an empty events/ changed the world";

  // The old files come back unchanged (not read again), a new one is read.
  Install(root, "a.jsonl", a);
  Install(root, "b.jsonl", b);
  add("c.jsonl", Heartbeat("gamma"));
  ASSERT_TRUE(daemon.WaitForMetrics(
      [](const std::vector<Sample>& s) {
        return Value(s, "homelab_node_up", {{"node", "gamma"}}).has_value();
      },
      kDeadline))
      << daemon.Err();
  EXPECT_EQ(Replays(daemon), 0);
  EXPECT_EQ(Metric(daemon, "homelab_observer_events_processed_total", {{"type", "node_heartbeat"}}),
            3);

  // Removed again; this time only a new name comes back: read on top of
  // what the checkpoint holds, like retention.
  fs::remove_all(root / "events");
  ASSERT_TRUE(WaitForNextBatches(daemon)) << daemon.Err();
  fs::create_directory(root / "events");
  add("d.jsonl", Heartbeat("delta"));
  ASSERT_TRUE(daemon.WaitForMetrics(
      [](const std::vector<Sample>& s) {
        return Value(s, "homelab_node_up", {{"node", "delta"}}).has_value();
      },
      kDeadline))
      << daemon.Err();
  ASSERT_EQ(daemon.Stop().exit_code, 0);
  EXPECT_EQ(testing::DifferenceFromCleanRun(root, {}, testing::kNow, reference.path() / "events"),
            "");
  EXPECT_EQ(Rebuilds(root), 0u);
}

TEST(EventsFolderTest, RecreatedFolderWithAProcessedFileNowShorterReplays) {
  TempDir tmp;
  const fs::path root = tmp.path();
  Install(root, "a.jsonl", Heartbeat("alpha"));
  Install(root, "b.jsonl", Heartbeat("beta") + Heartbeat("beta-2"));
  DaemonProcess daemon(root, {}, testing::kNow);
  ASSERT_EQ(daemon.Start(), "");

  fs::remove_all(root / "events");
  ASSERT_TRUE(WaitForNextBatches(daemon)) << daemon.Err();
  fs::create_directory(root / "events");
  // The checkpoint's own file, shorter; then a new name. Whether the daemon
  // looks between the two or not, history changed behind it: a replay
  // rebuilds the world from the files present.
  Install(root, "b.jsonl", Heartbeat("beta"));
  Install(root, "c.jsonl", Heartbeat("gamma"));
  ASSERT_TRUE(daemon.WaitForMetrics(
      [](const std::vector<Sample>& s) {
        return Value(s, "homelab_node_up", {{"node", "gamma"}}).has_value() &&
               Value(s, "homelab_observer_rebuilds_total", {{"reason", "file_shrank"}}) == 1.0;
      },
      kDeadline))
      << daemon.Err();
  EXPECT_EQ(Replays(daemon), 1);
  EXPECT_NE(daemon.Err().find("rebuilt the world from zero"), std::string::npos) << daemon.Err();
  ASSERT_EQ(daemon.Stop().exit_code, 0);
  EXPECT_EQ(testing::DifferenceFromCleanRun(root, {}, testing::kNow), "");
  const auto nodes = testing::World(root, "nodes.json");
  EXPECT_FALSE(nodes.contains("alpha"));
  EXPECT_FALSE(nodes.contains("beta-2"));
}

// The checkpoint's own file deleted (retention) and a file of that name
// written again: it is remembered (a tombstone), so a file that continues
// it is read on from where it was (reading it from zero would apply its old
// lines twice), and one whose bytes are no longer those read costs a replay.
TEST(EventsFolderTest, CheckpointFileDeletedAndWrittenAgainIsContinuedWithoutDoubleCounting) {
  TempDir tmp;
  const fs::path root = tmp.path();
  Install(root, "a.jsonl", Heartbeat("alpha"));
  Install(root, "b.jsonl", Failure("beta", "web"));
  ASSERT_EQ(testing::Once(root).exit_code, 0);
  fs::remove(root / "events" / "b.jsonl");
  ASSERT_EQ(testing::Once(root).exit_code, 0);  // remembers b.jsonl (a.jsonl is still there)
  Install(root, "b.jsonl", Failure("beta", "web") + Failure("beta", "web", 800));
  auto r = testing::Once(root);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("applied 1 new event(s)"), std::string::npos) << r.out;
  EXPECT_EQ(Rebuilds(root), 0u);
  EXPECT_EQ(testing::DifferenceFromCleanRun(root, {}, testing::kNow), "");
  auto incidents = testing::World(root, "incidents.json");
  ASSERT_EQ(incidents.size(), 1u);
  EXPECT_EQ(incidents.begin().value()["occurrence_count"], 2);

  // Deleted again, and back with other bytes where the first line was.
  fs::remove(root / "events" / "b.jsonl");
  ASSERT_EQ(testing::Once(root).exit_code, 0);
  Install(root, "b.jsonl", Failure("gamma", "db") + Failure("beta", "web", 800) +
                               Failure("beta", "web", 900));
  r = testing::Once(root);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("events/b.jsonl changed after it was read"), std::string::npos) << r.out;
  EXPECT_EQ(Rebuilds(root), 1u);
  EXPECT_EQ(Rebuilds(root, "file_rewritten"), 1u);
  EXPECT_EQ(testing::DifferenceFromCleanRun(root, {}, testing::kNow), "");
  incidents = testing::World(root, "incidents.json");
  ASSERT_EQ(incidents.size(), 2u);
}

// --------------------------------------- 3. inventory file deleted ----

TEST(InventoryFaultTest, DeletedTopologyKeepsTheLastGoodInventoryUntilItIsBack) {
  TempDir tmp;
  const fs::path root = tmp.path() / "homelab";
  testing::CopyExample(root);
  DaemonProcess daemon(root, {"--inventory", root.string()});
  ASSERT_EQ(daemon.Start(), "");
  auto s = daemon.Metrics();
  ASSERT_EQ(Value(s, "homelab_observer_inventory_ok"), 1.0);
  const size_t roles = testing::CountSeries(s, "homelab_node_role");
  ASSERT_GT(roles, 0u);
  const auto nodes_before = testing::World(root, "nodes.json");

  const fs::path topology = root / "inventory" / "topology.yaml";
  const std::string good = testing::ReadFile(topology).value();
  fs::remove(topology);
  ASSERT_TRUE(daemon.WaitForMetrics(
      [](const std::vector<Sample>& m) { return Value(m, "homelab_observer_inventory_ok") == 0.0; },
      kDeadline))
      << daemon.Err();
  s = daemon.Metrics();
  EXPECT_EQ(testing::CountSeries(s, "homelab_node_role"), roles);
  EXPECT_EQ(Value(s, "homelab_observer_inventory_reload_failures_total"), 1.0);
  EXPECT_NE(daemon.Err().find("topology.yaml:0: warning: file not found"), std::string::npos)
      << daemon.Err();
  EXPECT_NE(daemon.Err().find("keeping the last good inventory"), std::string::npos)
      << daemon.Err();
  // Events still flow, against the last good inventory.
  testing::AppendFile(root / "events" / "2026-05-13.jsonl",
                      Event("2026-05-13T08:59:00Z", "node_heartbeat", "ceres"));
  ASSERT_TRUE(daemon.WaitForMetrics(
      [](const std::vector<Sample>& m) {
        return Value(m, "homelab_node_up", {{"node", "ceres"}}) == 1.0;
      },
      kDeadline))
      << daemon.Err();
  auto nodes = testing::World(root, "nodes.json");
  for (const auto& [name, node] : nodes_before.items()) {
    EXPECT_EQ(nodes[name]["roles"], node["roles"]) << name;
    EXPECT_EQ(nodes[name]["in_inventory"], node["in_inventory"]) << name;
  }

  testing::WriteFile(topology, good);
  ASSERT_TRUE(daemon.WaitForMetrics(
      [](const std::vector<Sample>& m) { return Value(m, "homelab_observer_inventory_ok") == 1.0; },
      kDeadline))
      << daemon.Err();
  EXPECT_EQ(testing::CountSeries(daemon.Metrics(), "homelab_node_role"), roles);
  ASSERT_EQ(daemon.Stop().exit_code, 0);
  EXPECT_EQ(testing::DifferenceFromExampleOnce(root), "");
}

// ------------------------------------------- 4. clock going backwards ----

TEST(ClockTest, OnceWithAnEarlierNowRecomputesTheWorldAndKeepsTheCheckpointValid) {
  TempDir tmp;
  const fs::path root = tmp.path();
  // The lateness window is wide enough for the event appended at 10:33:20
  // (after one at 12:00) to be folded in: what is tested is the clock, and
  // that it never costs a replay.
  const std::vector<std::string> wide = {"--events.max-lateness", "2h"};
  // Events from 10:00 to 12:00.
  testing::WriteFile(
      root / "events" / "a.jsonl",
      Heartbeat("early", 36000) + Heartbeat("late", 43200) + Failure("late", "web", 43200));
  const std::string later = "2026-05-12T13:00:00Z";    // both stale
  const std::string before = "2026-05-12T09:00:00Z";   // both in the future
  const std::string between = "2026-05-12T11:00:00Z";  // "late" ahead, "early" stale again
  ASSERT_EQ(testing::RunProgram(testing::OnceArgs(root, wide, later)).exit_code, 0);
  auto nodes = testing::World(root, "nodes.json");
  EXPECT_EQ(nodes["early"]["status"], "down");
  EXPECT_EQ(nodes["late"]["status"], "down");

  const auto r = testing::RunProgram(testing::OnceArgs(root, wide, before));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("applied 0 new event(s), rejected 0\n"), std::string::npos) << r.out;
  nodes = testing::World(root, "nodes.json");
  EXPECT_EQ(nodes["early"]["status"], "up") << "a future last_seen is up";
  EXPECT_EQ(nodes["late"]["status"], "up");
  EXPECT_EQ(testing::World(root, "runtime-summary.json")["generated_at"], before);
  EXPECT_EQ(testing::DifferenceFromCleanRun(root, {}, before), "");

  // New events while the clock is behind them; then it moves on.
  testing::AppendFile(root / "events" / "a.jsonl", Heartbeat("early", 38000));  // 10:33:20
  ASSERT_EQ(testing::RunProgram(testing::OnceArgs(root, wide, between)).exit_code, 0);
  nodes = testing::World(root, "nodes.json");
  EXPECT_EQ(nodes["early"]["status"], "down");
  EXPECT_EQ(nodes["late"]["status"], "up");
  EXPECT_EQ(testing::DifferenceFromCleanRun(root, {}, between), "");
  const auto again = testing::RunProgram(testing::OnceArgs(root, wide, later));
  EXPECT_NE(again.out.find("applied 0 new event(s), rejected 0\n"), std::string::npos) << again.out;
  EXPECT_EQ(testing::DifferenceFromCleanRun(root, {}, later), "");
  EXPECT_EQ(Rebuilds(root), 0u);
  EXPECT_EQ(testing::Checkpoint(root)["events_processed"], 4);
}

TEST(ClockTest, RunStartedWithAnEarlierClockNeitherReplaysNorRewritesHistory) {
  TempDir tmp;
  const fs::path root = tmp.path();
  testing::WriteFile(root / "events" / "a.jsonl",
                     Heartbeat("early", 36000) + Heartbeat("late", 43200));
  ASSERT_EQ(testing::RunProgram(testing::OnceArgs(root, {}, "2026-05-12T13:00:00Z")).exit_code, 0);
  const std::string before = "2026-05-12T09:00:00Z";
  DaemonProcess daemon(root, {}, before);
  ASSERT_EQ(daemon.Start(), "");
  const auto s = daemon.Metrics();
  EXPECT_EQ(Value(s, "homelab_node_up", {{"node", "early"}}), 1.0);
  EXPECT_EQ(Value(s, "homelab_node_up", {{"node", "late"}}), 1.0);
  EXPECT_EQ(testing::Sum(s, "homelab_observer_rebuilds_total"), 0.0);
  ASSERT_EQ(daemon.Stop().exit_code, 0);
  EXPECT_EQ(testing::DifferenceFromCleanRun(root, {}, before), "");
}

// ---------------------------------- 5. event files changed after reading ----

class RewriteTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // a.jsonl is long enough that its head and its tail are different bytes.
    for (int i = 0; i < 200; ++i) a_ += Heartbeat("mars-" + std::to_string(i), 100 + i);
    testing::WriteFile(root_ / "events" / "a.jsonl", a_);
    testing::WriteFile(root_ / "events" / "b.jsonl", Heartbeat("venus") + "{bad\n");
    testing::WriteFile(root_ / "events" / "0.json", Heartbeat("pluto"));  // read first
    RunOnce();
  }

  testing::ProcessResult RunOnce() {
    auto r = testing::Once(root_);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return r;
  }

  // `content` with its first occurrence of `from` replaced by `to`.
  static std::string Edit(std::string content, const std::string& from, const std::string& to) {
    const size_t at = content.find(from);
    if (at != std::string::npos) content.replace(at, from.size(), to);
    return content;
  }

  TempDir tmp_;
  fs::path root_ = tmp_.path();
  std::string a_;
};

TEST_F(RewriteTest, SameSizeRewriteOfAnOlderFilesHeadReplays) {
  testing::WriteFile(root_ / "events" / "a.jsonl", Edit(a_, "mars-1\"", "saturn\""));
  const auto r = RunOnce();
  EXPECT_NE(r.out.find("events/a.jsonl changed after it was read"), std::string::npos) << r.out;
  EXPECT_EQ(Rebuilds(root_), 1u);
  EXPECT_EQ(Rebuilds(root_, "file_rewritten"), 1u);
  EXPECT_TRUE(testing::World(root_, "nodes.json").contains("saturn"));
  EXPECT_EQ(testing::DifferenceFromCleanRun(root_, {}, testing::kNow), "");
}

TEST_F(RewriteTest, SameSizeRewriteOfAnOlderFilesLastLineReplays) {
  testing::WriteFile(root_ / "events" / "a.jsonl", Edit(a_, "mars-199", "mars-x99"));
  RunOnce();
  EXPECT_EQ(Rebuilds(root_), 1u);
  EXPECT_TRUE(testing::World(root_, "nodes.json").contains("mars-x99"));
  EXPECT_EQ(testing::DifferenceFromCleanRun(root_, {}, testing::kNow), "");
}

TEST_F(RewriteTest, CheckpointFileReplacedByALongerDifferentFileReplays) {
  // Without the fingerprint this would be read on from the old offset,
  // in the middle of someone else's history.
  testing::WriteFile(root_ / "events" / "b.jsonl",
                     Heartbeat("neptune") + Heartbeat("venus") + Heartbeat("uranus"));
  const auto r = RunOnce();
  EXPECT_NE(r.out.find("events/b.jsonl changed after it was read"), std::string::npos) << r.out;
  EXPECT_EQ(Rebuilds(root_), 1u);
  EXPECT_EQ(testing::RejectedLines(root_).size(), 0u);
  EXPECT_EQ(testing::DifferenceFromCleanRun(root_, {}, testing::kNow), "");
}

TEST_F(RewriteTest, UnchangedBytesUnderANewInodeOrMtimeDoNotReplay) {
  const fs::path a = root_ / "events" / "a.jsonl";
  testing::WriteFile(root_ / "events" / ".a.new", a_);
  fs::rename(root_ / "events" / ".a.new", a);  // new inode, same bytes
  fs::last_write_time(root_ / "events" / "b.jsonl",
                      fs::file_time_type::clock::now() + std::chrono::hours(1));
  testing::AppendFile(root_ / "events" / "b.jsonl", Heartbeat("mercury"));  // an append is fine
  const auto r = RunOnce();
  EXPECT_NE(r.out.find("applied 1 new event(s), rejected 0"), std::string::npos) << r.out;
  EXPECT_EQ(Rebuilds(root_), 0u);
  // The new stamps are recorded: the next run checks nothing and reads nothing.
  const auto again = RunOnce();
  EXPECT_NE(again.out.find("applied 0 new event(s), rejected 0"), std::string::npos) << again.out;
  EXPECT_EQ(Rebuilds(root_), 0u);
}

TEST_F(RewriteTest, JsonFileChangesAreStillIgnored) {
  const auto world = testing::WorldFiles(root_);
  testing::WriteFile(root_ / "events" / "0.json", Heartbeat("charon"));
  const auto r = RunOnce();
  EXPECT_NE(r.out.find("applied 0 new event(s), rejected 0"), std::string::npos) << r.out;
  EXPECT_EQ(Rebuilds(root_), 0u);
  EXPECT_EQ(ChangedWorldFiles(world, root_), "");
}

TEST_F(RewriteTest, TruncationBelowTheOffsetIsAShrinkAndCounted) {
  testing::WriteFile(root_ / "events" / "a.jsonl", a_.substr(0, a_.size() / 2));
  RunOnce();
  EXPECT_EQ(Rebuilds(root_), 1u);
  EXPECT_EQ(Rebuilds(root_, "file_shrank"), 1u);
  EXPECT_EQ(testing::DifferenceFromCleanRun(root_, {}, testing::kNow), "");
}

TEST_F(RewriteTest, CheckpointWithoutFingerprintsIsReadAndChecksNothingUntilReadOn) {
  // A checkpoint as written before fingerprints existed: [offset, lines].
  nlohmann::json checkpoint = testing::Checkpoint(root_);
  for (auto& [name, entry] : checkpoint["files"].items()) {
    entry = nlohmann::json::array({entry[0], entry[1]});
  }
  testing::WriteFile(root_ / "state" / "observer_checkpoint.json", checkpoint.dump() + "\n");
  // A rewrite it cannot see: no fingerprint, no check (and no replay).
  testing::WriteFile(root_ / "events" / "a.jsonl", Edit(a_, "mars-1\"", "saturn\""));
  auto r = RunOnce();
  EXPECT_NE(r.out.find("applied 0 new event(s), rejected 0"), std::string::npos) << r.out;
  EXPECT_EQ(Rebuilds(root_), 0u);
  // Reading on records a fingerprint, and from then on rewrites are seen.
  testing::AppendFile(root_ / "events" / "b.jsonl", Heartbeat("mercury"));
  RunOnce();
  EXPECT_EQ(testing::Checkpoint(root_)["files"]["b.jsonl"].size(), 4u);
  EXPECT_EQ(testing::Checkpoint(root_)["files"]["a.jsonl"].size(), 2u);
  // Same size, other bytes: only the fingerprint tells.
  testing::WriteFile(root_ / "events" / "b.jsonl",
                     Heartbeat("earth") + "{bad\n" + Heartbeat("mercury"));
  RunOnce();
  EXPECT_EQ(Rebuilds(root_), 1u);
  EXPECT_EQ(testing::DifferenceFromCleanRun(root_, {}, testing::kNow), "");
}

TEST_F(RewriteTest, RewriteWhileRunningIsLoggedAndCountedAsARebuild) {
  DaemonProcess daemon(root_, {}, testing::kNow);
  ASSERT_EQ(daemon.Start(), "");
  ASSERT_EQ(Replays(daemon), 0);
  const std::string edited = Edit(a_, "mars-1\"", "saturn\"");
  testing::WriteFile(root_ / "events" / ".a.new", edited);
  fs::rename(root_ / "events" / ".a.new", root_ / "events" / "a.jsonl");
  ASSERT_TRUE(daemon.WaitForMetrics(
      [](const std::vector<Sample>& s) {
        return Value(s, "homelab_observer_rebuilds_total", {{"reason", "file_rewritten"}}) ==
                   1.0 &&
               Value(s, "homelab_node_up", {{"node", "saturn"}}).has_value();
      },
      kDeadline))
      << daemon.Err();
  EXPECT_NE(
      daemon.Err().find("rebuilt the world from zero: events/a.jsonl changed after it was read"),
      std::string::npos)
      << daemon.Err();
  ASSERT_EQ(daemon.Stop().exit_code, 0);
  EXPECT_EQ(testing::DifferenceFromCleanRun(root_, {}, testing::kNow), "");
}

}  // namespace
}  // namespace hlo
