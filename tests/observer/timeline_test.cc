// The lateness window: whatever the arrival order within it, the model is the
// one of applying every event in processing order; what left the window is
// refused; the checkpoint's view of it rebuilds the same model.
#include "observer/timeline.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>

#include "tests/fakes/event_builder.h"

namespace hlo {
namespace {

using fakes::Ev;

const char* const kTypes[] = {"node_heartbeat",      "node_down",          "healthcheck_passed",
                              "healthcheck_failed",  "service_unhealthy",  "service_recovered",
                              "deployment_started",  "deployment_stage",   "deployment_succeeded",
                              "deployment_failed",   "custom_type"};

// Random events over a few nodes, services and deployments, one second
// apart on average (with ties), each with a distinct (file, line).
std::vector<TimedEvent> RandomEvents(std::mt19937_64& rng, size_t n) {
  std::vector<TimedEvent> out;
  const char* nodes[] = {"jupiter", "saturn", "mars"};
  const char* services[] = {"dns", "mqtt"};
  for (size_t i = 0; i < n; ++i) {
    Ev e(kTypes[rng() % std::size(kTypes)]);
    e.At(Timestamp{1'800'000'000 + static_cast<int64_t>(rng() % n), static_cast<int32_t>(rng() % 3)});
    if (rng() % 8 != 0) e.Node(nodes[rng() % 3]);
    e.Service(services[rng() % 2]).Corr("d-" + std::to_string(rng() % 4)).Stage("pull");
    if (rng() % 3 == 0) e.Sev(static_cast<Severity>(rng() % 4));
    if (rng() % 5 == 0) e.Diag({"x.log"});
    // Some carry ids, a few of them the same: duplicates the window must
    // tell apart by processing order.
    if (rng() % 3 == 0) e.Id("id-" + std::to_string(rng() % (n / 4 + 1)));
    Event event = e.event();
    // Shapes Apply would never be given are rejected by the parser first.
    if (event.type == EventType::kHealthcheckPassed || event.type == EventType::kHealthcheckFailed ||
        event.type == EventType::kServiceUnhealthy) {
      if (event.node.empty()) event.node = "venus";
    }
    out.push_back({OrderKey{event.timestamp, "f" + std::to_string(rng() % 3) + ".jsonl", i + 1},
                   std::move(event)});
  }
  return out;
}

Model InOrder(std::vector<TimedEvent> events, const ApplyContext& context) {
  std::sort(events.begin(), events.end(),
            [](const TimedEvent& a, const TimedEvent& b) { return a.key < b.key; });
  Model model;
  for (const TimedEvent& e : events) Apply(model, e.event, context);
  return model;
}

const ApplyContext kContext{std::string(fakes::kLogsDir), nullptr, {}};

TEST(TimelineTest, AnyArrivalOrderWithinTheWindowGivesTheModelOfProcessingOrder) {
  for (uint64_t seed = 0; seed < 60; ++seed) {
    std::mt19937_64 rng(seed);
    std::vector<TimedEvent> events = RandomEvents(rng, 120);
    const Model expected = InOrder(events, kContext);
    std::shuffle(events.begin(), events.end(), rng);
    Model model;
    ModelIndex index;
    index.Reset(model);
    Timeline timeline(Duration{1'000'000'000'000});  // wider than the events
    size_t at = 0;
    while (at < events.size()) {
      const size_t take = std::min(events.size() - at, 1 + static_cast<size_t>(rng() % 9));
      std::vector<TimedEvent> batch(events.begin() + at, events.begin() + at + take);
      std::sort(batch.begin(), batch.end(),
                [](const TimedEvent& a, const TimedEvent& b) { return a.key < b.key; });
      for (const TimedEvent& e : batch) ASSERT_TRUE(timeline.Accepts(e.key));
      timeline.Insert(model, index, kContext, std::move(batch));
      timeline.Trim(model.counters.last_event_at);
      at += take;
    }
    ASSERT_EQ(model, expected) << "seed " << seed;
  }
}

TEST(TimelineTest, EventsOlderThanTheWindowLeaveItAndAreRefused) {
  Timeline timeline(Duration{60'000'000'000});  // 1m
  Model model;
  ModelIndex index;
  auto at = [](int64_t s, uint64_t line) {
    TimedEvent t{OrderKey{Timestamp{s, 0}, "a.jsonl", line}, Ev("node_heartbeat").Node("n").event()};
    t.event.timestamp = t.key.timestamp;
    return t;
  };
  std::vector<TimedEvent> first;
  first.push_back(at(1000, 1));
  first.push_back(at(1100, 2));
  timeline.Insert(model, index, kContext, std::move(first));
  timeline.Trim(model.counters.last_event_at);
  EXPECT_EQ(timeline.size(), 1u);  // 1000 is more than a minute behind 1100
  EXPECT_FALSE(timeline.Accepts(at(1000, 0).key));
  EXPECT_FALSE(timeline.Accepts(at(999, 9).key));
  EXPECT_TRUE(timeline.Accepts(at(1040, 3).key));  // exactly max-lateness behind: folded
  std::vector<TimedEvent> late;
  late.push_back(at(1040, 3));
  EXPECT_EQ(timeline.Insert(model, index, kContext, std::move(late)), 1u);
  EXPECT_EQ(model.nodes.at("n").last_seen, (Timestamp{1100, 0}));
}

TEST(TimelineTest, SavedWindowRestoresTheSameModelAndKeepsFolding) {
  std::mt19937_64 rng(7);
  std::vector<TimedEvent> events = RandomEvents(rng, 200);
  const Model expected = InOrder(events, kContext);
  std::sort(events.begin(), events.end(),
            [](const TimedEvent& a, const TimedEvent& b) { return a.key < b.key; });
  // The last 40 arrive after a restart, shuffled.
  std::vector<TimedEvent> later(events.end() - 40, events.end());
  events.resize(events.size() - 40);
  std::shuffle(later.begin(), later.end(), rng);

  Model model;
  ModelIndex index;
  Timeline timeline(Duration{1'000'000'000'000});
  timeline.Insert(model, index, kContext, std::vector<TimedEvent>(events));
  Timeline::Saved saved = timeline.Save(model);
  std::vector<TimedEvent> kept;
  for (const TimedEvent* e : saved.events) kept.push_back(*e);

  Model reloaded = model;  // what the checkpoint and world files hold
  ModelIndex reloaded_index;
  Timeline restored(Duration{1'000'000'000'000});
  ASSERT_TRUE(restored.Restore(reloaded, reloaded_index, kContext, saved.floor, std::move(kept),
                               saved.before, saved.absent, saved.added_ids));
  EXPECT_EQ(reloaded, model);
  for (TimedEvent& e : later) {
    std::vector<TimedEvent> one;
    one.push_back(std::move(e));
    restored.Insert(reloaded, reloaded_index, kContext, std::move(one));
  }
  EXPECT_EQ(reloaded, expected);
}

TEST(TimelineTest, RestoreRefusesAWindowThatDoesNotRebuildTheModel) {
  std::mt19937_64 rng(3);
  std::vector<TimedEvent> events = RandomEvents(rng, 50);
  std::sort(events.begin(), events.end(),
            [](const TimedEvent& a, const TimedEvent& b) { return a.key < b.key; });
  Model model;
  ModelIndex index;
  Timeline timeline(Duration{1'000'000'000'000});
  timeline.Insert(model, index, kContext, std::move(events));
  Timeline::Saved saved = timeline.Save(model);
  std::vector<TimedEvent> kept;
  for (const TimedEvent* e : saved.events) kept.push_back(*e);
  kept.pop_back();  // one event short
  Timeline restored;
  EXPECT_FALSE(restored.Restore(model, index, kContext, saved.floor, std::move(kept), saved.before,
                                saved.absent, saved.added_ids));
}

TEST(TimelineTest, UndoPutsBackEveryEntryAnEventTouched) {
  Model model;
  Apply(model, Ev("service_unhealthy").At("2026-05-12T12:00:00Z").Node("a").Service("dns").event(),
        kContext);
  Apply(model, Ev("service_unhealthy").At("2026-05-12T12:00:00Z").Node("b").Service("dns").event(),
        kContext);
  const Model before = model;
  UndoStep step;
  Apply(model, Ev("service_recovered").At("2026-05-12T12:01:00Z").Service("dns").event(), kContext,
        {nullptr, &step});
  ASSERT_NE(model, before);
  step.Undo(model);
  EXPECT_EQ(model, before);
}

}  // namespace
}  // namespace hlo
