// The real Env: POSIX files through the existing readers and writers, the
// system and steady clocks.
#include <sys/stat.h>
#include <unistd.h>

#include <system_error>

#include "observer/env.h"

#include <algorithm>

namespace hlo {

Env* Env::Default() {
  static PosixEnv* env = new PosixEnv();  // never destroyed: used until exit
  return env;
}

Timestamp PosixEnv::Now() {
  const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                      std::chrono::system_clock::now().time_since_epoch())
                      .count();
  return Timestamp{ns / 1'000'000'000, static_cast<int32_t>(ns % 1'000'000'000)};
}

std::chrono::steady_clock::time_point PosixEnv::SteadyNow() {
  return std::chrono::steady_clock::now();
}

bool PosixEnv::EnsureDirectory(const std::filesystem::path& dir, std::string* error) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec || ::access(dir.c_str(), W_OK | X_OK) != 0) {
    if (error) *error = dir.string() + " is not a writable folder" + (ec ? ": " + ec.message() : "");
    return false;
  }
  return true;
}

bool PosixEnv::IsReadableDirectory(const std::filesystem::path& dir) {
  std::error_code ec;
  return std::filesystem::is_directory(dir, ec) && ::access(dir.c_str(), R_OK | X_OK) == 0;
}

bool PosixEnv::Exists(const std::filesystem::path& path) {
  std::error_code ec;
  return std::filesystem::exists(path, ec);
}

uint64_t PosixEnv::FileSize(const std::filesystem::path& path) {
  std::error_code ec;
  const uint64_t size = std::filesystem::file_size(path, ec);
  return ec ? 0 : size;
}

uint64_t PosixEnv::Stamp(const std::filesystem::path& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return 0;
  uint64_t h = 1469598103934665603ULL;
  for (const uint64_t part :
       {static_cast<uint64_t>(st.st_ino), static_cast<uint64_t>(st.st_size),
        static_cast<uint64_t>(st.st_mtim.tv_sec), static_cast<uint64_t>(st.st_mtim.tv_nsec)}) {
    h = (h ^ part) * 0x9e3779b97f4a7c15ULL;
  }
  return h | 1;  // never 0
}

std::optional<std::string> PosixEnv::ReadWholeFile(const std::filesystem::path& path,
                                                    std::string* error) {
  return hlo::ReadWholeFile(path, error);
}

bool PosixEnv::WriteFileAtomic(const std::filesystem::path& path, std::string_view content,
                               std::string* error) {
  return hlo::WriteFileAtomic(path, content, error);
}

bool PosixEnv::WriteFilesAtomic(const std::vector<FileToWrite>& files, std::string* error) {
  return hlo::WriteFilesAtomic(files, error);
}

bool PosixEnv::AppendAndSync(const std::filesystem::path& path, std::string_view content,
                             std::string* error) {
  return hlo::AppendAndSync(path, content, error);
}

bool PosixEnv::TruncateTo(const std::filesystem::path& path, uint64_t size, std::string* error) {
  return hlo::TruncateTo(path, size, error);
}

void PosixEnv::RemoveLeftoverTemporaries(const std::filesystem::path& path) {
  hlo::RemoveLeftoverTemporaries(path);
}

std::vector<std::string> PosixEnv::ListFileNames(const std::filesystem::path& dir) {
  std::vector<std::string> names;
  std::error_code ec;
  for (std::filesystem::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    if (it->is_regular_file(ec)) names.push_back(it->path().filename().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

bool PosixEnv::RemoveAll(const std::filesystem::path& path, std::string* error) {
  std::error_code ec;
  std::filesystem::remove_all(path, ec);
  if (ec) {
    if (error) *error = "cannot remove " + path.string() + ": " + ec.message();
    return false;
  }
  return true;
}

std::optional<std::vector<EventFile>> PosixEnv::ListEventFiles(
    const std::filesystem::path& events_dir, std::string* error) {
  return hlo::ListEventFiles(events_dir, error);
}

void PosixEnv::ReadAheadUnreadDocuments(const std::vector<EventFile>& files,
                                        const std::map<std::string, FileProgress>& progress,
                                        size_t limit) {
  hlo::ReadAheadUnreadDocuments(files, progress, limit);
}

std::optional<std::string> PosixEnv::ReadJsonDocument(const EventFile& file, size_t limit,
                                                      bool* too_large, uint64_t* size,
                                                      std::string* error) {
  return hlo::ReadJsonDocument(file, limit, too_large, size, error);
}

void PosixEnv::ReadAheadJsonLines(const std::filesystem::path& events_dir,
                                  const std::vector<EventFile>& files,
                                  const std::map<std::string, FileProgress>& progress) {
  jsonl_read_ahead_.reset();
  // Worth a thread only when there is enough to read: a replay, or a backlog.
  constexpr uint64_t kWorthFrom = 1 << 20;
  std::vector<JsonLinesReadAhead::File> ahead;
  std::vector<uint64_t> sizes;
  uint64_t total = 0;
  for (const EventFile& file : files) {
    if (file.kind != EventFileKind::kJsonLines) continue;
    const auto known = progress.find(file.name);
    const FileProgress start = known == progress.end() ? FileProgress{} : known->second;
    if (file.size <= start.offset) continue;
    const uint64_t unread = file.size - start.offset;
    if (unread > JsonLinesReadAhead::kMaxFileBytes) continue;  // streamed
    ahead.push_back({events_dir / file.name, start});
    sizes.push_back(unread);
    total += unread;
  }
  if (total < kWorthFrom) return;
  jsonl_read_ahead_ = std::make_unique<JsonLinesReadAhead>(std::move(ahead), std::move(sizes));
}

std::optional<FileProgress> PosixEnv::ReadAndParseJsonLines(const std::filesystem::path& file,
                                                            FileProgress start,
                                                            uint64_t bytes_after_start,
                                                            const ParsedLineSink& sink,
                                                            std::string* error) {
  std::optional<FileProgress> end;
  if (jsonl_read_ahead_ != nullptr && jsonl_read_ahead_->Take(file, start, sink, &end, error)) {
    return end;
  }
  return hlo::ReadAndParseJsonLines(file, start, bytes_after_start, sink, error);
}

bool PosixEnv::ConsumedBytesUnchanged(const std::filesystem::path& file, FileProgress* progress) {
  return hlo::ConsumedBytesUnchanged(file, progress);
}

uint64_t PosixEnv::SizeOf(const EventFile& file) { return hlo::SizeOf(file); }

}  // namespace hlo
