// The observer engine: event files → Apply → world files and checkpoint.
// This is the I/O shell around the pure core; `once` and `run` both drive it.
//
// Order: events are applied in event-time order (CONTRACT §4) through a
// Timeline, the lateness window: an event up to --events.max-lateness behind
// the latest is folded into its place; an older one is counted late and needs
// a replay from zero (at once, or coalesced to one per replay_min_interval).
//
// Crash safety: a commit writes the rejections to state/rejected-events.jsonl
// (appended when they sort last, else merged and replaced atomically), then
// replaces each world file atomically, then the checkpoint — which records
// the rejected log's size and hash, a digest of the world files and the
// lateness window. On open, lines past the recorded size are dropped; a log,
// world files or window that do not match (a crash between the steps, or a
// hand edit) mean a replay from zero. A kill at any moment therefore never
// double-counts.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "observer/apply.h"
#include "observer/checkpoint.h"
#include "observer/env.h"
#include "observer/event_parser.h"
#include "observer/event_source.h"
#include "observer/inventory.h"
#include "observer/line_parser_pipeline.h"
#include "observer/model_index.h"
#include "observer/rejected_log.h"
#include "observer/stage_markers.h"
#include "observer/timeline.h"
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
  // --events.max-lateness: how far behind the latest applied event time an
  // event may land and still be folded in without a replay.
  Duration max_lateness{300'000'000'000};
  // --events.replay-min-interval (`run`): replays for late events are
  // coalesced to at most one per this long; 0 = at once (`once`).
  Duration replay_min_interval{0};
  // --flap.high / --flap.low (CONTRACT §9). The checkpoint records them:
  // other values than the checkpoint's mean a replay.
  FlapThresholds flap{};
  // --service-stale-after (CONTRACT §9), for Snapshot; 0 = off.
  Duration service_stale_after{0};
  // --history.retention: resolved incidents and finished deployments that
  // ended more than this (plus max_lateness) before the latest event move to
  // world/archive/ (observer/history_archive.h); 0 = off, keep everything.
  // The checkpoint records it: another value means a replay.
  Duration retention{0};
  // Files and clocks (observer/env.h); Env::Default() when null. Must
  // outlive the observer.
  Env* env = nullptr;
};

// Why a replay happened: the `reason` label of homelab_observer_rebuilds_total.
inline constexpr std::string_view kReplayReasons[] = {"checkpoint", "file_rewritten",
                                                      "file_shrank", "late_event"};

struct BatchResult {
  uint64_t applied = 0;
  uint64_t rejected = 0;
  uint64_t files_read = 0;       // files from which something new was consumed
  uint64_t pending_bytes = 0;    // bytes left unconsumed (unfinished last lines)
  bool replayed = false;         // history was rebuilt from zero
  std::string replay_reason;     // why, for the log; "" when not replayed
  uint64_t reordered = 0;        // out of order, folded in within the window
  uint64_t late = 0;             // later than the window allows
  bool replay_deferred = false;  // late events wait for a coalesced replay
  std::vector<RejectedEvent> rejections;  // this batch's, in processing order
  // Event files that could not be read this batch (name inside events/, why);
  // they are tried again next time.
  std::vector<std::pair<std::string, std::string>> unreadable;
  // .jsonl/.ndjson files whose last line still waits for its newline.
  std::vector<std::string> unfinished;
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

  // Reads and applies every pending event in its place; rebuilds from zero
  // instead when the checkpoint is unusable, a processed file shrank or was
  // rewritten, or events arrived later than the window allows (then at once,
  // or, with replay_min_interval, when the interval since the last replay is
  // over: until then late events wait, see BatchResult::replay_deferred).
  // false (with *error) only when events/ exists but cannot be listed.
  bool ProcessPending(BatchResult* result, std::string* error);

  // The world now, for the world files and the metrics.
  WorldSnapshot Snapshot(Timestamp now, Duration stale_after, const StageMarkers& stages) const;

  // Persists the rejected events, the world files of `world`, then the
  // checkpoint. false (with *error) when a write fails; the previous world
  // files and checkpoint then stay as they were.
  // `rendered` (optional): world files already rendered from this world and
  // model (the daemon renders the history for its API), indexed as
  // kWorldFileNames; null entries are rendered here.
  bool Commit(const WorldSnapshot& world, std::string* error,
              const WorldFileBytes* rendered = nullptr);

