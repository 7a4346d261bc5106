// The observer's checkpoint: state/observer_checkpoint.json (CONTRACT §3).
// With the world files it was written with, it is the whole resumable state:
// read positions, the model's present (nodes, services, counters), the
// lateness window, replay and late-event counts, and the fingerprints of
// those world files and of the rejected log. The model's history — incidents and
// deployments, most of its bytes — is not stored twice: it is read back from
// world/incidents.json and world/deployments.json, which the fingerprint
// proves to be the ones written with this checkpoint. The checkpoint is
// replaced atomically in one rename, after the world files.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "observer/history_archive.h"
#include "observer/model.h"
#include "observer/timeline.h"

namespace hlo {

// 4: event ids (the event-ids log's state, the window's added ids, the
// duplicate count). 5: health results, flapping and maintenance (CONTRACT §9)
// and the flap thresholds they were computed with. 6: the history archives
// of --history.retention (their sizes, the horizon, the retention, the
// archived part's totals and the retired deployments). An older checkpoint is
// unusable: the world is rebuilt once, which also applies the newer rules to
// the events already read.
inline constexpr int kCheckpointVersion = 6;

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

inline constexpr uint64_t kFnvOffset = 14695981039346656037ull;

// What state/rejected-events.jsonl holds (see observer/rejected_log.h).
struct RejectedLogState {
  uint64_t bytes = 0;          // its size
  uint64_t hash = kFnvOffset;  // FNV-1a of those bytes
  std::optional<std::pair<std::string, uint64_t>> last;  // (file, line); null when empty
};

// What state/event-ids.log holds (see observer/event_id_log.h).
struct EventIdLogState {
  uint64_t bytes = 0;          // its size
  uint64_t count = 0;          // distinct ids in it (Model::event_ids.size())
  uint64_t hash = kFnvOffset;  // FNV-1a of those bytes
  friend bool operator==(const EventIdLogState&, const EventIdLogState&) = default;
};

struct Checkpoint {
  std::optional<std::string> file;  // last event file processed; null before any
  uint64_t offset = 0;              // progress in `file`
  std::map<std::string, FileProgress> files;  // every processed file still present
  uint64_t rebuilds = 0;            // counted replays so far
  std::map<std::string, uint64_t, std::less<>> rebuilds_by_reason;  // kReplayReasons
  // Events that landed later than --events.max-lateness allowed, by file
  // (files that left events/ are forgotten).
  std::map<std::string, uint64_t, std::less<>> late_events;
  bool replay_due = false;          // late events wait for a coalesced replay
  // The thresholds the model's flapping states were computed with; others
  // (the flags changed) mean a replay.
  FlapThresholds flap{};
  // The lateness window (see Timeline::Save and Timeline::Restore).
  struct Window {
    std::optional<OrderKey> floor;
    std::vector<TimedEvent> events;
    Model before;
    std::vector<std::pair<UndoStep::Kind, std::string>> absent;
    std::vector<std::string> added_ids;  // ids first seen in the window (not in `before`)
  } window;
  EventIdLogState event_ids;        // what event-ids.log holds at this point
  RejectedLogState rejected_log;    // what rejected-events.jsonl holds at this point
  std::string world_digest;         // fingerprint of the world files written with it
  // world/archive/ (--history.retention): what the archives hold at this
  // point; files longer than recorded are cut back on start, shorter or
  // missing ones mean a replay.
  HistoryArchiveState archive;
  Model model;  // with its retired deployments (not in any world file)
  // Set by ParseCheckpoint: the sizes of the history it was written with.
  uint64_t expected_incidents = 0, expected_deployments = 0;
};

// Everything but the model's incidents and deployments (their counts are
// recorded, for AttachHistory to check).
std::string SerializeCheckpoint(const Checkpoint& checkpoint);

// nullopt (with *error) when the text is not a checkpoint of this version.
// The model comes back without history: see AttachHistory.
std::optional<Checkpoint> ParseCheckpoint(std::string_view text, std::string* error);

// Restores the model's incidents and deployments from the texts of
// world/incidents.json and world/deployments.json. false (with *error) when
// they cannot be read back, disagree with the counts the checkpoint recorded,
// or leave a service pointing at an incident that is not active.
bool AttachHistory(Checkpoint& checkpoint, std::string_view incidents_json,
                   std::string_view deployments_json, std::string* error);

}  // namespace hlo
