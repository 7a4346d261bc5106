// --history.retention (issue 14): off by default; whole days, hours, minutes
// and seconds (90d, 30d12h, 720h), at least 1s when on; once and run only.
#include <gtest/gtest.h>

#include "exporter/cli.h"
#include "tests/fakes/cli_parse.h"

namespace hlo {
namespace {

using fakes::Refused;
Config Parse(std::vector<std::string> args) { return fakes::ParseOk(std::move(args)); }

constexpr int64_t kSecond = 1'000'000'000;
constexpr int64_t kDay = 86'400 * kSecond;

TEST(CliHistoryRetentionTest, IsOffByDefault) {
  EXPECT_EQ(Parse({"once"}).history_retention.nanos, 0);
  EXPECT_EQ(Parse({"run", "--history.retention", "0s"}).history_retention.nanos, 0);
}

TEST(CliHistoryRetentionTest, TakesDaysAndTheOtherDurationForms) {
  EXPECT_EQ(Parse({"once", "--history.retention", "90d"}).history_retention.nanos, 90 * kDay);
  EXPECT_EQ(Parse({"run", "--history.retention=30d12h"}).history_retention.nanos,
            30 * kDay + 12 * 3600 * kSecond);
  EXPECT_EQ(Parse({"once", "--history.retention", "720h"}).history_retention.nanos, 30 * kDay);
  EXPECT_EQ(Parse({"once", "--history.retention", "1s"}).history_retention.nanos, kSecond);
  EXPECT_EQ(Parse({"once", "--history.retention", "106751d"}).history_retention.nanos,
            106751 * kDay);
  for (const char* bad : {"", "d", "1.5d", "30", "-1d", "1d1d", "d12h", "12h3d", "soon", "30D",
                          "9999999d", "999999d", "106752d"}) {
    EXPECT_TRUE(Refused({"once", "--history.retention", bad})) << bad;
  }
}

TEST(CliHistoryRetentionTest, IsForOnceAndRunOnly) {
  EXPECT_TRUE(Refused({"validate", "--history.retention", "30d"}));
  EXPECT_NE(CommandHelpText(Command::kOnce).find("--history.retention"), std::string::npos);
  EXPECT_NE(CommandHelpText(Command::kRun).find("--history.retention"), std::string::npos);
  EXPECT_EQ(CommandHelpText(Command::kValidate).find("--history.retention"), std::string::npos);
  EXPECT_NE(UsageText().find("--history.retention"), std::string::npos);
}

}  // namespace
}  // namespace hlo
