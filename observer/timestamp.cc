#include "observer/timestamp.h"

#include <cstdio>
#include <limits>

namespace hlo {
namespace detail {
namespace {

bool Digits(std::string_view s, size_t pos, size_t n, int& out) {
  if (pos + n > s.size()) return false;
  int v = 0;
  for (size_t i = pos; i < pos + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    v = v * 10 + (s[i] - '0');
  }
  out = v;
  return true;
}

bool IsLeap(int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

int DaysInMonth(int64_t y, int m) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && IsLeap(y) ? 29 : kDays[m - 1];
}

// Howard Hinnant's days_from_civil: proleptic Gregorian date → days since
// 1970-01-01, exact for every year we can parse.
int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

void CivilFromDays(int64_t z, int64_t& y, unsigned& m, unsigned& d) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  d = doy - (153 * mp + 2) / 5 + 1;
  m = mp < 10 ? mp + 3 : mp - 9;
  y = static_cast<int64_t>(yoe) + era * 400 + (m <= 2);
}

constexpr int64_t kNanosPerSecond = 1'000'000'000;
constexpr int64_t kSecondsPerDay = 86400;

Timestamp Normalize(int64_t seconds, int64_t nanos) {
  seconds += nanos / kNanosPerSecond;
  nanos %= kNanosPerSecond;
  if (nanos < 0) {
    nanos += kNanosPerSecond;
    seconds -= 1;
  }
  return {seconds, static_cast<int32_t>(nanos)};
}

}  // namespace
}  // namespace detail

std::optional<Timestamp> ParseTimestamp(std::string_view s) {
  using detail::Digits;
  int year, month, day, hour, minute, second;
  if (!Digits(s, 0, 4, year) || s.size() < 20 || s[4] != '-' ||
      !Digits(s, 5, 2, month) || s[7] != '-' || !Digits(s, 8, 2, day) ||
      (s[10] != 'T' && s[10] != 't') || !Digits(s, 11, 2, hour) ||
      s[13] != ':' || !Digits(s, 14, 2, minute) || s[16] != ':' ||
      !Digits(s, 17, 2, second)) {
    return std::nullopt;
  }
  if (month < 1 || month > 12 || day < 1 || day > detail::DaysInMonth(year, month) ||
      hour > 23 || minute > 59 || second > 59) {
    return std::nullopt;
  }
  size_t pos = 19;
  int64_t nanos = 0;
  if (pos < s.size() && s[pos] == '.') {
    ++pos;
    size_t digits = 0;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
      if (digits < 9) nanos = nanos * 10 + (s[pos] - '0');
      ++digits;
      ++pos;
    }
    if (digits == 0) return std::nullopt;
    for (size_t i = digits; i < 9; ++i) nanos *= 10;
  }
  int64_t offset_seconds = 0;
  if (pos < s.size() && (s[pos] == 'Z' || s[pos] == 'z')) {
    ++pos;
  } else if (pos < s.size() && (s[pos] == '+' || s[pos] == '-')) {
    const int sign = s[pos] == '+' ? 1 : -1;
    int oh, om;
    if (!Digits(s, pos + 1, 2, oh) || pos + 3 >= s.size() || s[pos + 3] != ':' ||
        !Digits(s, pos + 4, 2, om) || oh > 23 || om > 59) {
      return std::nullopt;
    }
    offset_seconds = sign * (oh * 3600 + om * 60);
    pos += 6;
  } else {
    return std::nullopt;
  }
  if (pos != s.size()) return std::nullopt;
  const int64_t days = detail::DaysFromCivil(year, static_cast<unsigned>(month),
                                             static_cast<unsigned>(day));
  const int64_t local = days * 86400 + hour * 3600 + minute * 60 + second;
  const Timestamp utc = detail::Normalize(local - offset_seconds, nanos);
  // An offset can carry 0000-01-01 or 9999-12-31 into a year that the output
  // form (four digits, UTC) cannot spell; such an instant never round-trips.
  static const int64_t kFirst = detail::DaysFromCivil(0, 1, 1) * detail::kSecondsPerDay;
  static const int64_t kPastLast = detail::DaysFromCivil(10000, 1, 1) * detail::kSecondsPerDay;
  if (utc.seconds < kFirst || utc.seconds >= kPastLast) return std::nullopt;
  return utc;
}

