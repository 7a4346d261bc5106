#include "exporter/base64.h"

#include <gtest/gtest.h>

namespace hlo {
namespace {

TEST(Base64Test, RoundTripsEveryLengthInBothAlphabets) {
  std::string data;
  for (int i = 0; i < 40; ++i) {
    for (Base64Alphabet a : {Base64Alphabet::kStandard, Base64Alphabet::kUrl}) {
      EXPECT_EQ(Base64Decode(Base64Encode(data, a), a), data) << i;
    }
    data += static_cast<char>(i * 37 + 250);
  }
}

TEST(Base64Test, KnownValuesAndPadding) {
  EXPECT_EQ(Base64Decode("dXNlcjpwYXNz", Base64Alphabet::kStandard), "user:pass");
  EXPECT_EQ(Base64Decode("YQ==", Base64Alphabet::kStandard), "a");
  EXPECT_EQ(Base64Encode("\xfb\xff", Base64Alphabet::kStandard), "+/8");
  EXPECT_EQ(Base64Encode("\xfb\xff", Base64Alphabet::kUrl), "-_8");
}

TEST(Base64Test, RefusesOtherAlphabetsAndImpossibleLengths) {
  EXPECT_FALSE(Base64Decode("-_8", Base64Alphabet::kStandard));
  EXPECT_FALSE(Base64Decode("+/8", Base64Alphabet::kUrl));
  EXPECT_FALSE(Base64Decode("abcde", Base64Alphabet::kStandard));
  EXPECT_FALSE(Base64Decode("ab c", Base64Alphabet::kStandard));
}

}  // namespace
}  // namespace hlo
