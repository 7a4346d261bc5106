// --history.retention (issue 14): resolved incidents and finished deployments
// older than the retention, by event time, move from the world files to
// monthly archives, world/archive/{incidents,deployments}-YYYY-MM.jsonl. The
// world files and the archives must come out byte-identical however the same
// events were processed: one cold `once`, many incremental `once`s over
// random splits and file layouts, `run`-like batches with late events folded
// in, runs killed between the archive append and the checkpoint, a replay
// after deleting the checkpoint. And what derives from the history (the
// runtime summary, the history histograms) must not change when entries are
// archived.
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <functional>
#include <map>
#include <random>
#include <sstream>

#include "observer/history_archive.h"
#include "observer/observer.h"
#include "tests/fakes/event_builder.h"
#include "tests/fakes/manual_env.h"
#include "tests/fakes/temp_dir.h"

namespace hlo {
namespace {

namespace fs = std::filesystem;
using fakes::Ev;
using fakes::T;

constexpr int64_t kMinute = 60LL * 1'000'000'000;
constexpr int64_t kDay = 1440 * kMinute;
const Timestamp kNow{1'800'000'000, 0};  // 2027-01-15, after every history below

// ------------------------------------------------------------ histories ----

struct Line {
  std::string file;
  std::string text;  // with its newline
};

// A seeded history of ~60 days: heartbeats, failures and recoveries of a few
// services, and deployments whose correlation ids come back after long gaps
// (so the touch rule fires), dated every ~30 minutes with a little jitter
// (folded in by the lateness window) and now and then an outlier beyond it
// (a replay). Files per host or per day, by seed; a few invalid lines.
std::vector<Line> History(uint64_t seed) {
  std::mt19937_64 rng(seed);
  auto pick = [&rng](int n) { return static_cast<int>(rng() % static_cast<uint64_t>(n)); };
  const char* nodes[] = {"jupiter", "saturn", "mars"};
  const char* services[] = {"nextcloud", "grafana", "mosquitto"};
  const bool per_day = seed % 2 == 0;
  const Timestamp base = T("2026-01-01T00:00:00Z");
  std::vector<Line> lines;
  int64_t at = 0;
  for (int i = 0; i < 2600; ++i) {
    at += (20 + pick(20)) * kMinute;
    int64_t t = at + (pick(5) - 2) * kMinute;
    if (seed % 3 == 0 && pick(400) == 0) t -= 40 * kMinute;  // beyond the 5m window: a replay
    const std::string node = nodes[pick(3)];
    const std::string service = services[pick(3)];
    const std::string time = FormatTimestamp(Add(base, Duration{t}));
    std::string json = R"({"timestamp":")" + time + R"(","node":")" + node + "\"";
    const int kind = pick(100);
    if (kind < 30) {
      json += R"(,"type":"node_heartbeat"})";
    } else if (kind < 50) {
      json += R"(,"type":"healthcheck_passed","service":")" + service + "\"}";
    } else if (kind < 65) {
      json += R"(,"type":"healthcheck_failed","service":")" + service + "\"}";
    } else if (kind < 75) {
      json += R"(,"type":"service_recovered","service":")" + service + "\"}";
    } else if (kind < 99) {
      const char* types[] = {"deployment_started", "deployment_stage", "deployment_succeeded",
                             "deployment_failed"};
      // Mostly busy ids; now and then one that is used on every 12th day
      // only, so it comes back long after its retention (the touch rule).
      const int64_t day = at / kDay;
      const std::string corr = day % 12 == 0 && pick(3) == 0
                                   ? "rare-" + service
                                   : "dep-" + service + "-" + std::to_string(pick(4));
      json += R"(,"type":")" + std::string(types[pick(4)]) + R"(","service":")" + service +
              R"(","correlation_id":")" + corr + R"(","payload":{"stage":"s)" +
              std::to_string(pick(3)) + R"(","diagnostics":["d.log"]}})";
    } else {
      json = R"({"timestamp":"not a time","type":"node_heartbeat"})";
    }
    const std::string file =
        per_day ? time.substr(0, 10) + ".jsonl" : "host-" + node + ".jsonl";
    lines.push_back({file, json + "\n"});
  }
  return lines;
}

// ---------------------------------------------------------------- roots ----

std::map<std::string, std::string> Tree(const fs::path& dir) {
  std::map<std::string, std::string> out;
  if (!fs::exists(dir)) return out;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    if (!e.is_regular_file()) continue;
    std::ifstream in(e.path(), std::ios::binary);
    std::stringstream s;
    s << in.rdbuf();
    out[fs::relative(e.path(), dir).string()] = s.str();
  }
  return out;
}

