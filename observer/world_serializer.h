// The five world files as bytes (CONTRACT §5): objects keyed and sorted by id,
// keys sorted, two-space indentation, a final newline. Same snapshot → same
// bytes, which is what makes §6's byte-identity possible.
#pragma once

#include <array>
#include <memory>
#include <string>
#include <string_view>

#include "observer/json_writer.h"
#include "observer/world_snapshot.h"

namespace hlo {

struct WorldFile {
  std::string_view name;  // "nodes.json", …
  std::string content;
};

inline constexpr std::array<std::string_view, 5> kWorldFileNames = {
    "deployments.json", "incidents.json", "nodes.json", "runtime-summary.json", "services.json"};

// Bytes of some world files, indexed as kWorldFileNames; null: not rendered.
using WorldFileBytes = std::array<std::shared_ptr<const std::string>, 5>;

// World file kWorldFileNames[index] through `writer` (pretty style), ending
// with the final newline; returns writer.Finish()'s verdict. `model` is the
// one `world` was built from: incidents.json and deployments.json are written
// from its history. Streaming into a writer with a sink keeps a 30 MB file
// out of memory.
bool WriteWorldFile(size_t index, const WorldSnapshot& world, const Model& model,
                    JsonWriter& writer);

// One entry of deployments.json / incidents.json (the object under its
// key), through `writer`: the world files and the history archives
// (observer/history_archive.h) share it, so an archived line is the entry
// the world file held.
void WriteDeploymentEntry(JsonWriter& writer, const DeploymentState& deployment);
void WriteIncidentEntry(JsonWriter& writer, const IncidentState& incident);

// All five, in kWorldFileNames order, as text.
std::array<WorldFile, 5> SerializeWorld(const WorldSnapshot& world, const Model& model);

}  // namespace hlo
