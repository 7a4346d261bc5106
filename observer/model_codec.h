// Lossless JSON encoding of the Model's present state — nodes, services and
// counters — for the checkpoint. History (incidents and deployments) is not
// encoded here: the world files hold it, and the checkpoint reads it back
// from them (see checkpoint.h). Internal format: versioned by the
// checkpoint, not meant for other readers.
#pragma once

#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "observer/model.h"

namespace hlo {

nlohmann::json EncodeModel(const Model& model);

// A model without history; nullopt (and *error set) when `j` is not a model
// this version wrote.
std::optional<Model> DecodeModel(const nlohmann::json& j, std::string* error);

}  // namespace hlo
