#include "observer/line_parser_pipeline.h"

#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>
#include <vector>

#include "observer/event_source.h"

namespace hlo {
namespace detail {
namespace {

// Lines travel in batches: one lock per batch, not per line.
constexpr size_t kBatchLines = 1024;
// Batches in flight; bounds memory to a few MB whatever the file size.
constexpr size_t kMaxBatches = 8;

using Batch = std::vector<ParsedLine>;

// A bounded single-producer, single-consumer queue of batches.
class BatchQueue {
 public:
  void Push(Batch batch) {
    std::unique_lock<std::mutex> lock(mutex_);
    not_full_.wait(lock, [this] { return batches_.size() < kMaxBatches || cancelled_; });
    if (cancelled_) return;
    batches_.push_back(std::move(batch));
    not_empty_.notify_one();
  }
  void Close(std::optional<FileProgress> end, std::string error) {
    std::lock_guard<std::mutex> lock(mutex_);
    closed_ = true;
    end_ = end;
    error_ = std::move(error);
    not_empty_.notify_one();
  }
  // False once the queue is closed and drained.
  bool Pop(Batch* batch) {
    std::unique_lock<std::mutex> lock(mutex_);
    not_empty_.wait(lock, [this] { return !batches_.empty() || closed_; });
    if (batches_.empty()) return false;
    *batch = std::move(batches_.front());
    batches_.pop_front();
    not_full_.notify_one();
    return true;
  }
  void Cancel() {
    std::lock_guard<std::mutex> lock(mutex_);
    cancelled_ = true;
    not_full_.notify_one();
  }
  std::optional<FileProgress> end() const { return end_; }
  const std::string& error() const { return error_; }

 private:
  std::mutex mutex_;
  std::condition_variable not_empty_, not_full_;
  std::deque<Batch> batches_;
  bool closed_ = false;
  bool cancelled_ = false;
  std::optional<FileProgress> end_;
  std::string error_;
};

}  // namespace
}  // namespace detail

ParsedLine ParseRawLine(uint64_t line, std::string_view text, uint64_t size) {
  ParsedLine parsed{line, Rejection{RejectReason::kTooLarge, ""}, ""};
  if (size > kMaxEventBytes) {
    parsed.result = Rejection{RejectReason::kTooLarge, "line is " + std::to_string(size) +
                                                           " bytes, limit " +
                                                           std::to_string(kMaxEventBytes)};
  } else {
    parsed.result = ParseEventLine(text);
  }
  if (std::holds_alternative<Rejection>(parsed.result)) parsed.raw = SanitizeRaw(text);
  return parsed;
}

std::optional<FileProgress> ReadAndParseJsonLines(const std::filesystem::path& file,
                                                  FileProgress start, uint64_t bytes_after_start,
                                                  const ParsedLineSink& sink, std::string* error,
                                                  uint64_t threaded_from) {
  if (bytes_after_start < threaded_from) {
    const LineSink inline_sink = [&sink](const RawLine& raw) {
      sink(ParseRawLine(raw.line, raw.text, raw.size));
    };
    return ReadJsonLines(file, start, inline_sink, error);
  }
  detail::BatchQueue queue;
  std::thread producer([&] {
    detail::Batch batch;
    batch.reserve(detail::kBatchLines);
    const LineSink to_batches = [&](const RawLine& raw) {
      batch.push_back(ParseRawLine(raw.line, raw.text, raw.size));
      if (batch.size() == detail::kBatchLines) {
        queue.Push(std::move(batch));
        batch = {};
        batch.reserve(detail::kBatchLines);
      }
    };
    std::string why;
    std::optional<FileProgress> end = ReadJsonLines(file, start, to_batches, &why);
    if (!batch.empty()) queue.Push(std::move(batch));
    queue.Close(end, std::move(why));
  });
  detail::Batch batch;
  try {
    while (queue.Pop(&batch)) {
      for (ParsedLine& line : batch) sink(std::move(line));
    }
  } catch (...) {
    queue.Cancel();
    producer.join();
    throw;
  }
  producer.join();
  if (!queue.end() && error) *error = queue.error();
  return queue.end();
}

}  // namespace hlo

