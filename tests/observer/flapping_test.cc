// Flap detection (CONTRACT §9): the health results of a service entry, the
// weighted percent of state change over its last 21, the hysteresis between
// --flap.high and --flap.low, and the incidents' `flapping`. The expected
// figures are worked out by hand from the contract, and a small
// implementation of the rule kept in this file (not the observer's) checks
// FlapScore and the services.json figures over random histories.
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "observer/apply.h"
#include "observer/inventory.h"
#include "tests/fakes/event_builder.h"
#include "tests/fakes/world_json.h"

namespace hlo {
namespace {

using fakes::ApplyAll;
using fakes::Context;
using fakes::Ev;
using fakes::Seconds;
using fakes::T;
using fakes::WorldEntry;
using nlohmann::json;

const std::string kKey = "saturn/mosquitto";

Timestamp Second(int i) { return Add(T("2026-05-12T12:00:00Z"), Seconds(i)); }

// One event per letter, a second apart from 12:00:00 + `from` s, all for
// saturn/mosquitto:
//   P healthcheck_passed   R service_recovered (with node)   r service_recovered without node
//   F healthcheck_failed   U service_unhealthy   D deployment_failed naming the pair
//   H node_heartbeat       S deployment_succeeded naming the pair (neither is a result)
std::vector<Ev> Events(std::string_view pattern, int from = 0) {
  std::vector<Ev> out;
  for (char c : pattern) {
    const Timestamp at = Second(from++);
    switch (c) {
      case 'P': out.push_back(Ev("healthcheck_passed").At(at).Node("saturn").Service("mosquitto")); break;
      case 'F': out.push_back(Ev("healthcheck_failed").At(at).Node("saturn").Service("mosquitto")); break;
      case 'U': out.push_back(Ev("service_unhealthy").At(at).Node("saturn").Service("mosquitto")); break;
      case 'R': out.push_back(Ev("service_recovered").At(at).Node("saturn").Service("mosquitto")); break;
      case 'r': out.push_back(Ev("service_recovered").At(at).Service("mosquitto")); break;
      case 'D':
        out.push_back(Ev("deployment_failed").At(at).Node("saturn").Service("mosquitto")
                          .Corr("d-" + std::to_string(from)));
        break;
      case 'S':
        out.push_back(Ev("deployment_succeeded").At(at).Node("saturn").Service("mosquitto")
                          .Corr("s-" + std::to_string(from)));
        break;
      case 'H': out.push_back(Ev("node_heartbeat").At(at).Node("saturn")); break;
      default: ADD_FAILURE() << "no event for '" << c << "'";
    }
  }
  return out;
}

Model Replay(std::string_view pattern, FlapThresholds flap = {}) {
  Model model;
  ApplyAll(model, Events(pattern), Context(nullptr, flap));
  return model;
}

json Entry(const Model& model, const std::string& key = kKey) {
  return WorldEntry(model, "services.json", key);
}

// ------------------------------------------------ the test's own oracle ----

// S of CONTRACT §9 over 21 results, oldest first (true = a problem).
int OracleScore(const std::vector<bool>& window) {
  int s = 0;
  for (int x = 1; x <= 20; ++x) {
    if (window[x - 1] != window[x]) s += 285 + 10 * (x - 1);
  }
  return s;
}

// One service entry as CONTRACT §9 describes it.
struct OracleEntry {
  std::vector<bool> results;  // all of them, oldest first
  bool flapping = false;

