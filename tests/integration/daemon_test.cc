// `homelab-observer run` as a process (CONTRACT §2, §7): it picks up
// appended lines and new files within milliseconds (inotify) or a poll
// interval, serves /metrics, /healthz, /readyz and the landing page, stops
// cleanly on SIGTERM/SIGINT with world and checkpoint consistent, resumes
// where it stopped, folds in events within --events.max-lateness without a
// replay and coalesces the replays later ones need, reloads the inventory
// (keeping the last good one when an edit breaks it), and fails with a clear
// message when its port is taken.
//
// Every test runs on a copy of examples/homelab (or an empty root) at the
// example's --now, on a free loopback port; the daemons are killed in
// destructors, so a failing test leaves nothing running.
#include <gtest/gtest.h>

#include <chrono>
#include <ctime>
#include <functional>
#include <thread>

#include "tests/fakes/temp_dir.h"
#include "tests/integration/daemon_helpers.h"

namespace hlo {
namespace {

namespace fs = std::filesystem;
using testing::CountSeries;
using testing::DaemonProcess;
using testing::Event;
using testing::Http;
using testing::Millis;
using testing::Sample;
using testing::Sum;
using testing::Value;

// /metrics is published before the world files and the checkpoint are
// written (a scrape does not wait for the disk), so what is on disk follows
// a few milliseconds later: wait for it, up to a deadline.
bool Eventually(const std::function<bool()>& condition,
                std::chrono::milliseconds deadline = std::chrono::milliseconds(3000)) {
  const auto end = std::chrono::steady_clock::now() + deadline;
  while (!condition()) {
    if (std::chrono::steady_clock::now() >= end) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return true;
}

constexpr char kNewest[] = "2026-05-13.jsonl";  // the example's last file

// Generous for a loaded CI machine or a sanitizer build; the lags printed
// are what matters, these only turn a hang into a failure.
constexpr Millis kDeadline{5000};

class DaemonTest : public ::testing::Test {
 protected:
  void SetUp() override { testing::CopyExample(root_); }

  // A daemon on the example: root and inventory are the copy.
  std::unique_ptr<DaemonProcess> Daemon(std::vector<std::string> extra = {}) {
    extra.insert(extra.begin(), {"--inventory", root_.string()});
    return std::make_unique<DaemonProcess>(root_, extra);
  }

  void Append(const std::string& line) const {
    testing::AppendFile(root_ / "events" / kNewest, line);
  }

  TempDir tmp_;
  fs::path root_ = tmp_.path() / "homelab";
};

bool Has(const std::vector<Sample>& s, const std::string& name,
         const std::map<std::string, std::string>& labels, double value) {
  const std::optional<double> v = Value(s, name, labels);
  return v && *v == value;
}

// The replay counter is there for every reason, and is 0 for all of them.
void ExpectNoReplays(const std::vector<Sample>& s) {
  for (const char* reason : {"checkpoint", "file_rewritten", "file_shrank", "late_event"}) {
    EXPECT_EQ(Value(s, "homelab_observer_rebuilds_total", {{"reason", reason}}), 0) << reason;
  }
  EXPECT_EQ(Sum(s, "homelab_observer_rebuilds_total"), 0);
  EXPECT_EQ(CountSeries(s, "homelab_observer_late_events_total"), 0u);
}

// Milliseconds from `write` returning until /metrics shows `name{labels}`
// with `value`; -1 when it did not within kDeadline.
double Lag(const DaemonProcess& daemon, const std::function<void()>& write, const std::string& name,
           const std::map<std::string, std::string>& labels, double value = 1) {
  write();
  const auto written = testing::Clock::now();
  const bool seen = daemon.WaitForMetrics(
      [&](const std::vector<Sample>& s) { return Has(s, name, labels, value); }, kDeadline,
      Millis(1));
  return seen ? testing::MillisSince(written) : -1;
}

void PrintLags(const std::string& what, std::vector<double> lags) {
  std::sort(lags.begin(), lags.end());
  std::printf("[ lag  ] %s: n=%zu min %.1f ms, median %.1f ms, max %.1f ms\n", what.c_str(),
              lags.size(), lags.front(), lags[lags.size() / 2], lags.back());
}

// A health signal for a node/service pair that is not in the example: its
// homelab_service_healthy series appears when the line is applied.
std::string Probe(int i, const std::string& node = "probe") {
  return Event("2026-05-13T08:56:00Z", "healthcheck_passed", node, "svc-" + std::to_string(i));
}

std::map<std::string, std::string> ProbeLabels(int i, const std::string& node = "probe") {
  return {{"node", node}, {"service", "svc-" + std::to_string(i)}};
}

// Writes `content` to events/NAME the way writers of .json must: under a
// temporary name, then renamed into place.
void RenameIntoPlace(const fs::path& root, const std::string& name, const std::string& content) {
  testing::WriteFile(root / "events" / (name + ".tmp"), content);
  fs::rename(root / "events" / (name + ".tmp"), root / "events" / name);
}

TEST_F(DaemonTest, AppendedLinesAppearInMetricsWithinMilliseconds) {
  auto daemon = Daemon();
  ASSERT_EQ(daemon->Start(), "");
  const auto first = daemon->Metrics();
  ASSERT_TRUE(Has(first, "homelab_node_up", {{"node", "saturn"}}, 1));
  std::printf(
      "[ info ] watch mode: %s\n",
      Has(first, "homelab_observer_watch_mode", {{"mode", "inotify"}}, 1) ? "inotify" : "poll");
  std::vector<double> lags;
  for (int i = 0; i < 10; ++i) {
    const double lag = Lag(
        *daemon, [&] { Append(Probe(i)); }, "homelab_service_healthy", ProbeLabels(i));
    ASSERT_GE(lag, 0) << "appended line " << i << " not applied within " << kDeadline.count()
                      << " ms; stderr:\n"
                      << daemon->Err();
    lags.push_back(lag);
    std::this_thread::sleep_for(Millis(30));
  }
  PrintLags("appended line -> /metrics", lags);

  // A line arriving in two writes is applied once its newline lands.
  Append(R"({"timestamp":"2026-05-13T08:57:00Z","type":"healthcheck_passed",)");
  std::this_thread::sleep_for(Millis(300));
  EXPECT_FALSE(daemon->Metrics().empty());
  EXPECT_EQ(Value(daemon->Metrics(), "homelab_service_healthy",
                  {{"node", "probe"}, {"service", "split"}}),
            std::nullopt);
  const double lag = Lag(*daemon,
                         [&] {
                           Append(R"("node":"probe","service":"split"})"
                                  "\n");
                         },
                         "homelab_service_healthy", {{"node", "probe"}, {"service", "split"}});
  EXPECT_GE(lag, 0) << "the completed line was not applied";
  EXPECT_TRUE(Eventually([&] {
    return testing::Checkpoint(root_)["offset"] == fs::file_size(root_ / "events" / kNewest);
  }));
}

TEST_F(DaemonTest, NewEventFilesArePickedUp) {
  auto daemon = Daemon();
  ASSERT_EQ(daemon->Start(), "");
  std::vector<double> lags;
  // A new .jsonl written in place (it may be seen half-written: only
  // complete lines count), then a new .json renamed into place; each sorts
  // after everything before it.
  lags.push_back(Lag(
      *daemon,
      [&] { testing::WriteFile(root_ / "events" / "2026-05-14.jsonl", Probe(1) + Probe(2)); },
      "homelab_service_healthy", ProbeLabels(2)));
  lags.push_back(Lag(
      *daemon, [&] { RenameIntoPlace(root_, "2026-05-14T01.json", "[" + Probe(3) + "]"); },
      "homelab_service_healthy", ProbeLabels(3)));
  lags.push_back(Lag(
      *daemon, [&] { RenameIntoPlace(root_, "2026-05-14T02.ndjson", Probe(4)); },
      "homelab_service_healthy", ProbeLabels(4)));
  for (double lag : lags)
    ASSERT_GE(lag, 0) << "a new file was not applied; stderr:\n" << daemon->Err();
  PrintLags("new file -> /metrics", lags);

  // Not event files: ignored.
  testing::WriteFile(root_ / "events" / "2026-05-15.jsonl.tmp", Probe(5));
  testing::WriteFile(root_ / "events" / ".2026-05-15.jsonl", Probe(6));
  std::this_thread::sleep_for(Millis(300));
  const auto s = daemon->Metrics();
  EXPECT_EQ(Value(s, "homelab_service_healthy", ProbeLabels(5)), std::nullopt);
  EXPECT_EQ(Value(s, "homelab_service_healthy", ProbeLabels(6)), std::nullopt);
  EXPECT_EQ(testing::Checkpoint(root_)["file"], "2026-05-14T02.ndjson");
  ExpectNoReplays(s);
}

TEST_F(DaemonTest, PollModePicksUpAppendsAndNewFiles) {
  auto daemon = Daemon({"--watch.mode", "poll", "--watch.poll-interval", "1s"});
  ASSERT_EQ(daemon->Start(), "");
  const auto s = daemon->Metrics();
  EXPECT_TRUE(Has(s, "homelab_observer_watch_mode", {{"mode", "poll"}}, 1));
  EXPECT_TRUE(Has(s, "homelab_observer_watch_mode", {{"mode", "inotify"}}, 0));
  std::vector<double> lags;
  for (int i = 0; i < 3; ++i) {
    lags.push_back(Lag(
        *daemon, [&] { Append(Probe(i)); }, "homelab_service_healthy", ProbeLabels(i)));
    std::this_thread::sleep_for(Millis(137 * i));  // land at different points of the period
  }
  lags.push_back(Lag(
      *daemon, [&] { testing::WriteFile(root_ / "events" / "2026-05-14.jsonl", Probe(7)); },
      "homelab_service_healthy", ProbeLabels(7)));
  for (double lag : lags)
    ASSERT_GE(lag, 0) << "not applied in poll mode; stderr:\n" << daemon->Err();
  PrintLags("poll mode (1s) -> /metrics", lags);
  for (double lag : lags) EXPECT_LT(lag, 2500) << "a change should cost at most about one period";
}

TEST_F(DaemonTest, SigtermStopsCleanlyAndARestartContinuesWhereItStopped) {
  auto daemon = Daemon();
  ASSERT_EQ(daemon->Start(), "");
  Append(Event("2026-05-13T08:56:00Z", "service_unhealthy", "venus", "grafana") +
         "{\"timestamp\": \"2026-05-13T08:56:30Z\", \"type\":\n" +  // bad_json
         Event("2026-05-13T08:57:00Z", "node_heartbeat", "pluto"));
  ASSERT_TRUE(daemon->WaitForMetrics(
      [](const auto& s) {
        return Has(s, "homelab_node_up", {{"node", "pluto"}}, 1) &&
               Has(s, "homelab_observer_events_rejected_total", {{"reason", "bad_json"}}, 2);
      },
      kDeadline))
      << daemon->Err();
  const std::string metrics_before = daemon->MetricsText();

  double stop_ms = 0;
  const testing::ProcessResult stopped = daemon->Stop(SIGTERM, Millis(10000), &stop_ms);
  std::printf("[ info ] SIGTERM -> exit took %.1f ms\n", stop_ms);
  ASSERT_FALSE(stopped.timed_out) << "still running 10 s after SIGTERM";
  EXPECT_EQ(stopped.exit_code, 0) << stopped.err;
  EXPECT_LT(stop_ms, 2000);
  EXPECT_EQ(testing::HiddenEntries(root_ / "world"), std::set<std::string>{});
  EXPECT_EQ(testing::HiddenEntries(root_ / "state"), std::set<std::string>{});
  EXPECT_EQ(testing::DifferenceFromExampleOnce(root_), "");
  const auto checkpoint = testing::Checkpoint(root_);
  EXPECT_EQ(checkpoint["file"], kNewest);
  EXPECT_EQ(checkpoint["offset"], fs::file_size(root_ / "events" / kNewest));
  const auto world = testing::WorldFiles(root_);
  const auto rejected = testing::ReadFile(root_ / "state" / "rejected-events.jsonl");

  // The restart applies nothing old: no replay, no rejection logged again,
  // the same counters, the same files.
  ASSERT_EQ(daemon->Start(), "");
  const auto s = daemon->Metrics();
  ExpectNoReplays(s);
  for (const char* name :
       {"homelab_observer_events_processed_total", "homelab_observer_events_rejected_total",
        "homelab_incidents_open", "homelab_node_up", "homelab_incident_open"}) {
    const auto before = testing::ParseExposition(metrics_before);
    for (const Sample& b : before) {
      if (b.name == name) {
        EXPECT_EQ(Value(s, name, b.labels), b.value) << name;
      }
    }
    EXPECT_EQ(CountSeries(s, name), CountSeries(before, name)) << name;
  }
  EXPECT_EQ(daemon->Err().find("bad_json"), std::string::npos)
      << "the restart re-read old events:\n"
      << daemon->Err();
  EXPECT_EQ(testing::WorldFiles(root_), world);
  EXPECT_EQ(testing::ReadFile(root_ / "state" / "rejected-events.jsonl"), rejected);
  EXPECT_EQ(testing::Checkpoint(root_), checkpoint);

  // ... and goes on with what comes next; SIGINT stops it as cleanly.
  ASSERT_GE(
      Lag(*daemon,
          [&] { Append(Event("2026-05-13T08:58:00Z", "service_recovered", "venus", "grafana")); },
          "homelab_service_healthy", {{"node", "venus"}, {"service", "grafana"}}),
      0);
  const testing::ProcessResult interrupted = daemon->Stop(SIGINT, Millis(10000), &stop_ms);
  std::printf("[ info ] SIGINT -> exit took %.1f ms\n", stop_ms);
  EXPECT_EQ(interrupted.exit_code, 0) << interrupted.err;
  EXPECT_FALSE(interrupted.timed_out);
  EXPECT_EQ(testing::DifferenceFromExampleOnce(root_), "");
  EXPECT_EQ(testing::Checkpoint(root_)["offset"], fs::file_size(root_ / "events" / kNewest));
}

TEST_F(DaemonTest, SigtermStopsPromptlyWithClientConnectionsOpen) {
  auto daemon = Daemon();
  ASSERT_EQ(daemon->Start(), "");
  // An idle connection, a half-sent request, and a kept-alive one after a
  // full request (what Prometheus holds between scrapes).
  std::vector<int> fds;
  auto connect = [&] {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(static_cast<uint16_t>(daemon->port()));
    EXPECT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    fds.push_back(fd);
    return fd;
  };
  auto send = [](int fd, const std::string& text) {
    EXPECT_EQ(::send(fd, text.data(), text.size(), MSG_NOSIGNAL),
              static_cast<ssize_t>(text.size()));
  };
  connect();
  send(connect(), "GET /metrics HTTP/1.1\r\nHost: x\r\n");
  const int kept = connect();
  send(kept, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
  char buf[256];
  EXPECT_GT(::recv(kept, buf, sizeof buf, 0), 0);
  std::this_thread::sleep_for(Millis(100));

  double stop_ms = 0;
  const auto stopped = daemon->Stop(SIGTERM, Millis(15000), &stop_ms);
  for (int fd : fds) ::close(fd);
  std::printf("[ info ] SIGTERM with 3 client connections open -> exit took %.1f ms\n", stop_ms);
  EXPECT_EQ(stopped.exit_code, 0) << stopped.err;
  EXPECT_LT(stop_ms, 2500);
  EXPECT_EQ(testing::DifferenceFromExampleOnce(root_), "");
}

TEST_F(DaemonTest, SigtermRightAfterAnAppendLeavesAConsistentWorld) {
  auto daemon = Daemon();
  ASSERT_EQ(daemon->Start(), "");
  for (int round = 0; round < 5; ++round) {
    // Lines that may or may not be applied before the stop: either way the
    // world must match the checkpoint, and a restart must catch up.
    for (int i = 0; i < 20; ++i) Append(Probe(round * 100 + i));
    std::this_thread::sleep_for(Millis(round * 7));
    const auto stopped = daemon->Stop(SIGTERM);
    ASSERT_EQ(stopped.exit_code, 0) << stopped.err;
    ASSERT_EQ(daemon->Start(), "");
  }
  ASSERT_TRUE(daemon->WaitForMetrics(
      [](const auto& s) {
        return CountSeries(s, "homelab_service_healthy", {{"node", "probe"}}) == 100;
      },
      kDeadline));
  ASSERT_EQ(daemon->Stop(SIGTERM).exit_code, 0);
  EXPECT_EQ(testing::DifferenceFromExampleOnce(root_), "");
}

TEST_F(DaemonTest, StageMarkersWrittenWhileRunningReachTheWorldFiles) {
  auto daemon = Daemon();
  ASSERT_EQ(daemon->Start(), "");
  auto stage_names = [&](const std::string& node) {
    std::vector<std::string> names;
    const auto nodes = testing::World(root_, "nodes.json");
    if (!nodes.contains(node)) return names;
    for (const auto& s : nodes[node]["stages"]) names.push_back(s["name"]);
    return names;
  };
  ASSERT_EQ(stage_names("mars"), (std::vector<std::string>{"01-bootstrap", "02-k3s-server"}));

  // Deploy tooling marks a stage of a known node, then the first stage of a
  // node no event has named; no event arrives meanwhile.
  testing::WriteFile(root_ / "state" / "stages" / "mars" / "03-traefik",
                     R"({"completed_at": "2026-05-13T08:59:00Z"})");
  auto written = testing::Clock::now();
  ASSERT_TRUE(testing::WaitUntil([&] { return stage_names("mars").size() == 3; }, kDeadline))
      << "nodes.json: " << testing::World(root_, "nodes.json")["mars"].dump();
  std::printf("[ lag  ] stage marker -> nodes.json: %.0f ms\n", testing::MillisSince(written));
  testing::WriteFile(root_ / "state" / "stages" / "neptune" / "01-bootstrap",
                     R"({"completed_at": "2026-05-13T08:59:30Z"})");
  written = testing::Clock::now();
  ASSERT_TRUE(testing::WaitUntil(
      [&] { return stage_names("neptune") == std::vector<std::string>{"01-bootstrap"}; },
      kDeadline));
  std::printf("[ lag  ] new node's stage marker -> nodes.json: %.0f ms\n",
              testing::MillisSince(written));
  // (The files are written just before the metrics are published.)
  EXPECT_TRUE(daemon->WaitForMetrics(
      [](const auto& s) {
        return Has(s, "homelab_node_up", {{"node", "neptune"}}, 0);
      },
      kDeadline));
  ASSERT_EQ(daemon->Stop().exit_code, 0);
  EXPECT_EQ(testing::DifferenceFromExampleOnce(root_), "");
}

// An event older than --events.max-lateness allows (the example's latest is
// 2026-05-13T08:55:00Z; this one is ten hours older) is counted against its
// file at once, and the replay it needs is coalesced: at most one per
// --events.replay-min-interval. A second late file right after the first
// replay waits for the interval to pass.
TEST_F(DaemonTest, LateEventWhileRunningIsCountedAndReplayedAtTheCoalescedReplay) {
  auto daemon = Daemon({"--events.replay-min-interval", "2s"});
  ASSERT_EQ(daemon->Start(), "");
  ExpectNoReplays(daemon->Metrics());
  const std::string first = "2026-05-12T23-late.jsonl";
  testing::WriteFile(root_ / "events" / first,
                     Event("2026-05-12T23:00:00Z", "node_heartbeat", "latecomer"));
  ASSERT_TRUE(daemon->WaitForMetrics(
      [&](const auto& s) {
        return Has(s, "homelab_observer_late_events_total", {{"file", first}}, 1);
      },
      kDeadline))
      << daemon->Err();
  ASSERT_TRUE(daemon->WaitForMetrics(
      [](const auto& s) {
        return Has(s, "homelab_observer_rebuilds_total", {{"reason", "late_event"}}, 1) &&
               Has(s, "homelab_node_last_seen_timestamp_seconds", {{"node", "latecomer"}},
                   1778626800);
      },
      kDeadline))
      << daemon->Err();
  const auto replayed = testing::Clock::now();
  EXPECT_NE(daemon->Err().find("rebuilt the world from zero"), std::string::npos)
      << daemon->Err();

  // Another late file right after that replay: counted at once, replayed
  // only when the interval since the last replay is over.
  const std::string second = "2026-05-13T00-late.jsonl";
  testing::WriteFile(root_ / "events" / second,
                     Event("2026-05-13T00:30:00Z", "node_heartbeat", "second-latecomer"));
  ASSERT_TRUE(daemon->WaitForMetrics(
      [&](const auto& s) {
        return Has(s, "homelab_observer_late_events_total", {{"file", second}}, 1);
      },
      kDeadline))
      << daemon->Err();
  auto s = daemon->Metrics();
  if (testing::MillisSince(replayed) < 1500) {
    EXPECT_TRUE(Has(s, "homelab_observer_rebuilds_total", {{"reason", "late_event"}}, 1));
    EXPECT_EQ(Value(s, "homelab_node_up", {{"node", "second-latecomer"}}), std::nullopt)
        << "applied before its coalesced replay";
  }
  ASSERT_TRUE(daemon->WaitForMetrics(
      [](const auto& m) {
        return Has(m, "homelab_observer_rebuilds_total", {{"reason", "late_event"}}, 2) &&
               Value(m, "homelab_node_up", {{"node", "second-latecomer"}}).has_value();
      },
      kDeadline))
      << daemon->Err();
  const double waited = testing::MillisSince(replayed);
  std::printf("[ info ] second late replay %.0f ms after the first (interval 2 s)\n", waited);
  // Without coalescing it would follow within milliseconds; the margin is
  // for the time the first replay took before it showed.
  EXPECT_GE(waited, 1500) << "replays were not coalesced";
  s = daemon->Metrics();
  EXPECT_EQ(Sum(s, "homelab_observer_rebuilds_total"), 2);
  EXPECT_TRUE(Has(s, "homelab_observer_late_events_total", {{"file", first}}, 1));
  EXPECT_NE(daemon->Err().find("wait for the next replay"), std::string::npos) << daemon->Err();
  ASSERT_EQ(daemon->Stop().exit_code, 0);
  EXPECT_EQ(testing::DifferenceFromExampleOnce(root_), "");
  const auto checkpoint = testing::Checkpoint(root_);
  EXPECT_EQ(checkpoint["rebuilds"], 2);
  EXPECT_EQ(testing::RebuildsFor(checkpoint, "late_event"), 2u);
  EXPECT_EQ(testing::LateEventsFor(checkpoint, first), 1u);
  EXPECT_EQ(testing::LateEventsFor(checkpoint, second), 1u);

  // The counts survive a restart, and nothing is replayed again.
  ASSERT_EQ(daemon->Start(), "");
  s = daemon->Metrics();
  EXPECT_TRUE(Has(s, "homelab_observer_rebuilds_total", {{"reason", "late_event"}}, 2));
  EXPECT_EQ(Sum(s, "homelab_observer_rebuilds_total"), 2);
  EXPECT_TRUE(Has(s, "homelab_observer_late_events_total", {{"file", first}}, 1));
  EXPECT_TRUE(Has(s, "homelab_observer_late_events_total", {{"file", second}}, 1));
  EXPECT_EQ(daemon->Err().find("rebuilt"), std::string::npos) << daemon->Err();
}

// A file whose name sorts before every other (and before the checkpoint's
// file), holding an event within --events.max-lateness of the latest, is
// folded in at its place without a replay, as fast as an append.
TEST_F(DaemonTest, FileSortingFirstWithAnEventInTheWindowIsFoldedInWithoutReplay) {
  auto daemon = Daemon({"--events.replay-min-interval", "1s"});
  ASSERT_EQ(daemon->Start(), "");
  const double reordered =
      Value(daemon->Metrics(), "homelab_observer_reordered_events_total").value_or(-1);
  ASSERT_GE(reordered, 0);
  // Three minutes before the example's latest event (08:55).
  const double lag = Lag(
      *daemon,
      [&] {
        testing::WriteFile(root_ / "events" / "0000-early.jsonl",
                           Event("2026-05-13T08:52:00Z", "healthcheck_passed", "probe", "early"));
      },
      "homelab_service_healthy", {{"node", "probe"}, {"service", "early"}});
  ASSERT_GE(lag, 0) << "not applied; stderr:\n" << daemon->Err();
  std::printf("[ lag  ] in-window event in a file sorting first -> /metrics: %.1f ms\n", lag);
  // A little longer: a replay, if one were coming, would show.
  std::this_thread::sleep_for(Millis(1500));
  const auto s = daemon->Metrics();
  ExpectNoReplays(s);
  EXPECT_EQ(Value(s, "homelab_observer_reordered_events_total"), reordered + 1);
  EXPECT_EQ(daemon->Err().find("rebuilt"), std::string::npos) << daemon->Err();
  ASSERT_EQ(daemon->Stop().exit_code, 0);
  EXPECT_EQ(testing::DifferenceFromExampleOnce(root_), "");
  EXPECT_EQ(testing::Checkpoint(root_)["rebuilds"], 0);
  EXPECT_EQ(testing::Checkpoint(root_)["file"], kNewest);
}

TEST_F(DaemonTest, WorldWriteFailureIsCountedAndRetried) {
  auto daemon = Daemon();
  ASSERT_EQ(daemon->Start(), "");
  // world/ turns into a file (root may write anywhere, so no chmod).
  fs::rename(root_ / "world", root_ / "world.moved");
  testing::WriteFile(root_ / "world", "not a folder\n");
  ASSERT_GE(Lag(
                *daemon, [&] { Append(Probe(1)); }, "homelab_service_healthy", ProbeLabels(1)),
            0);
  ASSERT_TRUE(daemon->WaitForMetrics(
      [](const auto& s) {
        const auto n = Value(s, "homelab_observer_world_write_failures_total");
        return n && *n >= 1;
      },
      kDeadline));
  EXPECT_NE(daemon->Err().find("cannot write the world files"), std::string::npos) << daemon->Err();

  fs::remove(root_ / "world");
  fs::rename(root_ / "world.moved", root_ / "world");
  ASSERT_GE(Lag(
                *daemon, [&] { Append(Probe(2)); }, "homelab_service_healthy", ProbeLabels(2)),
            0);
  EXPECT_TRUE(
      Eventually([&] { return testing::World(root_, "services.json").contains("probe/svc-1"); }));
  ASSERT_EQ(daemon->Stop().exit_code, 0);
  EXPECT_EQ(testing::DifferenceFromExampleOnce(root_), "");
}

TEST(DaemonPortTest, PortInUseExitsOneNamingTheAddress) {
  TempDir tmp;
  testing::CopyExample(tmp.path() / "homelab");
  testing::PortBlocker blocker;
  const std::string address = "127.0.0.1:" + std::to_string(blocker.port());
  const auto r = testing::RunTool({HLO_BINARY, "run", "--root", (tmp.path() / "homelab").string(),
                                   "--now", testing::kExampleNow, "--web.listen-address", address},
                                  "", Millis(15000));
  ASSERT_FALSE(r.timed_out) << "the daemon kept running on a taken port";
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find(address), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("in use"), std::string::npos) << r.err;
  std::printf("[ info ] stderr: %s", r.err.c_str());
}

TEST_F(DaemonTest, ServesHealthReadinessLandingPageAndErrors) {
  auto daemon = Daemon();
  ASSERT_EQ(daemon->Start(), "");
  const int port = daemon->port();
  const auto healthz = Http(port, "GET", "/healthz");
  ASSERT_TRUE(healthz);
  EXPECT_EQ(healthz->status, 200);
  const auto readyz = Http(port, "GET", "/readyz");
  ASSERT_TRUE(readyz);
  EXPECT_EQ(readyz->status, 200);
  const auto landing = Http(port, "GET", "/");
  ASSERT_TRUE(landing);
  EXPECT_EQ(landing->status, 200);
  EXPECT_NE(landing->Header("content-type").find("text/html"), std::string::npos);
  EXPECT_NE(landing->body.find("/metrics"), std::string::npos);

  const auto metrics = Http(port, "GET", "/metrics");
  ASSERT_TRUE(metrics);
  EXPECT_EQ(metrics->status, 200);
  EXPECT_NE(metrics->Header("content-type").find("text/plain"), std::string::npos);
  EXPECT_NE(metrics->Header("content-type").find("version=0.0.4"), std::string::npos);
  EXPECT_TRUE(Has(testing::ParseExposition(metrics->body), "homelab_observer_ready", {}, 1));
  const auto head = Http(port, "HEAD", "/metrics");
  ASSERT_TRUE(head);
  EXPECT_EQ(head->status, 200);
  EXPECT_EQ(head->body, "");

  for (const char* path : {"/nope", "/metrics/", "/healthz/x", "/favicon.ico"}) {
    const auto r = Http(port, "GET", path);
    ASSERT_TRUE(r) << path;
    EXPECT_EQ(r->status, 404) << path;
  }
  for (const char* path : {"/metrics", "/healthz", "/readyz"}) {
    for (const char* method : {"POST", "PUT", "DELETE"}) {
      const auto r = Http(port, method, path);
      ASSERT_TRUE(r) << method << " " << path;
      EXPECT_EQ(r->status, 405) << method << " " << path;
      EXPECT_NE(r->Header("allow").find("GET"), std::string::npos) << method << " " << path;
    }
  }
  // Errors do not hurt the server.
  EXPECT_EQ(Http(port, "GET", "/healthz")->status, 200);
}

TEST_F(DaemonTest, TelemetryPathMovesTheMetrics) {
  auto daemon = Daemon({"--web.telemetry-path", "/custom/metrics"});
  ASSERT_EQ(daemon->Start(), "");
  const auto moved = Http(daemon->port(), "GET", "/custom/metrics");
  ASSERT_TRUE(moved);
  EXPECT_EQ(moved->status, 200);
  EXPECT_TRUE(
      Has(testing::ParseExposition(moved->body), "homelab_node_up", {{"node", "saturn"}}, 1));
  EXPECT_EQ(Http(daemon->port(), "GET", "/metrics")->status, 404);
}

TEST(DaemonReadinessTest, ReadyzIs503UntilTheFirstBatchIsDone) {
  // A history big enough that its first batch takes far longer than the
  // server takes to answer.
  TempDir tmp;
  constexpr uint64_t kEvents = 150000;
  for (int f = 0; f < 3; ++f) {
    std::string content;
    for (uint64_t i = f * kEvents / 3; i < (f + 1) * kEvents / 3; ++i)
      content += testing::MixedLine(i);
    testing::WriteFile(tmp.path() / "events" / ("part-" + std::to_string(f) + ".jsonl"), content);
  }
  DaemonProcess daemon(tmp.path(), {}, testing::kNow);
  ASSERT_EQ(daemon.Start(/*wait_ready=*/false), "");
  const auto first = Http(daemon.port(), "GET", "/readyz");
  const double answered_ms = testing::MillisSince(daemon.started_at());
  ASSERT_TRUE(first);
  EXPECT_EQ(first->status, 503) << "answered " << answered_ms << " ms after start";
  EXPECT_EQ(Http(daemon.port(), "GET", "/healthz")->status, 200);
  ASSERT_TRUE(testing::WaitUntil(
      [&] { return Http(daemon.port(), "GET", "/readyz")->status == 200; }, Millis(60000)));
  std::printf("[ info ] /readyz: 503 at %.0f ms, 200 at %.0f ms after start (%llu events)\n",
              answered_ms, testing::MillisSince(daemon.started_at()),
              static_cast<unsigned long long>(kEvents));
  const auto s = daemon.Metrics();
  EXPECT_TRUE(Has(s, "homelab_observer_ready", {}, 1));
  double applied = 0;
  for (const Sample& x : s) {
    if (x.name == "homelab_observer_events_processed_total" ||
        x.name == "homelab_observer_events_rejected_total") {
      applied += x.value;
    }
  }
  EXPECT_EQ(applied, static_cast<double>(kEvents));
}

TEST_F(DaemonTest, GzipWhenAsked) {
  auto daemon = Daemon();
  ASSERT_EQ(daemon->Start(), "");
  // Both answers after the first batch: before it, one could say "not ready"
  // and the other "ready".
  ASSERT_TRUE(daemon->WaitForMetrics(
      [](const auto& s) { return Has(s, "homelab_observer_ready", {}, 1); }));
  const auto plain = Http(daemon->port(), "GET", "/metrics");
  const auto gzipped = Http(daemon->port(), "GET", "/metrics", {"Accept-Encoding: gzip"});
  ASSERT_TRUE(plain && gzipped);
  EXPECT_EQ(plain->Header("content-encoding"), "");
  EXPECT_EQ(plain->body.rfind("# HELP", 0), 0u);
  EXPECT_EQ(gzipped->status, 200);
  EXPECT_EQ(gzipped->Header("content-encoding"), "gzip");
  ASSERT_GE(gzipped->body.size(), 2u);
  EXPECT_EQ(gzipped->body.substr(0, 2), "\x1f\x8b");
  EXPECT_LT(gzipped->body.size(), plain->body.size() / 3);

  const auto gunzip = testing::RunTool({"gzip", "-dc"}, gzipped->body);
  ASSERT_EQ(gunzip.exit_code, 0) << gunzip.err;
  // Equal but for the daemon's own batch figures (a refresh may run between
  // the two requests).
  auto world_only = [](const std::string& text) {
    std::vector<Sample> out;
    for (Sample& s : testing::ParseExposition(text)) {
      if (s.name.find("batch") == std::string::npos) out.push_back(std::move(s));
    }
    return out;
  };
  const auto a = world_only(plain->body);
  const auto b = world_only(gunzip.out);
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].name, b[i].name);
    EXPECT_EQ(a[i].labels, b[i].labels);
    EXPECT_EQ(a[i].value, b[i].value) << a[i].name;
  }

