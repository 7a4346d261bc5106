// Issue 10, CONTRACT §4: event-time order under real writers.
// - Two hosts appending to their own files in real time (timestamps a few
//   seconds apart, so the files' events interleave out of order) cost no
//   replay under `run`, and every event reaches /metrics within 1 s.
// - A host whose clock is an hour behind raises
//   homelab_observer_late_events_total for its file only, and its replays stay
//   within the --events.replay-min-interval coalescing limit; its events
//   still reach the world.
// - The two recipes of docs/events.md together (a daily .jsonl and a .json
//   drop renamed into place) give a deployment that started when its drop
//   says and succeeded with one attempt, under `once` and under `run`.
// - A per-host layout driven by `once` after each append costs no replay.
// - --events.max-lateness is inclusive, to the nanosecond.
// Every run of the program here compares its world with one `once` over the
// final files (same --now): the result is never allowed to depend on arrival.
#include <gtest/gtest.h>
#include <time.h>

#include <atomic>
#include <mutex>
#include <random>

#include "tests/fakes/temp_dir.h"
#include "tests/integration/daemon_helpers.h"
#include "tests/integration/process_helpers.h"

namespace hlo {
namespace {

namespace fs = std::filesystem;
using std::chrono::milliseconds;
using std::chrono::system_clock;
using testing::Clock;
using testing::DaemonProcess;
using testing::Event;
using testing::Millis;
using testing::Sample;
using testing::Value;

constexpr const char* kReasons[] = {"late_event", "checkpoint", "file_shrank", "file_rewritten"};

// A wall-clock time as RFC 3339 UTC with milliseconds.
std::string Rfc3339(system_clock::time_point t) {
  const auto ms = std::chrono::duration_cast<milliseconds>(t.time_since_epoch()).count();
  const time_t seconds = static_cast<time_t>(ms / 1000);
  tm u{};
  gmtime_r(&seconds, &u);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", u.tm_year + 1900,
                u.tm_mon + 1, u.tm_mday, u.tm_hour, u.tm_min, u.tm_sec,
                static_cast<int>(ms % 1000));
  return buf;
}

double UnixSeconds(system_clock::time_point t) {
  return static_cast<double>(
             std::chrono::duration_cast<milliseconds>(t.time_since_epoch()).count()) /
         1000;
}

// As the world files write times: UTC, the fraction only when non-zero,
// without trailing zeros.
std::string WorldTime(system_clock::time_point t) {
  std::string s = Rfc3339(t);  // YYYY-MM-DDTHH:MM:SS.mmmZ
  s.pop_back();
  while (s.back() == '0') s.pop_back();
  if (s.back() == '.') s.pop_back();
  return s + "Z";
}

// Today's UTC date, YYYY-MM-DD (the recipe's file name prefix).
std::string Today() { return Rfc3339(system_clock::now()).substr(0, 10); }

// Writes `content` to events/NAME under a hidden temporary name, then renames
// it into place (how .json files must be written).
void RenameIntoPlace(const fs::path& root, const std::string& name, const std::string& content) {
  const fs::path temp = root / "events" / ("." + name + ".x.tmp");
  testing::WriteFile(temp, content);
  fs::rename(temp, root / "events" / name);
}

// "" when `root`'s world files and state/rejected-events.jsonl are
// byte-identical to those of one `once --now NOW` plus `flags` over a copy of
// its events/; else what differs.

// "" when every reason of homelab_observer_rebuilds_total is exported with
// 0; else the values.
std::string NonZeroRebuilds(const std::vector<Sample>& s) {
  std::string out;
  for (const char* reason : kReasons) {
    const std::optional<double> v =
        Value(s, "homelab_observer_rebuilds_total", {{"reason", reason}});
    if (!v || *v != 0) {
      out += std::string(reason) + "=" + (v ? std::to_string(*v) : "<absent>") + " ";
    }
  }
  return out;
}

// The late-event count of every file with one.
std::map<std::string, double> LateEventsByFile(const std::vector<Sample>& s) {
  std::map<std::string, double> out;
  for (const Sample& x : s) {
    if (x.name == "homelab_observer_late_events_total" && x.value != 0) {
      out[x.labels.count("file") ? x.labels.at("file") : "<no file label>"] = x.value;
    }
  }
  return out;
}

// "file=n file=n", or "none".
std::string Show(const std::map<std::string, double>& m) {
  std::ostringstream out;
  for (const auto& [k, v] : m) out << (out.tellp() > 0 ? " " : "") << k << "=" << v;
  return m.empty() ? "none" : out.str();
}

double SumOf(const std::vector<Sample>& s, const std::string& name) {
  double sum = 0;
  for (const Sample& x : s) {
    if (x.name == name) sum += x.value;
  }
  return sum;
}

double Percentile(std::vector<double> v, double p) {
  if (v.empty()) return -1;
  std::sort(v.begin(), v.end());
  const size_t i = std::min(v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size())));
  return v[i];
}

