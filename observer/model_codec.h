// Lossless JSON encoding of the Model's present state — nodes, services and
// counters — for the checkpoint. History (incidents and deployments) is not
// encoded here: the world files hold it, and the checkpoint reads it back
// from them (see checkpoint.h). Internal format: versioned by the
// checkpoint, not meant for other readers.
#pragma once

#include <optional>
#include <string>

#include <simdjson.h>

#include "observer/json_writer.h"
#include "observer/model.h"

namespace hlo {

// Writes the model as one JSON object (keys sorted, as JsonWriter requires).
void WriteModel(JsonWriter& out, const Model& model);

// A model without history; nullopt (and *error set) when `value` is not a
// model this version wrote.
std::optional<Model> ReadModel(simdjson::dom::element value, std::string* error);

}  // namespace hlo
