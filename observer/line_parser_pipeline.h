// Reading and parsing a JSONL file on a helper thread while the caller
// applies: the two halves of a replay overlap on two cores. Lines reach the
// caller in file order, so the result is the same as reading in line.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>

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

}  // namespace hlo
