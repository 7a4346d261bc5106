// The observer engine: event files → Apply → world files and checkpoint.
// This is the I/O shell around the pure core; `once` and `run` both drive it.
//
// Crash safety: a commit appends the rejections to state/rejected-events.jsonl,
// then replaces each world file atomically, then the checkpoint — which
// records the rejected log's size and a digest of the world files. On open,
// lines past the recorded size are dropped, and world files that do not match
// the digest (a crash between the two steps, or a hand edit) mean a replay
// from zero. A kill at any moment therefore never double-counts.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "observer/apply.h"
#include "observer/checkpoint.h"
#include "observer/event_parser.h"
#include "observer/event_source.h"
#include "observer/inventory.h"
#include "observer/line_parser_pipeline.h"
#include "observer/stage_markers.h"
#include "observer/world_snapshot.h"
#include "observer/world_writer.h"

namespace hlo {

struct ObserverOptions {
  std::filesystem::path root;            // --root; made absolute by the observer
  const Inventory* inventory = nullptr;  // optional; must outlive the observer
  // `run`: leave incidents.json and deployments.json alone when their part
  // of the model has not changed since this observer wrote them (`once`
  // rewrites every world file, as the contract says).
  bool skip_unchanged_history = false;
};

// A rejected event as reported to the operator and to rejected-events.jsonl.
struct RejectedEvent {
  std::string file;  // name inside events/
  uint64_t line = 0;
  RejectReason reason = RejectReason::kBadJson;
  std::string detail;
  std::string raw;  // already sanitised and cut to 1 KiB
};

struct BatchResult {
  uint64_t applied = 0;
  uint64_t rejected = 0;
  uint64_t files_read = 0;       // files from which something new was consumed
  uint64_t pending_bytes = 0;    // bytes left unconsumed (unfinished last lines)
  bool replayed = false;         // history was rebuilt from zero
  std::string replay_reason;     // why, for the log; "" when not replayed
  std::vector<RejectedEvent> rejections;  // this batch's, in processing order
};

class Observer {
 public:
  explicit Observer(ObserverOptions options);

  // Creates state/ and world/ when absent, loads the checkpoint and checks it
  // against the world files. false (with *error) when the root cannot be read
  // or state/ or world/ cannot be created: the caller exits 1. Problems that a
  // replay cures (missing, corrupt or mismatched checkpoint) are not errors;
  // see notices().
  bool Open(std::string* error);

  // Reads and applies every pending event; first rebuilds from zero when the
  // checkpoint is unusable or history changed behind it (a late arrival).
  // false (with *error) only when events/ exists but cannot be listed.
  bool ProcessPending(BatchResult* result, std::string* error);

  // The world now, for the world files and the metrics.
  WorldSnapshot Snapshot(Timestamp now, Duration stale_after, const StageMarkers& stages) const;

  // Persists the rejected events, the world files of `world`, then the
  // checkpoint. false (with *error) when a write fails; the previous world
  // files and checkpoint then stay as they were.
  bool Commit(const WorldSnapshot& world, std::string* error);

  const Checkpoint& checkpoint() const { return checkpoint_; }
  const std::filesystem::path& root() const { return root_; }
  // Things worth a log line that are not errors (e.g. "checkpoint corrupt").
  const std::vector<std::string>& notices() const { return notices_; }

 private:
  void ScheduleReplay(const std::string& reason, bool count);
  std::string LateArrival(const std::vector<EventFile>& files) const;
  // A processed .jsonl/.ndjson whose consumed bytes changed (checked only for
  // files whose stat stamp moved); "" when none.
  std::string RewrittenFile(const std::vector<EventFile>& files);
  void ReadFile(const EventFile& file, BatchResult* result, std::string* error);
  void Accept(const std::string& file, ParsedLine&& parsed, BatchResult* result);
  void Reject(RejectedEvent rejected, BatchResult* result);
  // (name, content) of each world file; a missing file reads as "\x01missing".
  std::vector<std::pair<std::string, std::string>> WorldFilesOnDisk() const;

  std::filesystem::path root_;
  std::filesystem::path events_dir_, state_dir_, world_dir_;
  ApplyContext context_;
  Checkpoint checkpoint_;
  bool replay_pending_ = false;
  std::string replay_reason_;
  bool rewrite_rejected_log_ = false;  // the log is rewritten after a replay
  std::string pending_rejected_;       // rejected-events.jsonl lines not yet written
  std::vector<std::string> notices_;
  bool skip_unchanged_history_ = false;
  mutable std::optional<HistorySummary> history_;  // for Snapshot()
  WorldWriter world_writer_{""};
};



}  // namespace hlo
