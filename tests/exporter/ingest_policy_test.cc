#include "exporter/ingest_policy.h"

#include <gtest/gtest.h>

namespace hlo {
namespace {

TEST(IngestPolicyTest, LoopbackAddressesMayIngestWithoutAuth) {
  for (const char* address : {"127.0.0.1:9847", "127.1.2.3:1", "localhost:9847", "[::1]:9847"}) {
    EXPECT_TRUE(IsLoopbackListenAddress(address)) << address;
    EXPECT_FALSE(IngestRefusal(address, false)) << address;
  }
}

TEST(IngestPolicyTest, OtherAddressesNeedBasicAuth) {
  for (const char* address : {":9847", "0.0.0.0:9847", "192.168.1.5:9847", "observer:9847", "[::]:1"}) {
    EXPECT_FALSE(IsLoopbackListenAddress(address)) << address;
    const auto refusal = IngestRefusal(address, false);
    ASSERT_TRUE(refusal) << address;
    EXPECT_NE(refusal->find("basic"), std::string::npos);
    EXPECT_FALSE(IngestRefusal(address, true)) << address;
  }
}

}  // namespace
}  // namespace hlo
