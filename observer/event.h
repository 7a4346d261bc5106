// A validated event: what the parser hands the core (CONTRACT §4).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "observer/timestamp.h"

namespace hlo {

enum class EventType {
  kNodeHeartbeat,
  kNodeDown,
  kHealthcheckPassed,
  kHealthcheckFailed,
  kServiceUnhealthy,
  kServiceRecovered,
  kDeploymentStarted,
  kDeploymentStage,
  kDeploymentSucceeded,
  kDeploymentFailed,
  kMaintenanceStarted,
  kMaintenanceEnded,
  kUnknown,
};

// The wire name ("node_heartbeat", …; "unknown" for kUnknown).
std::string_view EventTypeName(EventType type);
// kUnknown for any name not in the contract's table.
EventType EventTypeFromName(std::string_view name);

// Ordered: info < warning < error < critical.
enum class Severity { kInfo = 0, kWarning = 1, kError = 2, kCritical = 3 };
inline constexpr Severity kAllSeverities[] = {Severity::kInfo, Severity::kWarning,
                                              Severity::kError, Severity::kCritical};
std::string_view SeverityName(Severity s);
std::optional<Severity> SeverityFromName(std::string_view name);

// An accepted event. Empty strings mean "absent" (the contract treats `null`
// and "" alike for these fields).
struct Event {
  Timestamp timestamp;
  EventType type = EventType::kUnknown;
  std::string node;
  std::string service;
  std::string correlation_id;
  std::optional<Severity> severity;
  std::string message;
  std::string stage;                     // payload.stage (deployment_stage)
  std::vector<std::string> diagnostics;  // payload.diagnostics, as written
  // Optional: a writer's name for this event. An event whose id an earlier
  // event (in processing order) already had is a duplicate: counted, not
  // applied (at-least-once writers such as `send`; docs/events.md).
  std::string id;
};

}  // namespace hlo
