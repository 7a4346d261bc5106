// JsonLinesReadAhead: whole .jsonl files parsed on a helper thread ahead of
// the caller must read exactly as ReadAndParseJsonLines reads them, in any
// order the caller asks, within its memory bound, and never hang.
#include "observer/line_parser_pipeline.h"

#include <gtest/gtest.h>

#include <iostream>
#include <string>
#include <vector>

#include "tests/fakes/temp_dir.h"

namespace hlo {
namespace {

std::string Lines(int file, int count) {
  std::string out;
  for (int i = 0; i < count; ++i) {
    if (i % 7 == 3) {
      out += "{not json\n";  // a rejection, with its raw text
      continue;
    }
    out += R"({"timestamp":"2026-05-12T12:00:00Z","type":"node_heartbeat","node":"n)" +
           std::to_string(file) + "-" + std::to_string(i) + "\"}\n";
  }
  out += R"({"timestamp":"2026-05-12T12:00:00Z","type":"node_heartbeat")";  // no newline yet
  return out;
}

// What a sink saw: one text per line (node or rejection), and the end.
struct Read {
  std::vector<std::string> lines;
  std::optional<FileProgress> end;
  std::string error;
};
ParsedLineSink Into(Read& read) {
  return [&read](ParsedLine&& parsed) {
    if (const auto* event = std::get_if<Event>(&parsed.result)) {
      read.lines.push_back(std::to_string(parsed.line) + " " + event->node);
    } else {
      read.lines.push_back(std::to_string(parsed.line) + " rejected " + parsed.raw);
    }
  };
}

Read Direct(const std::filesystem::path& path, FileProgress start) {
  Read read;
  read.end = ReadAndParseJsonLines(path, start, 1 << 20, Into(read), &read.error, 0);
  return read;
}

// What the observer does: the read-ahead's lines when it has the file (it
// may not have started it yet), else a read of its own.
Read TakeOrRead(JsonLinesReadAhead& ahead, const std::filesystem::path& path, FileProgress start,
                int* taken = nullptr) {
  Read read;
  if (ahead.Take(path, start, Into(read), &read.end, &read.error)) {
    if (taken != nullptr) ++*taken;
    return read;
  }
  EXPECT_TRUE(read.lines.empty()) << "Take fed lines, then said no";
  return Direct(path, start);
}

bool SameEnd(const std::optional<FileProgress>& a, const std::optional<FileProgress>& b) {
  if (a.has_value() != b.has_value()) return false;
  return !a || (a->offset == b->offset && a->lines == b->lines && a->fingerprint == b->fingerprint);
}

class JsonLinesReadAheadTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (int f = 0; f < 40; ++f) {
      paths_.push_back(dir_.Write("f" + std::to_string(100 + f) + ".jsonl", Lines(f, 50 + f)));
    }
  }
  // Read-ahead over every file from `starts` (default: from the beginning).
  std::unique_ptr<JsonLinesReadAhead> Ahead(const std::vector<FileProgress>& starts = {}) {
    std::vector<JsonLinesReadAhead::File> files;
    std::vector<uint64_t> sizes;
    for (size_t i = 0; i < paths_.size(); ++i) {
      files.push_back({paths_[i], starts.empty() ? FileProgress{} : starts[i]});
      std::error_code ec;
      const uint64_t size = std::filesystem::file_size(paths_[i], ec);
      sizes.push_back(ec ? 0 : size);
    }
    return std::make_unique<JsonLinesReadAhead>(std::move(files), std::move(sizes));
  }

  TempDir dir_;
  std::vector<std::filesystem::path> paths_;
};

TEST_F(JsonLinesReadAheadTest, EveryFileTakenInOrderReadsAsReadingItDirectly) {
  // Run a few times: which files the helper has ready when asked varies.
  for (int round = 0; round < 5; ++round) {
    auto ahead = Ahead();
    int taken = 0;
    for (const auto& path : paths_) {
      const Read read = TakeOrRead(*ahead, path, FileProgress{}, &taken);
      const Read direct = Direct(path, FileProgress{});
      EXPECT_EQ(read.lines, direct.lines) << path;
      EXPECT_TRUE(SameEnd(read.end, direct.end)) << path;
    }
    std::cout << "round " << round << ": " << taken << " of " << paths_.size()
              << " files from the read-ahead\n";
  }
}

TEST_F(JsonLinesReadAheadTest, FilesPassedOverAreDroppedAndTheRestStillRead) {
  auto ahead = Ahead();
  for (size_t i = 0; i < paths_.size(); i += 3) {  // every third file
    EXPECT_EQ(TakeOrRead(*ahead, paths_[i], FileProgress{}).lines,
              Direct(paths_[i], FileProgress{}).lines)
        << i;
  }
  // Going back is never served by the read-ahead.
  Read read;
  EXPECT_FALSE(ahead->Take(paths_[1], FileProgress{}, Into(read), &read.end, &read.error));
  EXPECT_TRUE(read.lines.empty());
}

TEST_F(JsonLinesReadAheadTest, AFileAskedFromAnotherOffsetIsNotTakenFromTheReadAhead) {
  std::vector<FileProgress> starts(paths_.size());
  starts[2] = FileProgress{10, 0};  // not the start asked for below
  auto ahead = Ahead(starts);
  Read read;
  EXPECT_FALSE(ahead->Take(paths_[2], FileProgress{}, Into(read), &read.end, &read.error));
  EXPECT_EQ(TakeOrRead(*ahead, paths_[3], FileProgress{}).lines,
            Direct(paths_[3], FileProgress{}).lines);
}

TEST_F(JsonLinesReadAheadTest, ResumesFromAKnownOffsetLikeTheDirectRead) {
  const std::optional<FileProgress> part = Direct(paths_[5], FileProgress{}).end;
  ASSERT_TRUE(part.has_value());
  // File 5's unfinished last line ends, and one more follows, after it was
  // read up to `part`.
  const std::string more = R"(
{"timestamp":"2026-05-12T12:00:00Z","type":"node_heartbeat","node":"late"}
)";
  dir_.Write("f105.jsonl", Lines(5, 55) + more);
  std::vector<FileProgress> starts(paths_.size());
  starts[5] = *part;
  auto ahead = Ahead(starts);
  for (int i = 0; i < 5; ++i) TakeOrRead(*ahead, paths_[i], FileProgress{});
  const Read read = TakeOrRead(*ahead, paths_[5], *part);
  const Read direct = Direct(paths_[5], *part);
  EXPECT_EQ(read.lines, direct.lines);
  ASSERT_EQ(read.lines.size(), 2u);
  EXPECT_TRUE(SameEnd(read.end, direct.end));
}

TEST_F(JsonLinesReadAheadTest, AMissingFileGivesTheDirectReadsError) {
  std::filesystem::remove(paths_[7]);
  auto ahead = Ahead();
  for (int i = 0; i < 7; ++i) TakeOrRead(*ahead, paths_[i], FileProgress{});
  const Read read = TakeOrRead(*ahead, paths_[7], FileProgress{});
  const Read direct = Direct(paths_[7], FileProgress{});
  EXPECT_FALSE(read.end.has_value());
  EXPECT_FALSE(direct.end.has_value());
  EXPECT_EQ(read.error, direct.error);
  EXPECT_FALSE(read.error.empty());
}

TEST_F(JsonLinesReadAheadTest, DestroyedBeforeAnythingIsTakenStopsCleanly) {
  for (int i = 0; i < 20; ++i) Ahead();  // each joins its helper
}

}  // namespace
}  // namespace hlo
