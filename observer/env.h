// The observer's window on the outside world: the file system and the
// clocks. Everything the Observer, its WorldWriter and the daemon read, write
// or time goes through an Env (leveldb's Env; mtail's injected clock), so
// tests can inject faults and step time instead of sleeping.
//
// Env::Default() is the real one (observer/env_posix.cc): POSIX files, the
// system and steady clocks. Fakes live in tests/fakes/. An Env must outlive
// everything it is given to; the default one lives forever.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "observer/atomic_file.h"
#include "observer/checkpoint.h"
#include "observer/event_source.h"
#include "observer/line_parser_pipeline.h"
#include "observer/timestamp.h"

namespace hlo {

class Env {
 public:
  virtual ~Env() = default;

  // The real one. Thread-safe.
  static Env* Default();

  // --- Clocks.
  // Wall-clock time, UTC (what "now" is when --now is not given).
  virtual Timestamp Now() = 0;
  // A monotonic clock for intervals (replay coalescing, the daemon's
  // refresh and batching).
  virtual std::chrono::steady_clock::time_point SteadyNow() = 0;

  // --- Folders.
  // Creates `dir` (and parents) when absent; false (with *error) when it
  // cannot be made or is not a writable folder.
  virtual bool EnsureDirectory(const std::filesystem::path& dir, std::string* error) = 0;
  virtual bool IsReadableDirectory(const std::filesystem::path& dir) = 0;
  virtual bool Exists(const std::filesystem::path& path) = 0;
  // 0 when absent.
  virtual uint64_t FileSize(const std::filesystem::path& path) = 0;
  // An identity of a file's current version (see FileStamp); 0 when absent.
  virtual uint64_t Stamp(const std::filesystem::path& path) = 0;

  // --- Whole files (state/, world/): see observer/atomic_file.h.
  virtual std::optional<std::string> ReadWholeFile(const std::filesystem::path& path,
                                                   std::string* error) = 0;
  virtual bool WriteFileAtomic(const std::filesystem::path& path, std::string_view content,
                               std::string* error) = 0;
  virtual bool WriteFilesAtomic(const std::vector<FileToWrite>& files, std::string* error) = 0;
  virtual bool AppendAndSync(const std::filesystem::path& path, std::string_view content,
                             std::string* error) = 0;
  virtual bool TruncateTo(const std::filesystem::path& path, uint64_t size,
                          std::string* error) = 0;
  virtual void RemoveLeftoverTemporaries(const std::filesystem::path& path) = 0;
  // The names of the regular files directly in `dir`, sorted; none when it
  // is absent.
  virtual std::vector<std::string> ListFileNames(const std::filesystem::path& dir) = 0;
  // Removes `path` (a file, or a folder with everything in it); absent is
  // fine. false (with *error) when it cannot be removed.
  virtual bool RemoveAll(const std::filesystem::path& path, std::string* error) = 0;

  // --- Event files (events/): see observer/event_source.h.
  virtual std::optional<std::vector<EventFile>> ListEventFiles(
      const std::filesystem::path& events_dir, std::string* error) = 0;
  // A hint that the .json files of `files` not in `progress` will be read
  // next, in order; an Env may start reading them. May do nothing.
  virtual void ReadAheadUnreadDocuments(const std::vector<EventFile>& files,
                                        const std::map<std::string, FileProgress>& progress,
                                        size_t limit) = 0;
  // A hint that the unread parts of the .jsonl/.ndjson files of `files`
  // (from their `progress`) will be read next, in order, by
  // ReadAndParseJsonLines; an Env may start reading and parsing them. Called
  // with no files when the pass is over. May do nothing.
  virtual void ReadAheadJsonLines(const std::filesystem::path& events_dir,
                                  const std::vector<EventFile>& files,
                                  const std::map<std::string, FileProgress>& progress) = 0;
  virtual std::optional<std::string> ReadJsonDocument(const EventFile& file, size_t limit,
                                                      bool* too_large, uint64_t* size,
                                                      std::string* error) = 0;
  virtual std::optional<FileProgress> ReadAndParseJsonLines(const std::filesystem::path& file,
                                                            FileProgress start,
                                                            uint64_t bytes_after_start,
                                                            const ParsedLineSink& sink,
                                                            std::string* error) = 0;
  virtual bool ConsumedBytesUnchanged(const std::filesystem::path& file,
                                      FileProgress* progress) = 0;
  virtual uint64_t SizeOf(const EventFile& file) = 0;
};

// The real file system, with overridable clocks: a base for fakes that keep
// real files but step time or inject faults in a few calls.
class PosixEnv : public Env {
 public:
  Timestamp Now() override;
  std::chrono::steady_clock::time_point SteadyNow() override;
  bool EnsureDirectory(const std::filesystem::path& dir, std::string* error) override;
  bool IsReadableDirectory(const std::filesystem::path& dir) override;
  bool Exists(const std::filesystem::path& path) override;
  uint64_t FileSize(const std::filesystem::path& path) override;
  uint64_t Stamp(const std::filesystem::path& path) override;
  std::optional<std::string> ReadWholeFile(const std::filesystem::path& path,
                                           std::string* error) override;
  bool WriteFileAtomic(const std::filesystem::path& path, std::string_view content,
                       std::string* error) override;
  bool WriteFilesAtomic(const std::vector<FileToWrite>& files, std::string* error) override;
  bool AppendAndSync(const std::filesystem::path& path, std::string_view content,
                     std::string* error) override;
  bool TruncateTo(const std::filesystem::path& path, uint64_t size, std::string* error) override;
  void RemoveLeftoverTemporaries(const std::filesystem::path& path) override;
  std::vector<std::string> ListFileNames(const std::filesystem::path& dir) override;
  bool RemoveAll(const std::filesystem::path& path, std::string* error) override;
  std::optional<std::vector<EventFile>> ListEventFiles(const std::filesystem::path& events_dir,
                                                       std::string* error) override;
  void ReadAheadUnreadDocuments(const std::vector<EventFile>& files,
                                const std::map<std::string, FileProgress>& progress,
                                size_t limit) override;
  void ReadAheadJsonLines(const std::filesystem::path& events_dir,
                          const std::vector<EventFile>& files,
                          const std::map<std::string, FileProgress>& progress) override;
  std::optional<std::string> ReadJsonDocument(const EventFile& file, size_t limit,
                                              bool* too_large, uint64_t* size,
                                              std::string* error) override;
  std::optional<FileProgress> ReadAndParseJsonLines(const std::filesystem::path& file,
                                                    FileProgress start,
                                                    uint64_t bytes_after_start,
                                                    const ParsedLineSink& sink,
                                                    std::string* error) override;
  bool ConsumedBytesUnchanged(const std::filesystem::path& file,
                              FileProgress* progress) override;
  uint64_t SizeOf(const EventFile& file) override;

 private:
  std::unique_ptr<JsonLinesReadAhead> jsonl_read_ahead_;
};

}  // namespace hlo