  for (const char* accept : {"deflate, gzip;q=0.8", "*", "GZIP"}) {
    const auto r =
        Http(daemon->port(), "GET", "/metrics", {std::string("Accept-Encoding: ") + accept});
    ASSERT_TRUE(r);
    EXPECT_EQ(r->Header("content-encoding"), "gzip") << accept;
  }
  for (const char* accept : {"gzip;q=0", "identity", "deflate"}) {
    const auto r =
        Http(daemon->port(), "GET", "/metrics", {std::string("Accept-Encoding: ") + accept});
    ASSERT_TRUE(r);
    EXPECT_EQ(r->Header("content-encoding"), "") << accept;
    EXPECT_EQ(r->body.rfind("# HELP", 0), 0u) << accept;
  }
}

TEST_F(DaemonTest, ResolvedIncidentSeriesDisappear) {
  auto daemon = Daemon();
  ASSERT_EQ(daemon->Start(), "");
  const std::map<std::string, std::string> jellyfin = {
      {"incident_id", "inc-1778658600-jupiter-jellyfin"},
      {"node", "jupiter"},
      {"service", "jellyfin"}};
  std::map<std::string, std::string> info = jellyfin;
  info["severity"] = "critical";
  auto s = daemon->Metrics();
  ASSERT_TRUE(Has(s, "homelab_incident_open", jellyfin, 1));
  ASSERT_TRUE(Has(s, "homelab_incident_occurrences", jellyfin, 4));
  ASSERT_TRUE(Has(s, "homelab_incident_info", info, 1));
  ASSERT_TRUE(Has(s, "homelab_incidents_open", {{"severity", "critical"}}, 1));
  const double resolved = Value(s, "homelab_incidents_resolved_total").value_or(-1);

  Append(Event("2026-05-13T08:57:00Z", "service_recovered", "jupiter", "jellyfin"));
  ASSERT_TRUE(daemon->WaitForMetrics(
      [](const auto& m) { return CountSeries(m, "homelab_incident_open") == 0; }, kDeadline))
      << daemon->Err();
  s = daemon->Metrics();
  EXPECT_EQ(CountSeries(s, "homelab_incident_occurrences"), 0u);
  EXPECT_EQ(CountSeries(s, "homelab_incident_info"), 0u);
  EXPECT_EQ(CountSeries(s, "homelab_incident_open", {{"service", "jellyfin"}}), 0u);
  EXPECT_TRUE(Has(s, "homelab_incidents_open", {{"severity", "critical"}}, 0));
  EXPECT_TRUE(Has(s, "homelab_incidents_resolved_total", {}, resolved + 1));
  EXPECT_TRUE(Has(s, "homelab_service_healthy", {{"node", "jupiter"}, {"service", "jellyfin"}}, 1));
  // The world files follow the metrics within moments.
  EXPECT_TRUE(Eventually([&] {
    return testing::World(root_, "incidents.json")["inc-1778658600-jupiter-jellyfin"]["status"] ==
           "resolved";
  }));

  // A new failure opens a new incident: a new series, the old one stays gone.
  Append(Event("2026-05-13T08:58:00Z", "healthcheck_failed", "jupiter", "jellyfin",
               R"("severity":"warning")"));
  ASSERT_TRUE(daemon->WaitForMetrics(
      [](const auto& m) { return CountSeries(m, "homelab_incident_open") == 1; }, kDeadline));
  s = daemon->Metrics();
  EXPECT_EQ(Value(s, "homelab_incident_open", jellyfin), std::nullopt);
  EXPECT_TRUE(Has(s, "homelab_incident_open",
                  {{"incident_id", "inc-1778662680-jupiter-jellyfin"},
                   {"node", "jupiter"},
                   {"service", "jellyfin"}},
                  1));
  EXPECT_TRUE(Has(s, "homelab_incident_info",
                  {{"incident_id", "inc-1778662680-jupiter-jellyfin"},
                   {"node", "jupiter"},
                   {"service", "jellyfin"},
                   {"severity", "warning"}},
                  1));
}

