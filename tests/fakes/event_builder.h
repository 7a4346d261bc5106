// Terse event literals for the core's unit tests:
//   Ev("service_unhealthy").At("2026-05-12T12:05:00Z").Node("saturn").Service("mosquitto")
// plus T("…") for a timestamp and the logs folder the tests' ApplyContext uses.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "observer/apply.h"
#include "observer/event.h"
#include "observer/event_queue.h"
#include "observer/timestamp.h"

namespace hlo::fakes {

inline constexpr std::string_view kLogsDir = "/opt/homelab/logs";

// A timestamp literal; a typo fails the test instead of reading as 1970.
inline Timestamp T(std::string_view text) {
  const std::optional<Timestamp> t = ParseTimestamp(text);
  EXPECT_TRUE(t.has_value()) << text;
  return t.value_or(Timestamp{});
}

class Ev {
 public:
  explicit Ev(std::string_view type) { event_.type = EventTypeFromName(type); }
  Ev& At(std::string_view t) { event_.timestamp = T(t); return *this; }
  Ev& At(Timestamp t) { event_.timestamp = t; return *this; }
  Ev& Node(std::string v) { event_.node = std::move(v); return *this; }
  Ev& Service(std::string v) { event_.service = std::move(v); return *this; }
  Ev& Corr(std::string v) { event_.correlation_id = std::move(v); return *this; }
  Ev& Id(std::string v) { event_.id = std::move(v); return *this; }
  Ev& Sev(Severity v) { event_.severity = v; return *this; }
  Ev& Stage(std::string v) { event_.stage = std::move(v); return *this; }
  Ev& Diag(std::vector<std::string> v) { event_.diagnostics = std::move(v); return *this; }
  const Event& event() const { return event_; }

 private:
  Event event_;
};

// Applies `events` as the observer does when they all arrive in one file, in
// this order: in processing order (event time, then line), through the
// observer's own EventQueue.
inline Model ApplyInProcessingOrder(std::initializer_list<Ev> events,
                                    const ApplyContext& context = {std::string(kLogsDir), nullptr, {}}) {
  EventQueue queue;
  const uint32_t file = queue.AddFile("events.jsonl");
  uint64_t line = 0;
  for (const Ev& e : events) queue.Push(file, ++line, e.event());
  queue.Sort();
  Model model;
  Event event;
  for (size_t i = 0; i < queue.size(); ++i) {
    queue.Get(i, &event);
    Apply(model, event, context);
  }
  return model;
}

}  // namespace hlo::fakes
