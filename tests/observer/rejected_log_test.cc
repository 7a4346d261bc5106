// rejected-events.jsonl: ordered by file name, then line, whatever order the
// rejections come in; the checkpoint's state tells its own log from another.
#include "observer/rejected_log.h"

#include <gtest/gtest.h>

#include "observer/atomic_file.h"
#include "tests/fakes/temp_dir.h"

namespace hlo {
namespace {

RejectedEvent Bad(const std::string& file, uint64_t line) {
  return {file, line, RejectReason::kBadJson, "syntax error", "{"};
}

class RejectedLogTest : public ::testing::Test {
 protected:
  void Write(std::vector<RejectedEvent> pending, bool rewrite = false) {
    std::string error;
    ASSERT_TRUE(WriteRejectedLog(*Env::Default(), path_, pending, rewrite, state_, &error))
        << error;
  }
  // (file, line) of each line, in order.
  std::string Order() {
    std::string text = ReadWholeFile(path_, nullptr).value_or(""), out;
    for (size_t pos = 0; (pos = text.find("\"file\":\"", pos)) != std::string::npos;) {
      pos += 8;
      out += text.substr(pos, text.find('"', pos) - pos) + ":";
      const size_t line = text.find("\"line\":", pos) + 7;
      out += text.substr(line, text.find(',', line) - line) + " ";
    }
    return out;
  }

  TempDir dir_;
  std::filesystem::path path_ = dir_.path() / "rejected-events.jsonl";
  RejectedLogState state_;
};

TEST_F(RejectedLogTest, LinesThatSortLastAreAppendedOthersMergedInOrder) {
  Write({Bad("b.jsonl", 2), Bad("b.jsonl", 1)});
  EXPECT_EQ(Order(), "b.jsonl:1 b.jsonl:2 ");
  Write({Bad("c.jsonl", 1)});
  EXPECT_EQ(Order(), "b.jsonl:1 b.jsonl:2 c.jsonl:1 ");
  Write({Bad("a.jsonl", 7), Bad("b.jsonl", 3)});
  EXPECT_EQ(Order(), "a.jsonl:7 b.jsonl:1 b.jsonl:2 b.jsonl:3 c.jsonl:1 ");
  EXPECT_EQ(state_.bytes, std::filesystem::file_size(path_));
  EXPECT_EQ(state_.hash, Fnv1a(ReadWholeFile(path_, nullptr).value()));
  EXPECT_EQ(state_.last, (std::pair<std::string, uint64_t>("c.jsonl", 1)));
}

TEST_F(RejectedLogTest, ARewriteHoldsOnlyThePending) {
  Write({Bad("b.jsonl", 1)});
  Write({Bad("a.jsonl", 1)}, /*rewrite=*/true);
  EXPECT_EQ(Order(), "a.jsonl:1 ");
}

TEST_F(RejectedLogTest, CheckCutsLinesPastTheStateAndRefusesAnotherLog) {
  Write({Bad("a.jsonl", 1)});
  const RejectedLogState written = state_;
  std::string error;
  ASSERT_TRUE(AppendAndSync(path_, RejectedLine(Bad("a.jsonl", 2)), &error)) << error;
  RejectedLogCheck check = RejectedLogCheck::kOther;
  ASSERT_TRUE(CheckRejectedLog(*Env::Default(), path_, written, &check, &error)) << error;
  EXPECT_EQ(check, RejectedLogCheck::kOk);
  EXPECT_EQ(Order(), "a.jsonl:1 ");  // a killed run's line is gone

  ASSERT_TRUE(WriteFileAtomic(path_, RejectedLine(Bad("z.jsonl", 9)), &error)) << error;
  ASSERT_TRUE(CheckRejectedLog(*Env::Default(), path_, written, &check, &error)) << error;
  EXPECT_EQ(check, RejectedLogCheck::kOther);  // as long, other bytes

  ASSERT_TRUE(WriteFileAtomic(path_, "", &error)) << error;
  ASSERT_TRUE(CheckRejectedLog(*Env::Default(), path_, written, &check, &error)) << error;
  EXPECT_EQ(check, RejectedLogCheck::kShorter);
}

}  // namespace
}  // namespace hlo
