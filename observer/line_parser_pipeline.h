// Reading and parsing a JSONL file on a helper thread while the caller
// applies: the two halves of a replay overlap on two cores. Lines reach the
// caller in file order, so the result is the same as reading in line.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "observer/checkpoint.h"
#include "observer/event_parser.h"

namespace hlo {

// One complete, non-blank line, parsed (a line over the size limit is a
// too_large rejection). `raw` is set for rejections only, already passed
// through SanitizeRaw.
struct ParsedLine {
  uint64_t line = 0;
  ParseResult result;
  std::string raw;
};
using ParsedLineSink = std::function<void(ParsedLine&&)>;

// Parses one raw line as the observer does (size limit, then ParseEventLine).
ParsedLine ParseRawLine(uint64_t line, std::string_view text, uint64_t size);

// Same contract as ReadJsonLines (observer/event_source.h), but `sink` gets
// parsed lines, and the reading and parsing of bytes past `start` run on a
// helper thread when there are at least `threaded_from` of them. `sink` always
// runs on the calling thread.
std::optional<FileProgress> ReadAndParseJsonLines(const std::filesystem::path& file,
                                                  FileProgress start, uint64_t bytes_after_start,
                                                  const ParsedLineSink& sink, std::string* error,
                                                  uint64_t threaded_from = 64 * 1024);

// Reads and parses whole .jsonl files on one helper thread, in the order the
// caller will ask for them and a bounded amount ahead of it, so that a replay
// of many small files (where ReadAndParseJsonLines' per-file thread would
// only start, parse the file and hand it over while the caller waits) keeps
// both cores busy: the helper parses the next files while the caller applies
// this one. Memory is bounded by kMaxAheadBytes of files' bytes.
class JsonLinesReadAhead {
 public:
  struct File {
    std::filesystem::path path;
    FileProgress start;
  };
  // Files larger than this are left to ReadAndParseJsonLines (streamed).
  static constexpr uint64_t kMaxFileBytes = 4 << 20;
  static constexpr uint64_t kMaxAheadBytes = 4 << 20;

  // `sizes` are the files' unread bytes, for the bound on memory.
  JsonLinesReadAhead(std::vector<File> files, std::vector<uint64_t> sizes);
  ~JsonLinesReadAhead();  // stops and joins the helper
  JsonLinesReadAhead(const JsonLinesReadAhead&) = delete;
  JsonLinesReadAhead& operator=(const JsonLinesReadAhead&) = delete;

  // When `path` from `start` is the next file read ahead (files passed over
  // are dropped): hands its lines to `sink` on the calling thread, sets *end
  // to what ReadAndParseJsonLines would have returned (and *error), and
  // returns true. False when it is not read ahead: the caller reads it.
  bool Take(const std::filesystem::path& path, const FileProgress& start,
            const ParsedLineSink& sink, std::optional<FileProgress>* end, std::string* error);

 private:
  struct Parsed {
    size_t index = 0;  // in files_
    std::vector<ParsedLine> lines;
    std::optional<FileProgress> end;
    std::string error;
  };
  void Run();

  const std::vector<File> files_;
  const std::vector<uint64_t> sizes_;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<Parsed> ready_;         // parsed, not taken yet, in order
  size_t next_taken_ = 0;            // the next file the caller may take
  size_t next_parse_ = 0;            // the next file the helper may parse
  uint64_t ahead_bytes_ = 0;         // bytes of the files in ready_
  std::vector<Parsed> spent_;        // taken and applied: freed by the helper
  bool stop_ = false;
  bool failed_ = false;              // the helper ran out of memory
  std::thread thread_;
};

}  // namespace hlo
