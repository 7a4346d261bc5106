#include "observer/event_source.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <deque>
#include <mutex>
#include <thread>

#include "observer/event_parser.h"

namespace hlo {
namespace detail {
namespace {

constexpr size_t kChunk = 1 << 20;
// How much of an oversized line is kept for rejected-events.jsonl's `raw`
// (which is cut to 1 KiB after invalid bytes are replaced).
constexpr size_t kOversizeHead = 4096;
constexpr std::string_view kBom = "\xEF\xBB\xBF";

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() > suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

bool IsBlank(std::string_view line) {
  return std::all_of(line.begin(), line.end(),
                     [](char c) { return c == ' ' || c == '\t' || c == '\r'; });
}

class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

ssize_t ReadSome(int fd, char* buf, size_t n) {
  for (;;) {
    const ssize_t got = ::read(fd, buf, n);
    if (got >= 0 || errno != EINTR) return got;
  }
}

// The whole range, or false (a short file, a read error).
bool ReadAt(int fd, char* buf, size_t n, uint64_t offset) {
  while (n > 0) {
    const ssize_t got = ::pread(fd, buf, n, static_cast<off_t>(offset));
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) return false;
    buf += got;
    n -= static_cast<size_t>(got);
    offset += static_cast<uint64_t>(got);
  }
  return true;
}

// Assembles lines across reads; long lines keep only their head.
class LineAssembler {
 public:
  LineAssembler(FileProgress start, const LineSink& sink)
      : progress_(start), position_(start.offset), sink_(sink) {
    skip_bom_ = start.offset == 0;
  }

  void Feed(std::string_view chunk) {
    while (!chunk.empty()) {
      const size_t nl = chunk.find('\n');
      if (nl == std::string_view::npos) {
        Accumulate(chunk);
        position_ += chunk.size();
        return;
      }
      Accumulate(chunk.substr(0, nl));
      position_ += nl + 1;
      EndLine();
      chunk.remove_prefix(nl + 1);
    }
  }

  FileProgress progress() const { return progress_; }

 private:
  void Accumulate(std::string_view part) {
    length_ += part.size();
    // The first line may start with a BOM that EndLine drops and that is not
    // part of the line: keep room for it, or a line of exactly the limit
    // would reach the parser cut short.
    const size_t keep = kMaxEventBytes + 1 + (skip_bom_ ? kBom.size() : 0);
    if (pending_.size() < keep) {
      const size_t room = keep - pending_.size();
      pending_.append(part.substr(0, std::min(room, part.size())));
    }
  }

  void EndLine() {
    ++progress_.lines;
    progress_.offset = position_;
    std::string_view text = pending_;
    uint64_t size = length_;
    if (skip_bom_) {
      skip_bom_ = false;
      if (text.substr(0, kBom.size()) == kBom) {
        text.remove_prefix(kBom.size());
        size -= kBom.size();
      }
    }
    if (size > kMaxEventBytes) text = text.substr(0, kOversizeHead);
    if (!IsBlank(text) || size > text.size()) sink_(RawLine{progress_.lines, text, size});
    pending_.clear();
    length_ = 0;
  }