  void Add(bool problem, FlapThresholds flap) {
    results.push_back(problem);
    if (results.size() < 21) {
      flapping = false;
      return;
    }
    const int s = Score();
    if (s >= 76 * flap.high) {
      flapping = true;
    } else if (s <= 76 * flap.low) {
      flapping = false;
    }
  }
  int Score() const {
    return OracleScore(std::vector<bool>(results.end() - 21, results.end()));
  }
  int Percent() const { return results.size() < 21 ? 0 : Score() / 76; }
};

// The states the oracle goes through for a pattern of P/F letters.
std::vector<OracleEntry> OracleStates(std::string_view pattern, FlapThresholds flap = {}) {
  std::vector<OracleEntry> states;
  OracleEntry entry;
  for (char c : pattern) {
    entry.Add(c != 'P' && c != 'R', flap);
    states.push_back(entry);
  }
  return states;
}

// ------------------------------------------------------- hand figures ----

TEST(FlappingTest, AlternatingTwentyOneResultsScoreOneHundredPercent) {
  const Model model = Replay("PFPFPFPFPFPFPFPFPFPFP");  // 20 changes: 7600
  const json entry = Entry(model);
  EXPECT_EQ(entry.at("flap_percent"), 100);
  EXPECT_EQ(entry.at("flapping"), true);
}

TEST(FlappingTest, OneChangeAtTheNewestPairWeighs475ForSixPercent) {
  const Model model = Replay("PPPPPPPPPPPPPPPPPPPPF");  // pair 20: 285 + 190 = 475
  EXPECT_EQ(Entry(model).at("flap_percent"), 6);
  EXPECT_EQ(Entry(model).at("flapping"), false);
}

TEST(FlappingTest, OneChangeAtTheOldestPairWeighs285ForThreePercent) {
  const Model model = Replay("FPPPPPPPPPPPPPPPPPPPP");  // pair 1: 285
  EXPECT_EQ(Entry(model).at("flap_percent"), 3);
  EXPECT_EQ(Entry(model).at("flapping"), false);
}

TEST(FlappingTest, PercentIsTheFloorOfScoreOver76) {
  // Pairs 1 and 20 change: 285 + 475 = 760 = 10 × 76, exactly 10.
  EXPECT_EQ(Entry(Replay("FPPPPPPPPPPPPPPPPPPPF")).at("flap_percent"), 10);
  // Pairs 19 and 20 change: 465 + 475 = 940 → 12.37 → 12.
  EXPECT_EQ(Entry(Replay("PPPPPPPPPPPPPPPPPPPFP")).at("flap_percent"), 12);
}

TEST(FlappingTest, SteadyResultsScoreZero) {
  EXPECT_EQ(Entry(Replay(std::string(21, 'P'))).at("flap_percent"), 0);
  EXPECT_EQ(Entry(Replay(std::string(30, 'F'))).at("flap_percent"), 0);
}

TEST(FlappingTest, FewerThanTwentyOneResultsAreZeroAndNotFlapping) {
  const std::string twenty = "PFPFPFPFPFPFPFPFPFPF";  // 19 changes, but only 20 results
  const json entry = Entry(Replay(twenty));
  EXPECT_EQ(entry.at("flap_percent"), 0);
  EXPECT_EQ(entry.at("flapping"), false);
  // The 21st result makes the window: 20 changes.
  const json full = Entry(Replay(twenty + "P"));
  EXPECT_EQ(full.at("flap_percent"), 100);
  EXPECT_EQ(full.at("flapping"), true);
}

TEST(FlappingTest, NoResultsAtAllAreZeroAndNotFlapping) {
  const Model model = [] {
    Model m;
    ApplyAll(m, {Ev("deployment_started").At("2026-05-12T12:00:00Z").Node("saturn")
                     .Service("mosquitto").Corr("d-1")},
             Context());
    return m;
  }();
  EXPECT_EQ(Entry(model).at("flap_percent"), 0);
  EXPECT_EQ(Entry(model).at("flapping"), false);
}

TEST(FlappingTest, OnlyTheLastTwentyOneResultsCount) {
  // 30 alternating results, then 21 passes: the changes have left the window.
  const Model model = Replay("PFPFPFPFPFPFPFPFPFPFPFPFPFPFPF" + std::string(21, 'P'));
  EXPECT_EQ(Entry(model).at("flap_percent"), 0);
  EXPECT_EQ(Entry(model).at("flapping"), false);
  // 22 results, the only change between the first two: out of the window.
  EXPECT_EQ(Entry(Replay("F" + std::string(21, 'P'))).at("flap_percent"), 0);
  // Between results 2 and 3 of 22: now the oldest pair of the window.
  EXPECT_EQ(Entry(Replay("PF" + std::string(20, 'P'))).at("flap_percent"), 3);
}

// ---------------------------------------------------------- hysteresis ----

TEST(FlappingTest, EntersAtExactlyHighThreshold) {
  // Changes at pairs 1, 2, 3, 18, 19, 20: 285+295+305+455+465+475 = 2280 = 76 × 30.
  const std::string at_high = "PFPFFFFFFFFFFFFFFFPFP";
  const json entry = Entry(Replay(at_high));
  EXPECT_EQ(entry.at("flap_percent"), 30);
  EXPECT_EQ(entry.at("flapping"), true);
  // Pairs 1, 2, 3, 17, 19, 20: 2270, below 2280.
  const std::string below = "PFPFFFFFFFFFFFFFFPPFP";
  const json below_entry = Entry(Replay(below));
  EXPECT_EQ(below_entry.at("flap_percent"), 29);
  EXPECT_EQ(below_entry.at("flapping"), false);
}

// 21 alternating results (flapping, 100%), then 21 more whose window, the
// last, scores `final`; every window in between scores above 76 × 20.
constexpr char kFlappingThen1520[] = "FPFPFPFPFPFPFPFPFPFPF" "PFFFPPPPPPPPPPPPPPFPP";
constexpr char kFlappingThen1530[] = "FPFPFPFPFPFPFPFPFPFPF" "PFFFFPPPPPPPPPPPPPFPP";

TEST(FlappingTest, LeavesAtExactlyLowThreshold) {
  // The last window changes at pairs 1, 4, 18, 19: 285+315+455+465 = 1520 = 76 × 20.
  const std::string pattern = kFlappingThen1520;
  ASSERT_EQ(pattern.size(), 42u);
  const Model before = Replay(pattern.substr(0, 41));
  EXPECT_EQ(Entry(before).at("flapping"), true);
  const json entry = Entry(Replay(pattern));
  EXPECT_EQ(entry.at("flap_percent"), 20);
  EXPECT_EQ(entry.at("flapping"), false);
}

TEST(FlappingTest, StaysFlappingBetweenTheThresholds) {
  // Pairs 1, 5, 18, 19: 285+325+455+465 = 1530, just above 1520.
  const std::string pattern = kFlappingThen1530;
  const json entry = Entry(Replay(pattern));
  EXPECT_EQ(entry.at("flap_percent"), 20);
  EXPECT_EQ(entry.at("flapping"), true);
  // Every state on the way was flapping too.
  Model model;
  const std::vector<Ev> events = Events(pattern);
  for (size_t i = 0; i < events.size(); ++i) {
    Apply(model, events[i].event(), Context());
    if (i >= 20) {
      EXPECT_EQ(Entry(model).at("flapping"), true) << "after result " << i + 1;
    }
  }
}

TEST(FlappingTest, StaysNotFlappingBetweenTheThresholds) {
  // A score strictly between 1520 and 2280 on an entry that is not flapping
  // keeps it so. Changes at pairs 2, 4, 18, 19, 20: 295+315+455+465+475 =
  // 2005 → 26%.
  const std::string pattern = "PPFFPPPPPPPPPPPPPPFPF";
  const json entry = Entry(Replay(pattern));
  EXPECT_EQ(entry.at("flap_percent"), 26);
  EXPECT_EQ(entry.at("flapping"), false);
}

TEST(FlappingTest, CustomThresholdsMoveBothEdges) {
  // --flap.high 6 --flap.low 4: 456 to enter, 304 to leave. A single change
  // moving from the newest pair toward the oldest weighs 475, 465, …, 285.
  const FlapThresholds flap{.high = 6, .low = 4};
  std::string pattern = std::string(20, 'P') + "F";  // 475 ≥ 456: enters
  EXPECT_EQ(Entry(Replay(pattern, flap)).at("flapping"), true);
  EXPECT_EQ(Entry(Replay(pattern)).at("flapping"), false) << "not with the defaults";
  pattern += std::string(17, 'F');  // the change at pair 3: 305 > 304, stays
  EXPECT_EQ(Entry(Replay(pattern, flap)).at("flap_percent"), 4);
  EXPECT_EQ(Entry(Replay(pattern, flap)).at("flapping"), true);
  pattern += "F";  // pair 2: 295 ≤ 304, leaves
  EXPECT_EQ(Entry(Replay(pattern, flap)).at("flap_percent"), 3);
  EXPECT_EQ(Entry(Replay(pattern, flap)).at("flapping"), false);
  // --flap.high 7 (532): 475 never enters.
  EXPECT_EQ(Entry(Replay(std::string(20, 'P') + "F", {.high = 7, .low = 4})).at("flapping"),
            false);
}

// --------------------------------------------------- what is a result ----

TEST(FlappingTest, EveryFailureKindIsAProblem) {
  // Alternating OK and problems, each problem of another kind: 100%.
  for (const char* pattern : {"PFPFPFPFPFPFPFPFPFPFP", "PUPUPUPUPUPUPUPUPUPUP",
                              "PDPDPDPDPDPDPDPDPDPDP", "PFPUPDPFPUPDPFPUPDPFP"}) {
    EXPECT_EQ(Entry(Replay(pattern)).at("flap_percent"), 100) << pattern;
  }
}

TEST(FlappingTest, PassedAndRecoveredAreOk) {
  for (const char* pattern : {"FPFPFPFPFPFPFPFPFPFPF", "FRFRFRFRFRFRFRFRFRFRF",
                              "FrFrFrFrFrFrFrFrFrFrF", "FPFRFrFPFRFrFPFRFrFPF"}) {
    EXPECT_EQ(Entry(Replay(pattern)).at("flap_percent"), 100) << pattern;
  }
}

TEST(FlappingTest, HeartbeatsAndDeploymentsWithoutFailureAreNoResults) {
  // 20 alternating results with other events between: still 20, so 0%.
  const Model model = Replay("PHFSPHFS" "PFPFPFPFPFPFPFPF");
  EXPECT_EQ(Entry(model).at("flap_percent"), 0);
  EXPECT_EQ(Entry(model).at("flapping"), false);
}

TEST(FlappingTest, DeploymentFailedTakesItsEntryFromItsDeployment) {
  // deployment_failed without node or service is a failure of the entry its
  // deployment names.
  Model model;
  ApplyAll(model,
           {Ev("deployment_started").At(Second(0)).Node("saturn").Service("mosquitto").Corr("d")},
           Context());
  std::vector<Ev> events;
  for (int i = 1; i <= 21; ++i) {
    if (i % 2 == 1) {
      events.push_back(Ev("healthcheck_passed").At(Second(i)).Node("saturn").Service("mosquitto"));
    } else {
      events.push_back(Ev("deployment_failed").At(Second(i)).Corr("d"));
    }
  }
  ApplyAll(model, events, Context());
  EXPECT_EQ(Entry(model).at("flap_percent"), 100);
}

TEST(FlappingTest, DeploymentFailedWithoutAKnownEntryIsNoResultAnywhere) {
  Model model = Replay("PFPFPFPFPFPFPFPFPFPF");  // 20 results
  ApplyAll(model, {Ev("deployment_failed").At(Second(30)).Corr("nowhere")}, Context());
  EXPECT_EQ(Entry(model).at("flap_percent"), 0);
  ApplyAll(model, {Ev("healthcheck_passed").At(Second(31)).Node("saturn").Service("mosquitto")},
           Context());
  // The 21st result is the passed check: 21 alternating results. (Had the
  // failed deployment counted, the window would end F, F, P: 93%.)
  EXPECT_EQ(Entry(model).at("flap_percent"), 100);
}

TEST(FlappingTest, ResultsAreKeptPerEntry) {
  // Alternation spread over two entries: each sees only its own steady results.
  Model model;
  std::vector<Ev> events;
  for (int i = 0; i < 42; ++i) {
    const std::string node = i % 2 == 0 ? "saturn" : "jupiter";
    events.push_back(Ev(i % 4 < 2 ? "healthcheck_passed" : "healthcheck_failed")
                         .At(Second(i)).Node(node).Service("mosquitto"));
  }
  ApplyAll(model, events, Context());
  // saturn gets results 0, 2, 4, … : P F P F … ; jupiter 1, 3, 5, …: P F P F … too.
  EXPECT_EQ(Entry(model, "saturn/mosquitto").at("flap_percent"), 100);
  EXPECT_EQ(Entry(model, "jupiter/mosquitto").at("flap_percent"), 100);
}

TEST(FlappingTest, NodelessRecoveryGivesOneResultToEachEntryItReaches) {
  // saturn/mosquitto from events only; venus/mosquitto from events and the
  // inventory; both get failures alternating with node-less recoveries. One
  // result per recovery each: 21 alternating results, 100%. (Two results
  // from one recovery would put two OKs side by side.)
  Inventory inventory;
  inventory.nodes["venus"] = {"venus", {}, "", {}};
  inventory.services["venus"] = {"mosquitto"};
  Model model;
  std::vector<Ev> events;
  for (int i = 0; i < 21; ++i) {
    if (i % 2 == 1) {
      events.push_back(Ev("service_recovered").At(Second(i)).Service("mosquitto"));
    } else {
      for (const char* node : {"saturn", "venus"}) {
        events.push_back(Ev("healthcheck_failed").At(Second(i)).Node(node).Service("mosquitto"));
      }
    }
  }
  ApplyAll(model, events, Context(&inventory));
  const json services = fakes::WorldJson(model, "services.json", {.inventory = &inventory});
  for (const char* key : {"saturn/mosquitto", "venus/mosquitto"}) {
    EXPECT_EQ(services.at(key).at("flap_percent"), 100) << key;
    EXPECT_EQ(services.at(key).at("flapping"), true) << key;
  }
}

TEST(FlappingTest, NodelessRecoveryGivesOneResultToAnInventoryOnlyEntry) {
  // venus/mosquitto exists only in the inventory until the first recovery
  // reaches it; then 20 failures and recoveries alternate after it.
  Inventory inventory;
  inventory.nodes["venus"] = {"venus", {}, "", {}};
  inventory.services["venus"] = {"mosquitto"};
  Model model;
  std::vector<Ev> events;
  for (int i = 0; i < 21; ++i) {
    events.push_back(i % 2 == 0
                         ? Ev("service_recovered").At(Second(i)).Service("mosquitto")
                         : Ev("healthcheck_failed").At(Second(i)).Node("venus").Service("mosquitto"));
  }
  ApplyAll(model, events, Context(&inventory));
  const json services = fakes::WorldJson(model, "services.json", {.inventory = &inventory});
  EXPECT_EQ(services.at("venus/mosquitto").at("flap_percent"), 100);
}

// --------------------------------------------------------- incidents ----

const IncidentState* IncidentAt(const Model& model, int second) {
  for (const auto& [id, incident] : model.incidents) {
    if (incident.started_at == Second(second)) return &incident;
  }
  ADD_FAILURE() << "no incident started at second " << second;
  return nullptr;
}

json IncidentJson(const Model& model, int second) {
  const IncidentState* incident = IncidentAt(model, second);
  return incident == nullptr ? json() : WorldEntry(model, "incidents.json", incident->id);
}

TEST(FlappingTest, IncidentIsNotFlappingWhenTheEntryStartsFlappingOnlyAfterItsOccurrences) {
  // Failures with healthcheck_passed (which resolves nothing) between: one
  // incident from second 1 to 19. The entry flaps from the 21st result, a pass.
  const Model model = Replay("PFPFPFPFPFPFPFPFPFPFP");
  EXPECT_EQ(Entry(model).at("flapping"), true);
  EXPECT_EQ(model.incidents.size(), 1u);
  EXPECT_EQ(IncidentJson(model, 1).at("flapping"), false);
}

TEST(FlappingTest, IncidentIsFlappingWhenItsOccurrenceMakesTheEntryFlap) {
  const Model model = Replay("FPFPFPFPFPFPFPFPFPFPF");  // the 21st result is a failure
  EXPECT_EQ(IncidentJson(model, 0).at("flapping"), true);
  EXPECT_EQ(IncidentJson(model, 0).at("occurrence_count"), 11);
}

TEST(FlappingTest, IncidentStaysFlappingAfterTheEntryCalmsDown) {
  const Model model = Replay("FPFPFPFPFPFPFPFPFPFPF" + std::string(21, 'F'));
  EXPECT_EQ(Entry(model).at("flapping"), false);
  EXPECT_EQ(IncidentJson(model, 0).at("flapping"), true);
}

TEST(FlappingTest, WhileFlappingFailuresAddToTheIncidentAndRecoveriesResolve) {
  // Alternating failures and recoveries: a new incident every other second.
  const Model model = Replay("FRFRFRFRFRFRFRFRFRFRFRFRF");
  EXPECT_EQ(Entry(model).at("flapping"), true);
  EXPECT_EQ(model.incidents.size(), 13u);
  for (int s = 0; s < 20; s += 2) {
    EXPECT_EQ(IncidentJson(model, s).at("flapping"), false) << s;  // fewer than 21 results
    EXPECT_EQ(IncidentJson(model, s).at("status"), "resolved") << s;
  }
  for (int s = 20; s <= 22; s += 2) {
    EXPECT_EQ(IncidentJson(model, s).at("flapping"), true) << s;
    EXPECT_EQ(IncidentJson(model, s).at("status"), "resolved") << s;
  }
  EXPECT_EQ(IncidentJson(model, 24).at("status"), "active");
  EXPECT_EQ(IncidentJson(model, 24).at("flapping"), true);

  // Failures while flapping still add to the active incident.
  const Model adds = Replay("FPFPFPFPFPFPFPFPFPFPFFPF");
  EXPECT_EQ(adds.incidents.size(), 1u);
  EXPECT_EQ(IncidentJson(adds, 0).at("occurrence_count"), 13);
  EXPECT_EQ(IncidentJson(adds, 0).at("status"), "active");
}

TEST(FlappingTest, IncidentIsFlappingWhenALaterOccurrenceFollowsFlapping) {
  // Opened before the window is full, one more failure once the entry flaps.
  const Model model = Replay("PFPFPFPFPFPFPFPFPFPFPF");
  EXPECT_EQ(model.incidents.size(), 1u);
  EXPECT_EQ(IncidentJson(model, 1).at("flapping"), true);
}

// ------------------------------------------ against the test's oracle ----

TEST(FlappingTest, FlapScoreAgreesWithTheOracleOverRandomBitPatterns) {
  std::mt19937 rng(20260512);
  for (int n = 0; n < 20000; ++n) {
    const uint32_t bits = rng() & ((1u << 21) - 1);
    // FlapScore's bits: the newest result in bit 0, 1 = a problem.
    std::vector<bool> window(21);
    for (int x = 1; x <= 21; ++x) window[x - 1] = ((bits >> (21 - x)) & 1u) != 0;
    ASSERT_EQ(FlapScore(bits), OracleScore(window)) << std::hex << bits;
  }
  EXPECT_EQ(FlapScore(0), 0);
  EXPECT_EQ(FlapScore(0b101010101010101010101), 7600);
  EXPECT_EQ(FlapScore(0b000000000000000000001), 475);
  EXPECT_EQ(FlapScore(0b100000000000000000000), 285);
}

TEST(FlappingTest, ServicesJsonAgreesWithTheOracleAfterEveryResultOfRandomHistories) {
  std::mt19937 rng(7);
  const FlapThresholds thresholds[] = {{}, {.high = 50, .low = 10}, {.high = 6, .low = 4},
                                       {.high = 100, .low = 0}, {.high = 40, .low = 39}};
  for (int trial = 0; trial < 40; ++trial) {
    const FlapThresholds flap = thresholds[trial % std::size(thresholds)];
    // Bursts of steady results and of alternation, so both edges are crossed.
    std::string pattern;
    while (pattern.size() < 80) {
      const int run = static_cast<int>(rng() % 12) + 1;
      const bool alternate = rng() % 2 == 0;
      for (int i = 0; i < run; ++i) {
        const bool problem = alternate ? (i % 2 == 0) : (rng() % 8 == 0);
        pattern += problem ? 'F' : 'P';
      }
    }
    const std::vector<OracleEntry> expected = OracleStates(pattern, flap);
    const std::vector<Ev> events = Events(pattern);
    Model model;
    const ApplyContext context = Context(nullptr, flap);
    for (size_t i = 0; i < events.size(); ++i) {
      Apply(model, events[i].event(), context);
      const WorldSnapshot world = fakes::SnapshotOf(model);
      ASSERT_EQ(world.services.size(), 1u);
      const ServiceView& view = world.services.front();
      ASSERT_EQ(view.flap_percent, expected[i].Percent())
          << "trial " << trial << " after result " << i + 1 << " of " << pattern;
      ASSERT_EQ(view.flapping, expected[i].flapping)
          << "trial " << trial << " after result " << i + 1 << " of " << pattern << " (high "
          << flap.high << ", low " << flap.low << ")";
    }
  }
}

}  // namespace
}  // namespace hlo
