#include "exporter/event_watcher.h"

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>
#include <string_view>
#include <system_error>
#include <thread>
#include <utility>

namespace hlo {

namespace detail {

// Everything that can mean "this entry changed" for an event file or an
// inventory file: appends and rewrites (size, IN_MODIFY), renames into place
// (IN_MOVED_TO, a new inode), creations and deletions, editors that only
// touch metadata, and the watched folder itself going away or moving.
constexpr uint32_t kWatchMask = IN_CLOSE_WRITE | IN_MOVED_TO | IN_MODIFY | IN_CREATE | IN_DELETE |
                                IN_MOVED_FROM | IN_DELETE_SELF | IN_MOVE_SELF | IN_ATTRIB;
// Events after which the watch no longer sits on the folder at its path.
constexpr uint32_t kWatchGone = IN_DELETE_SELF | IN_MOVE_SELF | IN_IGNORED | IN_UNMOUNT;
// Events on a name in the parent that may swap the folder behind a path.
constexpr uint32_t kNameMoved = IN_CREATE | IN_MOVED_TO | IN_DELETE | IN_MOVED_FROM;

// splitmix64's finaliser: fingerprints only need to differ when stat data
// differs, not to resist anyone, so a fast well-mixing function is enough.
constexpr uint64_t Avalanche(uint64_t x) {
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebULL;
  x ^= x >> 31;
  return x;
}

constexpr uint64_t Combine(uint64_t h, uint64_t v) {
  return Avalanche(h ^ Avalanche(v + 0x9e3779b97f4a7c15ULL));
}

uint64_t HashName(std::string_view name) {
  uint64_t h = 0xcbf29ce484222325ULL;  // FNV-1a
  for (unsigned char c : name) h = (h ^ c) * 0x100000001b3ULL;
  return h;
}

uint64_t HashStat(const struct stat& st) {
  const auto ns = [](const timespec& t) {
    return static_cast<uint64_t>(t.tv_sec) * 1'000'000'000ULL + static_cast<uint64_t>(t.tv_nsec);
  };
  uint64_t h = Combine(st.st_dev, st.st_ino);
  h = Combine(h, st.st_mode);
  h = Combine(h, static_cast<uint64_t>(st.st_size));
  h = Combine(h, ns(st.st_mtim));
  // ctime as well: it moves on a same-size rewrite whose mtime was set back.
  return Combine(h, ns(st.st_ctim));
}

constexpr uint64_t kMissing = 0x6d697373696e67ULL;
constexpr uint64_t kFile = 0x66696c65ULL;
constexpr uint64_t kFolder = 0x666f6c646572ULL;

// A folder: its identity and, in name order, every entry's name, size,
// mtime, ctime and inode — one readdir and one fstatat per entry. A file (or
// a folder we may not list): its own stat. A missing path: a constant.
uint64_t Fingerprint(const std::filesystem::path& path) {
  // O_NONBLOCK: never hang opening a FIFO that sits where a folder should be.
  const int fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) {
    struct stat st;
    if (::stat(path.c_str(), &st) != 0) return Combine(kMissing, errno == ENOENT ? 0 : 1);
    return Combine(kFile, HashStat(st));
  }
  struct stat self;
  if (::fstat(fd, &self) != 0) std::memset(&self, 0, sizeof self);
  DIR* dir = ::fdopendir(fd);
  if (dir == nullptr) {
    ::close(fd);
    return Combine(kFile, HashStat(self));
  }
  std::vector<uint64_t> entries;
  while (const dirent* entry = ::readdir(dir)) {
    const std::string_view name = entry->d_name;
    if (name == "." || name == "..") continue;
    uint64_t h = HashName(name);
    struct stat st;
    if (::fstatat(::dirfd(dir), entry->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0) {
      h = Combine(h, HashStat(st));
    }
    entries.push_back(h);
  }
  ::closedir(dir);
  // readdir's order is the filesystem's and may change when nothing did.
  std::sort(entries.begin(), entries.end());
  uint64_t h = Combine(Combine(kFolder, self.st_dev), self.st_ino);
  h = Combine(h, entries.size());
  for (uint64_t e : entries) h = Combine(h, e);
  return h;
}

std::string ErrnoText(std::string_view what, const std::filesystem::path& path, int error) {
  std::string text(what);
  if (!path.empty()) text += " " + path.string();
  return text + ": " + std::strerror(error);
}

}  // namespace detail

std::string_view WatchModeName(WatchMode mode) {
  return mode == WatchMode::kInotify ? "inotify" : "poll";
}

namespace {

using Clock = std::chrono::steady_clock;

std::filesystem::path Normalise(const std::filesystem::path& path) {
  std::error_code ec;
  std::filesystem::path full = std::filesystem::absolute(path, ec);
  if (ec) full = path;
  full = full.lexically_normal();
  // "events/" names the folder "events", not an empty last component.
  if (!full.has_filename() && full.has_relative_path()) full = full.parent_path();
  return full;
}

}  // namespace

EventWatcher::EventWatcher(WatchOptions options)
    : clock_(std::move(options.clock)),
      interval_(std::max(options.poll_interval, std::chrono::milliseconds(10))) {
  for (const std::filesystem::path& path : options.paths) {
    Target target;
    target.path = Normalise(path);
    target.name = target.path.filename().string();
    if (!target.name.empty()) target.parent = target.path.parent_path();
    targets_.push_back(std::move(target));
  }

  wake_read_fd_ = wake_write_fd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (wake_read_fd_ < 0) {
    int fds[2];
    if (::pipe2(fds, O_NONBLOCK | O_CLOEXEC) == 0) {
      wake_read_fd_ = fds[0];
      wake_write_fd_ = fds[1];
    }
    // Without either, Wake() still sets woken_, seen within a poll_interval.
  }

  if (!options.force_poll) {
    inotify_fd_ = ::inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (inotify_fd_ < 0) {
      fallback_reason_ = detail::ErrnoText("inotify_init1", {}, errno);
    } else {
      mode_ = WatchMode::kInotify;
      for (size_t i = 0; i < targets_.size(); ++i) Resolve(i);
    }
  }
  // After the watches: a change between the two is then reported twice at
  // worst, never lost.
  for (Target& target : targets_) target.fingerprint = detail::Fingerprint(target.path);
  next_scan_ = Now() + interval_;
}

EventWatcher::~EventWatcher() {
  if (inotify_fd_ >= 0) ::close(inotify_fd_);
  if (wake_write_fd_ >= 0 && wake_write_fd_ != wake_read_fd_) ::close(wake_write_fd_);
  if (wake_read_fd_ >= 0) ::close(wake_read_fd_);
}

void EventWatcher::Wake() {
  const int saved_errno = errno;  // we may be running inside a signal handler
  woken_.store(true, std::memory_order_release);
  if (wake_write_fd_ >= 0) {
    // 8 bytes is what an eventfd takes; a pipe accepts them too. A full pipe
    // (EAGAIN) already means "woken".
    const uint64_t one = 1;
    const ssize_t written = ::write(wake_write_fd_, &one, sizeof one);
    static_cast<void>(written);
  }
  errno = saved_errno;
}

bool EventWatcher::ConsumeWake() {
  bool woken = woken_.exchange(false, std::memory_order_acq_rel);
  if (wake_read_fd_ >= 0) {
    char buffer[64];
    while (::read(wake_read_fd_, buffer, sizeof buffer) > 0) woken = true;
  }
  return woken;
}

bool EventWatcher::Wait(std::chrono::milliseconds timeout) {
  // A year stands for "forever" and keeps the deadline from overflowing.
  const auto bounded = std::clamp(timeout, std::chrono::milliseconds(0),
                                  std::chrono::milliseconds(std::chrono::hours(24 * 365)));
  const Clock::time_point deadline = Now() + bounded;
  for (;;) {
    bool inotify_readable = false;
    if (Sleep(std::min(deadline, next_scan_), &inotify_readable)) {
      if (inotify_readable) DrainInotify();
      return true;
    }
    if (inotify_readable && DrainInotify()) return true;
    const Clock::time_point now = Now();
    if (now >= next_scan_) {
      next_scan_ = now + interval_;
      if (Rescan()) return true;
    }
    if (now >= deadline) return false;
  }
}

bool EventWatcher::Sleep(Clock::time_point until, bool* inotify_readable) {
  if (woken_.load(std::memory_order_acquire)) {
    ConsumeWake();
    return true;
  }
  pollfd fds[2];
  nfds_t count = 0;
  int wake_index = -1;
  int inotify_index = -1;
  if (wake_read_fd_ >= 0) {
    wake_index = static_cast<int>(count);
    fds[count++] = pollfd{wake_read_fd_, POLLIN, 0};
  }
  if (inotify_fd_ >= 0) {
    inotify_index = static_cast<int>(count);
    fds[count++] = pollfd{inotify_fd_, POLLIN, 0};
  }
  for (;;) {
    const Clock::time_point now = Now();
    // Rounded up: a 0.3 ms remainder must sleep, not spin on poll(..., 0).
    const auto left = until > now ? std::chrono::ceil<std::chrono::milliseconds>(until - now)
                                  : std::chrono::milliseconds(0);
    const int ms = static_cast<int>(std::min<int64_t>(left.count(), INT_MAX));
    const int ready = ::poll(fds, count, ms);
    if (ready >= 0) break;
    if (errno == EINTR) {
      // A signal handler's Wake() lands here when it ran on this thread.
      if (woken_.load(std::memory_order_acquire)) {
        ConsumeWake();
        return true;
      }
      continue;
    }
    // poll itself failing (ENOMEM) must not turn Wait into a busy loop.
    std::this_thread::sleep_until(until);
    return false;
  }
  if (inotify_index >= 0) *inotify_readable = fds[inotify_index].revents != 0;
  const bool wake_readable = wake_index >= 0 && fds[wake_index].revents != 0;
  if (wake_readable || woken_.load(std::memory_order_acquire)) return ConsumeWake();
  return false;
}

bool EventWatcher::DrainInotify() {
  bool changed = false;
  alignas(inotify_event) char buffer[16 * 1024];
  while (inotify_fd_ >= 0) {
    const ssize_t length = ::read(inotify_fd_, buffer, sizeof buffer);
    if (length < 0 && errno == EINTR) continue;
    if (length < 0 && errno == EAGAIN) break;
    if (length <= 0) {
      FallBackToPoll(detail::ErrnoText("read inotify", {}, length < 0 ? errno : EIO));
      return true;
    }
    for (size_t offset = 0; offset + sizeof(inotify_event) <= static_cast<size_t>(length);) {
      inotify_event event;
      std::memcpy(&event, buffer + offset, sizeof event);
      const char* name = buffer + offset + sizeof event;
      HandleEvent(event.wd, event.mask, std::string_view(name, ::strnlen(name, event.len)),
                  &changed);
      offset += sizeof event + event.len;
    }
  }
  // After the whole queue, so the IN_IGNORED of an old watch is never taken
  // for the new one; before returning, so the caller's rescan happens with
  // the new watches already in place.
  for (size_t i = 0; i < targets_.size(); ++i) {
    if (targets_[i].needs_resolve) Resolve(i);
  }
  return changed;
}

void EventWatcher::HandleEvent(int wd, uint32_t mask, std::string_view name, bool* changed) {
  if (mask & IN_Q_OVERFLOW) {
    *changed = true;
    for (Target& target : targets_) target.needs_resolve = true;
    return;
  }
  const auto it = watches_.find(wd);
  if (it == watches_.end()) return;  // a watch we dropped; its last events still arrive
  const bool gone = (mask & detail::kWatchGone) != 0;
  for (const WatchUse& use : it->second) {
    Target& target = targets_[use.target];
    if (use.role == Role::kSelf) {
      *changed = true;
      if (gone) target.needs_resolve = true;
    } else if (gone) {
      // The parent went away, and the path with it.
      *changed = true;
      target.needs_resolve = true;
    } else if (name == target.name) {
      *changed = true;
      if (mask & detail::kNameMoved) target.needs_resolve = true;
    }
  }
  if (mask & IN_IGNORED) {
    // The kernel already removed this watch: forget it, no inotify_rm_watch.
    for (const WatchUse& use : it->second) {
      Target& target = targets_[use.target];
      Watch& watch = use.role == Role::kSelf ? target.self : target.parent_watch;
      if (watch.wd == wd) watch = Watch{};
    }
    watches_.erase(it);
  }
}

void EventWatcher::Resolve(size_t index) {
  Target& target = targets_[index];
  target.needs_resolve = false;
  if (!target.name.empty()) ResolveWatch(index, Role::kParent, target.parent);
  ResolveWatch(index, Role::kSelf, target.path);
}

void EventWatcher::ResolveWatch(size_t index, Role role, const std::filesystem::path& path) {
  if (mode_ != WatchMode::kInotify) return;
  Watch& watch = role == Role::kSelf ? targets_[index].self : targets_[index].parent_watch;
  struct stat st;
  const bool is_folder = ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
  if (watch.wd >= 0 && is_folder && watch.dev == st.st_dev && watch.ino == st.st_ino) return;
  if (watch.wd >= 0) DropWatch(index, role);
  if (!is_folder) return;  // a file, or nothing yet: the parent's watch covers it
  const int wd = ::inotify_add_watch(inotify_fd_, path.c_str(), detail::kWatchMask | IN_ONLYDIR);
  if (wd < 0) {
    // Gone or replaced by a file since the stat: the parent's watch (or the
    // next safety scan) brings us back here.
    if (errno == ENOENT || errno == ENOTDIR) return;
    FallBackToPoll(detail::ErrnoText("inotify_add_watch", path, errno));
    return;
  }
  // inotify_add_watch on an inode already watched returns the same wd, so a
  // wd may serve several targets; watches_ counts its users.
  watch = Watch{wd, st.st_dev, st.st_ino};
  watches_[wd].push_back(WatchUse{index, role});
}

void EventWatcher::DropWatch(size_t index, Role role) {
  Watch& watch = role == Role::kSelf ? targets_[index].self : targets_[index].parent_watch;
  const auto it = watches_.find(watch.wd);
  if (it != watches_.end()) {
    std::erase_if(it->second,
                  [&](const WatchUse& use) { return use.target == index && use.role == role; });
    if (it->second.empty()) {
      ::inotify_rm_watch(inotify_fd_, watch.wd);
      watches_.erase(it);
    }
  }
  watch = Watch{};
}

bool EventWatcher::Rescan() {
  bool changed = false;
  for (size_t i = 0; i < targets_.size(); ++i) {
    // Also re-places watches that could not be placed before (a parent that
    // did not exist) or that inotify silently lost.
    if (mode_ == WatchMode::kInotify) Resolve(i);
    const uint64_t fingerprint = detail::Fingerprint(targets_[i].path);
    if (fingerprint != targets_[i].fingerprint) {
      targets_[i].fingerprint = fingerprint;
      changed = true;
    }
  }
  return changed;
}

void EventWatcher::FallBackToPoll(std::string reason) {
  // Fingerprints stay: the next scan compares with the last one, so nothing
  // that happened since is lost in the switch.
  if (inotify_fd_ >= 0) ::close(inotify_fd_);
  inotify_fd_ = -1;
  watches_.clear();
  for (Target& target : targets_) {
    target.self = Watch{};
    target.parent_watch = Watch{};
    target.needs_resolve = false;
  }
  mode_ = WatchMode::kPoll;
  fallback_reason_ = std::move(reason);
}

}  // namespace hlo
