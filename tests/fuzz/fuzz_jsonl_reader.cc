// Fuzz target: hlo::ReadJsonLines on a file that grows by an append
// (CONTRACT §4: "the file may grow"; §8: lines end at '\n', blank lines are
// counted but skipped, one BOM at the start of the file is skipped, a last
// line without its newline waits).
//
// Input: two bytes choosing where to split, then the file's content. The
// first part is written and read from offset 0; the rest is appended and
// reading resumes from the returned progress. The lines of both reads
// together must be exactly those of a naive reading of the contract over the
// whole content (so, among others, a split point never changes what is
// read); offsets never pass the file's size and line numbers only grow.
// HasCompleteLineAfter (late-append detection) must agree.
//
// Each ReadJsonLines call zero-fills a fresh 1 MiB buffer, which under ASan
// means page faults: this target runs at a few hundred inputs a second, so it
// makes few calls per input.
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "observer/checkpoint.h"
#include "observer/event_parser.h"
#include "observer/event_source.h"
#include "tests/fuzz/fuzz_support.h"

namespace hlo::fuzz {
namespace {

constexpr std::string_view kBom = "\xEF\xBB\xBF";
// What ReadJsonLines keeps of a line over the limit (event_source.cc).
constexpr size_t kOversizeHead = 4096;

struct Line {
  uint64_t number = 0;
  std::string text;
  uint64_t size = 0;
  friend bool operator==(const Line&, const Line&) = default;
};

std::string Show(const std::vector<Line>& lines) {
  std::string out;
  for (const Line& l : lines) out += std::to_string(l.number) + ":" + l.text.substr(0, 40) + "|";
  return out;
}

// Where a read stands. FileProgress may carry more (identity of the file
// version); what the contract speaks of is the offset and the line count.
bool SamePosition(FileProgress a, FileProgress b) {
  return a.offset == b.offset && a.lines == b.lines;
}

std::string Show(FileProgress p) {
  return "{offset " + std::to_string(p.offset) + ", lines " + std::to_string(p.lines) + "}";
}

std::vector<Line> Read(const std::filesystem::path& file, FileProgress start, FileProgress* end) {
  std::vector<Line> lines;
  const LineSink sink = [&lines](const RawLine& l) {
    lines.push_back({l.line, std::string(l.text), l.size});
  };
  std::string error;
  const std::optional<FileProgress> progress = ReadJsonLines(file, start, sink, &error);
  HLO_FUZZ_CHECK(progress.has_value(), error);
  *end = *progress;
  return lines;
}

bool IsBlank(std::string_view text) {
  return text.find_first_not_of(" \t\r") == std::string_view::npos;
}

// The contract's reading, done the obvious way on the whole content.
std::vector<Line> Expected(std::string_view content, FileProgress* end) {
  std::vector<Line> lines;
  uint64_t number = 0;
  size_t pos = 0;
  for (size_t nl; (nl = content.find('\n', pos)) != std::string_view::npos; pos = nl + 1) {
    std::string_view text = content.substr(pos, nl - pos);
    ++number;
    if (number == 1 && text.starts_with(kBom)) text.remove_prefix(kBom.size());
    const size_t size = text.size();
    if (size > kMaxEventBytes) text = text.substr(0, kOversizeHead);
    if (IsBlank(text) && size == text.size()) continue;
    lines.push_back({number, std::string(text), size});
  }
  end->offset = pos;
  end->lines = number;
  return lines;
}

}  // namespace

int FuzzJsonlReader(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  const std::string_view content = AsText(data + 2, size - 2);
  const size_t split = ((size_t{data[0]} << 8) | data[1]) % (content.size() + 1);
  static const std::filesystem::path file = ScratchDir() / "events.jsonl";
  FileProgress expected_end;
  const std::vector<Line> expected = Expected(content, &expected_end);

  WriteScratchFile("events.jsonl", content.substr(0, split));
  FileProgress first;
  std::vector<Line> lines = Read(file, FileProgress{}, &first);
  HLO_FUZZ_CHECK(first.offset <= split, Show(first));

  WriteScratchFile("events.jsonl", content.substr(split), /*append=*/true);
  HLO_FUZZ_CHECK(HasCompleteLineAfter(file, first.offset) == (expected.size() > lines.size()),
                 Show(first));
  FileProgress resumed;
  const std::vector<Line> rest = Read(file, first, &resumed);
  lines.insert(lines.end(), rest.begin(), rest.end());
  HLO_FUZZ_CHECK(resumed.offset <= content.size() && resumed.offset >= first.offset, Show(resumed));

  for (size_t i = 1; i < lines.size(); ++i) {
    HLO_FUZZ_CHECK(lines[i - 1].number < lines[i].number, Show(lines));
  }
  HLO_FUZZ_CHECK(expected == lines, Show(lines));
  HLO_FUZZ_CHECK(SamePosition(expected_end, resumed), Show(expected_end) + " vs " + Show(resumed));
  return 0;
}

}  // namespace hlo::fuzz

HLO_FUZZ_ENTRY_POINT(FuzzJsonlReader)