// The clock alone moves a service to stale (--service-stale-after): the
// daemon publishes and writes it without any new event.
TEST(DaemonClockTest, ServiceTurnsStaleWhenItsLastCheckAgesWithoutAnyEvent) {
  TempDir tmp;
  // Checked 6 s ahead of the clock: healthy until 3 s after that, however
  // long a loaded (or sanitizer) build takes to start the daemon.
  char stamp[32];
  const std::time_t ahead = std::time(nullptr) + 6;
  std::tm utc{};
  gmtime_r(&ahead, &utc);
  std::strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%SZ", &utc);
  testing::WriteFile(tmp.path() / "events" / "a.jsonl",
                     Event(stamp, "healthcheck_passed", "n1", "s1"));
  DaemonProcess daemon(tmp.path(), {"--service-stale-after", "3s"}, /*now=*/"");
  ASSERT_EQ(daemon.Start(), "");
  const std::map<std::string, std::string> s1 = {{"node", "n1"}, {"service", "s1"}};
  auto status = [&](const std::vector<Sample>& m, const char* state) {
    std::map<std::string, std::string> labels = s1;
    labels["status"] = state;
    return Value(m, "homelab_service_status", labels).value_or(-1);
  };
  const auto first = daemon.Metrics();
  const auto since = std::chrono::steady_clock::now();
  EXPECT_EQ(status(first, "healthy"), 1) << "checked a moment ago";
  ASSERT_TRUE(daemon.WaitForMetrics([&](const auto& m) { return status(m, "stale") == 1; },
                                    Millis(30000), Millis(50)))
      << daemon.Err();
  const double waited =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - since).count();
  EXPECT_GE(waited, 1.0) << "stale before --service-stale-after passed";
  EXPECT_EQ(status(daemon.Metrics(), "healthy"), 0);
  EXPECT_TRUE(Eventually([&] {
    return testing::World(tmp.path(), "services.json")["n1/s1"]["status"] == "stale";
  })) << "services.json follows the metrics";
  EXPECT_EQ(testing::World(tmp.path(), "runtime-summary.json")["services"]["stale"], 1);
}

