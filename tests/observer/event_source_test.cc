// Listing events/ and reading .json files (observer/event_source.h): which
// entries count, what a read reports, and that a read-ahead hands out exactly
// what reading each file directly would.
#include "observer/event_source.h"

#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "observer/event_parser.h"
#include "tests/fakes/temp_dir.h"

namespace hlo {
namespace {

namespace fs = std::filesystem;

std::vector<EventFile> List(const fs::path& dir) {
  std::string error;
  std::optional<std::vector<EventFile>> files = ListEventFiles(dir, &error);
  EXPECT_TRUE(files.has_value()) << error;
  return files.value_or(std::vector<EventFile>{});
}

std::vector<std::string> Names(const std::vector<EventFile>& files) {
  std::vector<std::string> names;
  for (const EventFile& f : files) names.push_back(f.name);
  return names;
}

// What ReadJsonDocument reported, in one comparable value.
struct Read {
  std::optional<std::string> content;
  bool too_large = false;
  uint64_t size = 0;
  std::string error;
  friend bool operator==(const Read&, const Read&) = default;
};

Read ReadListed(const EventFile& file, size_t limit = kMaxEventBytes) {
  Read r;
  r.content = ReadJsonDocument(file, limit, &r.too_large, &r.size, &r.error);
  return r;
}

Read ReadByPath(const fs::path& path, size_t limit = kMaxEventBytes) {
  Read r;
  r.content = ReadJsonDocument(path, limit, &r.too_large, &r.size, &r.error);
  return r;
}

TEST(EventSourceTest, ListsRegularEventFilesOnlySortedByBytes) {
  TempDir tmp;
  const fs::path events = tmp.path() / "events";
  for (const char* name : {"b.json", "a.jsonl", "c.ndjson", "B.json", "a-1.json", "x\xff.json"}) {
    tmp.Write(std::string("events/") + name, "{}");
  }
  for (const char* name : {".hidden.json", "x.tmp", "x.JSON", "x.json.bak", "sub/nested.json"}) {
    tmp.Write(std::string("events/") + name, "{}");
  }
  fs::create_directory(events / "dir.json");
  fs::create_symlink(events / "b.json", events / "link.json");
  fs::create_symlink(events / "a.jsonl", events / "link.jsonl");
  ASSERT_EQ(::mkfifo((events / "fifo.json").c_str(), 0644), 0);
  ASSERT_EQ(::mkfifo((events / "fifo.jsonl").c_str(), 0644), 0);

  const std::vector<EventFile> files = List(events);
  EXPECT_EQ(Names(files), (std::vector<std::string>{"B.json", "a-1.json", "a.jsonl", "b.json",
                                                    "c.ndjson", "x\xff.json"}));
  for (const EventFile& f : files) {
    EXPECT_EQ(f.kind, f.name.ends_with(".json") ? EventFileKind::kJson : EventFileKind::kJsonLines)
        << f.name;
  }
}

TEST(EventSourceTest, MissingFolderHasNoFilesAndAFileInsteadIsAnError) {
  TempDir tmp;
  std::string error;
  const auto none = ListEventFiles(tmp.path() / "events", &error);
  ASSERT_TRUE(none.has_value()) << error;
  EXPECT_TRUE(none->empty());

  tmp.Write("events", "not a folder");
  EXPECT_FALSE(ListEventFiles(tmp.path() / "events", &error).has_value());
  EXPECT_NE(error.find("cannot list"), std::string::npos) << error;
}

TEST(EventSourceTest, LineFilesCarryTheirSizeAndJsonFilesAreSizedOnAsking) {
  TempDir tmp;
  tmp.Write("events/a.jsonl", "{}\n{}\n");
  tmp.Write("events/b.json", "[{}, {}]");
  const std::vector<EventFile> files = List(tmp.path() / "events");
  ASSERT_EQ(files.size(), 2u);
  EXPECT_EQ(files[0].size, 6u);
  EXPECT_NE(files[0].stamp, 0u);
  EXPECT_EQ(SizeOf(files[0]), 6u);
  EXPECT_EQ(SizeOf(files[1]), 8u);
  fs::remove(tmp.path() / "events" / "b.json");
  EXPECT_EQ(SizeOf(files[1]), 0u);
}

TEST(EventSourceTest, DocumentUpToTheLimitIsReadWholeAndBeyondItOnlyItsHead) {
  TempDir tmp;
  constexpr size_t kLimit = 100'000;
  tmp.Write("events/a.json", std::string(kLimit, 'a'));
  tmp.Write("events/b.json", std::string(kLimit + 1, 'b'));
  tmp.Write("events/c.json", std::string(5 * kLimit, 'c'));
  tmp.Write("events/d.json", "");
  const std::vector<EventFile> files = List(tmp.path() / "events");
  ASSERT_EQ(files.size(), 4u);

  const Read a = ReadListed(files[0], kLimit);
  EXPECT_EQ(a.content, std::string(kLimit, 'a'));
  EXPECT_FALSE(a.too_large);
  EXPECT_EQ(a.size, kLimit);
  const Read b = ReadListed(files[1], kLimit);
  EXPECT_TRUE(b.too_large);
  EXPECT_EQ(b.size, kLimit + 1);
  EXPECT_EQ(b.content, std::string(4096, 'b'));  // enough for rejected-events.jsonl's `raw`
  const Read c = ReadListed(files[2], kLimit);
  EXPECT_TRUE(c.too_large);
  EXPECT_EQ(c.size, 5 * kLimit);
  const Read d = ReadListed(files[3], kLimit);
  EXPECT_EQ(d.content, "");
  EXPECT_EQ(d.size, 0u);

  for (const EventFile& f : files) {
    EXPECT_EQ(ReadListed(f, kLimit), ReadByPath(tmp.path() / "events" / f.name, kLimit)) << f.name;
  }
}

TEST(EventSourceTest, VanishedDocumentIsAnErrorNamingIt) {
  TempDir tmp;
  tmp.Write("events/a.json", "{}");
  const std::vector<EventFile> files = List(tmp.path() / "events");
  ASSERT_EQ(files.size(), 1u);
  fs::remove(tmp.path() / "events" / "a.json");
  const Read r = ReadListed(files[0]);
  EXPECT_FALSE(r.content.has_value());
  EXPECT_NE(r.error.find("cannot read " + (tmp.path() / "events" / "a.json").string()),
            std::string::npos)
      << r.error;
}

// Files of every kind a read can meet, many more than a read-ahead batch.
std::vector<EventFile> ManyDocuments(const TempDir& tmp, size_t count) {
  for (size_t i = 0; i < count; ++i) {
    char name[32];
    std::snprintf(name, sizeof name, "events/%05zu.json", i);
    std::string content = "{\"n\":" + std::to_string(i) + "}";
    if (i % 97 == 5) content = std::string(kMaxEventBytes + 1 + i, 'x');  // too large
    if (i % 89 == 7) content = std::string(kMaxEventBytes, ' ');          // exactly the limit
    if (i % 13 == 3) content.clear();
    tmp.Write(name, content);
  }
  tmp.Write("events/zz.jsonl", "{}\n");  // not read ahead
  return List(tmp.path() / "events");
}

std::vector<std::string> JsonNames(const std::vector<EventFile>& files) {
  std::vector<std::string> names;
  for (const EventFile& f : files) {
    if (f.kind == EventFileKind::kJson) names.push_back(f.name);
  }
  return names;
}

TEST(EventSourceTest, ReadAheadHandsOutWhatDirectReadsGive) {
  TempDir tmp;
  const std::vector<EventFile> files = ManyDocuments(tmp, 700);
  std::vector<Read> direct;
  for (const EventFile& f : files) direct.push_back(ReadListed(f));

  const std::vector<EventFile> again = List(tmp.path() / "events");
  ASSERT_EQ(again.size(), files.size());
  again.front().dir->ReadAhead(JsonNames(again), kMaxEventBytes);
  for (size_t i = 0; i < again.size(); ++i) {
    EXPECT_EQ(ReadListed(again[i]), direct[i]) << again[i].name;
  }
}

TEST(EventSourceTest, ReadAheadCopesWithNamesSkippedRepeatedOrNotInItsList) {
  TempDir tmp;
  const std::vector<EventFile> files = ManyDocuments(tmp, 300);
  std::vector<Read> direct;
  for (const EventFile& f : files) direct.push_back(ReadListed(f));

  const std::vector<EventFile> again = List(tmp.path() / "events");
  std::vector<std::string> names = JsonNames(again);
  names.erase(names.begin() + 100, names.begin() + 110);  // these are read directly
  again.front().dir->ReadAhead(names, kMaxEventBytes);
  for (size_t i = 0; i < again.size(); ++i) {
    if (i % 3 == 1) continue;  // never asked for: dropped on the way
    EXPECT_EQ(ReadListed(again[i]), direct[i]) << again[i].name;
    if (i % 7 == 0) {
      EXPECT_EQ(ReadListed(again[i]), direct[i]) << again[i].name << " again";
    }
  }
  // Another limit than the read-ahead's: read directly, with that limit.
  EXPECT_TRUE(ReadListed(again[1], 1).too_large);
}

TEST(EventSourceTest, UnconsumedReadAheadStopsWithTheListing) {
  TempDir tmp;
  {
    const std::vector<EventFile> files = ManyDocuments(tmp, 500);
    files.front().dir->ReadAhead(JsonNames(files), kMaxEventBytes);
    EXPECT_EQ(ReadListed(files[0]).content, "{\"n\":0}");
  }  // joins the helper: a hang here fails by timeout
  std::vector<EventFile> files = List(tmp.path() / "events");
  ReadAheadUnreadDocuments(files, {}, kMaxEventBytes);
}

TEST(EventSourceTest, ReadAheadOfUnreadDocumentsLeavesReadsUnchanged) {
  TempDir tmp;
  const std::vector<EventFile> files = ManyDocuments(tmp, 300);
  std::vector<Read> direct;
  for (const EventFile& f : files) direct.push_back(ReadListed(f));

  const std::vector<EventFile> again = List(tmp.path() / "events");
  std::map<std::string, FileProgress> progress;  // every other file already read
  for (size_t i = 0; i < again.size(); i += 2) progress[again[i].name] = {1, 1};
  progress["gone.json"] = {1, 1};
  ReadAheadUnreadDocuments(again, progress, kMaxEventBytes);
  for (size_t i = 1; i < again.size(); i += 2) {
    EXPECT_EQ(ReadListed(again[i]), direct[i]) << again[i].name;
  }
}

}  // namespace
}  // namespace hlo
