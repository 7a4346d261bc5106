// Strict parsing and validation of event text (CONTRACT §4 and §8 "Inputs").
// Pure: no I/O. Errors are values; no exception leaves these functions.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "observer/event.h"

namespace hlo {

enum class RejectReason {
  kBadJson,
  kBadEncoding,
  kNotObject,
  kMissingField,
  kMistypedField,
  kBadTimestamp,
  kBadSeverity,
  kBadName,
  kTooLarge,
};
inline constexpr RejectReason kAllRejectReasons[] = {
    RejectReason::kBadJson,       RejectReason::kBadEncoding,  RejectReason::kNotObject,
    RejectReason::kMissingField,  RejectReason::kMistypedField, RejectReason::kBadTimestamp,
    RejectReason::kBadSeverity,   RejectReason::kBadName,      RejectReason::kTooLarge};

// "bad_json", "bad_encoding", … as used in metrics and rejected-events.jsonl.
std::string_view RejectReasonName(RejectReason reason);

struct Rejection {
  RejectReason reason;
  std::string detail;  // human text, e.g. "missing field 'node' for healthcheck_failed"
};

using ParseResult = std::variant<Event, Rejection>;

// The largest accepted line or .json file, in bytes.
inline constexpr size_t kMaxEventBytes = 1024 * 1024;
// Maximum JSON nesting depth; the top-level value is level 1.
inline constexpr int kMaxJsonDepth = 64;

// Parses one JSONL line (without its '\n'; a trailing CR is part of it).
// Checks, in order: size (too_large), UTF-8 (bad_encoding), JSON syntax and
// depth (bad_json), object (not_object), then the field rules.
ParseResult ParseEventLine(std::string_view line);

// One element of a .json document.
struct DocumentItem {
  uint64_t line;    // 1-based index in an array; 1 for a single object
  ParseResult result;
  std::string raw;  // the element's text (re-serialized for array elements)
};

// Parses a whole `.json` file: one object, or an array of objects. A file
// that does not parse, is empty, is too deep, too large, or holds neither an
// object nor an array gives a single rejection with line 1. A leading UTF-8
// BOM is skipped.
std::vector<DocumentItem> ParseEventDocument(std::string_view content);

// `raw` for rejected-events.jsonl: invalid UTF-8 replaced by U+FFFD, then cut
// to at most 1024 bytes at a character boundary.
std::string SanitizeRaw(std::string_view bytes);

// True when `bytes` is well-formed UTF-8 (no overlongs, no surrogates).
bool IsValidUtf8(std::string_view bytes);

// The rule for node and service names, wherever they come from (events, the
// inventory, stage-marker folders; CONTRACT §8 "Inputs"): at most
// kMaxNameBytes, and none of '/' or a control character (below 0x20, 0x7F).
inline constexpr size_t kMaxNameBytes = 253;
// The index of the first byte a name may not hold; npos when there is none.
size_t ForbiddenNameByte(std::string_view name);

}  // namespace hlo
