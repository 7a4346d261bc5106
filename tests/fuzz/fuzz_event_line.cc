// Fuzz target: one JSONL line through hlo::ParseEventLine (CONTRACT §4, §8
// "Inputs"), the parser every untrusted event line reaches.
//
// Beyond "no crash, no sanitizer report" it checks what the rest of the
// observer relies on: the result is deterministic; the order of the checks
// (size, UTF-8, JSON) shows in the reason; a line starting with a BOM is not
// JSON; `raw` is valid UTF-8 of at most 1024 bytes; and a line holding an
// object gets the same verdict from the .json document parser, which takes
// another route (nlohmann DOM rather than simdjson or nlohmann SAX).
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "observer/event_parser.h"
#include "tests/fuzz/fuzz_support.h"

namespace hlo::fuzz {
namespace {

constexpr std::string_view kBom = "\xEF\xBB\xBF";
constexpr size_t kMaxRawBytes = 1024;

// The first byte that is not JSON whitespace, or '\0' when there is none.
char FirstSignificant(std::string_view s) {
  const size_t i = s.find_first_not_of(" \t\r\n");
  return i == std::string_view::npos ? '\0' : s[i];
}

void CheckRaw(std::string_view line, bool valid_utf8) {
  const std::string raw = SanitizeRaw(line);
  HLO_FUZZ_CHECK(ReferenceIsValidUtf8(raw), raw);
  HLO_FUZZ_CHECK(raw.size() <= kMaxRawBytes, std::to_string(raw.size()));
  if (valid_utf8) {
    // Nothing to replace: `raw` is the line, cut at a character boundary
    // (so at most three bytes short of the limit).
    HLO_FUZZ_CHECK(line.starts_with(raw), raw);
    HLO_FUZZ_CHECK(raw.size() == line.size() || raw.size() + 3 >= kMaxRawBytes,
                   std::to_string(raw.size()));
  }
}

// A line holding an object must fare as a .json file holding that object.
void CheckAgreesWithDocument(std::string_view line, const ParseResult& result) {
  const std::vector<DocumentItem> items = ParseEventDocument(line);
  HLO_FUZZ_CHECK(items.size() == 1 && items[0].line == 1, std::to_string(items.size()));
  const ParseResult& other = items[0].result;
  HLO_FUZZ_CHECK(result.index() == other.index(), Describe(result) + " vs " + Describe(other));
  if (const auto* event = std::get_if<Event>(&result)) {
    HLO_FUZZ_CHECK(SameEvent(*event, std::get<Event>(other)), "line and document events differ");
  } else {
    HLO_FUZZ_CHECK(std::get<Rejection>(result).reason == std::get<Rejection>(other).reason,
                   Describe(result) + " vs " + Describe(other));
  }
}

}  // namespace

int FuzzEventLine(const uint8_t* data, size_t size) {
  const std::string_view line = AsText(data, size);
  const ParseResult result = ParseEventLine(line);
  CheckParseResult(result);
  // The parser keeps per-thread state between calls; it must not leak into
  // the next verdict.
  HLO_FUZZ_CHECK(SameResult(result, ParseEventLine(line)), Describe(result));

  const bool valid_utf8 = ReferenceIsValidUtf8(line);
  HLO_FUZZ_CHECK(IsValidUtf8(line) == valid_utf8, line);
  CheckRaw(line, valid_utf8);

  const auto* rejection = std::get_if<Rejection>(&result);
  if (line.size() > kMaxEventBytes) {
    HLO_FUZZ_CHECK(rejection && rejection->reason == RejectReason::kTooLarge, Describe(result));
    return 0;
  }
  if (!valid_utf8) {
    HLO_FUZZ_CHECK(rejection && rejection->reason == RejectReason::kBadEncoding, Describe(result));
    return 0;
  }
  // Only the BOM at the very start of a file is skipped, by the reader.
  if (line.starts_with(kBom)) {
    HLO_FUZZ_CHECK(rejection && rejection->reason == RejectReason::kBadJson, Describe(result));
    return 0;
  }
  if (FirstSignificant(line) == '{') {
    CheckAgreesWithDocument(line, result);
  } else {
    HLO_FUZZ_CHECK(rejection != nullptr, "accepted a line that does not hold an object");
  }
  return 0;
}

}  // namespace hlo::fuzz

HLO_FUZZ_ENTRY_POINT(FuzzEventLine)
