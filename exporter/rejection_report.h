// What `once` and `run` tell the operator about rejected events: a summary
// (the count per reason, the first few with FILE:LINE, and where the full
// list is) instead of one stderr line per bad event, so a file of a million
// bad lines costs a handful of log lines. `validate` still lists every one.
//
// `run` reports through a RejectionReport: the first rejections at once,
// then at most one summary per interval, gathering what came in between, so
// a writer that keeps appending bad lines cannot flood the journal.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "observer/rejected_log.h"

namespace hlo {

// Rejections gathered for one summary.
struct RejectionTally {
  uint64_t total = 0;
  std::map<std::string, uint64_t> by_reason;  // reason name → count
  std::vector<RejectedEvent> first;           // the first kExamples, raw left empty

  static constexpr size_t kExamples = 5;
  // Longest detail quoted in an example; longer ones are cut with "...".
  static constexpr size_t kMaxDetail = 200;

  void Add(const RejectedEvent& rejected);
  bool empty() const { return total == 0; }
};

// The summary's lines, without a program prefix or newlines:
//   "1000 event(s) rejected (600 bad_json, 400 missing_field); the first 5:"
//   "  events/bad.jsonl:1: bad_json: ..."            (up to kExamples)
//   "995 more; every rejection is in <rejected_log>"  (or "all are in ...")
// Empty for an empty tally.
std::vector<std::string> SummarizeRejections(const RejectionTally& tally,
                                             const std::string& rejected_log);

// Rate-limits the summaries of a long-running process. Not thread-safe; the
// clock is passed in, so tests step it by hand.
class RejectionReport {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;

  RejectionReport(std::string rejected_log, std::chrono::milliseconds interval)
      : rejected_log_(std::move(rejected_log)), interval_(interval) {}

  // Adds a batch's rejections and returns the lines to log now: a summary
  // of everything gathered when the last one is at least `interval` old (or
  // there was none), else nothing (call again, with or without new
  // rejections, to have what waits reported once the interval is over).
  std::vector<std::string> Add(const std::vector<RejectedEvent>& batch, TimePoint now);

  // Whatever still waits, regardless of the interval (at shutdown).
  std::vector<std::string> Flush();

 private:
  std::string rejected_log_;
  std::chrono::milliseconds interval_;
  RejectionTally pending_;
  bool reported_ = false;
  TimePoint last_report_{};
};

}  // namespace hlo