std::string_view FormatTimestamp(Timestamp t, TimestampBuffer& buffer) {
  const int64_t days = (t.seconds >= 0 ? t.seconds : t.seconds - 86399) / 86400;
  const int64_t secs_of_day = t.seconds - days * 86400;
  int64_t y;
  unsigned m, d;
  detail::CivilFromDays(days, y, m, d);
  char* const begin = buffer.data;
  char* p = begin;
  if (y >= 0 && y <= 9999 && t.nanos >= 0 && t.nanos < 1'000'000'000) {  // no printf
    auto digits = [&p](int64_t v, int width) {
      for (int i = width - 1; i >= 0; --i) {
        p[i] = static_cast<char>('0' + v % 10);
        v /= 10;
      }
      p += width;
    };
    digits(y, 4);
    *p++ = '-';
    digits(m, 2);
    *p++ = '-';
    digits(d, 2);
    *p++ = 'T';
    digits(secs_of_day / 3600, 2);
    *p++ = ':';
    digits(secs_of_day / 60 % 60, 2);
    *p++ = ':';
    digits(secs_of_day % 60, 2);
    if (t.nanos != 0) {
      *p++ = '.';
      digits(t.nanos, 9);
      while (p[-1] == '0') --p;
    }
    *p++ = 'Z';
    return std::string_view(begin, static_cast<size_t>(p - begin));
  }
  // Outside what events can carry (e.g. a clock far off): the slow way.
  const int n = std::snprintf(begin, sizeof buffer.data, "%04lld-%02u-%02uT%02lld:%02lld:%02lld",
                              static_cast<long long>(y), m, d,
                              static_cast<long long>(secs_of_day / 3600),
                              static_cast<long long>(secs_of_day / 60 % 60),
                              static_cast<long long>(secs_of_day % 60));
  size_t size = n > 0 ? static_cast<size_t>(n) : 0;
  if (t.nanos != 0 && size + 12 < sizeof buffer.data) {
    const int f = std::snprintf(begin + size, sizeof buffer.data - size, ".%09d", t.nanos);
    if (f > 0) size += static_cast<size_t>(f);
    while (begin[size - 1] == '0') --size;
  }
  if (size < sizeof buffer.data) begin[size++] = 'Z';
  return std::string_view(begin, size);
}

std::string FormatTimestamp(Timestamp t) {
  TimestampBuffer buffer;
  return std::string(FormatTimestamp(t, buffer));
}

std::optional<Duration> ParseDuration(std::string_view s) {
  if (s.empty()) return std::nullopt;
  static constexpr struct {
    char unit;
    int64_t seconds;
  } kUnits[] = {{'h', 3600}, {'m', 60}, {'s', 1}};
  size_t pos = 0;
  size_t next_unit = 0;
  int64_t total = 0;
  while (pos < s.size()) {
    int64_t value = 0;
    size_t digits = 0;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
      if (++digits > 12) return std::nullopt;
      value = value * 10 + (s[pos] - '0');
      ++pos;
    }
    if (digits == 0 || pos == s.size()) return std::nullopt;
    const char unit = s[pos++];
    while (next_unit < 3 && kUnits[next_unit].unit != unit) ++next_unit;
    if (next_unit == 3) return std::nullopt;
    total += value * kUnits[next_unit].seconds;
    ++next_unit;
  }
  // 12 digits of hours fit in seconds but not in nanoseconds.
  if (total > std::numeric_limits<int64_t>::max() / detail::kNanosPerSecond) return std::nullopt;
  return Duration{total * detail::kNanosPerSecond};
}

Duration Between(Timestamp a, Timestamp b) {
  // Event timestamps span years 0000-9999, about 3.2e20 ns: more than int64
  // holds. Saturating keeps every comparison with a real duration right.
  int64_t nanos;
  if (__builtin_mul_overflow(b.seconds - a.seconds, detail::kNanosPerSecond, &nanos) ||
      __builtin_add_overflow(nanos, b.nanos - a.nanos, &nanos)) {
    return Duration{b.seconds > a.seconds ? std::numeric_limits<int64_t>::max()
                                          : std::numeric_limits<int64_t>::min()};
  }
  return Duration{nanos};
}

Timestamp Add(Timestamp a, Duration d) {
  return detail::Normalize(a.seconds + d.nanos / detail::kNanosPerSecond,
                           a.nanos + d.nanos % detail::kNanosPerSecond);
}

}  // namespace hlo