namespace hlo {

JsonLinesReadAhead::JsonLinesReadAhead(std::vector<File> files, std::vector<uint64_t> sizes)
    : files_(std::move(files)), sizes_(std::move(sizes)), thread_([this] { Run(); }) {}

JsonLinesReadAhead::~JsonLinesReadAhead() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_ = true;
  }
  changed_.notify_all();
  thread_.join();
}

void JsonLinesReadAhead::Run() {
  std::unique_lock<std::mutex> lock(mutex_);
  try {
    for (;;) {
      if (!spent_.empty()) {
        // Freed here, where most of it was allocated: frees across threads
        // make the two contend for the malloc arena's lock.
        std::vector<Parsed> garbage = std::move(spent_);
        spent_.clear();
        lock.unlock();
        garbage.clear();
        lock.lock();
        continue;
      }
      if (stop_) return;
      const size_t i = std::max(next_parse_, next_taken_);
      const bool room = ahead_bytes_ == 0 || (i < files_.size() && ahead_bytes_ + sizes_[i] <= kMaxAheadBytes);
      if (i >= files_.size() || !room) {
        changed_.wait(lock);
        continue;
      }
      next_parse_ = i + 1;
      lock.unlock();
      Parsed parsed;
      parsed.lines.reserve(static_cast<size_t>(sizes_[i] / 160));
      const LineSink to_lines = [&parsed](const RawLine& raw) {
        parsed.lines.push_back(ParseRawLine(raw.line, raw.text, raw.size));
      };
      parsed.end = ReadJsonLines(files_[i].path, files_[i].start, to_lines, &parsed.error);
      parsed.index = i;
      lock.lock();
      if (i >= next_taken_) {
        ahead_bytes_ += sizes_[i];
        ready_.push_back(std::move(parsed));
        changed_.notify_all();
      } else {  // the caller went past it meanwhile
        spent_.push_back(std::move(parsed));
      }
    }
  } catch (...) {  // out of memory: the caller reads the rest itself
    if (!lock.owns_lock()) lock.lock();
    failed_ = true;
    next_parse_ = files_.size();
    changed_.notify_all();
  }
}

bool JsonLinesReadAhead::Take(const std::filesystem::path& path, const FileProgress& start,
                              const ParsedLineSink& sink, std::optional<FileProgress>* end,
                              std::string* error) {
  std::unique_lock<std::mutex> lock(mutex_);
  size_t k = next_taken_;
  while (k < files_.size() && !(files_[k].start.offset == start.offset &&
                                files_[k].start.lines == start.lines && files_[k].path == path)) {
    ++k;
  }
  if (k == files_.size()) return false;
  while (!ready_.empty() && ready_.front().index < k) {
    ahead_bytes_ -= sizes_[ready_.front().index];
    spent_.push_back(std::move(ready_.front()));
    ready_.pop_front();
  }
  if (k >= next_parse_) {  // not started: the helper skips it now
    next_taken_ = k + 1;
    changed_.notify_all();
    return false;
  }
  next_taken_ = k;  // (so the helper keeps it when it is done with it)
  changed_.notify_all();
  changed_.wait(lock, [&] { return failed_ || (!ready_.empty() && ready_.front().index == k); });
  next_taken_ = k + 1;
  if (ready_.empty() || ready_.front().index != k) return false;
  Parsed parsed = std::move(ready_.front());
  ready_.pop_front();
  ahead_bytes_ -= sizes_[k];
  changed_.notify_all();
  lock.unlock();
  for (ParsedLine& line : parsed.lines) sink(std::move(line));
  *end = parsed.end;
  if (!parsed.end && error != nullptr) *error = parsed.error;
  lock.lock();
  spent_.push_back(std::move(parsed));
  changed_.notify_all();
  return true;
}

}  // namespace hlo
