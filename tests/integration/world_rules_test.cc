// CONTRACT §9 through the real binary: the new flags' usage errors, a
// restart with other flap thresholds (a replay counted as "checkpoint"), and
// §6's byte identity for a history with flapping, maintenance and resolved
// incidents — one `once`, `once` again without the checkpoint, and `run`
// SIGKILLed part way then `once`.
#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

#include "tests/fakes/temp_dir.h"
#include "tests/integration/daemon_helpers.h"
#include "tests/integration/process_helpers.h"

namespace hlo {
namespace {

namespace fs = std::filesystem;
using testing::At;
using testing::Event;
using testing::Millis;
using testing::RunProgram;

const std::string kHeartbeat = Event("2026-05-12T12:00:00Z", "node_heartbeat", "saturn");

// ------------------------------------------------------------- flags ----

struct FlagCase {
  const char* name;
  std::vector<std::string> flags;
  int exit_code;
};

class WorldRulesFlagTest : public ::testing::TestWithParam<FlagCase> {};

TEST_P(WorldRulesFlagTest, OnceExitsAsTheFlagRulesSay) {
  TempDir tmp;
  tmp.Write("events/a.jsonl", kHeartbeat);
  const auto r = testing::Once(tmp.path(), GetParam().flags);
  EXPECT_EQ(r.exit_code, GetParam().exit_code) << r.err;
  if (GetParam().exit_code == 2) {
    EXPECT_FALSE(r.err.empty());
    EXPECT_FALSE(fs::exists(tmp.path() / "world")) << "a usage error writes nothing";
  }
}

INSTANTIATE_TEST_SUITE_P(
    ServiceStaleAfterAndFlapThresholds, WorldRulesFlagTest,
    ::testing::Values(
        FlagCase{"ServiceStaleAfterZeroIsOff", {"--service-stale-after", "0s"}, 0},
        FlagCase{"ServiceStaleAfterOneSecond", {"--service-stale-after", "1s"}, 0},
        FlagCase{"ServiceStaleAfterTenMinutes", {"--service-stale-after=10m"}, 0},
        FlagCase{"ServiceStaleAfterMilliseconds", {"--service-stale-after", "500ms"}, 2},
        FlagCase{"ServiceStaleAfterNotADuration", {"--service-stale-after", "soon"}, 2},
        FlagCase{"ServiceStaleAfterNoUnit", {"--service-stale-after", "10"}, 2},
        FlagCase{"FlapThresholdsCustom", {"--flap.high", "50", "--flap.low", "10"}, 0},
        FlagCase{"FlapThresholdsEqual", {"--flap.high", "30", "--flap.low", "30"}, 0},
        FlagCase{"FlapHighHundred", {"--flap.high", "100"}, 0},
        FlagCase{"FlapLowAboveHigh", {"--flap.low", "40", "--flap.high", "30"}, 2},
        FlagCase{"FlapLowAboveDefaultHigh", {"--flap.low", "31"}, 2},
        FlagCase{"FlapHighBelowDefaultLow", {"--flap.high", "19"}, 2},
        FlagCase{"FlapHighOverHundred", {"--flap.high", "101"}, 2},
        FlagCase{"FlapHighNegative", {"--flap.high", "-1"}, 2},
        FlagCase{"FlapHighFraction", {"--flap.high", "30.5"}, 2},
        FlagCase{"FlapLowNotANumber", {"--flap.low", "low"}, 2}),
    [](const ::testing::TestParamInfo<FlagCase>& info) { return info.param.name; });

TEST(WorldRulesCliTest, RunAndValidateTakeTheFlagsToo) {
  TempDir tmp;
  tmp.Write("events/a.jsonl", kHeartbeat);
  const auto ok = RunProgram({"validate", "--root", tmp.path().string(), "--service-stale-after",
                              "5m", "--flap.high", "40", "--flap.low", "10"});
  EXPECT_EQ(ok.exit_code, 0) << ok.err;
  const auto bad = RunProgram({"run", "--root", tmp.path().string(), "--flap.high", "101"});
  EXPECT_EQ(bad.exit_code, 2) << bad.err;
}

// ------------------------------------------------ thresholds at restart ----

// 21 health results of saturn/mosquitto whose window changes at pairs 19
// and 20 only (a failure, then its recovery): 940 → 12%, flapping under
// --flap.high 10, not under 30.
std::string TwelvePercent() {
  std::string lines;
  for (int i = 0; i < 21; ++i) {
    lines += Event(At(43200 + i),
                   i == 19 ? "healthcheck_failed" : i == 20 ? "service_recovered" : "healthcheck_passed",
                   "saturn", "mosquitto");
  }
  return lines;
}

TEST(WorldRulesRestartTest, OtherFlapThresholdsReplayCountedAsCheckpointLikeAFreshOnce) {
  TempDir tmp;
  tmp.Write("events/a.jsonl", TwelvePercent());
  ASSERT_EQ(testing::Once(tmp.path()).exit_code, 0);
  EXPECT_EQ(testing::World(tmp.path(), "services.json")["saturn/mosquitto"]["flapping"], false);
  EXPECT_EQ(testing::RebuildsFor(testing::Checkpoint(tmp.path()), "checkpoint"), 0u);

  const std::vector<std::string> flags = {"--flap.high", "10", "--flap.low", "5"};
  const auto r = testing::Once(tmp.path(), flags);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto services = testing::World(tmp.path(), "services.json");
  EXPECT_EQ(services["saturn/mosquitto"]["flapping"], true);
  EXPECT_EQ(services["saturn/mosquitto"]["flap_percent"], 12);
  EXPECT_EQ(testing::RebuildsFor(testing::Checkpoint(tmp.path()), "checkpoint"), 1u);
  EXPECT_EQ(testing::DifferenceFromCleanRun(tmp.path(), flags), "");

  // The same thresholds again: nothing to rebuild.
  ASSERT_EQ(testing::Once(tmp.path(), flags).exit_code, 0);
  EXPECT_EQ(testing::RebuildsFor(testing::Checkpoint(tmp.path()), "checkpoint"), 1u);
  // Back to the defaults: one more, and the defaults' world.
  ASSERT_EQ(testing::Once(tmp.path()).exit_code, 0);
  EXPECT_EQ(testing::RebuildsFor(testing::Checkpoint(tmp.path()), "checkpoint"), 2u);
  EXPECT_EQ(testing::DifferenceFromCleanRun(tmp.path()), "");
}

TEST(WorldRulesRestartTest, ServiceStaleAfterChangedAtRestartGivesTheFreshWorld) {
  TempDir tmp;
  tmp.Write("events/a.jsonl", TwelvePercent());
  // The node window out of the way: only the service's last check ages.
  ASSERT_EQ(testing::Once(tmp.path(), {"--node-stale-after", "1h"}).exit_code, 0);
  EXPECT_EQ(testing::World(tmp.path(), "services.json")["saturn/mosquitto"]["status"], "healthy");
  const std::vector<std::string> flags = {"--node-stale-after", "1h", "--service-stale-after", "1m"};
  ASSERT_EQ(testing::Once(tmp.path(), flags).exit_code, 0);
  EXPECT_EQ(testing::World(tmp.path(), "services.json")["saturn/mosquitto"]["status"], "stale");
  EXPECT_EQ(testing::DifferenceFromCleanRun(tmp.path(), flags), "");
}

TEST(WorldRulesRestartTest, NodelessRecoveryGivesInventoryEntriesOneResultEach) {
  // venus/mosquitto is in the inventory and in the events: failures
  // alternating with node-less recoveries are 21 alternating results (100%),
  // through the observer's own service index.
  TempDir tmp, checkout;
  checkout.Write("inventory/topology.yaml", "nodes:\n  - name: venus\n    roles: [broker]\n");
  checkout.Write("hosts/venus/services.yaml", "services:\n  - mosquitto\n  - grafana\n");
  std::string lines;
  for (int i = 0; i < 21; ++i) {
    lines += i % 2 == 0 ? Event(At(43200 + i), "healthcheck_failed", "venus", "mosquitto")
                        : Event(At(43200 + i), "service_recovered", "", "mosquitto");
  }
  tmp.Write("events/a.jsonl", lines);
  const std::vector<std::string> flags = {"--inventory", checkout.path().string()};
  const auto r = testing::Once(tmp.path(), flags);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto services = testing::World(tmp.path(), "services.json");
  EXPECT_EQ(services["venus/mosquitto"]["flap_percent"], 100);
  EXPECT_EQ(services["venus/mosquitto"]["in_inventory"], true);
  EXPECT_EQ(services["venus/grafana"]["status"], "unknown");
  EXPECT_EQ(testing::DifferenceFromCleanRun(tmp.path(), flags), "");
}

// ------------------------------------------------------ byte identity ----

// A homelab hour with every §9 rule at work, in three files whose lines are
// not in time order (some later than --events.max-lateness behind).
struct History {
  std::string saturn, mars, deploys;
};

History CraftedHistory() {
  History h;
  // saturn/mosquitto flaps (12:00:00–12:00:40, alternating), inside the
  // node's maintenance from 12:00:10 to 12:00:30; recovered at 12:01:00.25.
  h.saturn += Event(At(43210), "maintenance_started", "saturn");
  for (int i = 0; i < 41; ++i) {
    h.saturn += Event(At(43200 + i), i % 2 == 0 ? "healthcheck_passed" : "healthcheck_failed",
                      "saturn", "mosquitto", i % 7 == 3 ? R"("severity":"critical")" : "");
  }
  h.saturn += Event(At(43230), "maintenance_ended", "saturn");
  h.saturn += Event("2026-05-12T12:01:00.25Z", "service_recovered", "saturn", "mosquitto");
  h.saturn += Event(At(43500), "node_heartbeat", "saturn");
  // A failure long before, landing late: a replay.
  h.saturn += Event(At(40000), "service_unhealthy", "saturn", "grafana");
  h.saturn += Event(At(40060), "service_recovered", "", "grafana");

  // mars/grafana in its own maintenance, failing and recovering inside it;
  // mars/dns stays healthy but unchecked for long (stale under 10m).
  h.mars += Event(At(43300), "maintenance_started", "mars", "grafana");
  h.mars += Event(At(43000), "healthcheck_passed", "mars", "dns");
  h.mars += Event(At(43310), "healthcheck_failed", "mars", "grafana", R"("severity":"warning")");
  h.mars += Event(At(43320), "service_unhealthy", "mars", "grafana");
  h.mars += Event("2026-05-12T12:05:30.5Z", "service_recovered", "mars", "grafana");
  h.mars += Event(At(43800), "node_heartbeat", "mars");
  h.mars += Event(At(43900), "maintenance_started", "", "grafana");  // rejected: no node

  // A deployment of jupiter/nextcloud that fails during the node's
  // maintenance, and a retry that succeeds.
  const std::string dep = R"("correlation_id":"dep-7")";
  h.deploys += Event(At(43600), "deployment_started", "jupiter", "nextcloud", dep);
  h.deploys += Event(At(43605), "maintenance_started", "jupiter");
  h.deploys += Event(At(43660), "deployment_failed", "", "", dep);
  h.deploys += Event(At(43700), "deployment_started", "", "", dep);
  h.deploys += Event(At(43760), "deployment_succeeded", "", "", dep);
  h.deploys += Event(At(43765), "service_recovered", "jupiter", "nextcloud");
  h.deploys += Event(At(43770), "maintenance_ended", "jupiter");
  return h;
}

const std::vector<std::string> kFlags = {"--service-stale-after", "10m"};

// The lines of `text`, each with its '\n'.
std::vector<std::string> SplitLines(const std::string& text) {
  std::vector<std::string> lines;
  size_t at = 0;
  while (at < text.size()) {
    const size_t nl = text.find('\n', at);
    lines.push_back(text.substr(at, nl + 1 - at));
    at = nl + 1;
  }
  return lines;
}

void WriteAll(const fs::path& root, const History& h) {
  testing::WriteFile(root / "events" / "saturn.jsonl", h.saturn);
  testing::WriteFile(root / "events" / "mars.ndjson", h.mars);
  testing::WriteFile(root / "events" / "deploys.jsonl", h.deploys);
}

TEST(WorldRulesIdentityTest, CraftedHistoryHasEveryRuleAtWork) {
  TempDir tmp;
  WriteAll(tmp.path(), CraftedHistory());
  ASSERT_EQ(testing::Once(tmp.path(), kFlags).exit_code, 0);
  const auto services = testing::World(tmp.path(), "services.json");
  EXPECT_EQ(services["saturn/mosquitto"]["flapping"], true);
  // The last 21 results: 20 alternating, then the recovery after a pass.
  EXPECT_EQ(services["saturn/mosquitto"]["flap_percent"], (7600 - 475) / 76);
  EXPECT_EQ(services["mars/grafana"]["maintenance"], true);
  EXPECT_EQ(services["mars/dns"]["status"], "stale");
  EXPECT_EQ(services["jupiter/nextcloud"]["maintenance"], false);
  const auto nodes = testing::World(tmp.path(), "nodes.json");
  EXPECT_EQ(nodes["saturn"]["maintenance"], false);
  const auto incidents = testing::World(tmp.path(), "incidents.json");
  int flapping = 0, during = 0, fractional = 0;
  for (const auto& [id, incident] : incidents.items()) {
    EXPECT_EQ(incident["status"], "resolved") << id;
    flapping += incident["flapping"] == true;
    during += incident["during_maintenance"] == true;
    fractional += incident["duration_seconds"].is_number_float();
  }
  EXPECT_EQ(incidents.size(), 4u);
  EXPECT_EQ(flapping, 1);
  EXPECT_EQ(during, 3);  // saturn/mosquitto, mars/grafana, jupiter/nextcloud
  EXPECT_EQ(fractional, 2);
  EXPECT_EQ(testing::RejectedLines(tmp.path()).size(), 1u);
}

TEST(WorldRulesIdentityTest, OnceAgainWithoutTheCheckpointIsByteIdentical) {
  TempDir tmp;
  WriteAll(tmp.path(), CraftedHistory());
  ASSERT_EQ(testing::Once(tmp.path(), kFlags).exit_code, 0);
  const auto first = testing::WorldFiles(tmp.path());
  const auto rejected = testing::ReadFile(tmp.path() / "state" / "rejected-events.jsonl");
  fs::remove(tmp.path() / "state" / "observer_checkpoint.json");
  ASSERT_EQ(testing::Once(tmp.path(), kFlags).exit_code, 0);
  EXPECT_EQ(testing::WorldFiles(tmp.path()), first);
  EXPECT_EQ(testing::ReadFile(tmp.path() / "state" / "rejected-events.jsonl"), rejected);
}

TEST(WorldRulesIdentityTest, LineByLineOncesInAnyFileOrderAreByteIdentical) {
  const History h = CraftedHistory();
  const std::vector<std::pair<std::string, std::vector<std::string>>> files = {
      {"saturn.jsonl", SplitLines(h.saturn)},
      {"mars.ndjson", SplitLines(h.mars)},
      {"deploys.jsonl", SplitLines(h.deploys)}};
  TempDir tmp;
  fs::create_directories(tmp.path() / "events");
  // Round robin over the files, three lines at a time, a `once` after each.
  std::vector<size_t> next(files.size(), 0);
  for (bool more = true; more;) {
    more = false;
    for (size_t f = files.size(); f-- > 0;) {
      std::string chunk;
      for (int k = 0; k < 3 && next[f] < files[f].second.size(); ++k) chunk += files[f].second[next[f]++];
      if (chunk.empty()) continue;
      more = true;
      testing::AppendFile(tmp.path() / "events" / files[f].first, chunk);
      ASSERT_EQ(testing::Once(tmp.path(), kFlags).exit_code, 0);
    }
  }
  EXPECT_EQ(testing::DifferenceFromCleanRun(tmp.path(), kFlags), "");
}

TEST(WorldRulesIdentityTest, RunSigkilledPartWayThenOnceIsByteIdentical) {
  const History h = CraftedHistory();
  const std::vector<std::string> saturn = SplitLines(h.saturn);
  for (int kill_after_ms : {0, 30, 150}) {
    SCOPED_TRACE("SIGKILL " + std::to_string(kill_after_ms) + " ms after the last write");
    TempDir tmp, logs;
    // Half of saturn's lines and mars' file before the daemon starts.
    std::string first_half;
    for (size_t i = 0; i < saturn.size() / 2; ++i) first_half += saturn[i];
    testing::WriteFile(tmp.path() / "events" / "saturn.jsonl", first_half);
    testing::WriteFile(tmp.path() / "events" / "mars.ndjson", h.mars);
    std::vector<std::string> argv = {HLO_BINARY, "run", "--root", tmp.path().string(), "--now",
                                     testing::kNow, "--web.listen-address", "127.0.0.1:0"};
    argv.insert(argv.end(), kFlags.begin(), kFlags.end());
    {
      testing::Child daemon(argv, logs.path() / "out", logs.path() / "err");
      // Wait for the first batch, then the rest lands while it runs.
      const auto deadline = testing::Clock::now() + Millis(10000);
      while (!fs::exists(tmp.path() / "state" / "observer_checkpoint.json") &&
             testing::Clock::now() < deadline) {
        std::this_thread::sleep_for(Millis(5));
      }
      ASSERT_TRUE(fs::exists(tmp.path() / "state" / "observer_checkpoint.json"))
          << "the daemon wrote no checkpoint within 10 s";
      for (size_t i = saturn.size() / 2; i < saturn.size(); ++i) {
        testing::AppendFile(tmp.path() / "events" / "saturn.jsonl", saturn[i]);
      }
      testing::WriteFile(tmp.path() / "events" / ".deploys.tmp", h.deploys);
      fs::rename(tmp.path() / "events" / ".deploys.tmp", tmp.path() / "events" / "deploys.jsonl");
      std::this_thread::sleep_for(Millis(kill_after_ms));
      ASSERT_FALSE(daemon.Wait(Millis(0)).has_value()) << "the daemon ended by itself";
      daemon.Signal(SIGKILL);
      daemon.Wait(Millis(10000));
    }
    const auto r = testing::Once(tmp.path(), kFlags);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(testing::DifferenceFromCleanRun(tmp.path(), kFlags), "");
  }
}

}  // namespace
}  // namespace hlo
