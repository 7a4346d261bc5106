// The world files of a model as JSON, for the core's unit tests of the §9
// rules: the model joined as BuildSnapshot joins it (clock, inventory,
// --node-stale-after, --service-stale-after) and written as `once` writes it.
//   json services = fakes::WorldJson(model, "services.json", {.now = "…"});
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "observer/apply.h"
#include "observer/world_serializer.h"
#include "observer/world_snapshot.h"
#include "tests/fakes/event_builder.h"

namespace hlo::fakes {

// What goes into a snapshot besides the model. The default clock is an hour
// after the tests' events (12:00) with a 24h node window, so nodes stay up
// unless a test says otherwise.
struct Outside {
  std::string_view now = "2026-05-12T13:00:00Z";
  Duration node_stale_after{24LL * 3600 * 1'000'000'000};
  Duration service_stale_after{0};  // off
  const Inventory* inventory = nullptr;
};

inline Duration Seconds(double s) { return Duration{static_cast<int64_t>(s * 1e9)}; }

inline WorldSnapshot SnapshotOf(const Model& model, const Outside& outside = {}) {
  SnapshotInputs in;
  in.model = &model;
  in.inventory = outside.inventory;
  in.now = T(outside.now);
  in.stale_after = outside.node_stale_after;
  in.service_stale_after = outside.service_stale_after;
  return BuildSnapshot(in);
}

// World file `name` ("services.json", …) as JSON.
inline nlohmann::json WorldJson(const Model& model, std::string_view name,
                                const Outside& outside = {}) {
  for (const WorldFile& file : SerializeWorld(SnapshotOf(model, outside), model)) {
    if (file.name == name) return nlohmann::json::parse(file.content);
  }
  ADD_FAILURE() << "no world file " << name;
  return nlohmann::json();
}

// One entry of world file `name`; null (and a failure) when it is missing.
inline nlohmann::json WorldEntry(const Model& model, std::string_view name, const std::string& key,
                                 const Outside& outside = {}) {
  const nlohmann::json file = WorldJson(model, name, outside);
  EXPECT_TRUE(file.contains(key)) << key << " not in " << name << ": " << file.dump();
  return file.contains(key) ? file.at(key) : nlohmann::json();
}

// Applies `events` one after the other (the order given is the processing
// order) with `context`.
inline void ApplyAll(Model& model, const std::vector<Ev>& events, const ApplyContext& context) {
  for (const Ev& ev : events) Apply(model, ev.event(), context);
}

inline ApplyContext Context(const Inventory* inventory = nullptr, FlapThresholds flap = {}) {
  return ApplyContext{std::string(kLogsDir), inventory, flap};
}

}  // namespace hlo::fakes
