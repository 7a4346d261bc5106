// The local spool of `homelab-observer send --spool DIR` (docs/operations.md):
// events are made durable here before any is posted, and leave only once the
// observer has acknowledged them, so a host that loses the network or is
// killed loses nothing; at most a batch posted but not yet acknowledged is
// sent again, and its ids make that harmless.
//
// Layout of DIR:
//   seg-<ns since epoch, 20 digits>-<pid>.ndjson  append-only segments: one
//       compact JSON event per line, ids already assigned. Written by one
//       Append and never reopened for writing; the writer holds an flock on
//       it from before its name appears (created hidden, renamed) until it
//       is complete and fsynced, so a drainer never reads one being written.
//   seg-….ndjson.acked   how many bytes of the segment the observer has
//       acknowledged (decimal; replaced by write-temp + fsync + rename). A
//       missing or unreadable one means 0: everything is sent again.
//   .drain.lock          flock'ed by the one drainer at a time.
// Segments drain in name order (their creation time), lines in file order.
// A segment whose writer died mid-line ends in a line without '\n': that
// line never completed, was never reported as spooled, and is dropped with
// the segment.
//
// Not thread-safe; one Spool per process.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

namespace hlo {

struct SpooledEvent {
  std::string json;    // one line, without '\n'
  std::string origin;  // "<segment>:<line>", for messages
};

class Spool {
 public:
  // Opens DIR, creating it when absent. nullptr and *error on failure.
  static std::unique_ptr<Spool> Open(const std::filesystem::path& dir, std::string* error);
  ~Spool();
  Spool(const Spool&) = delete;
  Spool& operator=(const Spool&) = delete;

  // Appends `lines` (each without '\n') as new segments of at most
  // `segment_bytes` each, fsynced (file and folder) before it returns true.
  bool Append(const std::vector<std::string>& lines, std::string* error);

  // Takes the drain lock without waiting; false when another process holds
  // it (or on error, with *error set).
  bool TryLockForDrain(std::string* error);

  // Needs the drain lock. The next pending events in order, at most
  // `max_events` and about `max_bytes` (always at least one event when any
  // is pending); never more than one segment's. Empty when nothing is
  // pending (segments still being written by another process are skipped).
  // Repeated calls without Ack return the same events.
  std::vector<SpooledEvent> Peek(size_t max_events, size_t max_bytes);
  // The first `count` events of the last Peek were acknowledged: they are
  // recorded as such (fsynced), and a segment with nothing left is deleted.
  bool Ack(size_t count, std::string* error);

  // Complete lines not yet acknowledged, in every segment not being written
  // (reads them all: for messages and tests).
  uint64_t PendingEvents();

  size_t segment_bytes = 16 << 20;

 private:
  explicit Spool(std::filesystem::path dir);
  struct Cursor;
  bool OpenNextSegment();
  void CloseSegment();

  std::filesystem::path dir_;
  int drain_lock_fd_ = -1;
  std::unique_ptr<Cursor> cursor_;
  uint64_t sequence_ = 0;  // makes segment names of one process unique
};

}  // namespace hlo
