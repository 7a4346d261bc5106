// The filtered, paginated lists behind GET /api/v1/incidents and
// GET /api/v1/deployments (docs/api.md): a query's parameters in, a page of a
// parsed world file out. Pure: no HTTP, no clock, no I/O.
//
// Order, newest first, total so that pages never overlap or skip:
//   incidents    by started_at descending, then id descending;
//   deployments  by started_at descending, then correlation_id descending;
//                a deployment without started_at (created by a later
//                event of an attempt that was never seen starting) sorts
//                after every one with it.
// Times compare as instants (".5Z" is after "Z" of the same second), ids by
// their bytes. The id is the world file's key.
//
// A cursor is the sort key of the last item of a page, not an offset: the
// next page holds the items strictly after it in this order, so it stays
// right when the world changes between pages (new items appear only on a
// first page; removed ones leave no gap).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "observer/timestamp.h"

namespace hlo {

enum class WorldList {
  kIncidents,    // incidents.json
  kDeployments,  // deployments.json
};

// A position in a list's order.
struct ListCursor {
  std::optional<Timestamp> started_at;  // nullopt: no started_at
  std::string id;

  friend bool operator==(const ListCursor&, const ListCursor&) = default;
};

inline constexpr size_t kDefaultListLimit = 100;
inline constexpr size_t kMaxListLimit = 1000;

// One list request's parameters, checked.
struct ListQuery {
  WorldList list = WorldList::kIncidents;
  std::optional<std::string> status;   // incidents: active, resolved; deployments: running, succeeded, failed
  std::optional<std::string> node;     // exact match
  std::optional<std::string> service;  // exact match
  // Incidents only: those whose last_occurrence or resolved_at is at or
  // after it, i.e. incidents that were alive at some point since then.
  std::optional<Timestamp> since;
  size_t limit = kDefaultListLimit;  // 1..kMaxListLimit
  std::optional<ListCursor> after;   // from `cursor`
};

// Why a query was refused: the parameter at fault and what is wrong.
struct ListQueryError {
  std::string parameter;
  std::string message;  // one line naming the parameter, for the client
};

// Checks decoded (name, value) pairs, in request order. Refused: an unknown
// name, a name given twice, an empty value, a value not allowed for it, a
// limit outside 1..1000, a cursor that does not decode (or is another
// list's). On failure returns nullopt and sets *error.
std::optional<ListQuery> ParseListQuery(WorldList list,
                                        const std::vector<std::pair<std::string, std::string>>& params,
                                        ListQueryError* error);

struct ListPage {
  // The items, newest first; they point into the world file passed to
  // RunListQuery and live as long as it.
  std::vector<const nlohmann::json*> items;
  // The cursor of the next page; nullopt on the last.
  std::optional<std::string> next;
};

// One page of `world_file` (the parsed incidents.json or deployments.json: an
// object keyed by id). Anything in the file that is not an object of objects
// is skipped, never thrown on.
ListPage RunListQuery(const ListQuery& query, const nlohmann::json& world_file);

// The answer body: {"items": [...], "next": <cursor or null>, "sequence": N}
// with each item serialised as nlohmann's compact dump (the same object as
// in the world file, keys sorted).
std::string ListPageJson(const ListPage& page, uint64_t sequence);

// Cursors are opaque to clients: base64url (no padding) of a short text that
// names the list, so one list's cursor is refused by the other.
std::string EncodeListCursor(WorldList list, const ListCursor& cursor);
std::optional<ListCursor> DecodeListCursor(WorldList list, std::string_view text);

}  // namespace hlo
