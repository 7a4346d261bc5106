// Learning that something changed under a few folders or files: the `run`
// daemon's trigger to look at events/ and the inventory again (CONTRACT §2).
//
// The watcher only says "look again"; it never says what changed and never
// reads a file. Watching is not recursive: a folder's own entries count (a
// new file, a rename into place, an append, a delete), not what happens
// inside its sub-folders.
//
// Two ways to notice:
//  - inotify (Linux): each folder is watched, plus its parent folder so that
//    a folder that is deleted, renamed or created later is picked up again; a
//    file is watched through its parent folder, filtered by name, so an
//    editor's write-temp-then-rename is seen.
//  - polling: every poll_interval a stat fingerprint of each path (a folder:
//    one readdir and one fstatat per entry; a file: one stat) is compared
//    with the last one.
// inotify mode also runs the polling comparison every poll_interval as a
// safety net, so an event the kernel never delivered (NFS, a watch that could
// not be placed yet) costs at most one poll_interval of latency.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace hlo {

enum class WatchMode { kInotify, kPoll };

// "inotify" | "poll".
std::string_view WatchModeName(WatchMode mode);

struct WatchOptions {
  // Folders and/or files to watch. They may not exist yet, and may be removed
  // and recreated at any time. Relative paths are resolved once, against the
  // working directory at construction.
  std::vector<std::filesystem::path> paths;
  // The polling period, and in inotify mode the safety-net period. Values
  // under 10 ms are raised to 10 ms.
  std::chrono::milliseconds poll_interval{1000};
  // Poll even where inotify works: for tests, and for filesystems where
  // inotify misses changes made by other machines (NFS, CIFS).
  bool force_poll = false;
  // The clock the polling schedule runs on; the steady clock when empty. A
  // test steps it and calls Wait(0) instead of sleeping.
  std::function<std::chrono::steady_clock::time_point()> clock = {};
};

// What the daemon waits on between batches: "something may have changed".
// EventWatcher is the real one; tests inject one they step by hand (mtail's
// injected waker).
class ChangeSource {
 public:
  virtual ~ChangeSource() = default;
  // Blocks until something may have changed, `timeout` passes, or Wake();
  // true for a change or a Wake, false on a plain timeout.
  virtual bool Wait(std::chrono::milliseconds timeout) = 0;
  // Makes the current (or next) Wait() return true promptly; must be
  // async-signal-safe.
  virtual void Wake() = 0;
  virtual WatchMode mode() const = 0;
  // Why inotify is not used when it was wanted; empty otherwise.
  virtual const std::string& fallback_reason() const = 0;
};

// Not copyable or movable: Wake() may be called through a pointer from a
// signal handler. Wait() must not be called from two threads at once; Wake()
// may be called from anywhere, at any time during the watcher's lifetime.
class EventWatcher final : public ChangeSource {
 public:
  // Never throws and never fails: when inotify cannot be set up (no
  // inotify_init1, the watch limit reached, ...) the watcher polls instead,
  // and fallback_reason() says why. Changes made after the constructor
  // returns are reported by a later Wait(), so construct the watcher before
  // the initial scan of the watched folders.
  explicit EventWatcher(WatchOptions options);
  ~EventWatcher() override;

  EventWatcher(const EventWatcher&) = delete;
  EventWatcher& operator=(const EventWatcher&) = delete;

  WatchMode mode() const override { return mode_; }
  // Empty unless inotify was wanted but could not be used; then a one-line
  // reason, e.g. "inotify_add_watch /srv/events: No space left on device".
  const std::string& fallback_reason() const override { return fallback_reason_; }

  // Blocks until something may have changed under a watched path, `timeout`
  // passes, or Wake() is called. True when a change (or a Wake) was seen,
  // false on a plain timeout. Spurious trues happen (e.g. a temporary file
  // written next to an event file); missed changes do not. Everything
  // already queued is consumed, so one true stands for all changes before
  // it: the caller rescans once. A zero timeout only looks.
  bool Wait(std::chrono::milliseconds timeout) override;

  // Makes the current Wait() (or, when none is running, the next one) return
  // true promptly. Thread-safe and async-signal-safe: it only stores to a
  // lock-free atomic and write(2)s to an eventfd, and it preserves errno.
  void Wake() override;

 private:
  // What a watch descriptor means to one target.
  enum class Role { kSelf, kParent };
  struct WatchUse {
    size_t target;
    Role role;
  };
  struct Watch {
    int wd = -1;
    uint64_t dev = 0;  // of the inode the watch was placed on
    uint64_t ino = 0;
  };
  struct Target {
    std::filesystem::path path;    // absolute, lexically normal
    std::filesystem::path parent;  // empty for "/"
    std::string name;              // path's last component; empty for "/"
    Watch self;                    // the folder itself, while it is one
    Watch parent_watch;            // the parent folder, filtered by `name`
    uint64_t fingerprint = 0;
    bool needs_resolve = true;
  };

  bool WaitPoll(std::chrono::steady_clock::time_point deadline);
  bool WaitInotify(std::chrono::steady_clock::time_point deadline);
  // Blocks in poll(2) until an fd is readable or `until`; true on a Wake.
  bool Sleep(std::chrono::steady_clock::time_point until, bool* inotify_readable);
  bool ConsumeWake();
  // Reads every queued inotify event; true when one concerns a target.
  bool DrainInotify();
  void HandleEvent(int wd, uint32_t mask, std::string_view name, bool* changed);
  // Makes the target's watches match what is on disk now.
  void Resolve(size_t index);
  void ResolveWatch(size_t index, Role role, const std::filesystem::path& path);
  void DropWatch(size_t index, Role role);
  // True when some target's fingerprint differs from the last one seen.
  bool Rescan();
  void FallBackToPoll(std::string reason);

  std::chrono::steady_clock::time_point Now() const {
    return clock_ ? clock_() : std::chrono::steady_clock::now();
  }

  std::function<std::chrono::steady_clock::time_point()> clock_;
  WatchMode mode_ = WatchMode::kPoll;
  std::string fallback_reason_;
  std::chrono::milliseconds interval_;
  std::chrono::steady_clock::time_point next_scan_;
  std::vector<Target> targets_;
  std::unordered_map<int, std::vector<WatchUse>> watches_;  // by wd
  int inotify_fd_ = -1;
  int wake_read_fd_ = -1;   // an eventfd, or a pipe's read end
  int wake_write_fd_ = -1;  // the same eventfd, or the pipe's write end
  std::atomic<bool> woken_{false};
  static_assert(std::atomic<bool>::is_always_lock_free, "Wake() must be async-signal-safe");
};

}  // namespace hlo
