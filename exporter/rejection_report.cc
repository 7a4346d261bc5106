#include "exporter/rejection_report.h"

#include <utility>

#include "observer/event_parser.h"

namespace hlo {

void RejectionTally::Add(const RejectedEvent& rejected) {
  ++total;
  ++by_reason[std::string(RejectReasonName(rejected.reason))];
  if (first.size() < kExamples) {
    RejectedEvent example = rejected;
    example.raw.clear();  // up to 1 KiB that the summary never shows
    first.push_back(std::move(example));
  }
}

namespace {

// A detail cut at kMaxDetail bytes, not inside a UTF-8 sequence, and with
// control characters shown as '?': one example is one log line.
std::string Clip(const std::string& detail) {
  std::string out = detail;
  if (out.size() > RejectionTally::kMaxDetail) {
    size_t cut = RejectionTally::kMaxDetail;
    while (cut > 0 && (static_cast<unsigned char>(out[cut]) & 0xC0) == 0x80) --cut;
    out.resize(cut);
    out += "...";
  }
  for (char& c : out) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7F) c = '?';
  }
  return out;
}

}  // namespace

std::vector<std::string> SummarizeRejections(const RejectionTally& tally,
                                             const std::string& rejected_log) {
  std::vector<std::string> lines;
  if (tally.empty()) return lines;
  std::string head = std::to_string(tally.total) + " event(s) rejected (";
  bool first_reason = true;
  for (const auto& [reason, count] : tally.by_reason) {
    if (!first_reason) head += ", ";
    head += std::to_string(count) + " " + reason;
    first_reason = false;
  }
  head += tally.total > tally.first.size()
              ? "); the first " + std::to_string(tally.first.size()) + ":"
              : "):";
  lines.push_back(std::move(head));
  for (const RejectedEvent& r : tally.first) {
    lines.push_back("  events/" + Clip(r.file) + ":" + std::to_string(r.line) + ": " +
                    std::string(RejectReasonName(r.reason)) + ": " + Clip(r.detail));
  }
  const uint64_t more = tally.total - tally.first.size();
  lines.push_back(more > 0 ? std::to_string(more) + " more; every rejection is in " + rejected_log
                           : "every rejection is in " + rejected_log);
  return lines;
}

std::vector<std::string> RejectionReport::Add(const std::vector<RejectedEvent>& batch,
                                              TimePoint now) {
  for (const RejectedEvent& r : batch) pending_.Add(r);
  if (pending_.empty() || (reported_ && now - last_report_ < interval_)) return {};
  reported_ = true;
  last_report_ = now;
  return Flush();
}

std::vector<std::string> RejectionReport::Flush() {
  std::vector<std::string> lines = SummarizeRejections(pending_, rejected_log_);
  pending_ = RejectionTally{};
  return lines;
}

}  // namespace hlo
