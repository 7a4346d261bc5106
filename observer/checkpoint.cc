#include "observer/checkpoint.h"

#include <nlohmann/json.hpp>

#include "observer/model_codec.h"

namespace hlo {

std::string SerializeCheckpoint(const Checkpoint& c) {
  using nlohmann::json;
  json files = json::object();
  for (const auto& [name, p] : c.files) files[name] = json::array({p.offset, p.lines});
  const json j = {{"version", kCheckpointVersion},
                  {"file", c.file ? json(*c.file) : json()},
                  {"offset", c.offset},
                  {"events_processed", c.model.counters.events_processed},
                  {"events_rejected", c.model.counters.events_rejected},
                  {"rebuilds", c.rebuilds},
                  {"rejected_log_bytes", c.rejected_log_bytes},
                  {"world_digest", c.world_digest},
                  {"files", files},
                  {"model", EncodeModel(c.model)}};
  // File names are arbitrary bytes; never throw on them.
  return j.dump(-1, ' ', false, json::error_handler_t::replace) + "\n";
}

std::optional<Checkpoint> ParseCheckpoint(std::string_view text, std::string* error) {
  using nlohmann::json;
  const json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) {
    if (error) *error = "not a JSON object";
    return std::nullopt;
  }
  try {
    if (j.at("version").get<int>() != kCheckpointVersion) {
      if (error) *error = "unsupported checkpoint version";
      return std::nullopt;
    }
    Checkpoint c;
    if (!j.at("file").is_null()) c.file = j.at("file").get<std::string>();
    c.offset = j.at("offset").get<uint64_t>();
    for (const auto& [name, p] : j.at("files").items()) {
      c.files[name] = {p.at(0).get<uint64_t>(), p.at(1).get<uint64_t>()};
    }
    c.rebuilds = j.at("rebuilds").get<uint64_t>();
    c.rejected_log_bytes = j.at("rejected_log_bytes").get<uint64_t>();
    c.world_digest = j.at("world_digest").get<std::string>();
    std::optional<Model> model = DecodeModel(j.at("model"), error);
    if (!model) return std::nullopt;
    c.model = std::move(*model);
    if (j.at("events_processed").get<uint64_t>() != c.model.counters.events_processed) {
      if (error) *error = "events_processed disagrees with the model";
      return std::nullopt;
    }
    return c;
  } catch (const std::exception& e) {
    if (error) *error = e.what();
    return std::nullopt;
  }
}

}  // namespace hlo