// ------------------------------------------------------ real-time writers ----

// One host appending heartbeats and health checks to its own file, in real
// time. Each health check names a service of its own, so its
// homelab_service_healthy series shows exactly when that event is applied.
struct Written {
  std::string node;
  std::string service;
  system_clock::time_point timestamp;  // the event's
  Clock::time_point at;                // when its write returned
};

class HostWriter {
 public:
  // `behind`: how far the host's clock is behind; `jitter`: each timestamp
  // is up to this much older than the host's clock.
  HostWriter(fs::path file, std::string host, system_clock::duration behind, milliseconds jitter,
             uint64_t seed)
      : file_(std::move(file)),
        host_(std::move(host)),
        behind_(behind),
        jitter_(jitter),
        rng_(seed) {}

  void Start() {
    thread_ = std::thread([this] { Loop(); });
  }
  void Stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }
  ~HostWriter() { Stop(); }

  // Writes one health check (and sometimes a heartbeat) now.
  void WriteOne() {
    const int n = count_++;
    const auto clock = system_clock::now() - behind_;
    const auto ts =
        clock - milliseconds(std::uniform_int_distribution<int64_t>(0, jitter_.count())(rng_));
    std::string lines;
    if (n % 3 == 0) lines += Event(Rfc3339(ts), "node_heartbeat", host_);
    const std::string service = "probe-" + std::to_string(n);
    lines += Event(Rfc3339(ts), "healthcheck_passed", host_, service);
    testing::AppendFile(file_, lines);
    std::lock_guard<std::mutex> lock(mu_);
    written_.push_back({host_, service, ts, Clock::now()});
    events_ += n % 3 == 0 ? 2 : 1;
  }

  std::vector<Written> written() const {
    std::lock_guard<std::mutex> lock(mu_);
    return written_;
  }
  int events() const {
    std::lock_guard<std::mutex> lock(mu_);
    return events_;
  }

 private:
  void Loop() {
    std::uniform_int_distribution<int> pause(100, 300);
    while (!stop_) {
      WriteOne();
      std::this_thread::sleep_for(milliseconds(pause(rng_)));
    }
  }

  fs::path file_;
  std::string host_;
  system_clock::duration behind_;
  milliseconds jitter_;
  std::mt19937_64 rng_;
  std::atomic<bool> stop_{false};
  std::atomic<int> count_{0};
  std::thread thread_;
  mutable std::mutex mu_;
  std::vector<Written> written_;
  int events_ = 0;
};