  FileProgress progress_;
  uint64_t position_;
  const LineSink& sink_;
  bool skip_bom_;
  std::string pending_;
  uint64_t length_ = 0;
};

// How much of a file's start and of the bytes before its offset a
// fingerprint covers: the tail holds the last consumed line whole unless it
// is longer than this.
constexpr size_t kFingerprintSpan = 4096;

std::string CannotRead(const std::filesystem::path& file) {
  return "cannot read " + file.string() + ": " + std::strerror(errno);
}

// One .json file's read: where its content was appended, its size, or the
// errno of the failure.
struct DocumentRead {
  bool ok = false;
  bool too_large = false;
  uint64_t size = 0;
  int error = 0;
  size_t offset = 0, length = 0;  // of the content, in the bytes it was appended to
};

// Appends what `fd` holds to `bytes`, up to its end or until it has given
// more than `limit` bytes; see ReadJsonDocument. Reading on to end of file
// replaces a stat for the size.
DocumentRead ReadDocument(int fd, size_t limit, std::string& bytes) {
  DocumentRead read;
  read.offset = bytes.size();
  char buf[64 * 1024];
  size_t have = 0;
  for (;;) {
    const ssize_t got = ReadSome(fd, buf, std::min(sizeof buf, limit + 1 - have));
    if (got < 0) {
      read.error = errno;
      bytes.resize(read.offset);
      return read;
    }
    if (got == 0) break;
    bytes.append(buf, static_cast<size_t>(got));
    have += static_cast<size_t>(got);
    if (have > limit) break;
  }
  read.too_large = have > limit;
  read.size = have;
  if (read.too_large) {
    struct stat st {};
    if (::fstat(fd, &st) != 0) {
      read.error = errno;
      bytes.resize(read.offset);
      return read;
    }
    read.size = std::max<uint64_t>(static_cast<uint64_t>(st.st_size), have);
    have = std::min(have, kOversizeHead);
    bytes.resize(read.offset + have);
  }
  read.ok = true;
  read.length = have;
  return read;
}

DocumentRead ReadDocumentAt(int dir_fd, const std::string& name, size_t limit,
                            std::string& bytes) {
  Fd fd(::openat(dir_fd, name.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
  if (fd.get() < 0) {
    DocumentRead failed;
    failed.error = errno;
    return failed;
  }
  return ReadDocument(fd.get(), limit, bytes);
}

// The read-ahead reads files in batches of this many, and at most
// kReadAheadWindow batches beyond the one the caller is at: one lock and at
// most one wake-up per batch, not per file.
constexpr size_t kReadAheadBatch = 32;
constexpr size_t kReadAheadWindow = 4;

}  // namespace
}  // namespace detail

// What EventDirectory::ReadAhead runs. The names are cut into batches, read
// in order by whichever thread claims them first: the helper thread, and
// the caller too when the batch it needs next is not there yet — rather
// than wait, it reads the next unclaimed one itself, so that both cores do
// the kernel's work when parsing is the faster side.
class EventDirectory::ReadAheadQueue {
 public:
  ReadAheadQueue(int dir_fd, std::vector<std::string> names, size_t limit)
      : dir_fd_(dir_fd),
        names_(std::move(names)),
        limit_(limit),
        batches_((names_.size() + detail::kReadAheadBatch - 1) / detail::kReadAheadBatch),
        thread_([this] { Run(); }) {}

  ~ReadAheadQueue() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stop_ = true;
    }
    changed_.notify_all();
    thread_.join();
  }

  // The read of `name` (its content copied to *content) when it is read
  // ahead; false when the caller must read it itself. Names come in listing
  // order, so names passed over were not wanted after all: their reads are
  // dropped.
  bool Take(std::string_view name, size_t limit, detail::DocumentRead* read,
            std::string* content) {
    if (limit != limit_) return false;
    while (taken_ < names_.size() && names_[taken_] <= name) {
      if (next_ == held_.reads.size() && !NextBatch()) return false;
      const detail::DocumentRead& r = held_.reads[next_++];
      if (names_[taken_++] != name) continue;
      *read = r;
      // Copied here, on the caller's thread: a batch's memory may come from
      // the helper's malloc arena, and freeing a block per file across
      // threads made the two contend for its lock.
      content->assign(held_.bytes, r.offset, r.length);
      return true;
    }
    return false;
  }

 private:
  struct Batch {
    std::string bytes;
    std::vector<detail::DocumentRead> reads;
  };

  Batch ReadBatch(size_t b) const {
    Batch batch;
    const size_t end = std::min(names_.size(), (b + 1) * detail::kReadAheadBatch);
    for (size_t i = b * detail::kReadAheadBatch; i < end; ++i) {
      batch.reads.push_back(detail::ReadDocumentAt(dir_fd_, names_[i], limit_, batch.bytes));
    }
    return batch;
  }