TEST(DaemonSeverityTest, AllFourSeveritiesOfIncidentsOpenAreAlwaysPresent) {
  TempDir tmp;  // no events/, no inventory
  DaemonProcess daemon(tmp.path(), {}, testing::kNow);
  ASSERT_EQ(daemon.Start(), "");
  auto check = [&](const std::map<std::string, double>& expected) {
    const auto s = daemon.Metrics();
    EXPECT_EQ(CountSeries(s, "homelab_incidents_open"), 4u);
    for (const auto& [severity, n] : expected) {
      EXPECT_EQ(Value(s, "homelab_incidents_open", {{"severity", severity}}), n) << severity;
    }
  };
  check({{"info", 0}, {"warning", 0}, {"error", 0}, {"critical", 0}});

  testing::WriteFile(
      tmp.path() / "events" / "a.jsonl",
      Event(testing::At(100), "healthcheck_failed", "n1", "s1", R"("severity":"warning")"));
  ASSERT_TRUE(daemon.WaitForMetrics(
      [](const auto& s) {
        return Has(s, "homelab_incidents_open", {{"severity", "warning"}}, 1);
      },
      kDeadline));
  check({{"info", 0}, {"warning", 1}, {"error", 0}, {"critical", 0}});

  testing::AppendFile(tmp.path() / "events" / "a.jsonl",
                      Event(testing::At(200), "service_recovered", "n1", "s1"));
  ASSERT_TRUE(daemon.WaitForMetrics(
      [](const auto& s) { return Has(s, "homelab_incidents_resolved_total", {}, 1); }, kDeadline));
  check({{"info", 0}, {"warning", 0}, {"error", 0}, {"critical", 0}});
}