// Polls /metrics and records, for every written health check, when its series
// first showed.
class VisibilityProbe {
 public:
  // One poll: the health-check series present now, keyed node/service.
  static std::set<std::string> Healthy(const std::string& text) {
    std::set<std::string> out;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) {
      if (line.rfind("homelab_service_healthy{", 0) != 0) continue;
      for (const Sample& s : testing::ParseExposition(line)) {
        out.insert(s.labels.at("node") + "/" + s.labels.at("service"));
      }
    }
    return out;
  }

  // Records what `metrics` (fetched at `at`) shows of `written`.
  void Record(const std::vector<Written>& written, const std::string& metrics,
              Clock::time_point at) {
    const std::set<std::string> healthy = Healthy(metrics);
    for (const Written& w : written) {
      const std::string key = w.node + "/" + w.service;
      if (seen_.count(key) || !healthy.count(key)) continue;
      seen_[key] = std::chrono::duration<double, std::milli>(at - w.at).count();
    }
  }

  bool AllSeen(const std::vector<Written>& written) const {
    for (const Written& w : written) {
      if (!seen_.count(w.node + "/" + w.service)) return false;
    }
    return true;
  }

  // How long after its write `w` first showed (-1 if it never did).
  double Lag(const Written& w) const {
    const auto it = seen_.find(w.node + "/" + w.service);
    return it == seen_.end() ? -1 : it->second;
  }

  std::vector<double> Lags() const {
    std::vector<double> out;
    for (const auto& [key, lag] : seen_) out.push_back(lag);
    return out;
  }

 private:
  std::map<std::string, double> seen_;
};

TEST(EventTimeDaemonTest, TwoHostsAppendingInRealTimeCauseNoReplays) {
  TempDir tmp;
  const fs::path root = tmp.path();
  fs::create_directories(root / "events");
  const std::string now = Rfc3339(system_clock::now());
  DaemonProcess daemon(root, {}, now);
  ASSERT_EQ(daemon.Start(), "");

  const std::string day = Today();
  HostWriter jupiter(root / "events" / (day + "-jupiter.jsonl"), "jupiter", {}, milliseconds(3000),
                     1);
  HostWriter saturn(root / "events" / (day + "-saturn.jsonl"), "saturn", {}, milliseconds(3000), 2);
  auto all_written = [&] {
    std::vector<Written> w = jupiter.written();
    for (Written& x : saturn.written()) w.push_back(std::move(x));
    return w;
  };
  VisibilityProbe probe;
  std::string rebuilt_while_writing;  // the first /metrics that counted a replay
  const auto start = Clock::now();
  jupiter.Start();
  saturn.Start();
  int polls = 0;
  while (Clock::now() - start < std::chrono::seconds(60)) {
    const std::vector<Written> written = all_written();
    const std::string text = daemon.MetricsText();
    const auto at = Clock::now();
    ASSERT_FALSE(text.empty()) << "/metrics failed; stderr:\n" << daemon.Err();
    ++polls;
    probe.Record(written, text, at);
    if (rebuilt_while_writing.empty()) {
      const std::string rebuilds = NonZeroRebuilds(testing::ParseExposition(text));
      if (!rebuilds.empty()) {
        rebuilt_while_writing =
            rebuilds + "after " + std::to_string(testing::MillisSince(start) / 1000) + " s";
      }
    }
    std::this_thread::sleep_for(milliseconds(20));
  }
  jupiter.Stop();
  saturn.Stop();
  const std::vector<Written> written = all_written();
  ASSERT_TRUE(testing::WaitUntil(
      [&] {
        const std::string text = daemon.MetricsText();
        probe.Record(written, text, Clock::now());
        return probe.AllSeen(written);
      },
      Millis(10000), Millis(20)))
      << "not every event reached /metrics; stderr:\n"
      << daemon.Err();

  const std::vector<double> lags = probe.Lags();
  const double p50 = Percentile(lags, 0.5), p99 = Percentile(lags, 0.99),
               max = Percentile(lags, 1.0);
  const auto s = daemon.Metrics();
  const double reordered = Value(s, "homelab_observer_reordered_events_total").value_or(-1);
  std::printf(
      "[ info ] %zu health checks (%d + %d events) from two hosts in 60 s, %d polls; append -> "
      "/metrics lag: median %.1f ms, p99 %.1f ms, max %.1f ms; %.0f events reordered\n",
      written.size(), jupiter.events(), saturn.events(), polls, p50, p99, max, reordered);
  EXPECT_LE(max, 1000) << "an event took longer than 1 s to reach /metrics";
  EXPECT_EQ(rebuilt_while_writing, "") << "a replay while the hosts were writing";
  EXPECT_EQ(NonZeroRebuilds(s), "");
  EXPECT_EQ(Show(LateEventsByFile(s)), "none");
  EXPECT_GT(reordered, 0) << "timestamps jittered by up to 3 s across two files should arrive "
                             "out of order now and then";
  EXPECT_EQ(SumOf(s, "homelab_observer_events_processed_total"),
            static_cast<double>(jupiter.events() + saturn.events()));

  const testing::ProcessResult stopped = daemon.Stop();
  ASSERT_EQ(stopped.exit_code, 0) << stopped.err;
  EXPECT_EQ(testing::Checkpoint(root)["rebuilds"], 0);
  EXPECT_EQ(testing::DifferenceFromCleanRun(root, {}, now), "");
}