  const Checkpoint& checkpoint() const { return checkpoint_; }
  // The model's history revisions (see HistoryRevisions): they move when
  // incidents.json or deployments.json may have changed.
  const HistoryRevisions& history_revisions() const { return index_.revisions(); }
  const std::filesystem::path& root() const { return root_; }
  // Things worth a log line that are not errors (e.g. "checkpoint corrupt").
  const std::vector<std::string>& notices() const { return notices_; }

 // Replays counted by reason (kReplayReasons), and late events by file.
  const std::map<std::string, uint64_t, std::less<>>& rebuilds_by_reason() const {
    return checkpoint_.rebuilds_by_reason;
  }
  const std::map<std::string, uint64_t, std::less<>>& late_events_by_file() const {
    return checkpoint_.late_events;
  }
  uint64_t reordered_events() const { return reordered_total_; }
  // The lateness window: events held, and their approximate bytes.
  size_t window_events() const { return timeline_.size(); }
  size_t window_bytes() const { return timeline_.ApproximateBytes(); }
  // When a coalesced replay is waiting: how long until it may run.
  std::optional<std::chrono::steady_clock::duration> ReplayDueIn() const;

 private:
  void ScheduleReplay(const std::string& reason, const std::string& label, bool count);
  // A processed .jsonl/.ndjson that shrank or whose consumed bytes changed;
  // sets *label. "" when none.
  std::string ChangedFile(const std::vector<EventFile>& files, std::string* label);
  bool ReplayAllowed() const;
  // Reads every file from zero and applies its events in processing order.
  bool Replay(BatchResult* result, std::string* error);
  // Reads what is new, applies it in its place; false when late events need
  // a replay that may run now.
  bool Incremental(const std::vector<EventFile>& files, BatchResult* result);
  // Reads the new part of each file into `queue`, keeping progress.
  // `after_file` (optional) runs after each file but the last has been read,
  // with its index in `files`.
  void ReadFiles(const std::vector<EventFile>& files, EventQueue& queue, BatchResult* result,
                 const std::function<void(size_t)>& after_file = {});
  // A replay with retention reads the files twice: first only for when
  // their events start (rest_min[i]: the earliest event of files i…, null
  // when none), how many there are and the window's horizon, so that the
  // second pass can apply events as soon as no later file can precede them.
  struct ReplayPlan {
    std::vector<std::optional<Timestamp>> rest_min;
    Timestamp horizon;
    uint64_t events = 0;
  };
  ReplayPlan PlanReplay(const std::vector<EventFile>& files);
  void ReadFile(const EventFile& file, uint32_t id, EventQueue& queue, BatchResult* result,
                std::string* error);
  void Reject(RejectedEvent rejected, BatchResult* result);
  // Moves what lies behind the archive horizon to world/archive/ (appended
  // and synced before the checkpoint that records their sizes is written).
  // false (with *error, and a replay scheduled) when an append fails.
  bool SweepArchive(std::string* error);
  // On open: archives cut back to the checkpoint's sizes, unrecorded ones
  // removed; "" when they match, else why a replay is needed.
  std::string CheckArchives();
  std::chrono::steady_clock::time_point SteadyNow() const;
  // (name, content) of each world file; a missing file reads as "\x01missing".
  std::vector<std::pair<std::string, std::string>> WorldFilesOnDisk() const;

  std::filesystem::path root_;
  std::filesystem::path events_dir_, state_dir_, world_dir_, archive_dir_;
  ApplyContext context_;
  Checkpoint checkpoint_;
  ModelIndex index_;
  Timeline timeline_;
  Duration replay_min_interval_{0};
  Duration service_stale_after_{0};  // --service-stale-after, for Snapshot
  Env* env_ = nullptr;
  std::optional<std::chrono::steady_clock::time_point> last_replay_;
  bool replay_pending_ = false;
  std::string replay_reason_;
  bool rewrite_rejected_log_ = false;        // the log is rewritten after a replay
  bool rewrite_event_ids_ = false;           // event-ids.log too
  std::vector<RejectedEvent> pending_rejected_;  // not yet written
  std::vector<std::string> notices_;
  bool skip_unchanged_history_ = false;
  bool chunked_replay_ = true;  // off while a replay starts over unchunked
  uint64_t reordered_total_ = 0;
  mutable std::optional<std::pair<HistoryRevisions, HistorySummary>> history_;  // for Snapshot()
  WorldWriter world_writer_{""};
};



}  // namespace hlo