TEST_F(DaemonTest, BrokenInventoryEditKeepsTheLastGoodInventoryUntilFixed) {
  auto daemon = Daemon();
  ASSERT_EQ(daemon->Start(), "");
  auto s = daemon->Metrics();
  ASSERT_TRUE(Has(s, "homelab_observer_inventory_ok", {}, 1));
  ASSERT_TRUE(Has(s, "homelab_observer_inventory_reload_failures_total", {}, 0));
  ASSERT_TRUE(Has(s, "homelab_node_role", {{"node", "saturn"}, {"role", "mqtt"}}, 1));
  const size_t roles = CountSeries(s, "homelab_node_role");
  ASSERT_EQ(roles, 8u);

  const fs::path topology = root_ / "inventory" / "topology.yaml";
  const std::string good = testing::ReadFile(topology).value();
  auto edit = [&](const std::string& content) {
    testing::WriteFile(topology.string() + ".new", content);
    fs::rename(topology.string() + ".new", topology);
  };
  edit("nodes:\n  saturn: {roles: [mqtt\n");  // an unclosed flow sequence
  ASSERT_TRUE(daemon->WaitForMetrics(
      [](const auto& m) { return Has(m, "homelab_observer_inventory_ok", {}, 0); }, kDeadline))
      << daemon->Err();
  s = daemon->Metrics();
  EXPECT_TRUE(Has(s, "homelab_observer_inventory_reload_failures_total", {}, 1));
  EXPECT_EQ(CountSeries(s, "homelab_node_role"), roles);
  EXPECT_TRUE(Has(s, "homelab_node_role", {{"node", "jupiter"}, {"role", "media"}}, 1));
  EXPECT_TRUE(Has(s, "homelab_node_up", {{"node", "ceres"}}, 0)) << "inventory-only node dropped";
  EXPECT_EQ(testing::World(root_, "nodes.json")["saturn"]["roles"],
            nlohmann::json::array({"mqtt", "home-automation"}));
  EXPECT_NE(daemon->Err().find("topology.yaml:"), std::string::npos)
      << "the warning should name the file and line:\n"
      << daemon->Err();
  // Events still flow while the inventory is broken.
  ASSERT_GE(Lag(
                *daemon, [&] { Append(Probe(1)); }, "homelab_service_healthy", ProbeLabels(1)),
            0);

  edit(good);
  ASSERT_TRUE(daemon->WaitForMetrics(
      [](const auto& m) { return Has(m, "homelab_observer_inventory_ok", {}, 1); }, kDeadline))
      << daemon->Err();
  s = daemon->Metrics();
  EXPECT_TRUE(Has(s, "homelab_observer_inventory_reload_failures_total", {}, 1));
  EXPECT_EQ(CountSeries(s, "homelab_node_role"), roles);

  // A good edit is taken over.
  std::string more = good;
  const size_t at = more.find("roles: [k3s-agent]");
  ASSERT_NE(at, std::string::npos);
  more.replace(at, 18, "roles: [k3s-agent, gpu]");
  edit(more);
  ASSERT_TRUE(daemon->WaitForMetrics(
      [](const auto& m) {
        return Has(m, "homelab_node_role", {{"node", "venus"}, {"role", "gpu"}}, 1);
      },
      kDeadline))
      << daemon->Err();
  s = daemon->Metrics();
  EXPECT_TRUE(Has(s, "homelab_observer_inventory_ok", {}, 1));
  EXPECT_TRUE(Has(s, "homelab_observer_inventory_reloads_total", {}, 3));
  EXPECT_TRUE(Has(s, "homelab_observer_inventory_reload_failures_total", {}, 1));
  EXPECT_TRUE(Eventually([&] {
    return testing::World(root_, "nodes.json")["venus"]["roles"] ==
           nlohmann::json::array({"k3s-agent", "gpu"});
  }));
}

TEST_F(DaemonTest, ServiceFileEditUnderHostsIsReloaded) {
  auto daemon = Daemon();
  ASSERT_EQ(daemon->Start(), "");
  const fs::path services = root_ / "hosts" / "venus" / "services.yaml";
  const std::string good = testing::ReadFile(services).value();
  ASSERT_EQ(
      Value(daemon->Metrics(), "homelab_service_healthy", {{"node", "venus"}, {"service", "loki"}}),
      std::nullopt);
  const double lag = Lag(
      *daemon,
      [&] {
        testing::WriteFile(services.string() + ".new", "services: [grafana, k3s-agent, loki]\n");
        fs::rename(services.string() + ".new", services);
      },
      "homelab_service_status", {{"node", "venus"}, {"service", "loki"}, {"status", "unknown"}});
  ASSERT_GE(lag, 0) << daemon->Err();
  std::printf("[ lag  ] hosts/venus/services.yaml edit -> /metrics: %.1f ms\n", lag);
}

}  // namespace
}  // namespace hlo
