#include "exporter/world_query.h"

#include "exporter/base64.h"

#include <algorithm>
#include <charconv>
#include <nlohmann/json.hpp>

namespace hlo {
namespace {

using Params = std::vector<std::pair<std::string, std::string>>;

struct Keyed {
  ListCursor key;
  const nlohmann::json* item = nullptr;
};

// Whether `a` comes before `b` in the list's order (newest first).
bool SortsBefore(const ListCursor& a, const ListCursor& b) {
  if (a.started_at.has_value() != b.started_at.has_value()) return a.started_at.has_value();
  if (a.started_at && *a.started_at != *b.started_at) return *a.started_at > *b.started_at;
  return a.id > b.id;
}

const std::string* StringField(const nlohmann::json& item, const char* name) {
  const auto it = item.find(name);
  return it != item.end() && it->is_string() ? &it->get_ref<const std::string&>() : nullptr;
}

std::optional<Timestamp> TimeField(const nlohmann::json& item, const char* name) {
  const std::string* text = StringField(item, name);
  return text != nullptr ? ParseTimestamp(*text) : std::nullopt;
}

bool FieldIs(const nlohmann::json& item, const char* name, const std::optional<std::string>& want) {
  if (!want) return true;
  const std::string* value = StringField(item, name);
  return value != nullptr && *value == *want;
}

bool AtOrAfter(const std::optional<Timestamp>& t, Timestamp since) { return t && *t >= since; }

bool Matches(const ListQuery& query, const nlohmann::json& item) {
  if (!FieldIs(item, "status", query.status) || !FieldIs(item, "node", query.node) ||
      !FieldIs(item, "service", query.service)) {
    return false;
  }
  if (query.since && !AtOrAfter(TimeField(item, "last_occurrence"), *query.since) &&
      !AtOrAfter(TimeField(item, "resolved_at"), *query.since)) {
    return false;
  }
  return true;
}

char ListTag(WorldList list) { return list == WorldList::kIncidents ? 'i' : 'd'; }

template <typename Int>
std::optional<Int> WholeNumber(std::string_view text) {
  Int value{};
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

// "<seconds>.<nanos>" or "n" (no started_at).
std::optional<std::optional<Timestamp>> DecodeTime(std::string_view text) {
  if (text == "n") return std::optional<Timestamp>();
  const auto dot = text.find('.');
  if (dot == std::string_view::npos) return std::nullopt;
  const auto seconds = WholeNumber<int64_t>(text.substr(0, dot));
  const auto nanos = WholeNumber<int32_t>(text.substr(dot + 1));
  if (!seconds || !nanos || *nanos < 0 || *nanos >= 1'000'000'000) return std::nullopt;
  return std::optional<Timestamp>(Timestamp{*seconds, *nanos});
}

const std::vector<std::string_view>& StatusesOf(WorldList list) {
  static const std::vector<std::string_view> kIncident = {"active", "resolved"};
  static const std::vector<std::string_view> kDeployment = {"running", "succeeded", "failed"};
  return list == WorldList::kIncidents ? kIncident : kDeployment;
}

std::string Joined(const std::vector<std::string_view>& words) {
  std::string out;
  for (size_t i = 0; i < words.size(); ++i) {
    out += i == 0 ? "" : (i + 1 == words.size() ? " or " : ", ");
    out += words[i];
  }
  return out;
}

// Sets one parameter on *query; a message on a bad value, else nullopt.
std::optional<std::string> Apply(WorldList list, const std::string& name,
                                 const std::string& value, ListQuery* query) {
  if (name == "status") {
    const auto& allowed = StatusesOf(list);
    if (std::find(allowed.begin(), allowed.end(), value) == allowed.end()) {
      return "status must be " + Joined(allowed);
    }
    query->status = value;
  } else if (name == "node") {
    query->node = value;
  } else if (name == "service") {
    query->service = value;
  } else if (name == "since") {
    query->since = ParseTimestamp(value);
    if (!query->since) {
      return "since must be an RFC 3339 time such as 2024-05-01T12:00:00Z (write '+' as %2B)";
    }
  } else if (name == "limit") {
    const auto limit = value.size() <= 4 && value.find_first_not_of("0123456789") == std::string::npos
                           ? WholeNumber<size_t>(value)
                           : std::nullopt;
    if (!limit || *limit < 1 || *limit > kMaxListLimit) {
      return "limit must be a whole number from 1 to " + std::to_string(kMaxListLimit);
    }
    query->limit = *limit;
  } else if (name == "cursor") {
    query->after = DecodeListCursor(list, value);
    if (!query->after) return "cursor is not a cursor of this list (use the \"next\" of a page)";
  }
  return std::nullopt;
}

bool Known(WorldList list, std::string_view name) {
  for (const char* known : {"status", "node", "service", "limit", "cursor"}) {
    if (name == known) return true;
  }
  return list == WorldList::kIncidents && name == "since";
}

}  // namespace

std::optional<ListQuery> ParseListQuery(WorldList list, const Params& params,
                                        ListQueryError* error) {
  ListQuery query;
  query.list = list;
  std::vector<std::string_view> seen;
  for (const auto& [name, value] : params) {
    const auto fail = [&](std::string message) {
      *error = {name, std::move(message)};
      return std::nullopt;
    };
    if (!Known(list, name)) return fail("unknown parameter \"" + name + "\"");
    if (std::find(seen.begin(), seen.end(), name) != seen.end()) {
      return fail(name + " is given more than once");
    }
    seen.push_back(name);
    if (value.empty()) return fail(name + " must not be empty (leave it out instead)");
    if (auto problem = Apply(list, name, value, &query)) return fail(std::move(*problem));
  }
  return query;
}

ListPage RunListQuery(const ListQuery& query, const nlohmann::json& world_file) {
  std::vector<Keyed> matches;
  if (world_file.is_object()) {
    for (const auto& [id, item] : world_file.items()) {
      if (!item.is_object() || !Matches(query, item)) continue;
      Keyed keyed{{TimeField(item, "started_at"), id}, &item};
      if (query.after && !SortsBefore(*query.after, keyed.key)) continue;
      matches.push_back(std::move(keyed));
    }
  }
  const auto order = [](const Keyed& a, const Keyed& b) { return SortsBefore(a.key, b.key); };
  const size_t take = std::min(query.limit, matches.size());
  std::partial_sort(matches.begin(), matches.begin() + static_cast<ptrdiff_t>(take), matches.end(),
                    order);
  ListPage page;
  for (size_t i = 0; i < take; ++i) page.items.push_back(matches[i].item);
  if (matches.size() > take && take > 0) {
    page.next = EncodeListCursor(query.list, matches[take - 1].key);
  }
  return page;
}

std::string ListPageJson(const ListPage& page, uint64_t sequence) {
  std::string out = "{\"items\": [";
  for (size_t i = 0; i < page.items.size(); ++i) {
    if (i > 0) out += ", ";
    out += page.items[i]->dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  }
  out += "], \"next\": ";
  out += page.next ? nlohmann::json(*page.next).dump() : "null";
  out += ", \"sequence\": " + std::to_string(sequence) + "}\n";
  return out;
}

std::string EncodeListCursor(WorldList list, const ListCursor& cursor) {
  std::string text(1, ListTag(list));
  text += ':';
  text += cursor.started_at ? std::to_string(cursor.started_at->seconds) + "." +
                                  std::to_string(cursor.started_at->nanos)
                            : "n";
  text += ':';
  text += cursor.id;
  return Base64Encode(text, Base64Alphabet::kUrl);
}

std::optional<ListCursor> DecodeListCursor(WorldList list, std::string_view text) {
  const std::optional<std::string> decoded = Base64Decode(text, Base64Alphabet::kUrl);
  if (!decoded || decoded->size() < 4 || (*decoded)[0] != ListTag(list) || (*decoded)[1] != ':') {
    return std::nullopt;
  }
  const std::string_view rest = std::string_view(*decoded).substr(2);
  const auto colon = rest.find(':');
  if (colon == std::string_view::npos) return std::nullopt;
  const auto time = DecodeTime(rest.substr(0, colon));
  if (!time) return std::nullopt;
  return ListCursor{*time, std::string(rest.substr(colon + 1))};
}

}  // namespace hlo
