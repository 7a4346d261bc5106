// Deployment stage markers written by deploy tooling:
// <root>/state/stages/<node>/<stage> (CONTRACT §3, §8 "Entities").
#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "observer/timestamp.h"

namespace hlo {

struct StageMarker {
  std::string name;
  Timestamp completed_at;  // the file's JSON `completed_at`, else its mtime
};

// node → its markers sorted by name. Every non-hidden folder under
// `stages_dir` is a node (possibly with no markers); markers are its regular,
// non-hidden files. A missing `stages_dir` gives an empty map. Never throws.
using StageMarkers = std::map<std::string, std::vector<StageMarker>>;
StageMarkers LoadStageMarkers(const std::filesystem::path& stages_dir);

}  // namespace hlo
