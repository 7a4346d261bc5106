// Lossless JSON encoding of the Model, for the checkpoint. Internal format:
// versioned by the checkpoint, not meant for other readers.
#pragma once

#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "observer/model.h"

namespace hlo {

nlohmann::json EncodeModel(const Model& model);

// nullopt (and *error set) when `j` is not a model this version wrote.
std::optional<Model> DecodeModel(const nlohmann::json& j, std::string* error);

}  // namespace hlo
