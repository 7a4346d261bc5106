// Push ingestion's durable half (POST /api/v1/events, docs/api.md): checks a
// request body's events with the same parser and reasons as event files
// (CONTRACT §8), appends the accepted ones to events/ingest-YYYY-MM-DD.jsonl
// (the UTC day they were received; a file of events/ like any other, so
// event-time order makes its name irrelevant) and fsyncs before answering.
// The observer then reads that file as it reads every other.
//
// Thread-safe: requests are serialised on one mutex (an append and an fsync
// each; the disk is the limit either way).
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>

#include "exporter/world_api.h"
#include "observer/env.h"
#include "observer/model.h"

namespace hlo {

class IngestLog {
 public:
  // `events_dir`: <root>/events (created when absent). `clock`: the wall
  // clock naming the day's file (Env::Now). `appended`: called after each
  // durable append (wakes the daemon's batch loop); may be empty.
  IngestLog(std::filesystem::path events_dir, std::function<Timestamp()> clock,
            std::function<void()> appended);
  ~IngestLog();

  IngestLog(const IngestLog&) = delete;
  IngestLog& operator=(const IngestLog&) = delete;

  // 202 with {"accepted": N, "duplicates": D, "rejected": [{"line", "reason",
  // "detail"}]} once the accepted events are on disk; 503 with {"error"}
  // when they could not be written (nothing of this request is then kept).
  // `line`: the 1-based line (NDJSON) or array index (JSON). `duplicates`:
  // events whose id this endpoint already accepted since the process
  // started (or earlier in the same body); they are not written again. A
  // retry that crosses a restart is caught by the observer's id rule
  // instead (homelab_observer_events_duplicate_total).
  IngestReply Ingest(std::string_view body, IngestFormat format, std::string_view user);

  // The file of `day` ("ingest-2026-12-04.jsonl").
  static std::string FileNameFor(Timestamp received);

  uint64_t accepted_total() const;  // events appended by this process

 private:
  // Opens (creating) the day's file, cutting a last line without its newline
  // (a write a kill interrupted: never acknowledged, never read).
  bool OpenFor(const std::string& name, std::string* error);
  bool Append(std::string_view text, std::string* error);

  const std::filesystem::path dir_;
  const std::function<Timestamp()> clock_;
  const std::function<void()> appended_;
  mutable std::mutex mu_;
  std::string open_name_;  // the file fd_ is open on
  int fd_ = -1;
  uint64_t size_ = 0;  // fd_'s file size after our last append
  StringSet ids_;      // ids appended by this process
  uint64_t accepted_total_ = 0;
};

}  // namespace hlo
