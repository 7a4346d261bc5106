#include "exporter/world_query.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace hlo {
namespace {

using Params = std::vector<std::pair<std::string, std::string>>;
using nlohmann::json;

json Incident(const std::string& id, const std::string& node, const std::string& service,
              const std::string& status, const std::string& started,
              const std::string& last, const json& resolved = nullptr) {
  return {{"id", id},         {"node", node},           {"service", service},
          {"status", status}, {"started_at", started},  {"last_occurrence", last},
          {"resolved_at", resolved}, {"severity", "error"}};
}

json Incidents() {
  json file = json::object();
  for (const json& i : {
           Incident("inc-a", "nas", "web", "resolved", "2024-05-01T10:00:00Z",
                    "2024-05-01T10:05:00Z", "2024-05-01T11:00:00Z"),
           Incident("inc-b", "pi", "dns", "active", "2024-05-02T08:00:00Z", "2024-05-03T09:00:00Z"),
           Incident("inc-c", "nas", "dns", "active", "2024-05-02T08:00:00.5Z",
                    "2024-05-02T08:00:00.5Z"),
           Incident("inc-d", "nas", "web", "active", "2024-05-02T08:00:00Z", "2024-05-02T08:00:00Z"),
       }) {
    file[i["id"].get<std::string>()] = i;
  }
  return file;
}

std::vector<std::string> Ids(const ListPage& page, const char* key = "id") {
  std::vector<std::string> ids;
  for (const json* item : page.items) ids.push_back((*item)[key].get<std::string>());
  return ids;
}

ListQuery MustParse(WorldList list, const Params& params) {
  ListQueryError error;
  const auto query = ParseListQuery(list, params, &error);
  EXPECT_TRUE(query) << error.parameter << ": " << error.message;
  return query.value_or(ListQuery{});
}

TEST(WorldQueryTest, IncidentsComeNewestFirstThenByIdDescending) {
  const json file = Incidents();  // the page points into it
  const ListPage page = RunListQuery(MustParse(WorldList::kIncidents, {}), file);
  // .5Z is later than Z of the same second; equal times fall back to the id.
  EXPECT_EQ(Ids(page), (std::vector<std::string>{"inc-c", "inc-d", "inc-b", "inc-a"}));
  EXPECT_EQ(page.next, std::nullopt);
}

TEST(WorldQueryTest, FiltersByStatusNodeAndService) {
  const json file = Incidents();
  EXPECT_EQ(Ids(RunListQuery(MustParse(WorldList::kIncidents, {{"status", "resolved"}}), file)),
            std::vector<std::string>{"inc-a"});
  EXPECT_EQ(Ids(RunListQuery(
                MustParse(WorldList::kIncidents, {{"node", "nas"}, {"status", "active"}}), file)),
            (std::vector<std::string>{"inc-c", "inc-d"}));
  EXPECT_EQ(Ids(RunListQuery(MustParse(WorldList::kIncidents, {{"service", "dns"}}), file)),
            (std::vector<std::string>{"inc-c", "inc-b"}));
  EXPECT_TRUE(
      RunListQuery(MustParse(WorldList::kIncidents, {{"node", "nowhere"}}), file).items.empty());
}

TEST(WorldQueryTest, SinceKeepsIncidentsSeenOrResolvedAtOrAfterIt) {
  const json file = Incidents();
  // inc-a: last occurrence 10:05, resolved 11:00 → in at 11:00, out after.
  EXPECT_EQ(Ids(RunListQuery(
                MustParse(WorldList::kIncidents, {{"since", "2024-05-01T11:00:00Z"}}), file)),
            (std::vector<std::string>{"inc-c", "inc-d", "inc-b", "inc-a"}));
  EXPECT_EQ(Ids(RunListQuery(
                MustParse(WorldList::kIncidents, {{"since", "2024-05-01T11:00:00.001Z"}}), file)),
            (std::vector<std::string>{"inc-c", "inc-d", "inc-b"}));
  // Offsets count: 10:00+02:00 is 08:00Z.
  EXPECT_EQ(Ids(RunListQuery(
                MustParse(WorldList::kIncidents, {{"since", "2024-05-02T10:00:00.2+02:00"}}), file)),
            (std::vector<std::string>{"inc-c", "inc-b"}));
}

TEST(WorldQueryTest, PagesWalkTheWholeListWithoutOverlap) {
  json file = json::object();
  for (int i = 0; i < 25; ++i) {
    const std::string id = "inc-" + std::to_string(100 + i);
    // Several share a start time, so the id decides among them.
    file[id] = Incident(id, "n", "s", "active", "2024-05-0" + std::to_string(1 + i % 4) + "T00:00:00Z",
                        "2024-05-09T00:00:00Z");
  }
  std::vector<std::string> walked;
  std::optional<std::string> cursor;
  int pages = 0;
  do {
    Params params = {{"limit", "7"}};
    if (cursor) params.emplace_back("cursor", *cursor);
    const ListPage page = RunListQuery(MustParse(WorldList::kIncidents, params), file);
    for (const std::string& id : Ids(page)) walked.push_back(id);
    cursor = page.next;
    ++pages;
  } while (cursor && pages < 10);
  EXPECT_EQ(pages, 4);
  const std::vector<std::string> all = Ids(RunListQuery(MustParse(WorldList::kIncidents, {}), file));
  EXPECT_EQ(walked, all);
  EXPECT_EQ(all.size(), 25u);
}

TEST(WorldQueryTest, ACursorSurvivesChangesBetweenPages) {
  json file = Incidents();
  const ListPage first =
      RunListQuery(MustParse(WorldList::kIncidents, {{"limit", "2"}}), file);
  ASSERT_EQ(Ids(first), (std::vector<std::string>{"inc-c", "inc-d"}));
  ASSERT_TRUE(first.next);
  // Meanwhile: a newer incident opens, and one already shown disappears.
  file["inc-e"] = Incident("inc-e", "pi", "web", "active", "2024-06-01T00:00:00Z",
                           "2024-06-01T00:00:00Z");
  file.erase("inc-d");
  const ListPage second = RunListQuery(
      MustParse(WorldList::kIncidents, {{"limit", "2"}, {"cursor", *first.next}}), file);
  // An offset of 2 would now skip inc-b (and repeat inc-c); the key does not.
  EXPECT_EQ(Ids(second), (std::vector<std::string>{"inc-b", "inc-a"}));
  EXPECT_EQ(second.next, std::nullopt);
}

TEST(WorldQueryTest, DeploymentsWithoutStartSortLastAndFilterByStatus) {
  json file = json::object();
  file["d1"] = {{"correlation_id", "d1"}, {"status", "succeeded"}, {"service", "web"},
                {"node", "nas"}, {"started_at", "2024-05-01T00:00:00Z"}};
  file["d2"] = {{"correlation_id", "d2"}, {"status", "failed"}, {"service", "web"},
                {"node", nullptr}, {"started_at", nullptr}};
  file["d3"] = {{"correlation_id", "d3"}, {"status", "running"}, {"service", "dns"},
                {"node", "pi"}, {"started_at", "2024-05-03T00:00:00Z"}};
  file["d0"] = {{"correlation_id", "d0"}, {"status", "failed"}, {"service", nullptr},
                {"node", nullptr}, {"started_at", nullptr}};
  EXPECT_EQ(Ids(RunListQuery(MustParse(WorldList::kDeployments, {}), file), "correlation_id"),
            (std::vector<std::string>{"d3", "d1", "d2", "d0"}));
  EXPECT_EQ(Ids(RunListQuery(MustParse(WorldList::kDeployments, {{"status", "failed"}}), file),
                "correlation_id"),
            (std::vector<std::string>{"d2", "d0"}));
  EXPECT_EQ(Ids(RunListQuery(MustParse(WorldList::kDeployments, {{"service", "web"}}), file),
                "correlation_id"),
            (std::vector<std::string>{"d1", "d2"}));
  // Paging through the start-less tail.
  const ListPage first = RunListQuery(MustParse(WorldList::kDeployments, {{"limit", "3"}}), file);
  ASSERT_TRUE(first.next);
  EXPECT_EQ(Ids(RunListQuery(MustParse(WorldList::kDeployments, {{"cursor", *first.next}}), file),
                "correlation_id"),
            std::vector<std::string>{"d0"});
}

TEST(WorldQueryTest, RefusesBadParametersNamingThem) {
  const std::string incident_cursor = EncodeListCursor(WorldList::kIncidents, {std::nullopt, "x"});
  const struct {
    WorldList list;
    Params params;
    std::string parameter;
  } cases[] = {
      {WorldList::kIncidents, {{"colour", "red"}}, "colour"},
      {WorldList::kIncidents, {{"status", "open"}}, "status"},
      {WorldList::kIncidents, {{"status", "Active"}}, "status"},
      {WorldList::kDeployments, {{"status", "active"}}, "status"},
      {WorldList::kDeployments, {{"since", "2024-05-01T00:00:00Z"}}, "since"},
      {WorldList::kIncidents, {{"since", "yesterday"}}, "since"},
      {WorldList::kIncidents, {{"since", "2024-05-01 00:00:00Z"}}, "since"},
      {WorldList::kIncidents, {{"limit", "0"}}, "limit"},
      {WorldList::kIncidents, {{"limit", "1001"}}, "limit"},
      {WorldList::kIncidents, {{"limit", "-5"}}, "limit"},
      {WorldList::kIncidents, {{"limit", "+5"}}, "limit"},
      {WorldList::kIncidents, {{"limit", "10x"}}, "limit"},
      {WorldList::kIncidents, {{"limit", "99999999999999999999"}}, "limit"},
      {WorldList::kIncidents, {{"cursor", "!!!"}}, "cursor"},
      {WorldList::kIncidents, {{"cursor", "aGVsbG8"}}, "cursor"},
      {WorldList::kDeployments, {{"cursor", incident_cursor}}, "cursor"},
      {WorldList::kIncidents, {{"node", "a"}, {"node", "b"}}, "node"},
      {WorldList::kIncidents, {{"node", ""}}, "node"},
  };
  for (const auto& c : cases) {
    ListQueryError error;
    EXPECT_EQ(ParseListQuery(c.list, c.params, &error), std::nullopt) << c.parameter;
    EXPECT_EQ(error.parameter, c.parameter);
    EXPECT_NE(error.message.find(c.parameter), std::string::npos) << error.message;
  }
}

TEST(WorldQueryTest, LimitBoundsAreAccepted) {
  EXPECT_EQ(MustParse(WorldList::kIncidents, {{"limit", "1"}}).limit, 1u);
  EXPECT_EQ(MustParse(WorldList::kIncidents, {{"limit", "1000"}}).limit, 1000u);
  EXPECT_EQ(MustParse(WorldList::kIncidents, {}).limit, 100u);
}

TEST(WorldQueryTest, CursorsRoundTripIncludingOddIds) {
  for (const ListCursor& cursor :
       {ListCursor{Timestamp{1714557600, 500000000}, "inc-1714557600-nas-web"},
        ListCursor{std::nullopt, "a:b:c"}, ListCursor{Timestamp{-62135596800, 0}, ""},
        ListCursor{Timestamp{0, 1}, "ü/+"}}) {
    for (const WorldList list : {WorldList::kIncidents, WorldList::kDeployments}) {
      const std::string text = EncodeListCursor(list, cursor);
      EXPECT_EQ(text.find_first_of("+/=%&"), std::string::npos) << text;  // URL-safe as is
      EXPECT_EQ(DecodeListCursor(list, text), cursor) << text;
    }
  }
}

TEST(WorldQueryTest, AnswerHoldsItemsNextAndSequence) {
  const json file = Incidents();
  const ListPage page = RunListQuery(MustParse(WorldList::kIncidents, {{"limit", "1"}}), file);
  const json answer = json::parse(ListPageJson(page, 42));
  ASSERT_EQ(answer["items"].size(), 1u);
  EXPECT_EQ(answer["items"][0], file["inc-c"]);
  EXPECT_EQ(answer["next"], *page.next);
  EXPECT_EQ(answer["sequence"], 42);
  EXPECT_TRUE(json::parse(ListPageJson(ListPage{}, 0))["next"].is_null());
}

TEST(WorldQueryTest, MalformedWorldFilesGiveEmptyPages) {
  for (const json& file : {json(nullptr), json::array({1, 2}), json{{"x", 1}, {"y", "z"}}}) {
    EXPECT_TRUE(RunListQuery(MustParse(WorldList::kIncidents, {}), file).items.empty());
  }
}

}  // namespace
}  // namespace hlo
