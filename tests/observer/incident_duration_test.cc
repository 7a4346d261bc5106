// Incident durations (CONTRACT §9): duration_seconds = resolved_at −
// started_at, an integer when whole, else a float; null while active.
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "observer/apply.h"
#include "tests/fakes/event_builder.h"
#include "tests/fakes/world_json.h"

namespace hlo {
namespace {

using fakes::ApplyAll;
using fakes::Context;
using fakes::Ev;
using fakes::WorldJson;
using nlohmann::json;

// incidents.json's only incident after a failure at `from` and, when
// `to` is not empty, a recovery at `to`.
json Incident(std::string_view from, std::string_view to) {
  Model model;
  std::vector<Ev> events = {
      Ev("service_unhealthy").At(from).Node("saturn").Service("mosquitto")};
  if (!to.empty()) events.push_back(Ev("service_recovered").At(to).Node("saturn").Service("mosquitto"));
  ApplyAll(model, events, Context());
  const json incidents = WorldJson(model, "incidents.json");
  EXPECT_EQ(incidents.size(), 1u);
  return incidents.empty() ? json() : incidents.begin().value();
}

TEST(IncidentDurationTest, WholeSecondsAreAnInteger) {
  const json incident = Incident("2026-05-12T12:00:00Z", "2026-05-12T12:05:00Z");
  ASSERT_TRUE(incident.at("duration_seconds").is_number_integer()) << incident.dump();
  EXPECT_EQ(incident.at("duration_seconds"), 300);
}

TEST(IncidentDurationTest, FractionsMakeAFloat) {
  const json incident = Incident("2026-05-12T12:00:00Z", "2026-05-12T12:01:30.25Z");
  ASSERT_TRUE(incident.at("duration_seconds").is_number_float()) << incident.dump();
  EXPECT_DOUBLE_EQ(incident.at("duration_seconds").get<double>(), 90.25);
}

TEST(IncidentDurationTest, FractionsThatCancelOutAreWhole) {
  const json incident = Incident("2026-05-12T12:00:00.75Z", "2026-05-12T12:01:00.75Z");
  ASSERT_TRUE(incident.at("duration_seconds").is_number_integer()) << incident.dump();
  EXPECT_EQ(incident.at("duration_seconds"), 60);
}

TEST(IncidentDurationTest, BorrowingAcrossTheSecondIsExact) {
  const json incident = Incident("2026-05-12T12:00:00.75Z", "2026-05-12T12:01:00.25Z");
  EXPECT_DOUBLE_EQ(incident.at("duration_seconds").get<double>(), 59.5);
  const json nanosecond = Incident("2026-05-12T12:00:00Z", "2026-05-12T12:00:00.000000001Z");
  EXPECT_DOUBLE_EQ(nanosecond.at("duration_seconds").get<double>(), 1e-9);
}

TEST(IncidentDurationTest, ResolvedAtTheInstantItStartedIsZero) {
  const json incident = Incident("2026-05-12T12:00:00Z", "2026-05-12T12:00:00Z");
  ASSERT_TRUE(incident.at("duration_seconds").is_number_integer()) << incident.dump();
  EXPECT_EQ(incident.at("duration_seconds"), 0);
}

TEST(IncidentDurationTest, NullWhileActive) {
  const json incident = Incident("2026-05-12T12:00:00Z", "");
  EXPECT_EQ(incident.at("status"), "active");
  EXPECT_TRUE(incident.at("duration_seconds").is_null()) << incident.dump();
}

TEST(IncidentDurationTest, MeasuredFromStartNotFromLastOccurrence) {
  Model model;
  ApplyAll(model,
           {Ev("healthcheck_failed").At("2026-05-12T12:00:00Z").Node("saturn").Service("mosquitto"),
            Ev("healthcheck_failed").At("2026-05-12T12:30:00Z").Node("saturn").Service("mosquitto"),
            Ev("service_recovered").At("2026-05-12T13:00:00Z").Service("mosquitto")},
           Context());
  const json incidents = WorldJson(model, "incidents.json");
  ASSERT_EQ(incidents.size(), 1u);
  EXPECT_EQ(incidents.begin().value().at("duration_seconds"), 3600);
}

TEST(IncidentDurationTest, EveryIncidentHasItsOwn) {
  Model model;
  ApplyAll(model,
           {Ev("service_unhealthy").At("2026-05-12T12:00:00Z").Node("saturn").Service("mosquitto"),
            Ev("service_recovered").At("2026-05-12T12:01:00Z").Node("saturn").Service("mosquitto"),
            Ev("service_unhealthy").At("2026-05-12T12:02:00Z").Node("saturn").Service("mosquitto"),
            Ev("service_recovered").At("2026-05-12T12:12:00Z").Node("saturn").Service("mosquitto"),
            Ev("service_unhealthy").At("2026-05-12T12:20:00Z").Node("saturn").Service("mosquitto")},
           Context());
  const json incidents = WorldJson(model, "incidents.json");
  std::vector<json> durations;
  for (const auto& [id, incident] : incidents.items()) durations.push_back(incident.at("duration_seconds"));
  ASSERT_EQ(durations.size(), 3u);
  EXPECT_EQ(durations[0], 60);   // inc-…-12:00 sorts first by id
  EXPECT_EQ(durations[1], 600);
  EXPECT_TRUE(durations[2].is_null());
}

}  // namespace
}  // namespace hlo
