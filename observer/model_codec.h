// Lossless JSON encoding of the Model's present state — nodes, services and
// counters — for the checkpoint. History (incidents and deployments) is not
// encoded here: the world files hold it, and the checkpoint reads it back
// from them (see checkpoint.h). Internal format: versioned by the
// checkpoint, not meant for other readers.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>

#include <simdjson.h>

#include "observer/json_writer.h"
#include "observer/model.h"

namespace hlo {

// Writes the model as one JSON object (keys sorted, as JsonWriter requires).
void WriteModel(JsonWriter& out, const Model& model);

// Counts keyed by a pair of names (deployments finished by service and
// status, incidents opened by node and service) as an array of
// [first, second, count], in key order.
void WritePairCounts(JsonWriter& out,
                     const std::map<std::pair<std::string, std::string>, uint64_t>& counts);

// A model without history; nullopt (and *error set) when `value` is not a
// model this version wrote.
std::optional<Model> ReadModel(simdjson::dom::element value, std::string* error);

}  // namespace hlo
