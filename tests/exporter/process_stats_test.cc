// The process collector's figures (exporter/process_stats.h).
#include "exporter/process_stats.h"

#include <gtest/gtest.h>

#include <ctime>
#include <vector>

namespace hlo {
namespace {

// A /proc/<pid>/stat line whose command holds a space and a ')'.
constexpr std::string_view kStat =
    "4242 (homelab) obs) S 1 4242 4242 0 -1 4194560 1234 0 0 0 250 150 0 0 20 0 131 0 "
    "360000 1048576000 25600 18446744073709551615 1 1 0 0 0 0 0 4096 0 0 0 0 17 1 0 0 0 0 0\n";
constexpr std::string_view kProcStat = "cpu  1 2 3 4\nbtime 1780000000\nprocesses 99\n";
constexpr std::string_view kLimits =
    "Limit                     Soft Limit           Hard Limit           Units     \n"
    "Max open files            1024                 524288               files     \n";

TEST(ProcessStatsTest, FiguresComeFromTheFieldsAfterTheCommand) {
  const auto s = ParseProcessStats(kStat, kProcStat, kLimits, 17, 100, 4096);
  ASSERT_TRUE(s);
  EXPECT_DOUBLE_EQ(s->cpu_seconds, 4.0);                      // (250 + 150) / 100
  EXPECT_DOUBLE_EQ(s->start_time_seconds, 1780000000 + 3600);  // btime + 360000 / 100
  EXPECT_EQ(s->virtual_bytes, 1048576000u);
  EXPECT_EQ(s->resident_bytes, 25600u * 4096);
  EXPECT_EQ(s->open_fds, 17u);
  EXPECT_EQ(s->max_fds, 1024u);  // the soft limit
}

TEST(ProcessStatsTest, UnparsableInputGivesNothing) {
  EXPECT_FALSE(ParseProcessStats("", kProcStat, kLimits, 1, 100, 4096));
  EXPECT_FALSE(ParseProcessStats("1 (x) S 1 2", kProcStat, kLimits, 1, 100, 4096));
  EXPECT_FALSE(ParseProcessStats(kStat, "cpu 1 2\n", kLimits, 1, 100, 4096));  // no btime
  const auto no_limits = ParseProcessStats(kStat, kProcStat, "", 1, 100, 4096);
  ASSERT_TRUE(no_limits);
  EXPECT_EQ(no_limits->max_fds, 0u);
}

TEST(ProcessStatsTest, ThisProcessIsReadFromProc) {
  const auto s = ReadProcessStats();
  ASSERT_TRUE(s) << "/proc is not readable here";
  EXPECT_GT(s->resident_bytes, 0u);
  EXPECT_GE(s->virtual_bytes, s->resident_bytes);
  EXPECT_GE(s->open_fds, 3u);  // at least stdin, stdout and stderr
  EXPECT_GT(s->max_fds, 0u);
  const double now = static_cast<double>(std::time(nullptr));
  EXPECT_LE(s->start_time_seconds, now + 1);
  EXPECT_GT(s->start_time_seconds, now - 3600) << "this test process started within the hour";
  // Burn a little CPU: the figure moves.
  volatile double x = 0;
  for (int i = 0; i < 50'000'000; ++i) x = x + i * 0.5;
  EXPECT_GT(ReadProcessStats()->cpu_seconds, s->cpu_seconds);
}

}  // namespace
}  // namespace hlo