TEST(EventTimeDaemonTest, SkewedHostRaisesLateEventsAndReplaysStayCoalesced) {
  TempDir tmp;
  const fs::path root = tmp.path();
  fs::create_directories(root / "events");
  const std::string now = Rfc3339(system_clock::now());
  const std::string day = Today();
  const std::string good_file = day + "-jupiter.jsonl", skewed_file = day + "-saturn.jsonl";
  // A homelab that has been running: jupiter's heartbeats of the last ten
  // minutes, so the history reaches back beyond the lateness window.
  {
    std::string history;
    for (int ago = 600; ago >= 30; ago -= 30) {
      history += Event(Rfc3339(system_clock::now() - std::chrono::seconds(ago)), "node_heartbeat",
                       "jupiter");
    }
    testing::WriteFile(root / "events" / good_file, history);
  }
  DaemonProcess daemon(root, {"--events.replay-min-interval", "2s"}, now);
  ASSERT_EQ(daemon.Start(), "");
  const auto daemon_start = daemon.started_at();

  HostWriter jupiter(root / "events" / good_file, "jupiter", {}, milliseconds(0), 3);
  HostWriter saturn(root / "events" / skewed_file, "saturn", std::chrono::hours(1), milliseconds(0),
                    4);
  // jupiter's present first, so that every one of saturn's events is an
  // hour behind the latest applied event.
  jupiter.WriteOne();
  ASSERT_TRUE(daemon.WaitForMetrics(
      [&](const auto& s) {
        return SumOf(s, "homelab_observer_events_processed_total") == 20 + jupiter.events();
      },
      Millis(5000)))
      << daemon.Err();
  jupiter.Start();
  saturn.Start();
  // Watch each event reach /metrics: jupiter's at once, saturn's (late)
  // with the next coalesced replay.
  VisibilityProbe probe;
  const auto writing = Clock::now();
  while (Clock::now() - writing < std::chrono::seconds(10)) {
    std::vector<Written> w = jupiter.written();
    for (Written& x : saturn.written()) w.push_back(std::move(x));
    const std::string text = daemon.MetricsText();
    probe.Record(w, text, Clock::now());
    std::this_thread::sleep_for(milliseconds(50));
  }
  jupiter.Stop();
  saturn.Stop();
  const std::vector<Written> skewed = saturn.written();
  ASSERT_FALSE(skewed.empty());
  const system_clock::time_point skewed_latest =
      std::max_element(skewed.begin(), skewed.end(), [](const auto& a, const auto& b) {
        return a.timestamp < b.timestamp;
      })->timestamp;
  const double skewed_last = UnixSeconds(skewed_latest);
  const int total = 20 + jupiter.events() + saturn.events();

  // The late events wait for the next coalesced replay: all are in within
  // the interval (plus the time a replay takes).
  const auto written_at = Clock::now();
  std::vector<Sample> s;
  const bool caught_up = daemon.WaitForMetrics(
      [&](const auto& m) {
        s = m;
        const auto last =
            Value(m, "homelab_node_last_seen_timestamp_seconds", {{"node", "saturn"}});
        return SumOf(m, "homelab_observer_events_processed_total") == static_cast<double>(total) &&
               last && std::abs(*last - skewed_last) < 5e-4;
      },
      Millis(15000), Millis(20));
  const double catch_up_ms = testing::MillisSince(written_at);
  probe.Record(skewed, daemon.MetricsText(), Clock::now());
  std::vector<double> skewed_lags, good_lags;
  for (const Written& w : skewed) skewed_lags.push_back(probe.Lag(w));
  for (const Written& w : jupiter.written()) good_lags.push_back(probe.Lag(w));
  const double elapsed_s = testing::MillisSince(daemon_start) / 1000;
  s = daemon.Metrics();
  const double late_replays =
      Value(s, "homelab_observer_rebuilds_total", {{"reason", "late_event"}}).value_or(-1);
  const auto late = LateEventsByFile(s);
  std::printf(
      "[ info ] %d events (%zu from the skewed host) in %.1f s of daemon life: %.0f late-event "
      "replays (limit %.1f), late events by file: %s; caught up %.0f ms after the writers "
      "stopped; append -> /metrics lag, jupiter: median %.0f ms, max %.0f ms; saturn (late): "
      "median %.0f ms, max %.0f ms\n",
      total, skewed.size(), elapsed_s, late_replays, elapsed_s / 2 + 1, Show(late).c_str(),
      catch_up_ms, Percentile(good_lags, 0.5), Percentile(good_lags, 1),
      Percentile(skewed_lags, 0.5), Percentile(skewed_lags, 1));
  EXPECT_TRUE(caught_up) << "the skewed host's events did not all reach /metrics; processed "
                         << SumOf(s, "homelab_observer_events_processed_total") << " of " << total
                         << "; stderr:\n"
                         << daemon.Err();
  ASSERT_TRUE(late.count(skewed_file)) << "late events: " << Show(late);
  // Every event of the skewed host is an hour late, but a replay may read
  // some of them before they were looked at one by one.
  EXPECT_GE(late.at(skewed_file), static_cast<double>(skewed.size()) / 4)
      << saturn.events() << " events from the skewed host";
  EXPECT_EQ(late.size(), 1u) << "only the skewed host's file has late events: " << Show(late);
  EXPECT_GE(late_replays, 1);
  EXPECT_LE(Percentile(skewed_lags, 1), 5000)
      << "a late event should wait for the next replay, at most about 2 s";
  EXPECT_LE(late_replays, elapsed_s / 2 + 1) << "replays were not coalesced to one per 2 s";
  for (const char* reason : {"checkpoint", "file_shrank", "file_rewritten"}) {
    EXPECT_EQ(Value(s, "homelab_observer_rebuilds_total", {{"reason", reason}}), 0) << reason;
  }
  // Its last check passed, but an hour ago: saturn counts as down, so the
  // service is stale, not healthy (CONTRACT §9).
  EXPECT_EQ(Value(s, "homelab_service_status",
                  {{"node", "saturn"}, {"service", skewed.back().service}, {"status", "stale"}}),
            1);

  const testing::ProcessResult stopped = daemon.Stop();
  ASSERT_EQ(stopped.exit_code, 0) << stopped.err;
  const auto nodes = testing::World(root, "nodes.json");
  EXPECT_EQ(nodes["saturn"]["last_seen"], WorldTime(skewed_latest)) << nodes["saturn"].dump();
  EXPECT_EQ(testing::DifferenceFromCleanRun(root, {}, now), "");
}