void Append(const fs::path& file, const std::string& text) {
  fs::create_directories(file.parent_path());
  std::ofstream(file, std::ios::app | std::ios::binary) << text;
}

class Root {
 public:
  explicit Root(Duration retention) : retention_(retention) {
    fs::create_directories(dir_.path() / "events");
  }

  std::unique_ptr<Observer> Open() {
    ObserverOptions options;
    options.root = dir_.path();
    options.env = &env_;
    options.retention = retention_;
    auto observer = std::make_unique<Observer>(std::move(options));
    std::string error;
    EXPECT_TRUE(observer->Open(&error)) << error;
    return observer;
  }
  static void Process(Observer& observer) {
    BatchResult result;
    std::string error;
    EXPECT_TRUE(observer.ProcessPending(&result, &error)) << error;
  }
  static void Commit(Observer& observer) {
    std::string error;
    EXPECT_TRUE(observer.Commit(observer.Snapshot(kNow, Duration{600 * 1'000'000'000LL}, {}),
                                &error))
        << error;
  }
  // One `once`.
  void Once() {
    auto observer = Open();
    Process(*observer);
    Commit(*observer);
  }
  void Add(const Line& line) { Append(dir_.path() / "events" / line.file, line.text); }
  std::map<std::string, std::string> World() const { return Tree(dir_.path() / "world"); }
  const fs::path& path() const { return dir_.path(); }

 private:
  TempDir dir_;
  fakes::ManualEnv env_;
  Duration retention_;
};

constexpr Duration kWeek{7 * kDay};

std::map<std::string, std::string> Cold(const std::vector<Line>& lines, Duration retention) {
  Root root(retention);
  for (const Line& l : lines) root.Add(l);
  root.Once();
  return root.World();
}

int ArchiveFiles(const std::map<std::string, std::string>& world) {
  int n = 0;
  for (const auto& [name, content] : world) n += name.rfind("archive/", 0) == 0 ? 1 : 0;
  return n;
}

// Delivers `lines` in chunks of random size (so files end mid-history and
// each `once` sees a different cut), the chunk's lines appended file by file
// in a random order of the files, calling `step` after each chunk.
template <class Step>
void Deliver(const std::vector<Line>& lines, uint64_t seed, Root& root, Step step) {
  std::mt19937_64 rng(seed * 7919);
  size_t next = 0;
  while (next < lines.size()) {
    const size_t n = std::min(lines.size() - next, static_cast<size_t>(10 + rng() % 300));
    std::map<std::string, std::vector<const Line*>> by_file;
    for (size_t i = next; i < next + n; ++i) by_file[lines[i].file].push_back(&lines[i]);
    std::vector<const std::vector<const Line*>*> files;
    for (const auto& [name, v] : by_file) files.push_back(&v);
    std::shuffle(files.begin(), files.end(), rng);
    for (const auto* v : files) {
      for (const Line* l : *v) root.Add(*l);
    }
    next += n;
    step(rng);
  }
}

// ---------------------------------------------------------------- tests ----

TEST(HistoryRetentionTest, OffWritesNoArchiveAndKeepsEveryEntry) {
  const auto lines = History(1);
  const auto off = Cold(lines, Duration{0});
  EXPECT_EQ(ArchiveFiles(off), 0);
  const auto on = Cold(lines, kWeek);
  EXPECT_GT(ArchiveFiles(on), 2);
  EXPECT_LT(on.at("incidents.json").size(), off.at("incidents.json").size() / 2);
  // The history restarts deployments after their retention: some rare-…
  // deployment is both archived and in deployments.json.
  std::string archived;
  for (const auto& [name, content] : on) {
    if (name.rfind("archive/deployments-", 0) == 0) archived += content;
  }
  EXPECT_NE(archived.find("\"correlation_id\":\"rare-"), std::string::npos);
  EXPECT_NE(on.at("deployments.json").find("\"rare-"), std::string::npos);
}

// With retention a replay applies events file by file, as soon as no file
// still to be read can hold an earlier one. A retention longer than the
// history archives nothing, so the world must be the one of a replay
// without retention, which holds every event before applying the first:
// the order is the same. Per-host files (all spanning the history),
// per-day files (in time order) and .json drops dated anywhere.
TEST(HistoryRetentionTest, ARetentionLongerThanTheHistoryChangesNothing) {
  for (uint64_t seed = 41; seed <= 44; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    std::vector<Line> lines = History(seed);
    for (int i = 0; i < 5; ++i) {
      const std::string at = FormatTimestamp(Add(T("2026-01-01T00:00:00Z"), Duration{(i * 11 + 3) * kDay}));
      lines.push_back({"drop-" + std::to_string(i) + ".json",
                       R"([{"timestamp":")" + at + R"(","type":"healthcheck_failed","node":"pluto","service":"x"},)" +
                           R"({"timestamp":")" + at + R"(","type":"deployment_succeeded","correlation_id":"dep-grafana-1"}])"});
    }
    auto world = Cold(lines, Duration{36'500 * kDay});
    EXPECT_EQ(ArchiveFiles(world), 0);
    EXPECT_EQ(world, Cold(lines, Duration{0}));
  }
}

// A file rewritten between the replay's two passes (same size, earlier
// times) would break the order of what was already applied: the replay sees
// it and starts over, holding everything before applying anything.
TEST(HistoryRetentionTest, AFileChangedBetweenTheTwoPassesIsReplayedInOrder) {
  const std::string a = R"({"timestamp":"2026-01-01T10:00:00Z","type":"node_heartbeat","node":"mars"})" "\n";
  const std::string b_first = R"({"timestamp":"2026-01-02T10:00:00Z","type":"node_heartbeat","node":"pluto"})" "\n";
  const std::string b_then = R"({"timestamp":"2026-01-01T09:00:00Z","type":"node_heartbeat","node":"pluto"})" "\n";
  ASSERT_EQ(b_first.size(), b_then.size());
  class RewritingEnv : public fakes::ManualEnv {
   public:
    std::function<void()> after_first_pass;
    int calls = 0;
    std::optional<FileProgress> ReadAndParseJsonLines(const fs::path& file, FileProgress start,
                                                      uint64_t bytes, const ParsedLineSink& sink,
                                                      std::string* error) override {
      auto r = fakes::ManualEnv::ReadAndParseJsonLines(file, start, bytes, sink, error);
      if (++calls == 2 && after_first_pass) after_first_pass();  // a.jsonl, b.jsonl: pass 1 done
      return r;
    }
  } env;
  TempDir dir;
  Append(dir.path() / "events" / "a.jsonl", a);
  Append(dir.path() / "events" / "b.jsonl", b_first);
  env.after_first_pass = [&] {
    std::ofstream(dir.path() / "events" / "b.jsonl", std::ios::binary | std::ios::trunc) << b_then;
  };
  ObserverOptions options;
  options.root = dir.path();
  options.env = &env;
  options.retention = kWeek;
  Observer observer(std::move(options));
  std::string error;
  ASSERT_TRUE(observer.Open(&error)) << error;
  BatchResult result;
  ASSERT_TRUE(observer.ProcessPending(&result, &error)) << error;
  EXPECT_EQ(result.applied, 2u);
  EXPECT_EQ(env.calls, 2 + 2 + 2);  // the plan, the pass that found it out of order, once more
  EXPECT_EQ(observer.checkpoint().model.counters.last_event_at, T("2026-01-01T10:00:00Z"));
}

TEST(HistoryRetentionTest, IncrementalOnceRunsWriteTheColdBytes) {
  for (uint64_t seed = 1; seed <= 6; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    const auto lines = History(seed);
    const auto cold = Cold(lines, kWeek);
    Root root(kWeek);
    Deliver(lines, seed, root, [&](std::mt19937_64&) { root.Once(); });
    root.Once();
    EXPECT_EQ(root.World(), cold);
  }
}

TEST(HistoryRetentionTest, RunLikeBatchesWriteTheColdBytes) {
  for (uint64_t seed = 11; seed <= 14; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    const auto lines = History(seed);
    const auto cold = Cold(lines, kWeek);
    Root root(kWeek);
    auto observer = root.Open();
    Deliver(lines, seed, root, [&](std::mt19937_64&) {
      Root::Process(*observer);
      Root::Commit(*observer);
    });
    observer.reset();
    root.Once();
    EXPECT_EQ(root.World(), cold);
  }
}

// A SIGKILL after the archives were appended and before the checkpoint was
// written leaves archives longer than the checkpoint says (cut back on the
// next start); one mid-append leaves a partial line (cut back too); an
// archive shorter than recorded means a replay. All end in the cold bytes.
TEST(HistoryRetentionTest, KillsBetweenArchiveAndCheckpointRecoverToTheColdBytes) {
  for (uint64_t seed = 21; seed <= 24; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    const auto lines = History(seed);
    const auto cold = Cold(lines, kWeek);
    Root root(kWeek);
    Deliver(lines, seed, root, [&](std::mt19937_64& rng) {
      const int what = static_cast<int>(rng() % 5);
      if (what == 0) {
        auto observer = root.Open();
        Root::Process(*observer);  // appended to the archives, then killed
        return;
      }
      root.Once();
      const fs::path archive = root.path() / "world" / "archive";
      if (!fs::exists(archive) || fs::is_empty(archive)) return;
      const fs::path some = fs::directory_iterator(archive)->path();
      if (what == 1) Append(some, "{\"half a li");
      if (what == 2) fs::resize_file(some, fs::file_size(some) / 2);
    });
    root.Once();
    EXPECT_EQ(root.World(), cold);
  }
}

TEST(HistoryRetentionTest, AReplayAfterDeletingTheCheckpointWritesTheSameBytes) {
  const auto lines = History(31);
  Root root(kWeek);
  for (const Line& l : lines) root.Add(l);
  root.Once();
  const auto first = root.World();
  fs::remove(root.path() / "state" / "observer_checkpoint.json");
  Append(root.path() / "world" / "archive" / "incidents-1999-01.jsonl", "stale\n");
  root.Once();
  EXPECT_EQ(root.World(), first);
}

TEST(HistoryRetentionTest, AnotherRetentionReplaysFromZero) {
  const auto lines = History(32);
  Root week(kWeek);
  for (const Line& l : lines) week.Add(l);
  week.Once();
  {
    ObserverOptions options;
    options.root = week.path();
    options.retention = Duration{14 * kDay};
    Observer observer(std::move(options));
    std::string error;
    ASSERT_TRUE(observer.Open(&error)) << error;
    BatchResult result;
    ASSERT_TRUE(observer.ProcessPending(&result, &error)) << error;
    EXPECT_TRUE(result.replayed);
    ASSERT_TRUE(observer.Commit(observer.Snapshot(kNow, Duration{600 * 1'000'000'000LL}, {}),
                                &error));
  }
  EXPECT_EQ(Tree(week.path() / "world"), Cold(lines, Duration{14 * kDay}));
}

// What derives from the history — the runtime summary's totals, the
// histograms and counters of /metrics — is the same with and without
// retention, as long as no deployment was restarted after its retention (the
// touch rule makes that a new deployment; see the next test). The history
// here restarts none: each correlation id is used once.
TEST(HistoryRetentionTest, FiguresFromTheHistoryDoNotDependOnRetention) {
  std::vector<Line> lines;
  const Timestamp base = T("2026-01-01T00:00:00Z");
  for (int day = 0; day < 90; ++day) {
    auto at = [&](int minutes) { return FormatTimestamp(Add(base, Duration{day * kDay + minutes * kMinute})); };
    const std::string svc = day % 2 ? "grafana" : "nextcloud";
    const std::string corr = "dep-" + std::to_string(day);
    for (const std::string& e :
         {R"({"timestamp":")" + at(60) + R"(","type":"service_unhealthy","node":"mars","service":")" + svc + R"(","severity":"critical"})",
          R"({"timestamp":")" + at(61 + day) + R"(","type":"service_recovered","node":"mars","service":")" + svc + R"("})",
          R"({"timestamp":")" + at(120) + R"(","type":"deployment_started","node":"mars","service":")" + svc + R"(","correlation_id":")" + corr + R"("})",
          R"({"timestamp":")" + at(125 + day % 7) + R"(","type":")" + (day % 3 ? "deployment_succeeded" : "deployment_failed") + R"(","correlation_id":")" + corr + R"("})"}) {
      lines.push_back({"events.jsonl", e + "\n"});
    }
  }
  std::map<std::string, std::string> worlds[2];
  HistorySummary summaries[2];
  WorldSummary totals[2];
  for (int on = 0; on < 2; ++on) {
    Root root(on ? kWeek : Duration{0});
    for (const Line& l : lines) root.Add(l);
    auto observer = root.Open();
    Root::Process(*observer);
    const WorldSnapshot world = observer->Snapshot(kNow, Duration{600 * 1'000'000'000LL}, {});
    totals[on] = world.summary;
    summaries[on].figures = world.history;
    Root::Commit(*observer);
    worlds[on] = root.World();
  }
  EXPECT_EQ(worlds[0].at("runtime-summary.json"), worlds[1].at("runtime-summary.json"));
  EXPECT_EQ(totals[0].incidents_resolved, 90u);
  EXPECT_EQ(totals[1].incidents_resolved, 90u);
  EXPECT_EQ(totals[0].deployments_total(), totals[1].deployments_total());
  const HistoryFigures& a = *summaries[0].figures;
  const HistoryFigures& b = *summaries[1].figures;
  EXPECT_EQ(a.resolution_by_severity, b.resolution_by_severity);
  EXPECT_EQ(a.deployment_durations, b.deployment_durations);
  EXPECT_EQ(a.incidents_opened, b.incidents_opened);
  EXPECT_LT(worlds[1].at("incidents.json").size(), worlds[0].at("incidents.json").size());
  EXPECT_GE(ArchiveFiles(worlds[1]), 4);  // incidents and deployments of Jan, Feb, (Mar)
}

// The touch rule: a deployment that finished more than the retention before
// an event for its correlation_id is history; the event starts a fresh one.
TEST(HistoryRetentionTest, ADeploymentRestartedAfterItsRetentionStartsFresh) {
  auto events = [](Duration retention) {
    ApplyContext context{std::string(fakes::kLogsDir), nullptr, {}};
    context.retention = retention;
    Model model;
    for (const Ev& e : {Ev("deployment_started").At("2026-01-01T10:00:00Z").Corr("d").Node("mars").Service("web"),
                        Ev("deployment_succeeded").At("2026-01-01T10:05:00Z").Corr("d"),
                        Ev("deployment_started").At("2026-01-09T10:00:00Z").Corr("d")}) {
      Apply(model, e.event(), context);
    }
    return model;
  };
  const Model off = events(Duration{0});
  EXPECT_EQ(off.deployments.at("d").attempts, 2u);
  EXPECT_TRUE(off.retired_deployments.empty());
  const Model on = events(kWeek);
  EXPECT_EQ(on.deployments.at("d").attempts, 1u);
  EXPECT_EQ(on.deployments.at("d").status, DeploymentStatus::kRunning);
  EXPECT_EQ(on.deployments.at("d").node, "");  // a fresh deployment: the event named none
  ASSERT_EQ(on.retired_deployments.size(), 1u);
  EXPECT_EQ(on.retired_deployments.begin()->second.finished_at, T("2026-01-01T10:05:00Z"));
  // Within the retention it is the same deployment's next attempt.
  const Model within = events(Duration{10 * kDay});
  EXPECT_EQ(within.deployments.at("d").attempts, 2u);
}

// An undo in the lateness window puts a retired deployment back; applied
// again, the event retires it again: nothing is archived twice.
TEST(HistoryRetentionTest, AFoldedInEventDoesNotArchiveARetiredDeploymentTwice) {
  Root root(kWeek);
  const std::string start = R"({"timestamp":"2026-01-01T10:00:00Z","type":"deployment_started","node":"mars","service":"web","correlation_id":"d"})";
  const std::string done = R"({"timestamp":"2026-01-01T10:05:00Z","type":"deployment_succeeded","correlation_id":"d"})";
  const std::string again = R"({"timestamp":"2026-01-20T10:00:00Z","type":"deployment_started","correlation_id":"d"})";
  const std::string late = R"({"timestamp":"2026-01-20T09:58:00Z","type":"deployment_stage","correlation_id":"d","payload":{"stage":"pull"}})";
  root.Add({"a.jsonl", start + "\n" + done + "\n"});
  root.Once();
  root.Add({"a.jsonl", again + "\n"});
  root.Once();
  root.Add({"b.jsonl", late + "\n"});  // folded in before `again`
  root.Once();
  const auto world = root.World();
  Root cold(kWeek);
  cold.Add({"a.jsonl", start + "\n" + done + "\n" + again + "\n"});
  cold.Add({"b.jsonl", late + "\n"});
  cold.Once();
  EXPECT_EQ(world, cold.World());
  const std::string& archived = world.at("archive/deployments-2026-01.jsonl");
  EXPECT_EQ(std::count(archived.begin(), archived.end(), '\n'), 1);
  EXPECT_NE(archived.find("\"finished_at\":\"2026-01-01T10:05:00Z\""), std::string::npos) << archived;
}

TEST(HistoryRetentionTest, ArchiveFilesAreNamedByTheUtcMonthTheEntryEnded) {
  EXPECT_EQ(ArchiveFileName("incidents", T("2026-02-28T23:59:59.9Z")), "incidents-2026-02.jsonl");
  EXPECT_EQ(ArchiveFileName("deployments", T("2026-03-01T00:30:00+01:00")),
            "deployments-2026-02.jsonl");
}

}  // namespace
}  // namespace hlo
