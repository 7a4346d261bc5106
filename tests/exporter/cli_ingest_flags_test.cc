// run's ingest flags: --web.enable-ingest and --web.ingest.max-bytes.
#include <gtest/gtest.h>

#include "exporter/cli.h"
#include "tests/fakes/cli_parse.h"

namespace hlo {
namespace {

using fakes::Refused;
Config Parse(std::vector<std::string> args) { return fakes::ParseOk(std::move(args)); }

TEST(CliIngestFlagsTest, IngestIsOffByDefaultAndASwitchTurnsItOn) {
  EXPECT_FALSE(Parse({"run"}).enable_ingest);
  EXPECT_EQ(Parse({"run"}).ingest_max_bytes, 8u << 20);
  EXPECT_TRUE(Parse({"run", "--web.enable-ingest"}).enable_ingest);
  EXPECT_FALSE(Parse({"run", "--web.enable-ingest=false"}).enable_ingest);
  EXPECT_TRUE(Refused({"once", "--web.enable-ingest"}));
}

TEST(CliIngestFlagsTest, MaxBytesTakesPlainNumbersAndBinaryUnits) {
  EXPECT_EQ(Parse({"run", "--web.ingest.max-bytes", "4096"}).ingest_max_bytes, 4096u);
  EXPECT_EQ(Parse({"run", "--web.ingest.max-bytes", "8388608"}).ingest_max_bytes, 8388608u);
  EXPECT_EQ(Parse({"run", "--web.ingest.max-bytes=512KiB"}).ingest_max_bytes, 512u << 10);
  EXPECT_EQ(Parse({"run", "--web.ingest.max-bytes", "1GiB"}).ingest_max_bytes, 1u << 30);
  for (const char* bad : {"", "0", "2GiB", "8MB", "-1", "MiB", "12345678901"}) {
    EXPECT_TRUE(Refused({"run", "--web.ingest.max-bytes", bad})) << bad;
  }
}

}  // namespace
}  // namespace hlo