// ------------------------------------------------- the two-recipe story ----

constexpr char kStoryNow[] = "2026-12-04T10:10:00Z";
constexpr char kDaily[] = "2026-12-04.jsonl";
constexpr char kDrop[] = "2026-12-04T10-01-00Z-deploy.json";

std::string Succeeded() {
  return Event("2026-12-04T10:05:00Z", "deployment_succeeded", "", "", R"("correlation_id":"c1")");
}
std::string StartedDrop() {
  return R"({"timestamp": "2026-12-04T10:01:00Z", "type": "deployment_started", )"
         R"("correlation_id": "c1", "node": "jupiter", "service": "nextcloud"})"
         "\n";
}

// "" when deployments.json holds c1 as the story ends; else what it holds.
std::string StoryDeploymentProblem(const fs::path& root) {
  const nlohmann::json deployments = testing::World(root, "deployments.json");
  if (!deployments.contains("c1")) return "no c1 in " + deployments.dump();
  const nlohmann::json& c1 = deployments["c1"];
  const nlohmann::json expected = {{"status", "succeeded"},
                                   {"attempts", 1},
                                   {"started_at", "2026-12-04T10:01:00Z"},
                                   {"finished_at", "2026-12-04T10:05:00Z"},
                                   {"duration_seconds", 240},
                                   {"node", "jupiter"},
                                   {"service", "nextcloud"}};
  for (const auto& [key, value] : expected.items()) {
    if (c1.value(key, nlohmann::json()) != value) return "c1 is " + c1.dump();
  }
  return "";
}

