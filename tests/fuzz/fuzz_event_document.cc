// Fuzz target: a whole `.json` event file through hlo::ParseEventDocument
// (CONTRACT §8 "Inputs": one object or an array of objects; one BOM skipped).
//
// Checks, besides the sanitizers: items are numbered 1, 2, … in order; the
// result is deterministic; a file that is too large, not UTF-8 or not JSON is
// exactly one rejection at line 1; every item passes the common checks of a
// parse result; and each event of an array, taken as the `raw` text the
// observer records for it, gets the same verdict from the line parser.
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "observer/event_parser.h"
#include "tests/fuzz/fuzz_support.h"

namespace hlo::fuzz {
namespace {

constexpr std::string_view kBom = "\xEF\xBB\xBF";

char FirstSignificant(std::string_view s) {
  const size_t i = s.find_first_not_of(" \t\r\n");
  return i == std::string_view::npos ? '\0' : s[i];
}

bool SameItems(const std::vector<DocumentItem>& a, const std::vector<DocumentItem>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i].line != b[i].line || a[i].raw != b[i].raw || !SameResult(a[i].result, b[i].result)) {
      return false;
    }
  }
  return true;
}

bool IsRejectedAs(const DocumentItem& item, RejectReason reason) {
  const auto* rejection = std::get_if<Rejection>(&item.result);
  return rejection != nullptr && rejection->reason == reason;
}

// `raw` of an array element is its re-serialization; as a line it must get
// the verdict the element got.
void CheckElementAsLine(const DocumentItem& item) {
  if (item.raw.size() > kMaxEventBytes) return;  // a number can serialize longer than written
  const ParseResult as_line = ParseEventLine(item.raw);
  HLO_FUZZ_CHECK(as_line.index() == item.result.index(),
                 Describe(item.result) + " vs line " + Describe(as_line) + " for " + item.raw);
  if (const auto* event = std::get_if<Event>(&item.result)) {
    HLO_FUZZ_CHECK(SameEvent(*event, std::get<Event>(as_line)), item.raw);
  } else {
    HLO_FUZZ_CHECK(std::get<Rejection>(item.result).reason == std::get<Rejection>(as_line).reason,
                   Describe(item.result) + " vs line " + Describe(as_line) + " for " + item.raw);
  }
}

}  // namespace

int FuzzEventDocument(const uint8_t* data, size_t size) {
  const std::string_view content = AsText(data, size);
  const std::vector<DocumentItem> items = ParseEventDocument(content);
  HLO_FUZZ_CHECK(SameItems(items, ParseEventDocument(content)), "not deterministic");

  for (size_t i = 0; i < items.size(); ++i) {
    HLO_FUZZ_CHECK(items[i].line == i + 1, std::to_string(items[i].line));
    CheckParseResult(items[i].result);
    const std::string raw = SanitizeRaw(items[i].raw);
    HLO_FUZZ_CHECK(ReferenceIsValidUtf8(raw) && raw.size() <= 1024, raw);
  }

  std::string_view body = content;
  if (body.starts_with(kBom)) body.remove_prefix(kBom.size());
  const bool whole_file_rejection =
      items.size() == 1 && std::holds_alternative<Rejection>(items[0].result);
  if (content.size() > kMaxEventBytes) {
    HLO_FUZZ_CHECK(items.size() == 1 && IsRejectedAs(items[0], RejectReason::kTooLarge),
                   std::to_string(items.size()));
    return 0;
  }
  if (!ReferenceIsValidUtf8(body)) {
    HLO_FUZZ_CHECK(items.size() == 1 && IsRejectedAs(items[0], RejectReason::kBadEncoding),
                   std::to_string(items.size()));
    return 0;
  }
  const char first = FirstSignificant(body);
  // Only an empty array holds no event at all.
  HLO_FUZZ_CHECK(!items.empty() || first == '[', "no items");
  if (first != '{' && first != '[') {
    HLO_FUZZ_CHECK(whole_file_rejection, std::to_string(items.size()));
    return 0;
  }
  if (first == '{') {
    HLO_FUZZ_CHECK(items.size() == 1, std::to_string(items.size()));
    return 0;
  }
  // An array. The field rules never give bad_json, so a single bad_json item
  // is the file refused as a whole (syntax, depth); otherwise each item is
  // one element.
  if (items.size() == 1 && IsRejectedAs(items[0], RejectReason::kBadJson)) return 0;
  for (const DocumentItem& item : items) CheckElementAsLine(item);
  return 0;
}

}  // namespace hlo::fuzz

HLO_FUZZ_ENTRY_POINT(FuzzEventDocument)
