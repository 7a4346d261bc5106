// state/event-ids.log: the ids of the events applied (Model::event_ids), one
// per line, so that a restart still knows which ids were accepted and a
// duplicate sent after it (an at-least-once writer retrying) is still caught
// (CONTRACT §4, docs/events.md). Append-only between replays: each commit
// appends the ids added since the last, before the checkpoint, which records
// how many bytes of the log it covers and their hash (like the rejected log:
// a kill between the two leaves bytes the checkpoint does not cover; they
// are cut). A replay rewrites it whole. Ids hold no control character (the
// parser refuses them), so a line is an id as it is.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "observer/checkpoint.h"
#include "observer/env.h"
#include "observer/model.h"

namespace hlo {

// Reads the log's first state.bytes bytes into *ids and cuts what follows.
// false with *why when the log is shorter than that, its bytes hash to
// something else, or they do not hold state.count distinct ids: the
// checkpoint and the log do not belong together (then a replay is due).
bool LoadEventIdLog(Env& env, const std::filesystem::path& path, const EventIdLogState& state,
                    StringSet* ids, std::string* why);

// Appends `added` (ids that became known since the last write; repeats are
// harmless), or with `rewrite` writes `all` anew (sorted, so a replay gives
// the same file); then state describes the log, with count = all.size().
// false (with *error) when the write fails: the log is as before.
bool WriteEventIdLog(Env& env, const std::filesystem::path& path, bool rewrite,
                     const StringSet& all, const std::vector<std::string>& added,
                     EventIdLogState& state, std::string* error);

}  // namespace hlo