TEST(EventTimeStoryTest, TwoRecipeDeploymentEndsSucceededWithOneAttempt) {
  TempDir tmp;
  const fs::path root = tmp.path();
  auto once = [&] {
    const auto r = testing::RunProgram(testing::OnceArgs(root, {}, kStoryNow));
    ASSERT_EQ(r.exit_code, 0) << r.err;
  };
  // The daily file gets the end of the deployment first...
  testing::WriteFile(root / "events" / kDaily,
                     testing::Event("2026-12-04T10:00:00Z", "node_heartbeat", "jupiter"));
  once();
  testing::AppendFile(root / "events" / kDaily, Succeeded());
  once();
  const nlohmann::json before = testing::World(root, "deployments.json")["c1"];
  EXPECT_EQ(before["status"], "succeeded") << before.dump();
  EXPECT_EQ(before["started_at"], nullptr) << before.dump();
  // ... then deploy tooling drops its start, four minutes earlier, which
  // sorts after the daily file by name.
  RenameIntoPlace(root, kDrop, StartedDrop());
  once();
  EXPECT_EQ(StoryDeploymentProblem(root), "");
  EXPECT_EQ(testing::Checkpoint(root)["rebuilds"], 0)
      << "4 minutes behind is within the default max-lateness: no replay";
  EXPECT_EQ(testing::DifferenceFromCleanRun(root, {}, kStoryNow), "");
}

TEST(EventTimeStoryTest, TwoRecipeDeploymentEndsSucceededWithOneAttemptUnderRun) {
  TempDir tmp;
  const fs::path root = tmp.path();
  testing::WriteFile(root / "events" / kDaily,
                     testing::Event("2026-12-04T10:00:00Z", "node_heartbeat", "jupiter"));
  DaemonProcess daemon(root, {}, kStoryNow);
  ASSERT_EQ(daemon.Start(), "");
  testing::AppendFile(root / "events" / kDaily, Succeeded());
  ASSERT_TRUE(daemon.WaitForMetrics(
      [](const auto& s) {
        double succeeded = 0;
        for (const Sample& x : s) {
          if (x.name == "homelab_deployments_total" && x.labels.count("status") &&
              x.labels.at("status") == "succeeded") {
            succeeded += x.value;
          }
        }
        return succeeded == 1;
      },
      Millis(5000)))
      << daemon.Err();
  RenameIntoPlace(root, kDrop, StartedDrop());
  ASSERT_TRUE(daemon.WaitForMetrics(
      [](const auto& s) {
        return Value(s, "homelab_deployment_status",
                     {{"node", "jupiter"}, {"service", "nextcloud"}, {"status", "succeeded"}}) ==
                   1 &&
               Value(s, "homelab_deployments_running") == 0;
      },
      Millis(5000)))
      << daemon.MetricsText() << "\nstderr:\n"
      << daemon.Err();
  const auto s = daemon.Metrics();
  EXPECT_EQ(
      Value(s, "homelab_deployments_total", {{"service", "nextcloud"}, {"status", "succeeded"}}),
      1);
  EXPECT_EQ(NonZeroRebuilds(s), "");
  // The world files follow /metrics within moments.
  EXPECT_TRUE(
      testing::WaitUntil([&] { return StoryDeploymentProblem(root).empty(); }, Millis(5000)))
      << StoryDeploymentProblem(root);
  const testing::ProcessResult stopped = daemon.Stop();
  ASSERT_EQ(stopped.exit_code, 0) << stopped.err;
  EXPECT_EQ(StoryDeploymentProblem(root), "");
  EXPECT_EQ(testing::DifferenceFromCleanRun(root, {}, kStoryNow), "");
}

