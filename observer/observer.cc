#include "observer/observer.h"

#include <algorithm>
#include <limits>
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
  archive_dir_ = world_dir_ / "archive";
  context_.logs_dir = (root_ / "logs").string();
  context_.inventory = options.inventory;
  context_.flap = options.flap;
  context_.retention = options.retention;
  checkpoint_.flap = options.flap;
  checkpoint_.archive.retention = options.retention;
  checkpoint_.archive.max_lateness = options.retention.nanos > 0 ? options.max_lateness : Duration{0};
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
  // The archive horizon is latest − max-lateness − retention: with another
  // value of either, the archives would not be what a replay writes.
  const Duration lateness = context_.retention.nanos > 0 ? timeline_.max_lateness() : Duration{0};
  if (checkpoint_.archive.retention != context_.retention ||
      checkpoint_.archive.max_lateness != lateness) {
    notices_.push_back("--history.retention (or, with it, --events.max-lateness) changed since "
                       "the checkpoint; rebuilding from all event files");
    ScheduleReplay("--history.retention changed", "checkpoint", /*count=*/true);
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
  if (std::string why_archive = CheckArchives(); !why_archive.empty()) {
    notices_.push_back(why_archive + "; rebuilding from all event files");
    ScheduleReplay(why_archive, "checkpoint", /*count=*/true);
    return true;
  }
  // Entries the window's events brought back from behind the horizon (see
  // SweepHistory) leave again; nothing is appended.
  if (checkpoint_.archive.horizon) {
    SweepHistory(checkpoint_.model, *checkpoint_.archive.horizon, checkpoint_.archive);
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
  kept.archive.retention = context_.retention;
  kept.archive.max_lateness =
      context_.retention.nanos > 0 ? timeline_.max_lateness() : Duration{0};
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
  if (Incremental(*files, result)) return SweepArchive(error);
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
  // The archives are rebuilt from zero with the rest of the history.
  if (!env_->RemoveAll(archive_dir_, error)) return false;
  Model& model = checkpoint_.model;
  index_.Reset(model);
  // What is applied for good goes without undo, in bulk (ModelIndex): a
  // node-less recovery is then recorded once for its service. The model is
  // complete again after FinishBulk, before a sweep reads it.
  index_.BeginBulk();
  const bool retention = context_.retention.nanos > 0;
  // With retention the history is swept every so often on the way, and the
  // events are applied as soon as no file still to be read can hold an
  // earlier one (ReplayPlan): a long replay then holds neither the whole
  // history nor all its events, only what overlaps in time.
  constexpr uint64_t kSweepEvery = 1 << 16;
  std::optional<ReplayPlan> plan;
  if (retention && chunked_replay_) plan = PlanReplay(*files);
  uint64_t applied = 0, since_sweep = 0;
  std::optional<OrderKey> last;
  bool out_of_order = false, sweep_failed = false;
  Event event;
  // Applies the queue's first `count` events for good.
  auto apply_front = [&](EventQueue& queue, size_t count) {
    if (count == 0) return;
    if (last && queue.Key(0) < *last) {
      out_of_order = true;  // a file changed between the two passes
      return;
    }
    for (size_t i = 0; i < count; ++i) {
      queue.Get(i, &event);
      Apply(model, event, context_, {&index_, nullptr});
      if (retention && ++since_sweep >= kSweepEvery && !sweep_failed) {
        since_sweep = 0;
        FinishBulk(model, index_, context_);
        sweep_failed = !SweepArchive(error);
        index_.BeginBulk();
      }
    }
    applied += count;
    last = queue.Key(count - 1);
  };
  EventQueue queue;
  std::function<void(size_t)> after_file;
  if (plan) {
    after_file = [&](size_t index) {
      if (out_of_order || sweep_failed) return;
      const std::optional<Timestamp>& bound = plan->rest_min[index + 1];
      // Nothing to apply yet (files that overlap in time): no sort.
      if (queue.empty() || (bound && !(queue.earliest() < *bound))) return;
      queue.Sort();
      size_t count = 0;
      while (count < queue.size()) {
        const Timestamp t = queue.timestamp(count);
        if (bound && !(t < *bound)) break;
        if (!(t < plan->horizon) && plan->events - (applied + count) <= Timeline::kMaxEvents) break;
        ++count;
      }
      // Copying the rest costs what it holds: only worth it when at least
      // half goes (files in time order: all of it), which keeps the copying
      // linear overall; files that overlap in time wait for the end.
      if (count == 0 || count * 2 < queue.size()) return;
      apply_front(queue, count);
      if (!out_of_order) queue = queue.Rest(count);
    };
  }
  ReadFiles(*files, queue, result, after_file);
  if (sweep_failed) {
    FinishBulk(model, index_, context_);
    return false;
  }
  queue.Sort();
  const size_t n = queue.size();
  // Events older than the window are applied for good; the rest are kept.
  size_t kept_from = 0;
  if (n > 0 && last && queue.Key(0) < *last) out_of_order = true;
  if (n > 0 && !out_of_order) {
    const Timestamp horizon = timeline_.Horizon(queue.timestamp(n - 1));
    // (Only the newest kMaxEvents could stay in the window anyway.)
    while (kept_from < n &&
           (queue.timestamp(kept_from) < horizon || n - kept_from > Timeline::kMaxEvents)) {
      ++kept_from;
    }
    apply_front(queue, kept_from);
  }
  FinishBulk(model, index_, context_);
  if (out_of_order) {
    // Start again, reading everything before applying anything.
    chunked_replay_ = false;
    ScheduleReplay(replay_reason_, "", /*count=*/false);
    const bool ok = Replay(result, error);
    chunked_replay_ = true;
    return ok;
  }
  if (sweep_failed) return false;
  if (last) timeline_.SetFloor(*last);
  std::vector<TimedEvent> kept(n - kept_from);
  for (size_t i = kept_from; i < n; ++i) {
    kept[i - kept_from].key = queue.Key(i);
    queue.Get(i, &kept[i - kept_from].event);
  }
  timeline_.Insert(model, index_, context_, std::move(kept));
  timeline_.Trim(model.counters.last_event_at);
  result->applied = applied + (n - kept_from);
  checkpoint_.replay_due = false;
  return SweepArchive(error);
}

Observer::ReplayPlan Observer::PlanReplay(const std::vector<EventFile>& files) {
  ReplayPlan plan;
  plan.rest_min.assign(files.size() + 1, std::nullopt);
  std::vector<std::optional<Timestamp>> first(files.size());
  std::optional<Timestamp> latest;
  // A file that cannot be read now holds anything: nothing after it is
  // applied before it has been read.
  const Timestamp kUnknown{std::numeric_limits<int64_t>::min(), 0};
  for (size_t i = 0; i < files.size(); ++i) {
    const EventFile& file = files[i];
    auto note = [&](const Event& e) {
      if (!first[i] || e.timestamp < *first[i]) first[i] = e.timestamp;
      if (!latest || *latest < e.timestamp) latest = e.timestamp;
      ++plan.events;
    };
    std::string why;
    if (file.kind == EventFileKind::kJson) {
      bool too_large = false;
      uint64_t size = 0;
      std::optional<std::string> content =
          env_->ReadJsonDocument(file, kMaxEventBytes, &too_large, &size, &why);
      if (!content) {
        first[i] = kUnknown;
        continue;
      }
      if (too_large) continue;
      for (DocumentItem& item : ParseEventDocument(*content)) {
        if (const auto* e = std::get_if<Event>(&item.result)) note(*e);
      }
      continue;
    }
    const ParsedLineSink sink = [&](ParsedLine&& parsed) {
      if (const auto* e = std::get_if<Event>(&parsed.result)) note(*e);
    };
    if (!env_->ReadAndParseJsonLines(events_dir_ / file.name, FileProgress{}, file.size, sink,
                                     &why)) {
      first[i] = kUnknown;
    }
  }
  for (size_t i = files.size(); i-- > 0;) {
    plan.rest_min[i] = plan.rest_min[i + 1];
    if (first[i] && (!plan.rest_min[i] || *first[i] < *plan.rest_min[i])) {
      plan.rest_min[i] = first[i];
    }
  }
  plan.horizon = latest ? timeline_.Horizon(*latest) : kUnknown;
  return plan;
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

bool Observer::SweepArchive(std::string* error) {
  const std::optional<Timestamp> horizon =
      ArchiveHorizon(checkpoint_.model.counters.last_event_at, timeline_.max_lateness(),
                     context_.retention);
  if (!horizon) return true;
  const size_t incidents = checkpoint_.model.incidents.size();
  const size_t deployments = checkpoint_.model.deployments.size();
  std::vector<ArchiveLine> lines = SweepHistory(checkpoint_.model, *horizon, checkpoint_.archive);
  if (checkpoint_.model.incidents.size() != incidents) index_.IncidentsChanged();
  if (checkpoint_.model.deployments.size() != deployments) index_.DeploymentsChanged();
  if (lines.empty()) return true;
  // One append per file; the lines of a file are adjacent and in order.
  bool ok = env_->EnsureDirectory(archive_dir_, error);
  std::string text;
  for (size_t i = 0; ok && i < lines.size(); ++i) {
    text += lines[i].line;
    if (i + 1 < lines.size() && lines[i + 1].file == lines[i].file) continue;
    ok = env_->AppendAndSync(archive_dir_ / lines[i].file, text, error);
    if (ok) checkpoint_.archive.sizes[lines[i].file] += text.size();
    text.clear();
  }
  if (ok) return true;
  // What left the model is on disk only in part: start over. The checkpoint
  // on disk still has the sizes from before, which the next start restores.
  notices_.push_back("cannot append to world/archive/ (" + (error ? *error : std::string()) +
                     "); rebuilding from all event files");
  ScheduleReplay("cannot append to world/archive/", "checkpoint", /*count=*/true);
  return false;
}

std::string Observer::CheckArchives() {
  const std::map<std::string, uint64_t>& sizes = checkpoint_.archive.sizes;
  for (const std::string& name : env_->ListFileNames(archive_dir_)) {
    if (!sizes.contains(name) && !env_->RemoveAll(archive_dir_ / name, nullptr)) {
      return "world/archive/" + name + " is not in the checkpoint and cannot be removed";
    }
  }
  for (const auto& [name, size] : sizes) {
    const std::filesystem::path path = archive_dir_ / name;
    const uint64_t actual = env_->Exists(path) ? env_->FileSize(path) : 0;
    if (!env_->Exists(path) || actual < size) {
      return "world/archive/" + name + " is shorter than the checkpoint says";
    }
    // A run killed after appending and before its checkpoint: cut back.
    if (actual > size && !env_->TruncateTo(path, size, nullptr)) {
      return "world/archive/" + name + " cannot be cut back to the checkpoint's size";
    }
  }
  return "";
}

void Observer::ReadFiles(const std::vector<EventFile>& files, EventQueue& queue,
                         BatchResult* result, const std::function<void(size_t)>& after_file) {
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
  for (size_t index = 0; index < files.size(); ++index) {
    const EventFile& file = files[index];
    if (index > 0 && after_file) after_file(index - 1);
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
    history_.emplace(index_.revisions(), SummarizeHistory(model, &checkpoint_.archive.totals));
  }
  in.history = &history_->second;
  in.archived = &checkpoint_.archive.totals;
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
