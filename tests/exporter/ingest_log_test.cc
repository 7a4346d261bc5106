// IngestLog: a POSTed body's events checked like a file's and made durable in
// events/ingest-YYYY-MM-DD.jsonl.
#include "exporter/ingest_log.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "observer/event_parser.h"
#include "tests/fakes/temp_dir.h"

namespace hlo {
namespace {

std::string Read(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

const char kHeartbeat[] = R"({"timestamp":"2026-12-04T10:00:00Z","type":"node_heartbeat","node":"a"})";

class IngestLogTest : public ::testing::Test {
 protected:
  IngestLogTest()
      : log_(dir_.path() / "events", [this] { return now_; }, [this] { ++wakes_; }) {}

  nlohmann::json Post(std::string_view body, IngestFormat format) {
    const IngestReply reply = log_.Ingest(body, format, "");
    EXPECT_EQ(reply.status, 202) << reply.body;
    return nlohmann::json::parse(reply.body);
  }
  std::filesystem::path Today() { return dir_.path() / "events" / "ingest-2026-12-04.jsonl"; }

  TempDir dir_;
  Timestamp now_ = *ParseTimestamp("2026-12-04T23:59:59Z");
  int wakes_ = 0;
  IngestLog log_;
};

TEST_F(IngestLogTest, NdjsonAcceptedLinesAreAppendedAndBadOnesReportedByLine) {
  const std::string body = std::string(kHeartbeat) + "\n\n{\"type\":\"node_heartbeat\"}\r\n" +
                           R"({"timestamp":"2026-12-04T10:00:01Z","type":"node_down","node":"b"})" + "\r\n";
  const nlohmann::json reply = Post(body, IngestFormat::kNdjson);
  EXPECT_EQ(reply["accepted"], 2);
  ASSERT_EQ(reply["rejected"].size(), 1u);
  EXPECT_EQ(reply["rejected"][0]["line"], 3);
  EXPECT_EQ(reply["rejected"][0]["reason"], "missing_field");
  EXPECT_EQ(Read(Today()), std::string(kHeartbeat) + "\n" +
                               R"({"timestamp":"2026-12-04T10:00:01Z","type":"node_down","node":"b"})" + "\n");
  EXPECT_EQ(wakes_, 1);
}

TEST_F(IngestLogTest, JsonArrayElementsBecomeOneLineEachThatParseAsTheSameEvents) {
  const std::string body = "[\n " + std::string(kHeartbeat) + ",\n 42\n]";
  const nlohmann::json reply = Post(body, IngestFormat::kJson);
  EXPECT_EQ(reply["accepted"], 1);
  ASSERT_EQ(reply["rejected"].size(), 1u);
  EXPECT_EQ(reply["rejected"][0]["line"], 2);
  EXPECT_EQ(reply["rejected"][0]["reason"], "not_object");
  const std::string written = Read(Today());
  ASSERT_EQ(written.back(), '\n');
  const ParseResult parsed = ParseEventLine(written.substr(0, written.size() - 1));
  ASSERT_TRUE(std::holds_alternative<Event>(parsed));
  EXPECT_EQ(std::get<Event>(parsed).node, "a");
}

TEST_F(IngestLogTest, AnIdAlreadyAcceptedIsADuplicateAndNotWrittenAgain) {
  const std::string one = R"({"timestamp":"2026-12-04T10:00:00Z","type":"node_heartbeat","node":"a","id":"h-1"})";
  EXPECT_EQ(Post(one + "\n" + one + "\n", IngestFormat::kNdjson)["duplicates"], 1);
  const nlohmann::json retry = Post(one, IngestFormat::kJson);
  EXPECT_EQ(retry["accepted"], 0);
  EXPECT_EQ(retry["duplicates"], 1);
  EXPECT_EQ(Read(Today()), one + "\n");
  EXPECT_EQ(wakes_, 1);
}

TEST_F(IngestLogTest, ATornLastLineLeftByAKillIsCutBeforeAppending) {
  std::filesystem::create_directories(dir_.path() / "events");
  std::ofstream(Today()) << kHeartbeat << "\n{\"timestamp\":\"2026-12";
  Post(kHeartbeat, IngestFormat::kJson);
  EXPECT_EQ(Read(Today()), std::string(kHeartbeat) + "\n" + kHeartbeat + "\n");
}

TEST_F(IngestLogTest, TheFileIsTheUtcDayTheEventsWereReceived) {
  Post(kHeartbeat, IngestFormat::kJson);
  now_ = *ParseTimestamp("2026-12-05T00:00:00Z");
  Post(kHeartbeat, IngestFormat::kJson);
  EXPECT_EQ(Read(Today()), std::string(kHeartbeat) + "\n");
  EXPECT_EQ(Read(dir_.path() / "events" / "ingest-2026-12-05.jsonl"), std::string(kHeartbeat) + "\n");
  EXPECT_EQ(log_.accepted_total(), 2u);
}

TEST_F(IngestLogTest, AnEmptyBodyWritesNothing) {
  const nlohmann::json reply = Post("  \n", IngestFormat::kJson);
  EXPECT_EQ(reply["accepted"], 0);
  EXPECT_TRUE(reply["rejected"].empty());
  EXPECT_FALSE(std::filesystem::exists(Today()));
  EXPECT_EQ(wakes_, 0);
}

}  // namespace
}  // namespace hlo
