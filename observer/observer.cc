#include "observer/observer.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <nlohmann/json.hpp>
#include <system_error>

#include "observer/atomic_file.h"
#include "observer/line_parser_pipeline.h"
#include "observer/world_serializer.h"

namespace hlo {
namespace detail {
namespace {

constexpr char kCheckpointName[] = "observer_checkpoint.json";
constexpr char kRejectedLogName[] = "rejected-events.jsonl";

std::string RejectedLine(const RejectedEvent& r) {
  const nlohmann::json j = {{"file", r.file},
                            {"line", r.line},
                            {"reason", RejectReasonName(r.reason)},
                            {"detail", r.detail},
                            {"raw", r.raw}};
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

bool EnsureDirectory(const std::filesystem::path& dir, std::string* error) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec || ::access(dir.c_str(), W_OK | X_OK) != 0) {
    if (error) *error = dir.string() + " is not a writable folder" +
                        (ec ? ": " + ec.message() : "");
    return false;
  }
  return true;
}

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
  skip_unchanged_history_ = options.skip_unchanged_history;
  world_writer_ = WorldWriter(world_dir_);
}

bool Observer::Open(std::string* error) {
  std::error_code ec;
  if (!std::filesystem::is_directory(root_, ec) || ::access(root_.c_str(), R_OK | X_OK) != 0) {
    if (error) *error = "root " + root_.string() + " is not a readable folder";
    return false;
  }
  if (!detail::EnsureDirectory(state_dir_, error) || !detail::EnsureDirectory(world_dir_, error)) {
    return false;
  }
  // A run killed mid-commit leaves its temporary files behind; each is as
  // big as the file it was replacing, so they must not pile up.
  RemoveLeftoverTemporaries(state_dir_ / detail::kCheckpointName);
  RemoveLeftoverTemporaries(state_dir_ / detail::kRejectedLogName);
  for (std::string_view name : kWorldFileNames) RemoveLeftoverTemporaries(world_dir_ / name);
  const std::filesystem::path path = state_dir_ / detail::kCheckpointName;
  if (!std::filesystem::exists(path, ec)) {
    ScheduleReplay("", /*count=*/false);
    return true;
  }
  std::string why;
  std::optional<std::string> text = ReadWholeFile(path, &why);
  std::optional<Checkpoint> loaded;
  if (text) loaded = ParseCheckpoint(*text, &why);
  if (!loaded) {
    notices_.push_back("checkpoint " + path.string() + " is unusable (" + why +
                       "); rebuilding from all event files");
    ScheduleReplay("unusable checkpoint", /*count=*/false);
    return true;
  }
  checkpoint_ = std::move(*loaded);
  const std::vector<std::pair<std::string, std::string>> world = WorldFilesOnDisk();
  if (DigestWorldFiles(world) != checkpoint_.world_digest) {
    ScheduleReplay("world files do not match the checkpoint", /*count=*/true);
    return true;
  }
  // The digest matched, so these are the files written with the checkpoint:
  // the model's history is read back from them.
  static_assert(kWorldFileNames[0] == "deployments.json" && kWorldFileNames[1] == "incidents.json");
  if (!AttachHistory(checkpoint_, world[1].second, world[0].second, &why)) {
    notices_.push_back("world files cannot be read back (" + why +
                       "); rebuilding from all event files");
    ScheduleReplay("world files do not match the checkpoint", /*count=*/true);
    return true;
  }
  // Unknown to this process's writer: the first commit writes every file.
  checkpoint_.model.revisions = {NextHistoryRevision(), NextHistoryRevision()};
  const std::filesystem::path rejected = state_dir_ / detail::kRejectedLogName;
  const uint64_t rejected_size = std::filesystem::file_size(rejected, ec);
  if ((ec ? 0 : rejected_size) < checkpoint_.rejected_log_bytes) {
    ScheduleReplay("rejected-events.jsonl is shorter than the checkpoint says", true);
    return true;
  }
  // Lines a killed run wrote after its last checkpoint belong to no history.
  if (!TruncateTo(rejected, checkpoint_.rejected_log_bytes, error)) return false;
  return true;
}

void Observer::ScheduleReplay(const std::string& reason, bool count) {
  const uint64_t rebuilds = checkpoint_.rebuilds + (count ? 1 : 0);
  checkpoint_ = Checkpoint{};
  checkpoint_.rebuilds = rebuilds;
  replay_pending_ = true;
  replay_reason_ = reason;
  world_writer_.Forget();
  history_.reset();
  rewrite_rejected_log_ = true;
  pending_rejected_.clear();
}

std::string Observer::LateArrival(const std::vector<EventFile>& files) const {
  if (!checkpoint_.file) return "";
  const std::string& last = *checkpoint_.file;
  // Both are sorted by name: walked side by side, without a lookup per file.
  auto it = checkpoint_.files.begin();
  for (const EventFile& f : files) {
    if (f.name > last) break;
    while (it != checkpoint_.files.end() && it->first < f.name) ++it;
    if (it == checkpoint_.files.end() || it->first != f.name) {
      if (f.name < last) return "late file " + f.name;
      // The checkpoint's own file, processed, deleted and now back: reading
      // it from zero would apply its old lines twice.
      return f.name + " was deleted after it was read and has reappeared";
    }
    if (f.kind != EventFileKind::kJsonLines) continue;
    if (f.size < it->second.offset) return f.name + " shrank below what was read of it";
    if (f.name < last && f.size > it->second.offset &&
        HasCompleteLineAfter(events_dir_ / f.name, it->second.offset)) {
      return "new line appended to " + f.name;
    }
  }
  return "";
}

std::string Observer::RewrittenFile(const std::vector<EventFile>& files) {
  for (const EventFile& f : files) {
    if (f.kind != EventFileKind::kJsonLines) continue;  // a .json is read once
    const auto it = checkpoint_.files.find(f.name);
    if (it == checkpoint_.files.end() || it->second.stamp == f.stamp) continue;
    if (!ConsumedBytesUnchanged(events_dir_ / f.name, &it->second)) {
      return "events/" + f.name + " changed after it was read";
    }
  }
  return "";
}

bool Observer::ProcessPending(BatchResult* result, std::string* error) {
  *result = BatchResult{};
  std::optional<std::vector<EventFile>> files = ListEventFiles(events_dir_, error);
  if (!files) return false;
  if (!replay_pending_) {
    std::string late = LateArrival(*files);
    if (late.empty()) late = RewrittenFile(*files);
    if (!late.empty()) ScheduleReplay(late, /*count=*/true);
  }
  if (replay_pending_) {
    result->replayed = true;
    result->replay_reason = replay_reason_;
    replay_pending_ = false;
  }
  // The listing and the checkpoint's files are both sorted by name: they are
  // walked side by side, without a lookup per file. Files removed by
  // retention are forgotten on the way; their events stay applied. An empty
  // (or missing) events/ forgets nothing: far more often a folder being
  // recreated or a mount not yet back than retention deleting every file,
  // and a file that comes back is then still known (no replay when it is
  // unchanged, a replay when it shrank or was rewritten).
  std::map<std::string, FileProgress>& progress = checkpoint_.files;
  ReadAheadUnreadDocuments(*files, progress, kMaxEventBytes);
  auto known = progress.begin();
  const std::string* newest = nullptr;  // the last file that has progress
  for (const EventFile& file : *files) {
    while (known != progress.end() && known->first < file.name) known = progress.erase(known);
    const bool was_known = known != progress.end() && known->first == file.name;
    if (!was_known || file.kind != EventFileKind::kJson) {  // a .json is read once
      std::string why;
      ReadFile(file, result, &why);
      if (!why.empty()) notices_.push_back(why);
    }
    // Its entry now: `known`, or the one ReadFile placed just before it.
    auto entry = progress.end();
    if (was_known) {
      entry = known++;
    } else if (known != progress.begin() && std::prev(known)->first == file.name) {
      entry = std::prev(known);
    }
    if (entry == progress.end()) {
      result->pending_bytes += SizeOf(file);
      continue;
    }
    if (file.size > entry->second.offset) result->pending_bytes += file.size - entry->second.offset;
    newest = &entry->first;
  }
  if (!files->empty()) progress.erase(known, progress.end());
  // Only a file actually read (not one that vanished or failed meanwhile)
  // becomes the checkpoint's file.
  if (newest != nullptr && (!checkpoint_.file || *checkpoint_.file <= *newest)) {
    checkpoint_.file = *newest;
  }
  if (checkpoint_.file) {
    const auto it = checkpoint_.files.find(*checkpoint_.file);
    if (it != checkpoint_.files.end()) checkpoint_.offset = it->second.offset;
  }
  return true;
}

void Observer::ReadFile(const EventFile& file, BatchResult* result, std::string* error) {
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
        ReadJsonDocument(file, kMaxEventBytes, &too_large, &size, error);
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
        Apply(checkpoint_.model, *event, context_);
        ++result->applied;
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
  const ParsedLineSink sink = [&](ParsedLine&& line) { Accept(file.name, std::move(line), result); };
  std::optional<FileProgress> end =
      ReadAndParseJsonLines(events_dir_ / file.name, start,
                            file.size - std::min(file.size, start.offset), sink, error);
  if (!end) return;
  if (end->offset != start.offset) ++result->files_read;
  if (known) {
    place->second = *end;
  } else {
    progress.emplace_hint(place, file.name, *end);
  }
}

void Observer::Accept(const std::string& file, ParsedLine&& parsed, BatchResult* result) {
  if (auto* event = std::get_if<Event>(&parsed.result)) {
    Apply(checkpoint_.model, *event, context_);
    ++result->applied;
    return;
  }
  auto& rejection = std::get<Rejection>(parsed.result);
  Reject({file, parsed.line, rejection.reason, std::move(rejection.detail), std::move(parsed.raw)},
         result);
}

void Observer::Reject(RejectedEvent rejected, BatchResult* result) {
  CountRejection(checkpoint_.model, rejected.reason);
  pending_rejected_ += detail::RejectedLine(rejected);
  ++result->rejected;
  result->rejections.push_back(std::move(rejected));
}

WorldSnapshot Observer::Snapshot(Timestamp now, Duration stale_after,
                                 const StageMarkers& stages) const {
  SnapshotInputs in;
  in.model = &checkpoint_.model;
  in.inventory = context_.inventory;
  in.stages = &stages;
  in.now = now;
  in.stale_after = stale_after;
  in.checkpoint_file = checkpoint_.file;
  in.checkpoint_offset = checkpoint_.offset;
  // The history's summary is kept between batches: only Apply moves the
  // revisions, and a replay starts a new model (and drops it).
  const Model& model = checkpoint_.model;
  if (!history_ || history_->incidents_revision != model.revisions.incidents ||
      history_->deployments_revision != model.revisions.deployments) {
    history_ = SummarizeHistory(model);
  }
  in.history = &*history_;
  return BuildSnapshot(in);
}

std::vector<std::pair<std::string, std::string>> Observer::WorldFilesOnDisk() const {
  std::vector<std::pair<std::string, std::string>> files;
  for (std::string_view name : kWorldFileNames) {
    std::optional<std::string> content = ReadWholeFile(world_dir_ / name, nullptr);
    files.emplace_back(std::string(name),
                       content ? std::move(*content) : std::string("\x01missing"));
  }
  return files;
}

bool Observer::Commit(const WorldSnapshot& world, std::string* error) {
  const std::filesystem::path rejected = state_dir_ / detail::kRejectedLogName;
  if (rewrite_rejected_log_) {
    if (!WriteFileAtomic(rejected, pending_rejected_, error)) return false;
    checkpoint_.rejected_log_bytes = pending_rejected_.size();
  } else if (!pending_rejected_.empty()) {
    if (!AppendAndSync(rejected, pending_rejected_, error)) {
      // A partial append (a full disk) must not stay: the retry appends the
      // whole batch again.
      TruncateTo(rejected, checkpoint_.rejected_log_bytes, nullptr);
      return false;
    }
    checkpoint_.rejected_log_bytes += pending_rejected_.size();
  }
  rewrite_rejected_log_ = false;
  pending_rejected_.clear();

  // All five or none: a full or read-only world/ leaves the previous files
  // whole and matching the checkpoint on disk, which is not advanced.
  if (!world_writer_.Write(world, checkpoint_.model, skip_unchanged_history_, error)) {
    return false;
  }
  checkpoint_.world_digest = world_writer_.digest();
  return WriteFileAtomic(state_dir_ / detail::kCheckpointName, SerializeCheckpoint(checkpoint_),
                         error);
}

}  // namespace hlo
