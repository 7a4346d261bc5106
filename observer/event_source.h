// Reading event files from <root>/events/ (CONTRACT §4, §8 "Inputs"): which
// files count, their order, and complete lines from a saved offset. The only
// part of the core that opens event files.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "observer/checkpoint.h"

namespace hlo {

enum class EventFileKind { kJson, kJsonLines };

struct EventFile {
  std::string name;  // inside events/
  EventFileKind kind = EventFileKind::kJsonLines;
  uint64_t size = 0;
};

// True for a name ending case-sensitively in .json, .jsonl or .ndjson and not
// starting with '.'; sets *kind.
bool IsEventFileName(std::string_view name, EventFileKind* kind);

// The event files directly in `events_dir` — regular files only (no
// symlinks, FIFOs, folders) — sorted by the raw bytes of their names. A
// missing folder has none. nullopt (with *error) when it exists but cannot be
// listed.
std::optional<std::vector<EventFile>> ListEventFiles(const std::filesystem::path& events_dir,
                                                     std::string* error);

// One complete, non-blank line. For a line over the size limit `text` holds
// only its first bytes and `size` its full length.
struct RawLine {
  uint64_t line = 0;  // 1-based, counting every line
  std::string_view text;
  uint64_t size = 0;
};
using LineSink = std::function<void(const RawLine&)>;

// Feeds every complete line after `start` to `sink` (blank lines are counted
// but not fed; a BOM at the file's start is skipped) and returns the progress
// after the last complete line. A last line without '\n' is left for later.
// Memory stays bounded by the line limit however long a line is.
std::optional<FileProgress> ReadJsonLines(const std::filesystem::path& file, FileProgress start,
                                          const LineSink& sink, std::string* error);

// Whether a complete non-blank line lies after `offset` (a late append).
bool HasCompleteLineAfter(const std::filesystem::path& file, uint64_t offset);

// A .json file: its content when at most `limit` bytes; otherwise only the
// first bytes, with *too_large set and *size the full size.
std::optional<std::string> ReadJsonDocument(const std::filesystem::path& file, size_t limit,
                                            bool* too_large, uint64_t* size, std::string* error);

}  // namespace hlo
