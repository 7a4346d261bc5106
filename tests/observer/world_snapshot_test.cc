// BuildSnapshot with a kept HistorySummary (as `run` does between batches)
// gives exactly the snapshot it computes on its own.
#include <gtest/gtest.h>

#include "observer/apply.h"
#include "observer/world_serializer.h"
#include "observer/world_snapshot.h"

namespace hlo {
namespace {

Event At(EventType type, int64_t at, std::string node, std::string service,
         std::string correlation_id = "") {
  Event e;
  e.type = type;
  e.timestamp = {at, 0};
  e.node = std::move(node);
  e.service = std::move(service);
  e.correlation_id = std::move(correlation_id);
  return e;
}

Model Busy() {
  Model model;
  const ApplyContext context;
  int64_t t = 1'700'000'000;
  for (int i = 0; i < 40; ++i) {
    const std::string node = "node-" + std::to_string(i % 7);
    const std::string service = "svc-" + std::to_string(i % 3);
    Apply(model, At(EventType::kServiceUnhealthy, ++t, node, service), context);
    if (i % 2 == 0) Apply(model, At(EventType::kServiceRecovered, ++t, node, service), context);
    Apply(model, At(EventType::kDeploymentStarted, ++t, node, service, "d-" + std::to_string(i)),
          context);
    if (i % 3 == 0) {
      Apply(model, At(EventType::kDeploymentFailed, ++t, node, service, "d-" + std::to_string(i)),
            context);
    }
  }
  return model;
}

TEST(WorldSnapshotTest, KeptHistorySummaryGivesTheSameSnapshot) {
  const Model model = Busy();
  SnapshotInputs in;
  in.model = &model;
  in.now = {1'700'001'000, 0};
  const auto computed = SerializeWorld(BuildSnapshot(in), model);
  const HistorySummary history = SummarizeHistory(model);
  EXPECT_FALSE(history.active_incidents.empty());
  in.history = &history;
  const WorldSnapshot kept = BuildSnapshot(in);
  const auto from_kept = SerializeWorld(kept, model);
  for (size_t i = 0; i < computed.size(); ++i) {
    EXPECT_EQ(from_kept[i].content, computed[i].content) << computed[i].name;
  }
  EXPECT_EQ(kept.active_incidents, history.active_incidents);
}

TEST(WorldSnapshotTest, ApplyMovesTheIndexRevisionOfWhatItChanges) {
  Model model = Busy();
  ModelIndex index;
  index.Reset(model);
  const ApplyHooks hooks{&index, nullptr};
  const HistoryRevisions before = index.revisions();
  Apply(model, At(EventType::kNodeHeartbeat, 1'800'000'000, "node-1", ""), ApplyContext{}, hooks);
  EXPECT_EQ(index.revisions(), before);
  Apply(model, At(EventType::kHealthcheckFailed, 1'800'000'001, "node-1", "svc-9"),
        ApplyContext{}, hooks);
  EXPECT_NE(index.revisions().incidents, before.incidents);
  EXPECT_EQ(index.revisions().deployments, before.deployments);
  Apply(model, At(EventType::kDeploymentSucceeded, 1'800'000'002, "node-1", "svc-9", "d-1"),
        ApplyContext{}, hooks);
  EXPECT_NE(index.revisions().deployments, before.deployments);
}

}  // namespace
}  // namespace hlo
