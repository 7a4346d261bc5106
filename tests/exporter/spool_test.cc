#include "exporter/spool.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include "tests/fakes/temp_dir.h"

namespace hlo {
namespace {

namespace fs = std::filesystem;

std::vector<std::string> Lines(int from, int to) {
  std::vector<std::string> out;
  for (int i = from; i < to; ++i) out.push_back("{\"id\":\"e" + std::to_string(i) + "\"}");
  return out;
}

std::vector<std::string> Texts(const std::vector<SpooledEvent>& events) {
  std::vector<std::string> out;
  for (const SpooledEvent& e : events) out.push_back(e.json);
  return out;
}

std::vector<std::string> Segments(const fs::path& dir) {
  std::vector<std::string> out;
  for (const auto& entry : fs::directory_iterator(dir)) {
    const std::string name = entry.path().filename().string();
    if (name.size() > 7 && name.compare(name.size() - 7, 7, ".ndjson") == 0) out.push_back(name);
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::unique_ptr<Spool> OpenLocked(const fs::path& dir) {
  std::string error;
  auto spool = Spool::Open(dir, &error);
  EXPECT_TRUE(spool) << error;
  EXPECT_TRUE(spool && spool->TryLockForDrain(&error)) << error;
  return spool;
}

// Everything pending, acknowledged batch by batch.
std::vector<std::string> DrainAll(Spool& spool, size_t batch = 3) {
  std::vector<std::string> out;
  std::string error;
  for (;;) {
    const auto events = spool.Peek(batch, 1 << 20);
    if (events.empty()) return out;
    for (const auto& t : Texts(events)) out.push_back(t);
    EXPECT_TRUE(spool.Ack(events.size(), &error)) << error;
  }
}

void AppendRaw(const fs::path& path, std::string_view bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::app);
  out << bytes;
}

TEST(SpoolTest, AppendedLinesDrainInOrderAndLeaveNothingBehind) {
  TempDir dir;
  auto spool = OpenLocked(dir.path() / "spool");
  std::string error;
  ASSERT_TRUE(spool->Append(Lines(0, 5), &error)) << error;
  ASSERT_TRUE(spool->Append(Lines(5, 8), &error)) << error;
  EXPECT_EQ(spool->PendingEvents(), 8u);
  EXPECT_EQ(DrainAll(*spool), Lines(0, 8));
  EXPECT_EQ(spool->PendingEvents(), 0u);
  EXPECT_EQ(Segments(dir.path() / "spool"), std::vector<std::string>{});
}

TEST(SpoolTest, PeekWithoutAckReturnsTheSameEvents) {
  TempDir dir;
  auto spool = OpenLocked(dir.path());
  std::string error;
  ASSERT_TRUE(spool->Append(Lines(0, 4), &error));
  const auto first = Texts(spool->Peek(2, 1 << 20));
  EXPECT_EQ(first, Lines(0, 2));
  EXPECT_EQ(Texts(spool->Peek(2, 1 << 20)), first);
  const auto origin = spool->Peek(2, 1 << 20)[1].origin;
  EXPECT_NE(origin.find(":2"), std::string::npos) << origin;
}

TEST(SpoolTest, BatchesRespectByteLimitButAlwaysCarryOneEvent) {
  TempDir dir;
  auto spool = OpenLocked(dir.path());
  std::string error;
  ASSERT_TRUE(spool->Append(Lines(0, 10), &error));
  EXPECT_EQ(spool->Peek(100, 1).size(), 1u);
  // Each line is 12 bytes plus its newline.
  EXPECT_EQ(spool->Peek(100, 13 * 3).size(), 3u);
}

TEST(SpoolTest, AcknowledgementSurvivesAReopen) {
  TempDir dir;
  std::string error;
  {
    auto spool = OpenLocked(dir.path());
    ASSERT_TRUE(spool->Append(Lines(0, 6), &error));
    ASSERT_EQ(spool->Peek(4, 1 << 20).size(), 4u);
    ASSERT_TRUE(spool->Ack(4, &error)) << error;
  }
  auto spool = OpenLocked(dir.path());
  EXPECT_EQ(spool->PendingEvents(), 2u);
  EXPECT_EQ(DrainAll(*spool), Lines(4, 6));
}

TEST(SpoolTest, KilledDrainerResendsOnlyTheUnacknowledgedBatch) {
  TempDir dir;
  std::string error;
  {
    auto spool = OpenLocked(dir.path());
    ASSERT_TRUE(spool->Append(Lines(0, 10), &error));
  }
  // A child drains two batches of 3, peeks a third and dies before its Ack.
  const pid_t pid = ::fork();
  if (pid == 0) {
    std::string e;
    auto spool = Spool::Open(dir.path(), &e);
    if (!spool || !spool->TryLockForDrain(&e)) ::_exit(3);
    for (int i = 0; i < 2; ++i) {
      spool->Peek(3, 1 << 20);
      if (!spool->Ack(3, &e)) ::_exit(4);
    }
    spool->Peek(3, 1 << 20);
    ::kill(::getpid(), SIGKILL);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFSIGNALED(status)) << "child exit " << WEXITSTATUS(status);
  auto spool = OpenLocked(dir.path());  // its drain lock died with it
  EXPECT_EQ(DrainAll(*spool), Lines(6, 10));
}

TEST(SpoolTest, RollsSegmentsAtTheirSizeAndDrainsThemInOrder) {
  TempDir dir;
  auto spool = OpenLocked(dir.path());
  spool->segment_bytes = 40;  // three 13-byte lines per segment
  std::string error;
  ASSERT_TRUE(spool->Append(Lines(0, 10), &error));
  EXPECT_EQ(Segments(dir.path()).size(), 4u);
  // A batch never spans two segments.
  EXPECT_EQ(spool->Peek(10, 1 << 20).size(), 3u);
  EXPECT_EQ(DrainAll(*spool, 10), Lines(0, 10));
  EXPECT_EQ(Segments(dir.path()).size(), 0u);
}

TEST(SpoolTest, TornLastLineOfADeadWriterIsDroppedWithItsSegment) {
  TempDir dir;
  auto spool = OpenLocked(dir.path());
  std::string error;
  ASSERT_TRUE(spool->Append(Lines(0, 3), &error));
  const auto segments = Segments(dir.path());
  ASSERT_EQ(segments.size(), 1u);
  AppendRaw(dir.path() / segments[0], "{\"id\":\"torn");  // a crash mid-write
  EXPECT_EQ(spool->PendingEvents(), 3u);
  EXPECT_EQ(DrainAll(*spool), Lines(0, 3));
  EXPECT_EQ(Segments(dir.path()).size(), 0u);
}

TEST(SpoolTest, CorruptTailIsPassedOnForTheObserverToReject) {
  // Garbage that does end in a newline (a disk that kept zeros after a crash)
  // is not ours to judge: the observer rejects it as bad_json and says so.
  TempDir dir;
  auto spool = OpenLocked(dir.path());
  std::string error;
  ASSERT_TRUE(spool->Append(Lines(0, 2), &error));
  AppendRaw(dir.path() / Segments(dir.path())[0], std::string(5, '\0') + "\n\n   \n");
  std::vector<std::string> expected = Lines(0, 2);
  expected.push_back(std::string(5, '\0'));  // the blank lines are skipped
  EXPECT_EQ(DrainAll(*spool), expected);
}

TEST(SpoolTest, UnreadableOrMisplacedAcknowledgementResendsFromALineStart) {
  TempDir dir;
  std::string error;
  {
    auto spool = OpenLocked(dir.path());
    ASSERT_TRUE(spool->Append(Lines(0, 4), &error));
  }
  const std::string segment = Segments(dir.path())[0];
  const fs::path ack = dir.path() / (segment + ".acked");
  {
    std::ofstream(ack) << "garbage";
    auto spool = OpenLocked(dir.path());
    EXPECT_EQ(Texts(spool->Peek(10, 1 << 20)), Lines(0, 4));
  }
  {
    std::ofstream(ack) << "20\n";  // inside line 2 (lines are 13 bytes)
    auto spool = OpenLocked(dir.path());
    EXPECT_EQ(Texts(spool->Peek(10, 1 << 20)), Lines(1, 4));
  }
  {
    std::ofstream(ack) << "999999\n";  // past the end: all acknowledged
    auto spool = OpenLocked(dir.path());
    EXPECT_TRUE(spool->Peek(10, 1 << 20).empty());
    EXPECT_EQ(Segments(dir.path()).size(), 0u);
  }
}

TEST(SpoolTest, OnlyOneDrainerAtATime) {
  TempDir dir;
  std::string error;
  auto first = Spool::Open(dir.path(), &error);
  auto second = Spool::Open(dir.path(), &error);
  ASSERT_TRUE(first && second);
  ASSERT_TRUE(first->TryLockForDrain(&error)) << error;
  EXPECT_FALSE(second->TryLockForDrain(&error));
  EXPECT_NE(error.find("another sender"), std::string::npos) << error;
  // Appending needs no drain lock.
  EXPECT_TRUE(second->Append(Lines(0, 1), &error)) << error;
  first.reset();
  EXPECT_TRUE(second->TryLockForDrain(&error)) << error;
  EXPECT_EQ(DrainAll(*second), Lines(0, 1));
}

TEST(SpoolTest, SegmentStillBeingWrittenIsSkippedUntilItsWriterLetsGo) {
  TempDir dir;
  auto spool = OpenLocked(dir.path());
  const fs::path busy = dir.path() / "seg-00000000000000000001-1-0.ndjson";
  std::ofstream(busy) << "{\"id\":\"busy\"}\n";
  const int writer = ::open(busy.c_str(), O_RDONLY);
  ASSERT_GE(writer, 0);
  ASSERT_EQ(::flock(writer, LOCK_EX), 0);
  std::string error;
  ASSERT_TRUE(spool->Append(Lines(0, 1), &error));
  EXPECT_EQ(DrainAll(*spool), Lines(0, 1));  // the older, busy one is skipped
  EXPECT_TRUE(fs::exists(busy));
  ::close(writer);
  auto again = std::unique_ptr<Spool>();
  spool.reset();
  again = OpenLocked(dir.path());
  EXPECT_EQ(DrainAll(*again), std::vector<std::string>{"{\"id\":\"busy\"}"});
}

TEST(SpoolTest, LeftoverOfAWriterThatDiedBeforeNamingItsSegmentIsRemoved) {
  TempDir dir;
  const fs::path leftover = dir.path() / ".seg-00000000000000000001-1-0.ndjson.new";
  std::ofstream(leftover) << "";
  auto spool = OpenLocked(dir.path());
  EXPECT_TRUE(spool->Peek(10, 1 << 20).empty());
  EXPECT_FALSE(fs::exists(leftover));
}

TEST(SpoolTest, OpenFailsOnAPathThatCannotBeAFolder) {
  TempDir dir;
  const fs::path file = dir.Write("file", "x");
  std::string error;
  EXPECT_EQ(Spool::Open(file / "spool", &error), nullptr);
  EXPECT_NE(error.find("spool"), std::string::npos) << error;
}

}  // namespace
}  // namespace hlo
