// A ChangeSource a test steps by hand (mtail's injected waker): the daemon's
// Wait() blocks until the test answers it, so the test knows exactly when a
// batch has run, without sleeping.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>

#include "exporter/event_watcher.h"

namespace hlo::fakes {

class ManualChanges final : public ChangeSource {
 public:
  bool Wait(std::chrono::milliseconds) override {
    std::unique_lock<std::mutex> lock(mu_);
    ++waits_;
    cv_.notify_all();
    cv_.wait(lock, [&] { return answer_.has_value() || woken_; });
    if (woken_) {
      woken_ = false;
      return true;
    }
    const bool changed = *answer_;
    answer_.reset();
    return changed;
  }

  void Wake() override {
    std::lock_guard<std::mutex> lock(mu_);
    woken_ = true;
    cv_.notify_all();
  }

  WatchMode mode() const override { return WatchMode::kPoll; }
  const std::string& fallback_reason() const override { return none_; }

  // Waits until the daemon blocks in a Wait() it has not been answered in:
  // everything before it (a batch, the start) is done.
  void AwaitWaiting() {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [&] { return waits_ > answered_; });
  }

  // Answers the pending Wait(): true = "something changed".
  void Answer(bool changed) {
    AwaitWaiting();
    std::lock_guard<std::mutex> lock(mu_);
    ++answered_;
    answer_ = changed;
    cv_.notify_all();
  }

  // One whole batch: "changed", then the end of the burst; returns when the
  // daemon has run the batch and waits again.
  void Batch() {
    Answer(true);   // the main loop's Wait
    Answer(false);  // the burst's Wait: nothing more
    AwaitWaiting();
  }

  // A timeout of the main loop's Wait: the daemon refreshes (and runs a due
  // replay); returns when it waits again.
  void Timeout() {
    Answer(false);
    AwaitWaiting();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  uint64_t waits_ = 0, answered_ = 0;
  std::optional<bool> answer_;
  bool woken_ = false;
  const std::string none_;
};

}  // namespace hlo::fakes
