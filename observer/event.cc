#include "observer/event.h"

#include <array>

namespace hlo {
namespace detail {
namespace {

// Indexed by EventType; kUnknown is last and not a wire name of its own.
constexpr std::array<std::string_view, 13> kEventTypeNames = {
    "node_heartbeat",       "node_down",           "healthcheck_passed",  "healthcheck_failed",
    "service_unhealthy",    "service_recovered",   "deployment_started",  "deployment_stage",
    "deployment_succeeded", "deployment_failed",   "maintenance_started", "maintenance_ended",
    "unknown",
};
static_assert(kEventTypeNames.size() == static_cast<size_t>(EventType::kUnknown) + 1);

constexpr std::array<std::string_view, 4> kSeverityNames = {"info", "warning", "error",
                                                            "critical"};

}  // namespace
}  // namespace detail

std::string_view EventTypeName(EventType type) {
  const auto i = static_cast<size_t>(type);
  return i < detail::kEventTypeNames.size() ? detail::kEventTypeNames[i] : "unknown";
}

EventType EventTypeFromName(std::string_view name) {
  // The literal "unknown" is not in the contract's table, so it maps to
  // kUnknown like any other unlisted name: stop before the last entry.
  for (size_t i = 0; i + 1 < detail::kEventTypeNames.size(); ++i) {
    if (detail::kEventTypeNames[i] == name) return static_cast<EventType>(i);
  }
  return EventType::kUnknown;
}

std::string_view SeverityName(Severity s) {
  const auto i = static_cast<size_t>(s);
  return i < detail::kSeverityNames.size() ? detail::kSeverityNames[i] : "error";
}

std::optional<Severity> SeverityFromName(std::string_view name) {
  for (size_t i = 0; i < detail::kSeverityNames.size(); ++i) {
    if (detail::kSeverityNames[i] == name) return static_cast<Severity>(i);
  }
  return std::nullopt;
}

}  // namespace hlo