// ---------------------------------------------------- per-host, by once ----

TEST(EventTimeOnceTest, PerHostLayoutDrivenByOnceAfterEachAppendCostsNoReplays) {
  TempDir tmp;
  const fs::path root = tmp.path();
  const fs::path jupiter = root / "events" / "2026-12-04-jupiter.jsonl";
  const fs::path saturn = root / "events" / "2026-12-04-saturn.jsonl";
  fs::create_directories(root / "events");
  const fs::path textfile = tmp.path() / "observer.prom";
  auto once = [&] {
    const auto r =
        testing::RunProgram(testing::OnceArgs(root, {"--textfile", textfile.string()}, kStoryNow));
    ASSERT_EQ(r.exit_code, 0) << r.err;
  };
  auto at = [](int minute, int second) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "2026-12-04T10:%02d:%02dZ", minute, second);
    return std::string(buf);
  };
  for (int round = 0; round < 5; ++round) {
    // Within the minute, the hosts' events interleave: jupiter at :00, :20,
    // :40, saturn at :10, :30, :50; whoever writes second is behind.
    std::string j, s;
    for (int k = 0; k < 3; ++k) {
      j += Event(at(round, 20 * k), k == 1 ? "healthcheck_passed" : "node_heartbeat", "jupiter",
                 k == 1 ? "nextcloud" : "");
      s += Event(at(round, 20 * k + 10), k == 2 ? "healthcheck_failed" : "node_heartbeat", "saturn",
                 k == 2 ? "mosquitto" : "");
    }
    if (round % 2 == 0) {
      testing::AppendFile(jupiter, j);
      once();
      testing::AppendFile(saturn, s);
    } else {
      testing::AppendFile(saturn, s);
      once();
      testing::AppendFile(jupiter, j);
    }
    once();
    if (HasFatalFailure()) return;
  }
  EXPECT_EQ(testing::Checkpoint(root)["rebuilds"], 0)
      << "events within a minute of each other never need a replay";
  const auto samples = testing::ParseExposition(testing::ReadFile(textfile).value_or(""));
  EXPECT_EQ(NonZeroRebuilds(samples), "");
  EXPECT_EQ(Show(LateEventsByFile(samples)), "none");
  EXPECT_EQ(testing::World(root, "nodes.json")["saturn"]["last_seen"], "2026-12-04T10:04:50Z");
  EXPECT_EQ(
      testing::World(root, "incidents.json")["inc-1796378450-saturn-mosquitto"]["occurrence_count"],
      5);
  EXPECT_EQ(testing::DifferenceFromCleanRun(root, {}, kStoryNow), "");
}

// ------------------------------------------------------ the window edge ----

