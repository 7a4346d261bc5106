#include "observer/timestamp.h"

#include <gtest/gtest.h>

namespace hlo {
namespace {

TEST(TimestampTest, ParsesUtcWithFraction) {
  auto t = ParseTimestamp("2026-05-12T12:05:00.250Z");
  ASSERT_TRUE(t);
  EXPECT_EQ(t->seconds, 1778587500);
  EXPECT_EQ(t->nanos, 250000000);
}

TEST(TimestampTest, AppliesOffsetToUtc) {
  auto t = ParseTimestamp("2026-05-12T14:05:00+02:00");
  ASSERT_TRUE(t);
  EXPECT_EQ(FormatTimestamp(*t), "2026-05-12T12:05:00Z");
}

TEST(TimestampTest, AcceptsLowercaseSeparators) {
  EXPECT_TRUE(ParseTimestamp("2026-05-12t12:05:00z"));
}

TEST(TimestampTest, KeepsFractionToNanoseconds) {
  auto t = ParseTimestamp("2026-05-12T12:05:00.1234567891Z");
  ASSERT_TRUE(t);
  EXPECT_EQ(t->nanos, 123456789);
  EXPECT_EQ(FormatTimestamp(*t), "2026-05-12T12:05:00.123456789Z");
}

TEST(TimestampTest, FormatDropsTrailingZerosAndZeroFraction) {
  EXPECT_EQ(FormatTimestamp(*ParseTimestamp("2026-05-12T12:05:00.500Z")),
            "2026-05-12T12:05:00.5Z");
  EXPECT_EQ(FormatTimestamp(*ParseTimestamp("2026-05-12T12:05:00.000Z")),
            "2026-05-12T12:05:00Z");
}

TEST(TimestampTest, NegativeOffsetCrossesMidnight) {
  EXPECT_EQ(FormatTimestamp(*ParseTimestamp("2026-12-31T23:30:00-01:00")),
            "2027-01-01T00:30:00Z");
}

TEST(TimestampTest, BeforeEpochRoundTrips) {
  EXPECT_EQ(FormatTimestamp(*ParseTimestamp("1969-12-31T23:59:59.5Z")),
            "1969-12-31T23:59:59.5Z");
}

TEST(TimestampTest, RejectsMalformedInputs) {
  for (const char* bad : {"", "2026-05-12", "2026-05-12 12:05:00Z", "2026-02-30T00:00:00Z",
                          "2025-02-29T00:00:00Z", "2026-05-12T24:00:00Z", "2026-05-12T12:05:00",
                          "2026-05-12T12:05:00.Z", "2026-05-12T12:05:00+0200",
                          "2026-05-12T12:05:60Z", "2026-13-01T00:00:00Z", "26-05-12T12:05:00Z",
                          "2026-05-12T12:05:00Zjunk", "2026-05-12T12:05:00+24:00"}) {
    EXPECT_FALSE(ParseTimestamp(bad)) << bad;
  }
}

TEST(TimestampTest, AcceptsLeapDay) { EXPECT_TRUE(ParseTimestamp("2024-02-29T00:00:00Z")); }

TEST(DurationTest, ParsesContractForms) {
  EXPECT_EQ(ParseDuration("90s")->nanos, 90'000'000'000);
  EXPECT_EQ(ParseDuration("10m")->nanos, 600'000'000'000);
  EXPECT_EQ(ParseDuration("1h")->nanos, 3600'000'000'000);
  EXPECT_EQ(ParseDuration("1h30m")->nanos, 5400'000'000'000);
}

TEST(DurationTest, RejectsGarbage) {
  for (const char* bad : {"", "x", "10", "m", "1m1h", "1h1h", "-5m", "1.5h", "10 m"}) {
    EXPECT_FALSE(ParseDuration(bad)) << bad;
  }
}

}  // namespace
}  // namespace hlo