  // Under mutex_: the next batch nobody reads yet, within the window.
  std::optional<size_t> Claim() {
    if (claimed_ == batches_ || claimed_ >= first_ + detail::kReadAheadWindow) return std::nullopt;
    slots_.emplace_back();
    return claimed_++;
  }

  // Reads batch `b` with mutex_ released, then stores it.
  void Fill(std::unique_lock<std::mutex>& lock, size_t b) {
    lock.unlock();
    Batch batch = ReadBatch(b);
    lock.lock();
    slots_[b - first_] = std::move(batch);
  }

  // The caller's next batch into held_; false when the helper failed.
  bool NextBatch() {
    std::unique_lock<std::mutex> lock(mutex_);
    while (slots_.empty() || !slots_.front()) {
      if (failed_) return false;
      if (const std::optional<size_t> b = Claim()) {
        Fill(lock, *b);
        continue;
      }
      caller_waiting_ = true;
      changed_.wait(lock);
      caller_waiting_ = false;
    }
    held_ = *std::move(slots_.front());
    slots_.pop_front();
    ++first_;
    next_ = 0;
    if (helper_waiting_) changed_.notify_all();
    return true;
  }

  void Run() {
    std::unique_lock<std::mutex> lock(mutex_);
    try {
      for (;;) {
        std::optional<size_t> b;
        helper_waiting_ = true;
        changed_.wait(lock, [&] { return stop_ || claimed_ == batches_ || (b = Claim()); });
        helper_waiting_ = false;
        if (!b) return;  // stopped, or every batch claimed
        Fill(lock, *b);
        if (caller_waiting_) changed_.notify_all();
      }
    } catch (...) {  // out of memory: the caller reads the rest itself
      if (!lock.owns_lock()) lock.lock();
      failed_ = true;
      changed_.notify_all();
    }
  }

  const int dir_fd_;
  const std::vector<std::string> names_;
  const size_t limit_;
  const size_t batches_;  // of names_, kReadAheadBatch each but the last
  // The caller's side, touched by its thread only.
  Batch held_;
  size_t next_ = 0;   // in held_.reads
  size_t taken_ = 0;  // reads handed out or dropped
  // Shared, under mutex_.
  std::mutex mutex_;
  std::condition_variable changed_;
  size_t first_ = 0;    // the batch of slots_.front(): the caller's next
  size_t claimed_ = 0;  // batches below are read or being read
  std::deque<std::optional<Batch>> slots_;  // batches first_ … claimed_ - 1; empty while read
  bool helper_waiting_ = false, caller_waiting_ = false;
  bool stop_ = false, failed_ = false;
  std::thread thread_;  // last: starts once the rest is initialised
};

EventDirectory::EventDirectory(std::filesystem::path path, int fd)
    : path_(std::move(path)), fd_(fd) {}

EventDirectory::~EventDirectory() {
  read_ahead_.reset();
  if (fd_ >= 0) ::close(fd_);
}

void EventDirectory::ReadAhead(std::vector<std::string> names, size_t limit) {
  if (read_ahead_ || names.empty()) return;
  read_ahead_ = std::make_unique<ReadAheadQueue>(fd_, std::move(names), limit);
}

uint64_t FileStamp(const struct stat& st) {
  // ctime as well as mtime: a rewrite that sets mtime back still moves it.
  const uint64_t fields[] = {static_cast<uint64_t>(st.st_size),
                             static_cast<uint64_t>(st.st_ino),
                             static_cast<uint64_t>(st.st_mtim.tv_sec),
                             static_cast<uint64_t>(st.st_mtim.tv_nsec),
                             static_cast<uint64_t>(st.st_ctim.tv_sec),
                             static_cast<uint64_t>(st.st_ctim.tv_nsec)};
  uint64_t h = 1469598103934665603ULL;  // FNV-1a over the fields' bytes
  for (uint64_t v : fields) {
    for (int i = 0; i < 8; ++i) {
      h ^= (v >> (8 * i)) & 0xff;
      h *= 1099511628211ULL;
    }
  }
  return h;
}

