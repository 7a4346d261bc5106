#include "exporter/spool.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <set>

namespace hlo {

namespace fs = std::filesystem;

namespace detail {
namespace {

std::string Errno(const std::string& what) { return what + ": " + std::strerror(errno); }

bool FsyncDir(const fs::path& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return false;
  const bool ok = ::fsync(fd) == 0;
  ::close(fd);
  return ok;
}

bool WriteAll(int fd, std::string_view data) {
  while (!data.empty()) {
    const ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

bool ReadAll(int fd, std::string* out) {
  out->clear();
  char buf[1 << 16];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return false;
    if (n == 0) return true;
    out->append(buf, static_cast<size_t>(n));
  }
}

bool IsSegment(const std::string& name) {
  return name.rfind("seg-", 0) == 0 && name.size() > 11 &&
         name.compare(name.size() - 7, 7, ".ndjson") == 0;
}

fs::path AckPath(const fs::path& segment) { return segment.string() + ".acked"; }

// The acknowledged offset of `segment` (0 when unknown), moved back to the
// start of its line if it is not on a line boundary of `data`.
uint64_t ReadAck(const fs::path& segment, const std::string& data) {
  uint64_t offset = 0;
  if (FILE* f = std::fopen(AckPath(segment).c_str(), "re")) {
    unsigned long long v = 0;
    if (std::fscanf(f, "%llu", &v) == 1) offset = v;
    std::fclose(f);
  }
  offset = std::min<uint64_t>(offset, data.size());
  while (offset > 0 && data[offset - 1] != '\n') --offset;
  return offset;
}

bool WriteAck(const fs::path& segment, uint64_t offset, std::string* error) {
  const fs::path final_path = AckPath(segment);
  const fs::path temp = segment.parent_path() / ("." + final_path.filename().string() + ".tmp");
  const int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    *error = Errno("cannot write " + temp.string());
    return false;
  }
  const bool ok = WriteAll(fd, std::to_string(offset) + "\n") && ::fsync(fd) == 0;
  ::close(fd);
  if (!ok || ::rename(temp.c_str(), final_path.c_str()) != 0) {
    *error = Errno("cannot write " + final_path.string());
    return false;
  }
  return FsyncDir(segment.parent_path());
}

std::vector<std::string> SegmentNames(const fs::path& dir) {
  std::vector<std::string> names;
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (IsSegment(name)) names.push_back(name);
  }
  std::sort(names.begin(), names.end());
  return names;
}

// Opens `path` and takes its flock without waiting; -1 when another process
// holds it (a writer still at work) or it cannot be opened.
int OpenLocked(const fs::path& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

}  // namespace
}  // namespace detail

// The segment being drained: its lock, its bytes, and its complete lines
// from the acknowledged offset on.
struct Spool::Cursor {
  fs::path path;
  int fd = -1;
  std::string data;
  uint64_t acked = 0;
  struct Line {
    uint64_t begin;
    uint64_t end;  // offset just past its '\n'
    uint64_t number;
  };
  std::vector<Line> lines;  // not blank, not yet acknowledged, in order
  ~Cursor() {
    if (fd >= 0) ::close(fd);
  }
};

Spool::Spool(fs::path dir) : dir_(std::move(dir)) {}

Spool::~Spool() {
  cursor_.reset();
  if (drain_lock_fd_ >= 0) ::close(drain_lock_fd_);
}

std::unique_ptr<Spool> Spool::Open(const fs::path& dir, std::string* error) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec || !fs::is_directory(dir)) {
    *error = "cannot create the spool folder " + dir.string() + ": " + ec.message();
    return nullptr;
  }
  if (::access(dir.c_str(), R_OK | W_OK | X_OK) != 0) {
    *error = detail::Errno("spool folder " + dir.string());
    return nullptr;
  }
  return std::unique_ptr<Spool>(new Spool(dir));
}

bool Spool::Append(const std::vector<std::string>& lines, std::string* error) {
  size_t next = 0;
  while (next < lines.size()) {
    const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                        std::chrono::system_clock::now().time_since_epoch())
                        .count();
    char name[96];
    std::snprintf(name, sizeof name, "seg-%020lld-%d-%llu.ndjson", static_cast<long long>(ns),
                  static_cast<int>(::getpid()), static_cast<unsigned long long>(sequence_++));
    const fs::path path = dir_ / name;
    const fs::path hidden = dir_ / ("." + std::string(name) + ".new");
    // Locked before its name is visible: a drainer skips it until it is whole.
    const int fd = ::open(hidden.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0) {
      *error = detail::Errno("cannot create " + hidden.string());
      return false;
    }
    if (::flock(fd, LOCK_EX) != 0 || ::rename(hidden.c_str(), path.c_str()) != 0 ||
        !detail::FsyncDir(dir_)) {
      *error = detail::Errno("cannot create " + path.string());
      ::close(fd);
      ::unlink(hidden.c_str());
      return false;
    }
    std::string chunk;
    while (next < lines.size() &&
           (chunk.empty() || chunk.size() + lines[next].size() + 1 <= segment_bytes)) {
      chunk += lines[next++];
      chunk += '\n';
    }
    const bool ok = detail::WriteAll(fd, chunk) && ::fsync(fd) == 0;
    if (!ok) *error = detail::Errno("cannot write " + path.string());
    ::close(fd);
    if (!ok) return false;
  }
  return true;
}

