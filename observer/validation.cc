#include "observer/validation.h"

#include <variant>

#include "observer/event_parser.h"
#include "observer/event_source.h"

namespace hlo {
namespace detail {
namespace {

void Record(ValidationReport& report, const std::string& file, uint64_t line,
            const Rejection& rejection) {
  ++report.invalid;
  report.problems.push_back({"events/" + file, line, std::string(RejectReasonName(rejection.reason)),
                             rejection.detail});
}

void ValidateJsonLines(ValidationReport& report, const std::filesystem::path& dir,
                       const EventFile& file) {
  const LineSink sink = [&](const RawLine& line) {
    ++report.events;
    if (line.size > kMaxEventBytes) {
      Record(report, file.name, line.line,
             {RejectReason::kTooLarge, "line is " + std::to_string(line.size) +
                                           " bytes, limit " + std::to_string(kMaxEventBytes)});
      return;
    }
    ParseResult parsed = ParseEventLine(line.text);
    if (auto* rejection = std::get_if<Rejection>(&parsed)) {
      Record(report, file.name, line.line, *rejection);
    }
  };
  std::string error;
  std::optional<FileProgress> end = ReadJsonLines(dir / file.name, FileProgress{}, sink, &error);
  if (!end) {
    report.unreadable = true;
    report.problems.push_back({"events/" + file.name, 0, "error", error});
  } else if (end->offset < file.size) {
    report.problems.push_back({"events/" + file.name, end->lines + 1, "warning",
                               "last line has no newline yet; it is not consumed until it ends"});
  }
}

void ValidateDocument(ValidationReport& report, const std::filesystem::path& dir,
                      const EventFile& file) {
  bool too_large = false;
  uint64_t size = 0;
  std::string error;
  std::optional<std::string> content =
      ReadJsonDocument(dir / file.name, kMaxEventBytes, &too_large, &size, &error);
  if (!content) {
    report.unreadable = true;
    report.problems.push_back({"events/" + file.name, 0, "error", error});
    return;
  }
  if (too_large) {
    ++report.events;
    Record(report, file.name, 1,
           {RejectReason::kTooLarge,
            "file is " + std::to_string(size) + " bytes, limit " + std::to_string(kMaxEventBytes)});
    return;
  }
  for (const DocumentItem& item : ParseEventDocument(*content)) {
    ++report.events;
    if (auto* rejection = std::get_if<Rejection>(&item.result)) {
      Record(report, file.name, item.line, *rejection);
    }
  }
}

}  // namespace
}  // namespace detail

ValidationReport ValidateEventFiles(const std::filesystem::path& events_dir) {
  ValidationReport report;
  std::string error;
  std::optional<std::vector<EventFile>> files = ListEventFiles(events_dir, &error);
  if (!files) {
    report.unreadable = true;
    report.problems.push_back({"events", 0, "error", error});
    return report;
  }
  for (const EventFile& file : *files) {
    if (file.kind == EventFileKind::kJson) {
      detail::ValidateDocument(report, events_dir, file);
    } else {
      detail::ValidateJsonLines(report, events_dir, file);
    }
  }
  return report;
}

}  // namespace hlo