TEST(EventTimeOnceTest, LatenessBoundIsInclusiveToTheNanosecond) {
  for (const bool zero_window : {false, true}) {
    SCOPED_TRACE(zero_window ? "--events.max-lateness 0s" : "default max-lateness");
    TempDir tmp;
    const fs::path root = tmp.path();
    const fs::path textfile = tmp.path() / "observer.prom";
    const std::vector<std::string> lateness = {"--events.max-lateness", zero_window ? "0s" : "5m"};
    std::vector<std::string> flags = lateness;
    flags.insert(flags.end(), {"--textfile", textfile.string()});
    auto once = [&] {
      const auto r = testing::RunProgram(testing::OnceArgs(root, flags, kStoryNow));
      EXPECT_EQ(r.exit_code, 0) << r.err;
      return testing::Checkpoint(root)["rebuilds"].get<int>();
    };
    // The latest applied event is at 10:05:00 (written as 11:05 at +01:00);
    // the one before it is exactly max-lateness + 1 ns older, so the history
    // reaches back beyond the window.
    const std::string beyond =
        zero_window ? "2026-12-04T10:04:59.999999999Z" : "2026-12-04T09:59:59.999999999Z";
    testing::WriteFile(root / "events" / "b.jsonl",
                       Event(beyond, "node_heartbeat", "pluto") +
                           Event("2026-12-04T11:05:00+01:00", "node_heartbeat", "jupiter"));
    ASSERT_EQ(once(), 0);
    // Exactly max-lateness behind, in a file sorting before: folded in.
    const std::string edge = zero_window ? "2026-12-04T10:05:00.000Z" : "2026-12-04T10:00:00Z";
    testing::WriteFile(root / "events" / "a.jsonl", Event(edge, "node_heartbeat", "saturn"));
    EXPECT_EQ(once(), 0) << edge << " is exactly max-lateness behind 10:05:00";
    // One nanosecond more (and sorting before pluto's event of that instant):
    // late, a replay.
    testing::WriteFile(root / "events" / "a-late.jsonl", Event(beyond, "node_heartbeat", "mars"));
    EXPECT_EQ(once(), 1) << beyond << " is max-lateness + 1 ns behind 10:05:00";
    const auto s = testing::ParseExposition(testing::ReadFile(textfile).value_or(""));
    EXPECT_EQ(Value(s, "homelab_observer_rebuilds_total", {{"reason", "late_event"}}), 1);
    EXPECT_EQ(Show(LateEventsByFile(s)), "a-late.jsonl=1");
    EXPECT_EQ(testing::DifferenceFromCleanRun(root, lateness, kStoryNow), "");
  }
}

// The lateness is measured from the latest applied event time, whatever the
// history holds: an event an hour behind is late (counted, a replay) even
// when the whole history is younger than --events.max-lateness.
TEST(EventTimeOnceTest, EventFarBehindIsLateEvenWhenTheWholeHistoryIsWithinTheWindow) {
  TempDir tmp;
  const fs::path root = tmp.path();
  const fs::path textfile = tmp.path() / "observer.prom";
  auto once = [&] {
    const auto r =
        testing::RunProgram(testing::OnceArgs(root, {"--textfile", textfile.string()}, kStoryNow));
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return testing::Checkpoint(root)["rebuilds"].get<int>();
  };
  testing::WriteFile(root / "events" / "2026-12-04-jupiter.jsonl",
                     Event("2026-12-04T10:05:00Z", "node_heartbeat", "jupiter"));
  ASSERT_EQ(once(), 0);
  testing::WriteFile(root / "events" / "2026-12-04-saturn.jsonl",
                     Event("2026-12-04T09:05:00Z", "node_heartbeat", "saturn"));
  EXPECT_EQ(once(), 1) << "an hour behind the latest applied event is late";
  const auto s = testing::ParseExposition(testing::ReadFile(textfile).value_or(""));
  EXPECT_EQ(Value(s, "homelab_observer_rebuilds_total", {{"reason", "late_event"}}), 1);
  EXPECT_EQ(Show(LateEventsByFile(s)), "2026-12-04-saturn.jsonl=1");
  EXPECT_EQ(testing::DifferenceFromCleanRun(root, {}, kStoryNow), "");
}

TEST(EventTimeOnceTest, LatenessFlagsRejectValuesThatAreNotDurations) {
  TempDir tmp;
  for (const auto& args : std::vector<std::vector<std::string>>{
           {"once", "--root", tmp.path().string(), "--events.max-lateness", "soon"},
           {"validate", "--root", tmp.path().string(), "--events.max-lateness", "-5m"},
           {"run", "--root", tmp.path().string(), "--web.listen-address", "127.0.0.1:0",
            "--events.replay-min-interval", "often"}}) {
    const auto r = testing::RunProgram(args, {std::chrono::seconds(10)});
    EXPECT_EQ(r.exit_code, 2) << args[0] << " " << args[3] << " " << args.back() << ": " << r.err;
    EXPECT_NE(r.err.find(args.back()), std::string::npos) << r.err;
  }
  for (const char* command : {"once", "validate"}) {
    const auto r = testing::RunProgram(
        {command, "--root", tmp.path().string(), "--events.max-lateness", "1h30m"});
    EXPECT_NE(r.exit_code, 2) << command << " takes --events.max-lateness: " << r.err;
  }
}

}  // namespace
}  // namespace hlo