bool Spool::TryLockForDrain(std::string* error) {
  if (drain_lock_fd_ >= 0) return true;
  const fs::path path = dir_ / ".drain.lock";
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) {
    *error = detail::Errno("cannot open " + path.string());
    return false;
  }
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    *error = "another sender is draining " + dir_.string();
    ::close(fd);
    return false;
  }
  drain_lock_fd_ = fd;
  return true;
}

bool Spool::OpenNextSegment() {
  // Hidden leftovers of a writer that died before naming its segment: empty.
  std::error_code ec;
  for (fs::directory_iterator it(dir_, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (name.rfind(".seg-", 0) != 0 || name.size() < 5 ||
        name.compare(name.size() - 4, 4, ".new") != 0) {
      continue;
    }
    const int fd = detail::OpenLocked(it->path());
    if (fd >= 0) {
      ::unlink(it->path().c_str());
      ::close(fd);
    }
  }
  for (const std::string& name : detail::SegmentNames(dir_)) {
    const fs::path path = dir_ / name;
    const int fd = detail::OpenLocked(path);
    if (fd < 0) continue;  // still being written
    auto cursor = std::make_unique<Cursor>();
    cursor->path = path;
    cursor->fd = fd;
    if (!detail::ReadAll(fd, &cursor->data)) continue;
    cursor->acked = detail::ReadAck(path, cursor->data);
    const std::string& data = cursor->data;
    uint64_t number = static_cast<uint64_t>(std::count(data.begin(), data.begin() + static_cast<std::ptrdiff_t>(cursor->acked), '\n'));
    for (size_t at = cursor->acked; at < data.size();) {
      const size_t eol = data.find('\n', at);
      if (eol == std::string::npos) break;  // a torn last line: never completed
      ++number;
      const std::string_view row(data.data() + at, eol - at);
      // Blank lines (never written by Append) are skipped, as in events/.
      if (row.find_first_not_of(" \t\r") != std::string_view::npos) {
        cursor->lines.push_back({at, eol + 1, number});
      }
      at = eol + 1;
    }
    cursor_ = std::move(cursor);
    if (!cursor_->lines.empty()) return true;
    std::string ignored;
    Ack(0, &ignored);  // nothing left: delete it, then look further
  }
  return false;
}

void Spool::CloseSegment() {
  ::unlink(detail::AckPath(cursor_->path).c_str());
  ::unlink(cursor_->path.c_str());
  detail::FsyncDir(dir_);
  cursor_.reset();
}

std::vector<SpooledEvent> Spool::Peek(size_t max_events, size_t max_bytes) {
  std::vector<SpooledEvent> out;
  if (!cursor_ && !OpenNextSegment()) return out;
  size_t bytes = 0;
  const std::string name = cursor_->path.filename().string();
  for (const Cursor::Line& line : cursor_->lines) {
    const size_t size = line.end - line.begin - 1;
    if (!out.empty() && (out.size() >= max_events || bytes + size + 1 > max_bytes)) break;
    std::string json = cursor_->data.substr(line.begin, size);
    if (!json.empty() && json.back() == '\r') json.pop_back();
    bytes += json.size() + 1;
    out.push_back({std::move(json), name + ":" + std::to_string(line.number)});
  }
  return out;
}

bool Spool::Ack(size_t count, std::string* error) {
  if (!cursor_) return count == 0;
  count = std::min(count, cursor_->lines.size());
  if (count > 0) {
    cursor_->acked = cursor_->lines[count - 1].end;
    cursor_->lines.erase(cursor_->lines.begin(), cursor_->lines.begin() + static_cast<std::ptrdiff_t>(count));
  }
  if (cursor_->lines.empty()) {
    CloseSegment();
    return true;
  }
  return detail::WriteAck(cursor_->path, cursor_->acked, error);
}

uint64_t Spool::PendingEvents() {
  uint64_t pending = 0;
  for (const std::string& name : detail::SegmentNames(dir_)) {
    const fs::path path = dir_ / name;
    if (cursor_ && cursor_->path == path) {
      pending += cursor_->lines.size();
      continue;
    }
    const int fd = detail::OpenLocked(path);
    if (fd < 0) continue;
    std::string data;
    if (detail::ReadAll(fd, &data)) {
      const uint64_t acked = detail::ReadAck(path, data);
      const size_t last = data.rfind('\n');
      if (last != std::string::npos && last >= acked) {
        pending += static_cast<uint64_t>(
            std::count(data.begin() + static_cast<std::ptrdiff_t>(acked),
                       data.begin() + static_cast<std::ptrdiff_t>(last) + 1, '\n'));
      }
    }
    ::close(fd);
  }
  return pending;
}

}  // namespace hlo
