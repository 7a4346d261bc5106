// The CONTRACT §9 flags as the Config sees them: --service-stale-after (0 =
// off, else at least 1s), --flap.high and --flap.low (whole percents, low not
// above high), for once, run and validate.
#include <gtest/gtest.h>

#include "exporter/cli.h"
#include "tests/fakes/cli_parse.h"

namespace hlo {
namespace {

using fakes::Refused;
Config Parse(std::vector<std::string> args) { return fakes::ParseOk(std::move(args)); }

constexpr int64_t kSecond = 1'000'000'000;

TEST(CliWorldRulesFlagsTest, ServiceStaleAfterIsOffByDefault) {
  EXPECT_EQ(Parse({"once"}).service_stale_after.nanos, 0);
  EXPECT_EQ(Parse({"once", "--service-stale-after", "0s"}).service_stale_after.nanos, 0);
}

TEST(CliWorldRulesFlagsTest, ServiceStaleAfterTakesDurationsOfASecondOrMore) {
  EXPECT_EQ(Parse({"once", "--service-stale-after", "1s"}).service_stale_after.nanos, kSecond);
  EXPECT_EQ(Parse({"run", "--service-stale-after=1h30m"}).service_stale_after.nanos, 5400 * kSecond);
  EXPECT_EQ(Parse({"validate", "--service-stale-after", "10m"}).service_stale_after.nanos,
            600 * kSecond);
  for (const char* bad : {"500ms", "0.5s", "", "10", "soon", "-1s"}) {
    EXPECT_TRUE(Refused({"once", "--service-stale-after", bad})) << bad;
  }
}

TEST(CliWorldRulesFlagsTest, FlapThresholdsDefaultToThirtyAndTwenty) {
  const Config c = Parse({"once"});
  EXPECT_EQ(c.flap.high, 30);
  EXPECT_EQ(c.flap.low, 20);
}

TEST(CliWorldRulesFlagsTest, FlapThresholdsAreWholePercents) {
  const Config c = Parse({"run", "--flap.high", "100", "--flap.low=0"});
  EXPECT_EQ(c.flap.high, 100);
  EXPECT_EQ(c.flap.low, 0);
  for (const char* bad : {"101", "-1", "30.5", "30%", "", "x", "1000"}) {
    EXPECT_TRUE(Refused({"once", "--flap.high", bad})) << bad;
    EXPECT_TRUE(Refused({"once", "--flap.low", bad, "--flap.high", "100"})) << bad;
  }
}

TEST(CliWorldRulesFlagsTest, FlapLowAboveHighIsAUsageError) {
  EXPECT_TRUE(Refused({"once", "--flap.low", "40", "--flap.high", "30"}));
  EXPECT_TRUE(Refused({"once", "--flap.high", "30", "--flap.low", "40"}));
  EXPECT_TRUE(Refused({"once", "--flap.low", "21", "--flap.high", "20"}));
  EXPECT_TRUE(Refused({"once", "--flap.high", "10"}));  // below the default low, 20
  EXPECT_TRUE(Refused({"once", "--flap.low", "35"}));   // above the default high, 30
  const Config equal = Parse({"once", "--flap.low", "25", "--flap.high", "25"});
  EXPECT_EQ(equal.flap.high, 25);
  EXPECT_EQ(equal.flap.low, 25);
}

}  // namespace
}  // namespace hlo
