#include "observer/observer.h"

#include <algorithm>
#include <system_error>

#include "observer/atomic_file.h"
#include "observer/event_id_log.h"
#include "observer/line_parser_pipeline.h"
#include "observer/world_serializer.h"

namespace hlo {
namespace detail {
namespace {

constexpr char kCheckpointName[] = "observer_checkpoint.json";
constexpr char kRejectedLogName[] = "rejected-events.jsonl";
constexpr char kEventIdLogName[] = "event-ids.log";

}  // namespace
}  // namespace detail

Observer::Observer(ObserverOptions options) {
  std::error_code ec;
  root_ = std::filesystem::absolute(options.root, ec).lexically_normal();
  if (root_.has_filename() == false && root_ != root_.root_path()) {
    root_ = root_.parent_path();  // drop a trailing '/'
  }
  events_dir_ = root_ / "events";
  state_dir_ = root_ / "state";
  world_dir_ = root_ / "world";
  context_.logs_dir = (root_ / "logs").string();
  context_.inventory = options.inventory;
  context_.flap = options.flap;
  checkpoint_.flap = options.flap;
  service_stale_after_ = options.service_stale_after;
  skip_unchanged_history_ = options.skip_unchanged_history;
  timeline_ = Timeline(options.max_lateness);
  replay_min_interval_ = options.replay_min_interval;
  env_ = options.env != nullptr ? options.env : Env::Default();
  world_writer_ = WorldWriter(world_dir_, env_);
}

bool Observer::Open(std::string* error) {
  std::error_code ec;
  if (!env_->IsReadableDirectory(root_)) {
    if (error) *error = "root " + root_.string() + " is not a readable folder";
    return false;
  }
  if (!env_->EnsureDirectory(state_dir_, error) || !env_->EnsureDirectory(world_dir_, error)) {
    return false;
  }
  // A run killed mid-commit leaves its temporary files behind; each is as
  // big as the file it was replacing, so they must not pile up.
  env_->RemoveLeftoverTemporaries(state_dir_ / detail::kCheckpointName);
  env_->RemoveLeftoverTemporaries(state_dir_ / detail::kRejectedLogName);
  env_->RemoveLeftoverTemporaries(state_dir_ / detail::kEventIdLogName);
  for (std::string_view name : kWorldFileNames) env_->RemoveLeftoverTemporaries(world_dir_ / name);
  const std::filesystem::path path = state_dir_ / detail::kCheckpointName;
  if (!env_->Exists(path)) {
    ScheduleReplay("", "", /*count=*/false);
    return true;
  }
  std::string why;
  std::optional<std::string> text = env_->ReadWholeFile(path, &why);
  std::optional<Checkpoint> loaded;
  if (text) loaded = ParseCheckpoint(*text, &why);
  if (!loaded) {
    notices_.push_back("checkpoint " + path.string() + " is unusable (" + why +
                       "); rebuilding from all event files");
    ScheduleReplay("unusable checkpoint", "", /*count=*/false);
    return true;
  }
  checkpoint_ = std::move(*loaded);
  if (checkpoint_.flap != context_.flap) {
    notices_.push_back("the flap thresholds changed since the checkpoint; rebuilding from all "
                       "event files");
    ScheduleReplay("the flap thresholds changed", "checkpoint", /*count=*/true);
    return true;
  }
  const std::vector<std::pair<std::string, std::string>> world = WorldFilesOnDisk();
  if (DigestWorldFiles(world) != checkpoint_.world_digest) {
    ScheduleReplay("world files do not match the checkpoint", "checkpoint", /*count=*/true);
    return true;
  }
  // The digest matched, so these are the files written with the checkpoint:
  // the model's history is read back from them.
  static_assert(kWorldFileNames[0] == "deployments.json" && kWorldFileNames[1] == "incidents.json");
  if (!AttachHistory(checkpoint_, world[1].second, world[0].second, &why)) {
    notices_.push_back("world files cannot be read back (" + why +
                       "); rebuilding from all event files");
    ScheduleReplay("world files do not match the checkpoint", "checkpoint", /*count=*/true);
    return true;
  }
  if (!LoadEventIdLog(*env_, state_dir_ / detail::kEventIdLogName, checkpoint_.event_ids,
                      &checkpoint_.model.event_ids, &why)) {
    notices_.push_back(why + "; rebuilding from all event files");
    ScheduleReplay("the event-ids log does not match the checkpoint", "checkpoint", true);
    return true;
  }
  // Unknown to this process's writer: the first commit writes every file.
  index_.Reset(checkpoint_.model);
  index_.ClearNewIds();
  Checkpoint::Window window = std::move(checkpoint_.window);
  checkpoint_.window = {};
  if (!timeline_.Restore(checkpoint_.model, index_, context_, std::move(window.floor),
                         std::move(window.events), window.before, window.absent,
                         window.added_ids)) {
    notices_.push_back("the checkpoint's lateness window does not rebuild its model; "
                       "rebuilding from all event files");
    ScheduleReplay("the checkpoint's lateness window does not match", "checkpoint", true);
    return true;
  }
  RejectedLogCheck check = RejectedLogCheck::kOk;
  if (!CheckRejectedLog(*env_, state_dir_ / detail::kRejectedLogName, checkpoint_.rejected_log,
                        &check, error)) {
    return false;
  }
  if (check != RejectedLogCheck::kOk) {
    ScheduleReplay(check == RejectedLogCheck::kShorter
                       ? "rejected-events.jsonl is shorter than the checkpoint says"
                       : "rejected-events.jsonl is not the one the checkpoint was written with",
                   "checkpoint", true);
  }
  return true;
}

void Observer::ScheduleReplay(const std::string& reason, const std::string& label, bool count) {
  Checkpoint kept;
  kept.rebuilds = checkpoint_.rebuilds + (count ? 1 : 0);
  kept.flap = context_.flap;
  kept.rebuilds_by_reason = std::move(checkpoint_.rebuilds_by_reason);
  if (count) ++kept.rebuilds_by_reason[label];
  kept.late_events = std::move(checkpoint_.late_events);
  checkpoint_ = std::move(kept);
  index_.Reset(checkpoint_.model);
  timeline_.Clear();
  replay_pending_ = true;
  replay_reason_ = reason;
  world_writer_.Forget();
  history_.reset();
  rewrite_rejected_log_ = true;
  pending_rejected_.clear();
  rewrite_event_ids_ = true;
  index_.ClearNewIds();
}

std::chrono::steady_clock::time_point Observer::SteadyNow() const { return env_->SteadyNow(); }

bool Observer::ReplayAllowed() const {
  if (!last_replay_ || replay_min_interval_.nanos <= 0) return true;
  return SteadyNow() - *last_replay_ >= std::chrono::nanoseconds(replay_min_interval_.nanos);
}

std::optional<std::chrono::steady_clock::duration> Observer::ReplayDueIn() const {
  if (!checkpoint_.replay_due) return std::nullopt;
  if (ReplayAllowed()) return std::chrono::steady_clock::duration::zero();
  return *last_replay_ + std::chrono::nanoseconds(replay_min_interval_.nanos) - SteadyNow();
}

std::string Observer::ChangedFile(const std::vector<EventFile>& files, std::string* label) {
  // Both are sorted by name: walked side by side, without a lookup per file.
  auto it = checkpoint_.files.begin();
  for (const EventFile& f : files) {
    if (f.kind != EventFileKind::kJsonLines) continue;  // a .json is read once
    while (it != checkpoint_.files.end() && it->first < f.name) ++it;
    if (it == checkpoint_.files.end()) break;
    if (it->first != f.name) continue;
    if (f.size < it->second.offset) {
      *label = "file_shrank";
      return f.name + " shrank below what was read of it";
    }
    if (it->second.stamp != f.stamp && !env_->ConsumedBytesUnchanged(events_dir_ / f.name, &it->second)) {
      *label = "file_rewritten";
      return "events/" + f.name + " changed after it was read";
    }
  }
  return "";
}

bool Observer::ProcessPending(BatchResult* result, std::string* error) {
  *result = BatchResult{};
  std::optional<std::vector<EventFile>> files = env_->ListEventFiles(events_dir_, error);
  if (!files) return false;
  if (!replay_pending_) {
    std::string label;
    const std::string changed = ChangedFile(*files, &label);
    if (!changed.empty()) ScheduleReplay(changed, label, /*count=*/true);
  }
  if (!replay_pending_ && checkpoint_.replay_due && ReplayAllowed()) {
    ScheduleReplay("events arrived later than --events.max-lateness allows", "late_event",
                   /*count=*/true);
  }
  if (replay_pending_) return Replay(result, error);
  if (Incremental(*files, result)) return true;
  // Late events, and a replay may run now: start over from zero.
  const uint64_t late = result->late;
  ScheduleReplay("events arrived later than --events.max-lateness allows", "late_event",
                 /*count=*/true);
  if (!Replay(result, error)) return false;
  result->late = late;
  return true;
}

bool Observer::Replay(BatchResult* result, std::string* error) {
  *result = BatchResult{};
  result->replayed = true;
  result->replay_reason = replay_reason_;
  replay_pending_ = false;
  last_replay_ = SteadyNow();
  std::optional<std::vector<EventFile>> files = env_->ListEventFiles(events_dir_, error);
  if (!files) return false;
  EventQueue queue;
  ReadFiles(*files, queue, result);
  queue.Sort();
  Model& model = checkpoint_.model;
  index_.Reset(model);
  const size_t n = queue.size();
  // Events older than the window are applied for good; the rest are kept.
  size_t kept_from = 0;
  if (n > 0) {
    const Timestamp horizon = timeline_.Horizon(queue.timestamp(n - 1));
    Event event;
    index_.BeginBulk();
    // (Only the newest kMaxEvents could stay in the window anyway.)
    while (kept_from < n &&
           (queue.timestamp(kept_from) < horizon || n - kept_from > Timeline::kMaxEvents)) {
      queue.Get(kept_from, &event);
      Apply(model, event, context_, {&index_, nullptr});
      ++kept_from;
    }
    FinishBulk(model, index_, context_);
    if (kept_from > 0) timeline_.SetFloor(queue.Key(kept_from - 1));
  }
  std::vector<TimedEvent> kept(n - kept_from);
  for (size_t i = kept_from; i < n; ++i) {
    kept[i - kept_from].key = queue.Key(i);
    queue.Get(i, &kept[i - kept_from].event);
  }
  timeline_.Insert(model, index_, context_, std::move(kept));
  timeline_.Trim(model.counters.last_event_at);
  result->applied = n;
  checkpoint_.replay_due = false;
  return true;
}

bool Observer::Incremental(const std::vector<EventFile>& files, BatchResult* result) {
  EventQueue queue;
  ReadFiles(files, queue, result);
  queue.Sort();
  std::vector<TimedEvent> events;
  events.reserve(queue.size());
  // Late: more than max-lateness behind the latest event applied before this
  // batch (CONTRACT §4), or behind what has left the window (its size cap).
  const std::optional<Timestamp> latest = checkpoint_.model.counters.last_event_at;
  const std::optional<Timestamp> horizon =
      latest ? std::optional<Timestamp>(timeline_.Horizon(*latest)) : std::nullopt;
  for (size_t i = 0; i < queue.size(); ++i) {
    OrderKey key = queue.Key(i);
    if ((horizon && key.timestamp < *horizon) || !timeline_.Accepts(key)) {
      ++result->late;
      ++checkpoint_.late_events[key.file];
      continue;
    }
    TimedEvent& e = events.emplace_back();
    e.key = std::move(key);
    queue.Get(i, &e.event);
  }
  if (result->late > 0 && ReplayAllowed()) return false;
  if (result->late > 0) {
    checkpoint_.replay_due = true;
    result->replay_deferred = true;
  }
  result->applied = events.size();
  result->reordered = timeline_.Insert(checkpoint_.model, index_, context_, std::move(events));
  reordered_total_ += result->reordered;
  timeline_.Trim(checkpoint_.model.counters.last_event_at);
  return true;
}

void Observer::ReadFiles(const std::vector<EventFile>& files, EventQueue& queue,
                         BatchResult* result) {
  // The listing and the checkpoint's files are both sorted by name: they are
  // walked side by side, without a lookup per file. A deleted .json is
  // forgotten (it is read once, by name); a deleted .jsonl/.ndjson is
  // remembered with its progress, so that if it comes back it is continued
  // (or, rewritten, replayed) rather than applied twice. Its events stay
  // applied either way. An empty (or missing) events/ forgets nothing: far
  // more often a folder being recreated or a mount not yet back than
  // retention deleting every file.
  std::map<std::string, FileProgress>& progress = checkpoint_.files;
  env_->ReadAheadUnreadDocuments(files, progress, kMaxEventBytes);
  env_->ReadAheadJsonLines(events_dir_, files, progress);
  auto known = progress.begin();
  const std::string* newest = nullptr;  // the last file that has progress
  auto forget_absent_until = [&](const std::string* name) {
    while (known != progress.end() && (name == nullptr || known->first < *name)) {
      EventFileKind kind = EventFileKind::kJsonLines;
      if (!files.empty() && IsEventFileName(known->first, &kind) && kind == EventFileKind::kJson) {
        known = progress.erase(known);
      } else {
        ++known;
      }
    }
  };
  // Late-event counts follow the files present.
  for (auto it = checkpoint_.late_events.begin(); it != checkpoint_.late_events.end();) {
    const auto listed = std::lower_bound(
        files.begin(), files.end(), it->first,
        [](const EventFile& f, const std::string& name) { return f.name < name; });
    const bool present = listed != files.end() && listed->name == it->first;
    it = present || files.empty() ? std::next(it) : checkpoint_.late_events.erase(it);
  }
  for (const EventFile& file : files) {
    forget_absent_until(&file.name);
    const bool was_known = known != progress.end() && known->first == file.name;
    bool read_failed = false;
    if (!was_known || file.kind != EventFileKind::kJson) {  // a .json is read once
      std::string why;
      ReadFile(file, queue.AddFile(file.name), queue, result, &why);
      if (!why.empty()) {
        notices_.push_back(why);
        result->unreadable.emplace_back(file.name, why);
        read_failed = true;
      }
    }
    // Its entry now: `known`, or the one ReadFile placed just before it.
    auto entry = progress.end();
    if (was_known) {
      entry = known++;
    } else if (known != progress.begin() && std::prev(known)->first == file.name) {
      entry = std::prev(known);
    }
    if (entry == progress.end()) {
      result->pending_bytes += env_->SizeOf(file);
      continue;
    }
    if (file.size > entry->second.offset) {
      result->pending_bytes += file.size - entry->second.offset;
      if (file.kind != EventFileKind::kJson && !read_failed) result->unfinished.push_back(file.name);
    }
    newest = &entry->first;
  }
  env_->ReadAheadJsonLines(events_dir_, {}, progress);  // the pass is over
  forget_absent_until(nullptr);
  // Only a file actually read (not one that vanished or failed meanwhile)
  // becomes the checkpoint's file.
  if (newest != nullptr && (!checkpoint_.file || *checkpoint_.file <= *newest)) {
    checkpoint_.file = *newest;
  }
  if (checkpoint_.file) {
    const auto it = checkpoint_.files.find(*checkpoint_.file);
    if (it != checkpoint_.files.end()) checkpoint_.offset = it->second.offset;
  }
}

void Observer::ReadFile(const EventFile& file, uint32_t id, EventQueue& queue,
                        BatchResult* result, std::string* error) {
  std::map<std::string, FileProgress>& progress = checkpoint_.files;
  // A new file nearly always sorts after every known one (a replay, or a
  // writer's next file): its place is then the end, found without a search.
  const auto place = progress.empty() || progress.rbegin()->first < file.name
                         ? progress.end()
                         : progress.lower_bound(file.name);
  const bool known = place != progress.end() && place->first == file.name;
  if (file.kind == EventFileKind::kJson) {
    if (known) return;  // a .json is read once
    bool too_large = false;
    uint64_t size = 0;
    std::optional<std::string> content =
        env_->ReadJsonDocument(file, kMaxEventBytes, &too_large, &size, error);
    if (!content) return;
    ++result->files_read;
    if (too_large) {
      Reject({file.name, 1, RejectReason::kTooLarge,
              "file is " + std::to_string(size) + " bytes, limit " +
                  std::to_string(kMaxEventBytes),
              SanitizeRaw(*content)},
             result);
      progress.emplace_hint(place, file.name, FileProgress{size, 1});
      return;
    }
    uint64_t items = 0;
    for (DocumentItem& item : ParseEventDocument(*content)) {
      ++items;
      if (auto* event = std::get_if<Event>(&item.result)) {
        queue.Push(id, item.line, *event);
      } else {
        auto& rejection = std::get<Rejection>(item.result);
        Reject({file.name, item.line, rejection.reason, std::move(rejection.detail),
                SanitizeRaw(item.raw)},
               result);
      }
    }
    progress.emplace_hint(place, file.name, FileProgress{content->size(), items});
    return;
  }
  const FileProgress start = known ? place->second : FileProgress{};
  if (known && file.size <= start.offset) return;
  const ParsedLineSink sink = [&](ParsedLine&& parsed) {
    if (auto* event = std::get_if<Event>(&parsed.result)) {
      queue.Push(id, parsed.line, *event);
      return;
    }
    auto& rejection = std::get<Rejection>(parsed.result);
    Reject({file.name, parsed.line, rejection.reason, std::move(rejection.detail),
            std::move(parsed.raw)},
           result);
  };
  std::optional<FileProgress> end =
      env_->ReadAndParseJsonLines(events_dir_ / file.name, start,
                            file.size - std::min(file.size, start.offset), sink, error);
  if (!end) return;
  if (end->offset != start.offset) ++result->files_read;
  if (known) {
    place->second = *end;
  } else {
    progress.emplace_hint(place, file.name, *end);
  }
}

void Observer::Reject(RejectedEvent rejected, BatchResult* result) {
  CountRejection(checkpoint_.model, rejected.reason);
  ++result->rejected;
  result->rejections.push_back(rejected);
  pending_rejected_.push_back(std::move(rejected));
}

WorldSnapshot Observer::Snapshot(Timestamp now, Duration stale_after,
                                 const StageMarkers& stages) const {
  SnapshotInputs in;
  in.model = &checkpoint_.model;
  in.inventory = context_.inventory;
  in.stages = &stages;
  in.now = now;
  in.stale_after = stale_after;
  in.service_stale_after = service_stale_after_;
  in.checkpoint_file = checkpoint_.file;
  in.checkpoint_offset = checkpoint_.offset;
  // The history's summary is kept between batches: the index's revisions
  // move whenever Apply (or an undo) changes the history.
  const Model& model = checkpoint_.model;
  if (!history_ || history_->first != index_.revisions()) {
    history_.emplace(index_.revisions(), SummarizeHistory(model));
  }
  in.history = &history_->second;
  return BuildSnapshot(in);
}

std::vector<std::pair<std::string, std::string>> Observer::WorldFilesOnDisk() const {
  std::vector<std::pair<std::string, std::string>> files;
  for (std::string_view name : kWorldFileNames) {
    std::optional<std::string> content = env_->ReadWholeFile(world_dir_ / name, nullptr);
    files.emplace_back(std::string(name),
                       content ? std::move(*content) : std::string("\x01missing"));
  }
  return files;
}

bool Observer::Commit(const WorldSnapshot& world, std::string* error,
                      const WorldFileBytes* rendered) {
  if (!WriteRejectedLog(*env_, state_dir_ / detail::kRejectedLogName, pending_rejected_,
                        rewrite_rejected_log_, checkpoint_.rejected_log, error)) {
    return false;
  }
  rewrite_rejected_log_ = false;
  pending_rejected_.clear();
  if (!WriteEventIdLog(*env_, state_dir_ / detail::kEventIdLogName, rewrite_event_ids_,
                       checkpoint_.model.event_ids, index_.new_ids(), checkpoint_.event_ids,
                       error)) {
    return false;
  }
  rewrite_event_ids_ = false;
  index_.ClearNewIds();

  // All five or none: a full or read-only world/ leaves the previous files
  // whole and matching the checkpoint on disk, which is not advanced.
  if (!world_writer_.Write(world, checkpoint_.model,
                           skip_unchanged_history_ ? &index_.revisions() : nullptr, error,
                           rendered)) {
    return false;
  }
  checkpoint_.world_digest = world_writer_.digest();
  Timeline::Saved window = timeline_.Save(checkpoint_.model);
  checkpoint_.window.floor = window.floor;
  checkpoint_.window.events.clear();
  for (const TimedEvent* e : window.events) checkpoint_.window.events.push_back(*e);
  checkpoint_.window.before = std::move(window.before);
  checkpoint_.window.absent = std::move(window.absent);
  checkpoint_.window.added_ids = std::move(window.added_ids);
  return env_->WriteFileAtomic(state_dir_ / detail::kCheckpointName, SerializeCheckpoint(checkpoint_),
                         error);
}

}  // namespace hlo
