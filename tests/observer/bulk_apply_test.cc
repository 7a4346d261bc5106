// Bulk mode (ModelIndex::BeginBulk … FinishBulk), as a replay applies: a
// service_recovered without a node is recorded once for its service and its
// entries catch up when next touched. Whatever the mix, the model must be the
// one of giving every such recovery to every entry at once.
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "observer/apply.h"
#include "observer/model_index.h"
#include "tests/fakes/event_builder.h"

namespace hlo {
namespace {

using fakes::Ev;

// Events over 6 nodes and 3 services, heavy in failures, checks and
// node-less recoveries (so entries miss several in a row, flap, and have
// incidents opened and resolved between them), one second apart.
std::vector<Event> MixedEvents(std::mt19937_64& rng, size_t n) {
  const char* const nodes[] = {"n1", "n2", "n3", "n4", "n5", "n6"};
  const char* const services[] = {"dns", "mqtt", "grafana"};
  const char* const types[] = {"healthcheck_passed", "healthcheck_failed", "service_unhealthy",
                               "service_recovered",  "service_recovered",  "service_recovered",
                               "deployment_started", "deployment_failed",  "maintenance_started",
                               "maintenance_ended",  "node_heartbeat"};
  std::vector<Event> out;
  for (size_t i = 0; i < n; ++i) {
    Ev e(types[rng() % std::size(types)]);
    e.At(Timestamp{1'800'000'000 + static_cast<int64_t>(i), 0});
    e.Node(nodes[rng() % std::size(nodes)]).Service(services[rng() % std::size(services)]);
    e.Corr("d-" + std::to_string(rng() % 5));
    if (rng() % 4 == 0) e.Sev(static_cast<Severity>(rng() % 4));
    Event event = e.event();
    if (event.type == EventType::kServiceRecovered && rng() % 3 != 0) event.node.clear();
    if (event.type == EventType::kMaintenanceStarted || event.type == EventType::kMaintenanceEnded) {
      if (rng() % 2 == 0) event.service.clear();
    }
    out.push_back(std::move(event));
  }
  return out;
}

// The inventory holds entries the events never name (n7, n8) and some
// they do.
Inventory TestInventory() {
  Inventory inventory;
  inventory.services["n1"] = {"dns"};
  inventory.services["n7"] = {"dns", "mqtt"};
  inventory.services["n8"] = {"grafana"};
  return inventory;
}

Model ApplyEach(const std::vector<Event>& events, const ApplyContext& context, bool with_index) {
  Model model;
  ModelIndex index;
  index.Reset(model);
  for (const Event& e : events) Apply(model, e, context, {with_index ? &index : nullptr, nullptr});
  return model;
}

// In bulk from the start, or from `bulk_from` on a model built before.
Model ApplyInBulk(const std::vector<Event>& events, const ApplyContext& context,
                  size_t bulk_from = 0) {
  Model model;
  ModelIndex index;
  index.Reset(model);
  for (size_t i = 0; i < bulk_from; ++i) Apply(model, events[i], context, {&index, nullptr});
  index.BeginBulk();
  for (size_t i = bulk_from; i < events.size(); ++i) Apply(model, events[i], context, {&index, nullptr});
  FinishBulk(model, index, context);
  EXPECT_FALSE(index.bulk());
  return model;
}

TEST(BulkApplyTest, DeferredNodelessRecoveriesGiveTheModelOfApplyingThemAtOnce) {
  const Inventory inventory = TestInventory();
  for (const FlapThresholds flap : {FlapThresholds{}, FlapThresholds{10, 5}, FlapThresholds{0, 0}}) {
    const ApplyContext context{std::string(fakes::kLogsDir), &inventory, flap};
    for (uint64_t seed = 1; seed <= 40; ++seed) {
      std::mt19937_64 rng(seed);
      const std::vector<Event> events = MixedEvents(rng, 400);
      const Model reference = ApplyEach(events, context, /*with_index=*/false);
      EXPECT_EQ(ApplyEach(events, context, /*with_index=*/true), reference) << "seed " << seed;
      EXPECT_EQ(ApplyInBulk(events, context), reference) << "seed " << seed;
      EXPECT_EQ(ApplyInBulk(events, context, /*bulk_from=*/rng() % 400), reference)
          << "seed " << seed;
    }
  }
}

TEST(BulkApplyTest, ANodelessRecoveryReachesEntriesOnlyTheInventoryHolds) {
  const Inventory inventory = TestInventory();
  const ApplyContext context{std::string(fakes::kLogsDir), &inventory, {}};
  const std::vector<Event> events = {
      Ev("service_unhealthy").At("2026-05-12T12:00:00Z").Node("n1").Service("dns").event(),
      Ev("service_recovered").At("2026-05-12T12:01:00Z").Service("dns").event(),
      Ev("service_recovered").At("2026-05-12T12:02:00Z").Service("dns").event()};
  const Model model = ApplyInBulk(events, context);
  ASSERT_TRUE(model.services.contains(std::string_view("n7/dns")));
  const ServiceState& inventory_only = model.services.at("n7/dns");
  EXPECT_TRUE(inventory_only.health_seen);
  EXPECT_EQ(inventory_only.results, 2);
  EXPECT_EQ(inventory_only.last_check, fakes::T("2026-05-12T12:02:00Z"));
  const ServiceState& failed = model.services.at("n1/dns");
  EXPECT_TRUE(failed.active_incident.empty());
  EXPECT_EQ(failed.results, 3);
  ASSERT_EQ(model.incidents.size(), 1u);
  // Resolved by the first recovery, not the last one.
  EXPECT_EQ(model.incidents.begin()->second.resolved_at, fakes::T("2026-05-12T12:01:00Z"));
  EXPECT_FALSE(model.services.contains(std::string_view("n8/dns")));
}

TEST(BulkApplyTest, AnEntryAddedAfterANodelessRecoveryDoesNotReceiveIt) {
  const ApplyContext context{std::string(fakes::kLogsDir), nullptr, {}};
  const std::vector<Event> events = {
      Ev("healthcheck_passed").At("2026-05-12T12:00:00Z").Node("n1").Service("dns").event(),
      Ev("service_recovered").At("2026-05-12T12:01:00Z").Service("dns").event(),
      Ev("healthcheck_failed").At("2026-05-12T12:02:00Z").Node("n2").Service("dns").event()};
  const Model model = ApplyInBulk(events, context);
  EXPECT_EQ(model.services.at("n1/dns").results, 2);
  EXPECT_EQ(model.services.at("n2/dns").results, 1);
  EXPECT_FALSE(model.services.at("n2/dns").active_incident.empty());
}

}  // namespace
}  // namespace hlo
