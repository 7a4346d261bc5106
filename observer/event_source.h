// Reading event files from <root>/events/ (CONTRACT §4, §8 "Inputs"): which
// files count, their order, and complete lines from a saved offset. The only
// part of the core that opens event files.
#pragma once

#include <sys/stat.h>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "observer/checkpoint.h"

namespace hlo {

enum class EventFileKind { kJson, kJsonLines };

struct EventFile;

// An open events/ folder. Its files are stat'ed and opened relative to its
// descriptor, so each costs a lookup of its own name, not a walk of the
// whole path: with 200,000 .json files the walks were most of the kernel's
// time.
class EventDirectory {
 public:
  EventDirectory(std::filesystem::path path, int fd);
  ~EventDirectory();  // stops and joins a read-ahead first
  EventDirectory(const EventDirectory&) = delete;
  EventDirectory& operator=(const EventDirectory&) = delete;

  const std::filesystem::path& path() const { return path_; }
  int fd() const { return fd_; }  // owned; closed with the object

  // Starts reading the named .json files of this folder, in this order, on a
  // helper thread that keeps a bounded number of them ahead of the caller:
  // opening and reading many small files is mostly kernel time, which then
  // overlaps parsing and applying them. ReadJsonDocument takes a file's
  // content from here when it is asked for in the same order and with the
  // same `limit`; it reads any other file itself. Once per folder object.
  void ReadAhead(std::vector<std::string> names, size_t limit);

 private:
  friend std::optional<std::string> ReadJsonDocument(const EventFile&, size_t, bool*, uint64_t*,
                                                     std::string*);
  class ReadAheadQueue;

  std::filesystem::path path_;
  int fd_;
  std::unique_ptr<ReadAheadQueue> read_ahead_;
};

struct EventFile {
  std::string name;  // inside events/
  EventFileKind kind = EventFileKind::kJsonLines;
  // From the listing's lstat, for a .jsonl/.ndjson only. A .json is read
  // once and whole, so it is not stat'ed: both stay 0 (see SizeOf).
  uint64_t size = 0;
  uint64_t stamp = 0;  // FileStamp at listing time
  // The folder it was listed in, shared by the listing's entries.
  std::shared_ptr<EventDirectory> dir;
};

// A cheap identity of a file's current version: size, mtime, ctime, inode.
// Equal stamps mean "not touched since" (to the filesystem's timestamp
// granularity); different ones only mean "look again".
uint64_t FileStamp(const struct stat& st);

// True for a name ending case-sensitively in .json, .jsonl or .ndjson and not
// starting with '.'; sets *kind.
bool IsEventFileName(std::string_view name, EventFileKind* kind);

// The event files directly in `events_dir` — regular files only (no
// symlinks, FIFOs, folders) — sorted by the raw bytes of their names. A
// missing folder has none. nullopt (with *error) when it exists but cannot be
// listed. The file type comes from the folder's entries; only a file system
// that does not report it there costs a stat per name.
std::optional<std::vector<EventFile>> ListEventFiles(const std::filesystem::path& events_dir,
                                                     std::string* error);

// Has the .json files of `files` that `progress` does not hold (those a
// pass will read) read ahead, when there are enough of them for a second
// thread to pay (see EventDirectory::ReadAhead).
void ReadAheadUnreadDocuments(const std::vector<EventFile>& files,
                              const std::map<std::string, FileProgress>& progress, size_t limit);

// A listed file's size: the listing's for a .jsonl/.ndjson, a stat now for a
// .json (0 when it is gone).
uint64_t SizeOf(const EventFile& file);

// One complete, non-blank line. For a line over the size limit `text` holds
// only its first bytes and `size` its full length.
struct RawLine {
  uint64_t line = 0;  // 1-based, counting every line
  std::string_view text;
  uint64_t size = 0;
};
using LineSink = std::function<void(const RawLine&)>;

// Feeds every complete line after `start` to `sink` (blank lines are counted
// but not fed; a BOM at the file's start is skipped) and returns the progress
// after the last complete line, with its fingerprint and the stamp the file
// had when reading began. A last line without '\n' is left for later.
// Memory stays bounded by the line limit however long a line is.
std::optional<FileProgress> ReadJsonLines(const std::filesystem::path& file, FileProgress start,
                                          const LineSink& sink, std::string* error);

// A fingerprint of what was consumed of a file: a hash of its first and of
// its last (up to) 4 KiB before `offset` — the head, and the tail that holds
// the last consumed line. Two small reads however big the file; "" for
// offset 0 or when the bytes cannot be read.
std::string ConsumedFingerprint(int fd, uint64_t offset);

// False when the bytes consumed of `file` no longer match
// progress.fingerprint: the file was rewritten behind its offset. True (and
// progress->stamp updated to the file's) when they match, when there is no
// fingerprint, or when the file is gone (a deletion is not a rewrite).
bool ConsumedBytesUnchanged(const std::filesystem::path& file, FileProgress* progress);

// Whether a complete non-blank line lies after `offset` (a late append).
bool HasCompleteLineAfter(const std::filesystem::path& file, uint64_t offset);

// A .json file: its content when at most `limit` bytes; otherwise only the
// first bytes, with *too_large set. *size is the file's size. The file is
// read up to `limit` + 1 bytes, so only an oversized one costs a stat (for
// the size it reports).
std::optional<std::string> ReadJsonDocument(const std::filesystem::path& file, size_t limit,
                                            bool* too_large, uint64_t* size, std::string* error);
// The same for a listed file, opened relative to its folder.
std::optional<std::string> ReadJsonDocument(const EventFile& file, size_t limit, bool* too_large,
                                            uint64_t* size, std::string* error);

}  // namespace hlo
