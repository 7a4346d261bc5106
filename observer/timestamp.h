// Instants and durations as the contract spells them (CONTRACT §8 "Times").
#pragma once

#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace hlo {

// An instant in UTC: whole seconds since the Unix epoch plus nanoseconds.
// Seconds are 64-bit so that any four-digit year fits; nanos is always in
// [0, 1e9). Ordering is chronological.
struct Timestamp {
  int64_t seconds = 0;
  int32_t nanos = 0;

  friend auto operator<=>(const Timestamp&, const Timestamp&) = default;
  friend bool operator==(const Timestamp&, const Timestamp&) = default;
};

// Parses `YYYY-MM-DDTHH:MM:SS[.frac](Z|±HH:MM)`; `T` and `Z` may be
// lowercase; the date must exist; the fraction is kept to nanoseconds (digits
// past the ninth are truncated). Returns nullopt for anything else, and for an
// instant outside years 0000-9999 in UTC (FormatTimestamp could not write it).
std::optional<Timestamp> ParseTimestamp(std::string_view text);

// UTC `YYYY-MM-DDTHH:MM:SS[.f]Z`, the fraction only when non-zero and without
// trailing zeros.
std::string FormatTimestamp(Timestamp t);

// The same text written into `buffer`, without allocating; the view points
// into it. For writers of a million timestamps.
struct TimestampBuffer {
  char data[64];
};
std::string_view FormatTimestamp(Timestamp t, TimestampBuffer& buffer);

// A signed span of time in nanoseconds.
struct Duration {
  int64_t nanos = 0;
  friend auto operator<=>(const Duration&, const Duration&) = default;
};

// Parses `90s`, `10m`, `1h`, `1h30m`, `1h30m15s` (units h, m, s in that
// order, each at most once, at least one). Returns nullopt otherwise, and when
// the total does not fit in Duration (about 292 years).
std::optional<Duration> ParseDuration(std::string_view text);

// b - a, exact when it fits in Duration (about ±292 years); farther apart
// (event timestamps may be anywhere in 0000-9999) it saturates to the
// largest or smallest Duration.
Duration Between(Timestamp a, Timestamp b);

// a + d.
Timestamp Add(Timestamp a, Duration d);

// The floor of t in whole Unix seconds (for incident ids).
inline int64_t FloorSeconds(Timestamp t) { return t.seconds; }

// Seconds as a double, for metrics.
inline double ToUnixSeconds(Timestamp t) {
  return static_cast<double>(t.seconds) + static_cast<double>(t.nanos) / 1e9;
}

}  // namespace hlo
