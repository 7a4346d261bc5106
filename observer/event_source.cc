#include "observer/event_source.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <system_error>

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

}  // namespace
}  // namespace detail

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
  std::error_code ec;
  std::filesystem::directory_iterator it(events_dir, ec);
  if (ec) {
    if (ec == std::errc::no_such_file_or_directory) return files;
    if (error) *error = "cannot list " + events_dir.string() + ": " + ec.message();
    return std::nullopt;
  }
  for (; it != std::filesystem::directory_iterator(); it.increment(ec)) {
    if (ec) break;
    EventFile file;
    file.name = it->path().filename().string();
    if (!IsEventFileName(file.name, &file.kind)) continue;
    struct stat st {};
    if (::lstat(it->path().c_str(), &st) != 0 || !S_ISREG(st.st_mode)) continue;
    file.size = static_cast<uint64_t>(st.st_size);
    file.stamp = FileStamp(st);
    files.push_back(std::move(file));
  }
  if (ec) {
    if (error) *error = "cannot list " + events_dir.string() + ": " + ec.message();
    return std::nullopt;
  }
  std::sort(files.begin(), files.end(),
            [](const EventFile& a, const EventFile& b) { return a.name < b.name; });
  return files;
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
  struct stat st {};
  if (fd.get() < 0 || ::fstat(fd.get(), &st) != 0) {
    if (error) *error = "cannot read " + file.string() + ": " + std::strerror(errno);
    return std::nullopt;
  }
  *size = static_cast<uint64_t>(st.st_size);
  *too_large = *size > limit;
  const size_t want = *too_large ? detail::kOversizeHead : static_cast<size_t>(*size);
  std::string out(want, '\0');
  size_t have = 0;
  while (have < want) {
    const ssize_t got = detail::ReadSome(fd.get(), out.data() + have, want - have);
    if (got < 0) {
      if (error) *error = "cannot read " + file.string() + ": " + std::strerror(errno);
      return std::nullopt;
    }
    if (got == 0) break;
    have += static_cast<size_t>(got);
  }
  out.resize(have);
  return out;
}

}  // namespace hlo
