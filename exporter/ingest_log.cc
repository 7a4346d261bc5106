#include "exporter/ingest_log.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include <nlohmann/json.hpp>

#include "observer/event_parser.h"

namespace hlo {
namespace {

std::string Errno(const std::string& what, const std::filesystem::path& path) {
  return what + " " + path.string() + ": " + std::strerror(errno);
}

bool SyncDirectory(const std::filesystem::path& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return false;
  const bool ok = ::fsync(fd) == 0;
  ::close(fd);
  return ok;
}

// One parsed item of the body: its line (or index), the parse result and the
// compact text to append when it is accepted.
struct Item {
  uint64_t line;
  ParseResult result;
  std::string text;
};

std::vector<Item> ItemsOf(std::string_view body, IngestFormat format) {
  std::vector<Item> items;
  if (format == IngestFormat::kJson) {
    if (body.find_first_not_of(" \t\r\n") == std::string_view::npos) return items;
    for (DocumentItem& d : ParseEventDocument(body)) {
      items.push_back({d.line, std::move(d.result), std::move(d.raw)});
    }
    return items;
  }
  uint64_t line = 0;
  size_t start = 0;
  while (start < body.size()) {
    size_t end = body.find('\n', start);
    if (end == std::string_view::npos) end = body.size();
    std::string_view text = body.substr(start, end - start);
    start = end + 1;
    ++line;
    if (text.find_first_not_of(" \t\r") == std::string_view::npos) continue;  // blank
    ParseResult result = ParseEventLine(text);
    while (!text.empty() && (text.back() == '\r' || text.back() == ' ' || text.back() == '\t')) {
      text.remove_suffix(1);
    }
    items.push_back({line, std::move(result), std::string(text)});
  }
  return items;
}

}  // namespace

IngestLog::IngestLog(std::filesystem::path events_dir, std::function<Timestamp()> clock,
                     std::function<void()> appended)
    : dir_(std::move(events_dir)), clock_(std::move(clock)), appended_(std::move(appended)) {}

IngestLog::~IngestLog() {
  if (fd_ >= 0) ::close(fd_);
}

std::string IngestLog::FileNameFor(Timestamp received) {
  // FormatTimestamp gives YYYY-MM-DDTHH:MM:SS…Z; the day is its first ten.
  return "ingest-" + FormatTimestamp(received).substr(0, 10) + ".jsonl";
}

uint64_t IngestLog::accepted_total() const {
  std::lock_guard lock(mu_);
  return accepted_total_;
}

bool IngestLog::OpenFor(const std::string& name, std::string* error) {
  if (fd_ >= 0 && open_name_ == name) return true;
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  std::error_code ec;
  std::filesystem::create_directories(dir_, ec);
  const std::filesystem::path path = dir_ / name;
  const bool existed = std::filesystem::exists(path, ec);
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) {
    *error = Errno("cannot open", path);
    return false;
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    *error = Errno("cannot stat", path);
    ::close(fd);
    return false;
  }
  // Cut a torn last line: find the last newline from the end.
  uint64_t size = static_cast<uint64_t>(st.st_size);
  uint64_t keep = size;
  char buffer[4096];
  while (keep > 0) {
    const uint64_t chunk = std::min<uint64_t>(keep, sizeof buffer);
    if (::pread(fd, buffer, chunk, static_cast<off_t>(keep - chunk)) != static_cast<ssize_t>(chunk)) {
      *error = Errno("cannot read", path);
      ::close(fd);
      return false;
    }
    const void* newline = ::memrchr(buffer, '\n', chunk);
    if (newline != nullptr) {
      keep = keep - chunk + static_cast<uint64_t>(static_cast<const char*>(newline) - buffer) + 1;
      break;
    }
    keep -= chunk;
  }
  if (keep != size && (::ftruncate(fd, static_cast<off_t>(keep)) != 0 || ::fsync(fd) != 0)) {
    *error = Errno("cannot cut the torn last line of", path);
    ::close(fd);
    return false;
  }
  // A new file's name must be durable too, or an acknowledged event could
  // vanish with it after a power cut.
  if (!existed && !SyncDirectory(dir_)) {
    *error = Errno("cannot sync", dir_);
    ::close(fd);
    return false;
  }
  fd_ = fd;
  open_name_ = name;
  size_ = keep;
  return true;
}

bool IngestLog::Append(std::string_view text, std::string* error) {
  const std::filesystem::path path = dir_ / open_name_;
  size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = ::write(fd_, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    done += static_cast<size_t>(n);
  }
  if (done == text.size() && ::fdatasync(fd_) == 0) {
    size_ += text.size();
    return true;
  }
  *error = Errno("cannot append to", path);
  // Nothing of a failed request stays: the client is told to retry it.
  if (::ftruncate(fd_, static_cast<off_t>(size_)) != 0) {
    ::close(fd_);  // reopened (and its tail cut) by the next request
    fd_ = -1;
  }
  return false;
}

IngestReply IngestLog::Ingest(std::string_view body, IngestFormat format, std::string_view) {
  std::vector<Item> items = ItemsOf(body, format);
  nlohmann::json rejected = nlohmann::json::array();
  std::string text;
  uint64_t accepted = 0, duplicates = 0;
  std::vector<std::string> new_ids;
  std::lock_guard lock(mu_);
  StringSet in_body;
  for (Item& item : items) {
    if (const auto* r = std::get_if<Rejection>(&item.result)) {
      rejected.push_back({{"line", item.line},
                          {"reason", std::string(RejectReasonName(r->reason))},
                          {"detail", r->detail}});
      continue;
    }
    const std::string& id = std::get<Event>(item.result).id;
    if (!id.empty()) {
      if (ids_.contains(std::string_view(id)) || !in_body.insert(id).second) {
        ++duplicates;
        continue;
      }
      new_ids.push_back(id);
    }
    text += item.text;
    text += '\n';
    ++accepted;
  }
  IngestReply reply;
  if (!text.empty()) {
    std::string error;
    if (!OpenFor(FileNameFor(clock_()), &error) || !Append(text, &error)) {
      reply.status = 503;
      reply.body = nlohmann::json{{"error", error}}.dump() + "\n";
      return reply;
    }
    for (std::string& id : new_ids) ids_.insert(std::move(id));
    accepted_total_ += accepted;
  }
  reply.status = 202;
  reply.body = nlohmann::json{{"accepted", accepted},
                              {"duplicates", duplicates},
                              {"rejected", std::move(rejected)}}
                   .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) +
               "\n";
  if (!text.empty() && appended_) appended_();
  return reply;
}

}  // namespace hlo
