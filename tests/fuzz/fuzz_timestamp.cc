// Fuzz target: the time functions of observer/timestamp.h (CONTRACT §8
// "Times"). Event timestamps are untrusted text; durations come from flags.
//
// The input is one or two fields separated by the first space (which no
// timestamp or duration contains). Each field that parses as a timestamp must
// format as UTC `YYYY-MM-DDTHH:MM:SS[.f]Z` (fraction without trailing zeros)
// and parse back to the same instant; text already in that form formats to
// itself. Each field that parses as a duration must match a naive reading of
// its grammar. Two timestamps must give a difference of the right sign that
// Add() undoes; a timestamp and a duration, a sum that Between() recovers.
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>

#include "observer/timestamp.h"
#include "tests/fuzz/fuzz_support.h"

namespace hlo::fuzz {
namespace {

constexpr int64_t kNanosPerSecond = 1'000'000'000;
// Wide enough for any difference of two timestamps in nanoseconds.
__extension__ typedef __int128 Int128;

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// UTC `YYYY-MM-DDTHH:MM:SS[.f]Z`, the fraction 1–9 digits not ending in 0.
bool IsOutputForm(std::string_view s) {
  static constexpr std::string_view kShape = "dddd-dd-ddTdd:dd:dd";
  if (s.size() < kShape.size() + 1 || s.back() != 'Z') return false;
  for (size_t i = 0; i < kShape.size(); ++i) {
    if (kShape[i] == 'd' ? !IsDigit(s[i]) : s[i] != kShape[i]) return false;
  }
  std::string_view rest = s.substr(kShape.size(), s.size() - kShape.size() - 1);
  if (rest.empty()) return true;
  if (rest.front() != '.' || rest.size() < 2 || rest.size() > 10 || rest.back() == '0') {
    return false;
  }
  for (const char c : rest.substr(1)) {
    if (!IsDigit(c)) return false;
  }
  return true;
}

// `[N h][N m][N s]`, at least one part, at most 12 digits each; nullopt when
// malformed or when the total does not fit in int64 nanoseconds.
std::optional<int64_t> ReferenceDurationNanos(std::string_view s) {
  static constexpr struct {
    char unit;
    int64_t seconds;
  } kUnits[] = {{'h', 3600}, {'m', 60}, {'s', 1}};
  Int128 total = 0;
  size_t pos = 0, parts = 0;
  for (const auto& [unit, seconds] : kUnits) {
    size_t end = pos;
    while (end < s.size() && IsDigit(s[end])) ++end;
    if (end == pos || end == s.size() || s[end] != unit) continue;
    if (end - pos > 12) return std::nullopt;
    total += std::stoll(std::string(s.substr(pos, end - pos))) * Int128{seconds};
    pos = end + 1;
    ++parts;
  }
  if (parts == 0 || pos != s.size()) return std::nullopt;
  total *= kNanosPerSecond;
  if (total > std::numeric_limits<int64_t>::max()) return std::nullopt;
  return static_cast<int64_t>(total);
}

std::optional<Timestamp> CheckTimestamp(std::string_view text) {
  const std::optional<Timestamp> t = ParseTimestamp(text);
  if (!t) return t;
  HLO_FUZZ_CHECK(t->nanos >= 0 && t->nanos < kNanosPerSecond, std::to_string(t->nanos));
  const std::string formatted = FormatTimestamp(*t);
  HLO_FUZZ_CHECK(IsOutputForm(formatted), formatted);
  const std::optional<Timestamp> back = ParseTimestamp(formatted);
  HLO_FUZZ_CHECK(back && *back == *t, std::string(text) + " -> " + formatted);
  if (IsOutputForm(text)) HLO_FUZZ_CHECK(formatted == text, formatted);
  return t;
}

std::optional<Duration> CheckDuration(std::string_view text) {
  const std::optional<Duration> d = ParseDuration(text);
  const std::optional<int64_t> expected = ReferenceDurationNanos(text);
  HLO_FUZZ_CHECK(d.has_value() == expected.has_value(), text);
  if (d) HLO_FUZZ_CHECK(d->nanos == *expected, std::to_string(d->nanos));
  return d;
}

// The exact difference in nanoseconds, which may not fit in 64 bits.
Int128 ExactNanos(Timestamp a, Timestamp b) {
  return (Int128{b.seconds} - a.seconds) * kNanosPerSecond + (b.nanos - a.nanos);
}

void CheckPair(Timestamp a, Timestamp b) {
  const Duration d = Between(a, b);
  HLO_FUZZ_CHECK((d.nanos > 0) == (a < b) && (d.nanos == 0) == (a == b),
                 FormatTimestamp(a) + " " + FormatTimestamp(b));
  const Int128 exact = ExactNanos(a, b);
  if (exact >= std::numeric_limits<int64_t>::min() &&
      exact <= std::numeric_limits<int64_t>::max()) {
    HLO_FUZZ_CHECK(d.nanos == exact, FormatTimestamp(a) + " " + FormatTimestamp(b));
    HLO_FUZZ_CHECK(Add(a, d) == b, FormatTimestamp(a) + " " + FormatTimestamp(b));
  }
}

void CheckSum(Timestamp t, Duration d) {
  const Timestamp sum = Add(t, d);
  HLO_FUZZ_CHECK(sum.nanos >= 0 && sum.nanos < kNanosPerSecond, std::to_string(sum.nanos));
  HLO_FUZZ_CHECK(Between(t, sum) == d, FormatTimestamp(t));
}

}  // namespace

int FuzzTimestamp(const uint8_t* data, size_t size) {
  const std::string_view input = AsText(data, size);
  const size_t space = input.find(' ');
  const std::string_view first = input.substr(0, space);
  const std::optional<Timestamp> t1 = CheckTimestamp(first);
  CheckDuration(first);
  if (space == std::string_view::npos) return 0;

  const std::string_view second = input.substr(space + 1);
  const std::optional<Timestamp> t2 = CheckTimestamp(second);
  const std::optional<Duration> d2 = CheckDuration(second);
  if (t1 && t2) CheckPair(*t1, *t2);
  if (t1 && d2) CheckSum(*t1, *d2);
  return 0;
}

}  // namespace hlo::fuzz

HLO_FUZZ_ENTRY_POINT(FuzzTimestamp)
