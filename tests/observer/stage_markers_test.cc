#include "observer/stage_markers.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "tests/fakes/temp_dir.h"

namespace hlo {
namespace {

namespace fs = std::filesystem;

void SetMtime(const fs::path& path, int64_t seconds, long nanos) {
  const struct timespec times[2] = {{static_cast<time_t>(seconds), nanos},
                                    {static_cast<time_t>(seconds), nanos}};
  ASSERT_EQ(::utimensat(AT_FDCWD, path.c_str(), times, AT_SYMLINK_NOFOLLOW), 0);
}

std::vector<std::string> Names(const std::vector<StageMarker>& markers) {
  std::vector<std::string> names;
  for (const StageMarker& m : markers) names.push_back(m.name);
  return names;
}

// The marker's completed_at, for a single marker written with `content`.
Timestamp CompletedAtFor(const std::string& content) {
  TempDir dir;
  const fs::path marker = dir.Write("saturn/build", content);
  SetMtime(marker, 1700000000, 123456789);
  StageMarkers markers = LoadStageMarkers(dir.path());
  EXPECT_EQ(markers["saturn"].size(), 1u);
  return markers["saturn"].empty() ? Timestamp{} : markers["saturn"][0].completed_at;
}

constexpr Timestamp kMtime{1700000000, 123456789};

TEST(StageMarkersTest, MissingFolderGivesNoNodes) {
  EXPECT_TRUE(LoadStageMarkers("/nonexistent/hlo-stages").empty());
}

TEST(StageMarkersTest, EmptyNodeFolderIsANodeWithoutMarkers) {
  TempDir dir;
  fs::create_directory(dir.path() / "saturn");
  StageMarkers markers = LoadStageMarkers(dir.path());
  ASSERT_EQ(markers.size(), 1u);
  EXPECT_TRUE(markers.at("saturn").empty());
}

TEST(StageMarkersTest, MarkersAreSortedByRawBytesOfName) {
  TempDir dir;
  for (const char* name : {"b-deploy", "\xc3\xa9tape", "Z-final", "a-build", "_pre", "10", "9"}) {
    dir.Write(std::string("saturn/") + name, "");
  }
  StageMarkers markers = LoadStageMarkers(dir.path());
  EXPECT_EQ(Names(markers.at("saturn")),
            (std::vector<std::string>{"10", "9", "Z-final", "_pre", "a-build", "b-deploy",
                                      "\xc3\xa9tape"}));
}

TEST(StageMarkersTest, JsonCompletedAtIsUsed) {
  EXPECT_EQ(CompletedAtFor(R"({"completed_at": "2026-05-12T12:05:00.25Z", "by": "ansible"})"),
            (Timestamp{1778587500, 250000000}));
}

TEST(StageMarkersTest, CompletedAtWithOffsetIsConvertedToUtc) {
  EXPECT_EQ(CompletedAtFor(R"({"completed_at": "2026-05-12T14:05:00+02:00"})"),
            (Timestamp{1778587500, 0}));
}

TEST(StageMarkersTest, JsonAfterUtf8BomIsStillRead) {
  EXPECT_EQ(CompletedAtFor("\xEF\xBB\xBF{\"completed_at\": \"2026-05-12T12:05:00Z\"}\n"),
            (Timestamp{1778587500, 0}));
}

struct FallbackCase {
  std::string label;
  std::string content;
};

class StageMarkersFallbackTest : public ::testing::TestWithParam<FallbackCase> {};

TEST_P(StageMarkersFallbackTest, UsesMtimeWithNanoseconds) {
  EXPECT_EQ(CompletedAtFor(GetParam().content), kMtime);
}

INSTANTIATE_TEST_SUITE_P(
    StageMarkers, StageMarkersFallbackTest,
    ::testing::Values(FallbackCase{"Empty", ""},
                      FallbackCase{"PlainText", "done\n"},
                      FallbackCase{"BrokenJson", "{\"completed_at\": "},
                      FallbackCase{"JsonArray", "[\"2026-05-12T12:05:00Z\"]"},
                      FallbackCase{"JsonString", "\"2026-05-12T12:05:00Z\""},
                      FallbackCase{"NoCompletedAt", "{\"at\": \"2026-05-12T12:05:00Z\"}"},
                      FallbackCase{"NumberCompletedAt", "{\"completed_at\": 1778587500}"},
                      FallbackCase{"BadTimestamp", "{\"completed_at\": \"yesterday\"}"},
                      FallbackCase{"SpaceSeparator", "{\"completed_at\": \"2026-05-12 12:05:00Z\"}"},
                      FallbackCase{"ImpossibleDate", "{\"completed_at\": \"2026-02-30T00:00:00Z\"}"},
                      FallbackCase{"InvalidUtf8", "{\"completed_at\": \"\xff\"}"},
                      FallbackCase{"DeepJson", std::string(10000, '[')}),
    [](const ::testing::TestParamInfo<FallbackCase>& info) { return info.param.label; });

TEST(StageMarkersTest, MarkerOverSizeCapFallsBackToMtime) {
  std::string json = R"({"completed_at": "2026-05-12T12:05:00Z"})";
  EXPECT_EQ(CompletedAtFor(json + std::string(64 * 1024 - json.size(), ' ')),
            (Timestamp{1778587500, 0}));  // exactly 64 KiB is still read
  EXPECT_EQ(CompletedAtFor(json + std::string(64 * 1024 - json.size() + 1, ' ')), kMtime);
}

TEST(StageMarkersTest, HiddenFilesAndFoldersAreSkipped) {
  TempDir dir;
  dir.Write("saturn/.build.tmp", "");
  dir.Write("saturn/deploy", "");
  dir.Write(".staging/deploy", "");
  StageMarkers markers = LoadStageMarkers(dir.path());
  ASSERT_EQ(markers.size(), 1u);
  EXPECT_EQ(Names(markers.at("saturn")), std::vector<std::string>{"deploy"});
}

TEST(StageMarkersTest, FilesDirectlyInStagesFolderAreNotNodes) {
  TempDir dir;
  dir.Write("README", "");
  EXPECT_TRUE(LoadStageMarkers(dir.path()).empty());
}

TEST(StageMarkersTest, SubfoldersSymlinksAndFifosAreNotMarkers) {
  TempDir dir;
  const fs::path target = dir.Write("elsewhere.json", R"({"completed_at": "2026-05-12T12:05:00Z"})");
  dir.Write("saturn/deploy", "");
  fs::create_directory(dir.path() / "saturn" / "sub");
  fs::create_symlink(target, dir.path() / "saturn" / "linked");
  ASSERT_EQ(::mkfifo((dir.path() / "saturn" / "pipe").c_str(), 0600), 0);
  StageMarkers markers = LoadStageMarkers(dir.path());
  EXPECT_EQ(Names(markers.at("saturn")), std::vector<std::string>{"deploy"});
}

TEST(StageMarkersTest, SymlinkedNodeFolderIsNotANode) {
  TempDir dir;
  dir.Write("real/deploy", "");
  fs::create_directory_symlink(dir.path() / "real", dir.path() / "alias");
  StageMarkers markers = LoadStageMarkers(dir.path());
  EXPECT_EQ(markers.count("alias"), 0u);
  EXPECT_EQ(markers.count("real"), 1u);
}

TEST(StageMarkersTest, FolderNamesThatCannotBeNodeNamesAreSkipped) {
  TempDir dir;
  fs::create_directory(dir.path() / "bad\nname");
  fs::create_directory(dir.path() / std::string("\xff\xfe"));
  fs::create_directory(dir.path() / std::string(254, 'x'));
  fs::create_directory(dir.path() / std::string(253, 'y'));
  StageMarkers markers = LoadStageMarkers(dir.path());
  ASSERT_EQ(markers.size(), 1u);
  EXPECT_EQ(markers.count(std::string(253, 'y')), 1u);
}

TEST(StageMarkersTest, UnreadableMarkerFallsBackToMtime) {
  if (::geteuid() == 0) GTEST_SKIP() << "root reads any file";
  TempDir dir;
  const fs::path marker = dir.Write("saturn/build", R"({"completed_at": "2026-05-12T12:05:00Z"})");
  SetMtime(marker, 1700000000, 123456789);
  fs::permissions(marker, fs::perms::none);
  StageMarkers markers = LoadStageMarkers(dir.path());
  ASSERT_EQ(markers.at("saturn").size(), 1u);
  EXPECT_EQ(markers.at("saturn")[0].completed_at, kMtime);
}

TEST(StageMarkersTest, EachNodeHasItsOwnMarkers) {
  TempDir dir;
  dir.Write("saturn/build", "");
  dir.Write("saturn/deploy", "");
  dir.Write("jupiter/build", "");
  fs::create_directory(dir.path() / "mars");
  StageMarkers markers = LoadStageMarkers(dir.path());
  ASSERT_EQ(markers.size(), 3u);
  EXPECT_EQ(Names(markers.at("saturn")), (std::vector<std::string>{"build", "deploy"}));
  EXPECT_EQ(Names(markers.at("jupiter")), std::vector<std::string>{"build"});
  EXPECT_TRUE(markers.at("mars").empty());
}

TEST(StageMarkersTest, MtimeBeforeEpochKeepsNanosPositive) {
  TempDir dir;
  const fs::path marker = dir.Write("saturn/build", "");
  SetMtime(marker, -2, 500000000);
  StageMarkers markers = LoadStageMarkers(dir.path());
  EXPECT_EQ(markers.at("saturn").at(0).completed_at, (Timestamp{-2, 500000000}));
}

}  // namespace
}  // namespace hlo
