// An Env with the real file system, a clock that moves only when a test says
// so, and writes that fail on demand (leveldb's fault-injection Env in
// small). Thread-safe: a daemon under test reads the clock on its thread.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>

#include "observer/env.h"

namespace hlo::fakes {

class ManualEnv : public PosixEnv {
 public:
  // Starts at `wall` (UTC) and at an arbitrary steady instant.
  explicit ManualEnv(Timestamp wall = Timestamp{1'800'000'000, 0}) : wall_start_(wall) {}

  void Advance(std::chrono::nanoseconds d) { elapsed_ns_ += d.count(); }

  // While set, every write to state/ or world/ fails (a full disk).
  void FailWrites(bool fail) { fail_writes_ = fail; }
  // While set, reading the event file of this name (inside events/) fails as
  // a file without read permission does (root reads those regardless).
  void FailReadsOf(std::string name) {
    std::lock_guard lock(mu_);
    unreadable_ = std::move(name);
  }
  int failed_writes() const { return failed_writes_; }

  Timestamp Now() override { return Add(wall_start_, Duration{elapsed_ns_.load()}); }
  std::chrono::steady_clock::time_point SteadyNow() override {
    return std::chrono::steady_clock::time_point(std::chrono::hours(1)) +
           std::chrono::nanoseconds(elapsed_ns_.load());
  }

  bool WriteFileAtomic(const std::filesystem::path& path, std::string_view content,
                       std::string* error) override {
    return Refused(error) ? false : PosixEnv::WriteFileAtomic(path, content, error);
  }
  bool WriteFilesAtomic(const std::vector<FileToWrite>& files, std::string* error) override {
    return Refused(error) ? false : PosixEnv::WriteFilesAtomic(files, error);
  }
  bool AppendAndSync(const std::filesystem::path& path, std::string_view content,
                     std::string* error) override {
    return Refused(error) ? false : PosixEnv::AppendAndSync(path, content, error);
  }
  std::optional<std::string> ReadJsonDocument(const EventFile& file, size_t limit,
                                              bool* too_large, uint64_t* size,
                                              std::string* error) override {
    if (Unreadable(file.name, error)) return std::nullopt;
    return PosixEnv::ReadJsonDocument(file, limit, too_large, size, error);
  }
  std::optional<FileProgress> ReadAndParseJsonLines(const std::filesystem::path& file,
                                                    FileProgress start,
                                                    uint64_t bytes_after_start,
                                                    const ParsedLineSink& sink,
                                                    std::string* error) override {
    if (Unreadable(file.filename().string(), error)) return std::nullopt;
    return PosixEnv::ReadAndParseJsonLines(file, start, bytes_after_start, sink, error);
  }

 private:
  bool Refused(std::string* error) {
    if (!fail_writes_) return false;
    ++failed_writes_;
    if (error) *error = "injected: no space left on device";
    return true;
  }

  bool Unreadable(const std::string& name, std::string* error) {
    std::lock_guard lock(mu_);
    if (unreadable_.empty() || name != unreadable_) return false;
    if (error) *error = "cannot read " + name + ": Permission denied (injected)";
    return true;
  }

  std::mutex mu_;
  std::string unreadable_;  // guarded by mu_
  const Timestamp wall_start_;
  std::atomic<int64_t> elapsed_ns_{0};
  std::atomic<bool> fail_writes_{false};
  std::atomic<int> failed_writes_{0};
};

}  // namespace hlo::fakes