std::string ConsumedFingerprint(int fd, uint64_t offset) {
  if (offset == 0) return "";
  const size_t head = static_cast<size_t>(std::min<uint64_t>(offset, detail::kFingerprintSpan));
  std::string bytes(head, '\0');
  if (!detail::ReadAt(fd, bytes.data(), head, 0)) return "";
  if (offset > head) {
    bytes.resize(2 * head);
    if (!detail::ReadAt(fd, bytes.data() + head, head, offset - head)) return "";
  }
  uint64_t h = 1469598103934665603ULL;
  for (unsigned char c : bytes) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(h));
  return hex;
}

bool ConsumedBytesUnchanged(const std::filesystem::path& file, FileProgress* progress) {
  if (progress->fingerprint.empty()) return true;
  detail::Fd fd(::open(file.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
  struct stat st {};
  if (fd.get() < 0 || ::fstat(fd.get(), &st) != 0) return true;
  if (static_cast<uint64_t>(st.st_size) < progress->offset) return false;  // a shrink
  if (ConsumedFingerprint(fd.get(), progress->offset) != progress->fingerprint) return false;
  // The stamp from before the reads: a change after it shows as a new stamp.
  progress->stamp = FileStamp(st);
  return true;
}

bool IsEventFileName(std::string_view name, EventFileKind* kind) {
  if (name.empty() || name.front() == '.') return false;
  if (detail::EndsWith(name, ".json")) {
    *kind = EventFileKind::kJson;
    return true;
  }
  if (detail::EndsWith(name, ".jsonl") || detail::EndsWith(name, ".ndjson")) {
    *kind = EventFileKind::kJsonLines;
    return true;
  }
  return false;
}

std::optional<std::vector<EventFile>> ListEventFiles(const std::filesystem::path& events_dir,
                                                     std::string* error) {
  std::vector<EventFile> files;
  auto cannot_list = [&]() -> std::optional<std::vector<EventFile>> {
    if (error) *error = "cannot list " + events_dir.string() + ": " + std::strerror(errno);
    return std::nullopt;
  };
  const int fd = ::open(events_dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return files;
    return cannot_list();
  }
  const auto dir = std::make_shared<EventDirectory>(events_dir, fd);
  // closedir closes the descriptor readdir used: it needs one of its own.
  const int list_fd = ::fcntl(fd, F_DUPFD_CLOEXEC, 0);
  DIR* const listing = list_fd < 0 ? nullptr : ::fdopendir(list_fd);
  if (listing == nullptr) {
    const int saved = errno;
    if (list_fd >= 0) ::close(list_fd);
    errno = saved;
    return cannot_list();
  }
  int read_error = 0;
  for (;;) {
    errno = 0;
    const dirent* entry = ::readdir(listing);
    if (entry == nullptr) {
      read_error = errno;
      break;
    }
    EventFile file;
    if (!IsEventFileName(entry->d_name, &file.kind)) continue;
    if (entry->d_type != DT_REG && entry->d_type != DT_UNKNOWN) continue;
    // A .json needs no stat: its type came with the entry, and it is read
    // whole, once. A .jsonl/.ndjson needs its size and stamp.
    if (entry->d_type == DT_UNKNOWN || file.kind == EventFileKind::kJsonLines) {
      struct stat st {};
      if (::fstatat(fd, entry->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(st.st_mode)) {
        continue;
      }
      if (file.kind == EventFileKind::kJsonLines) {
        file.size = static_cast<uint64_t>(st.st_size);
        file.stamp = FileStamp(st);
      }
    }
    file.name = entry->d_name;
    file.dir = dir;
    files.push_back(std::move(file));
  }
  ::closedir(listing);
  if (read_error != 0) {
    errno = read_error;
    return cannot_list();
  }
  std::sort(files.begin(), files.end(),
            [](const EventFile& a, const EventFile& b) { return a.name < b.name; });
  return files;
}

void ReadAheadUnreadDocuments(const std::vector<EventFile>& files,
                              const std::map<std::string, FileProgress>& progress, size_t limit) {
  // Starting and joining a thread costs about what reading 30 small files does.
  constexpr size_t kMinFiles = 64;
  std::vector<std::string> unread;
  auto known = progress.begin();  // both sorted by name: walked side by side
  for (const EventFile& file : files) {
    if (file.kind != EventFileKind::kJson) continue;
    while (known != progress.end() && known->first < file.name) ++known;
    if (known == progress.end() || known->first != file.name) unread.push_back(file.name);
  }
  if (unread.size() >= kMinFiles && files.front().dir) {
    files.front().dir->ReadAhead(std::move(unread), limit);
  }
}

uint64_t SizeOf(const EventFile& file) {
  if (file.kind == EventFileKind::kJsonLines || !file.dir) return file.size;
  struct stat st {};
  if (::fstatat(file.dir->fd(), file.name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) return 0;
  return static_cast<uint64_t>(st.st_size);
}

std::optional<FileProgress> ReadJsonLines(const std::filesystem::path& file, FileProgress start,
                                          const LineSink& sink, std::string* error) {
  detail::Fd fd(::open(file.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
  if (fd.get() < 0 || ::lseek(fd.get(), static_cast<off_t>(start.offset), SEEK_SET) < 0) {
    if (error) *error = "cannot read " + file.string() + ": " + std::strerror(errno);
    return std::nullopt;
  }
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) {
    if (error) *error = "cannot read " + file.string() + ": " + std::strerror(errno);
    return std::nullopt;
  }
  detail::LineAssembler lines(start, sink);
  std::string buf(detail::kChunk, '\0');
  for (;;) {
    const ssize_t got = detail::ReadSome(fd.get(), buf.data(), buf.size());
    if (got < 0) {
      if (error) *error = "cannot read " + file.string() + ": " + std::strerror(errno);
      return std::nullopt;
    }
    if (got == 0) break;
    lines.Feed(std::string_view(buf.data(), static_cast<size_t>(got)));
  }
  // Through the same descriptor: the fingerprint is of the bytes just read
  // even if the file was renamed over meanwhile.
  FileProgress progress = lines.progress();
  if (progress.offset != start.offset || progress.fingerprint.empty()) {
    progress.fingerprint = ConsumedFingerprint(fd.get(), progress.offset);
  }
  progress.stamp = progress.fingerprint.empty() ? 0 : FileStamp(st);
  return progress;
}

bool HasCompleteLineAfter(const std::filesystem::path& file, uint64_t offset) {
  bool found = false;
  const LineSink sink = [&found](const RawLine&) { found = true; };
  // Stop early would need a cancellable reader; appends to old files are rare
  // and reading them through is bounded by their size.
  ReadJsonLines(file, FileProgress{offset, 0}, sink, nullptr);
  return found;
}

std::optional<std::string> ReadJsonDocument(const std::filesystem::path& file, size_t limit,
                                            bool* too_large, uint64_t* size,
                                            std::string* error) {
  detail::Fd fd(::open(file.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
  std::string content;
  detail::DocumentRead read;
  if (fd.get() < 0) {
    read.error = errno;
  } else {
    read = detail::ReadDocument(fd.get(), limit, content);
  }
  if (!read.ok) {
    errno = read.error;
    if (error) *error = detail::CannotRead(file);
    return std::nullopt;
  }
  *too_large = read.too_large;
  *size = read.size;
  return content;
}

std::optional<std::string> ReadJsonDocument(const EventFile& file, size_t limit, bool* too_large,
                                            uint64_t* size, std::string* error) {
  if (!file.dir) {
    if (error) *error = "cannot read " + file.name + ": not from a listing";
    return std::nullopt;
  }
  std::string content;
  detail::DocumentRead read;
  if (!file.dir->read_ahead_ || !file.dir->read_ahead_->Take(file.name, limit, &read, &content)) {
    read = detail::ReadDocumentAt(file.dir->fd(), file.name, limit, content);
  }
  if (!read.ok) {
    errno = read.error;
    if (error) *error = detail::CannotRead(file.dir->path() / file.name);
    return std::nullopt;
  }
  *too_large = read.too_large;
  *size = read.size;
  return content;
}

}  // namespace hlo
