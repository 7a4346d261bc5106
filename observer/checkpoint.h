// The observer's checkpoint: state/observer_checkpoint.json (CONTRACT §3).
// It is the whole resumable state — read positions, the model, and the
// fingerprint of the world files it was written with — replaced atomically in
// one rename, so it is always self-consistent.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "observer/model.h"

namespace hlo {

inline constexpr int kCheckpointVersion = 1;

// How far an event file has been consumed: bytes up to and including the last
// consumed newline (the size for a .json), and the lines counted so far.
struct FileProgress {
  FileProgress() = default;
  FileProgress(uint64_t offset, uint64_t lines) : offset(offset), lines(lines) {}

  uint64_t offset = 0;
  uint64_t lines = 0;
  // For a .jsonl/.ndjson: a fingerprint of the bytes consumed (see
  // ConsumedFingerprint in event_source.h), so that a file rewritten behind
  // the offset is noticed and costs a replay. "" when unknown (nothing
  // consumed yet, or a checkpoint written before fingerprints): no check.
  std::string fingerprint;
  // The file's stat stamp (size, mtime, ctime, inode) when the fingerprint
  // was last found good; a file whose stamp is unchanged is not reread.
  uint64_t stamp = 0;
  friend bool operator==(const FileProgress&, const FileProgress&) = default;
};

struct Checkpoint {
  std::optional<std::string> file;  // last event file processed; null before any
  uint64_t offset = 0;              // progress in `file`
  std::map<std::string, FileProgress> files;  // every processed file still present
  uint64_t rebuilds = 0;            // late-arrival (and mismatch) replays so far
  uint64_t rejected_log_bytes = 0;  // size of rejected-events.jsonl at this point
  std::string world_digest;         // fingerprint of the world files written with it
  Model model;
};

std::string SerializeCheckpoint(const Checkpoint& checkpoint);

// nullopt (with *error) when the text is not a checkpoint of this version.
std::optional<Checkpoint> ParseCheckpoint(std::string_view text, std::string* error);

}  // namespace hlo
