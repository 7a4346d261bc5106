// An Env with the real file system, a clock that moves only when a test says
// so, and writes that fail on demand (leveldb's fault-injection Env in
// small). Thread-safe: a daemon under test reads the clock on its thread.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
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

 private:
  bool Refused(std::string* error) {
    if (!fail_writes_) return false;
    ++failed_writes_;
    if (error) *error = "injected: no space left on device";
    return true;
  }

  const Timestamp wall_start_;
  std::atomic<int64_t> elapsed_ns_{0};
  std::atomic<bool> fail_writes_{false};
  std::atomic<int> failed_writes_{0};
};

}  // namespace hlo::fakes
