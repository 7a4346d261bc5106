// What the HTTP layer serves besides the metrics (docs/api.md): the world
// files' bytes from memory, the observer's health, a feed of world changes
// for /api/v1/stream, and push ingestion. The daemon produces these; the
// HTTP server (http_server.cc) only reads them. Everything here is immutable
// once published or internally synchronised: civetweb's worker threads read
// it while the event thread publishes the next.
#pragma once

#include <array>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace hlo {

// One JSON document (a world file's bytes, or the observer's health), built
// at most once, on the first call of any accessor, by `render`; then shared,
// immutable, by every request. Thread-safe.
class JsonDocument {
 public:
  explicit JsonDocument(std::function<std::string()> render);
  static std::shared_ptr<const JsonDocument> Of(std::string bytes);
  ~JsonDocument();

  const std::string& Text() const;
  // Text() as a gzip member; null if zlib failed. Compressed once.
  const std::string* Gzip() const;
  // A strong entity tag for Text(), quotes included: "\"<16 hex digits>\"".
  const std::string& ETag() const;
  // Text() parsed (for the filtered endpoints); parsed once. Throws
  // nlohmann::json::exception if the text is not JSON.
  const nlohmann::json& Parsed() const;

 private:
  struct Lazy;
  std::unique_ptr<Lazy> lazy_;
};

// The world as one publish of the daemon saw it: what /api/v1/world/* and
// the filtered endpoints serve, consistent with the /metrics of the same
// publish.
struct ApiView {
  uint64_t sequence = 0;  // the ChangeFeed sequence of this publish; 0 before any
  // The world files, by CONTRACT §5 name without ".json": "deployments",
  // "incidents", "nodes", "runtime-summary", "services" (kWorldFileNames
  // order). Never null once published.
  std::array<std::shared_ptr<const JsonDocument>, 5> files;
  // GET /api/v1/observer: the observer's own health as one JSON object:
  // {"version", "ready", "events_processed", "events_rejected",
  //  "events_duplicate", "last_event_at" (RFC 3339 or null),
  //  "events_per_second" (over the last minute), "lag_seconds" (wall clock
  //  minus the last batch's newest event time, null before any),
  //  "last_batch_at", "pending_bytes", "ingest_enabled"}.
  std::shared_ptr<const JsonDocument> observer;
};

// The API names of ApiView::files, in order.
inline constexpr std::array<std::string_view, 5> kApiWorldNames = {
    "deployments", "incidents", "nodes", "runtime-summary", "services"};

// The world changes the daemon published, for /api/v1/stream: a ring of the
// most recent `capacity` changes, each with its sequence number (1, 2, …).
// Publish never blocks on a reader: readers copy what they need under the
// mutex and write to their sockets outside it; a reader that falls more
// than `capacity` changes behind is told so (lost = true) and is dropped by
// the server. Thread-safe.
class ChangeFeed {
 public:
  explicit ChangeFeed(size_t capacity = 1024);

  // Appends one change: `data` is one line of JSON (no newline), the SSE
  // event's data. Returns its sequence number.
  uint64_t Publish(std::string data);

  struct Batch {
    // (sequence, data) of every change after the asked-for sequence, oldest
    // first; empty after a timeout.
    std::vector<std::pair<uint64_t, std::shared_ptr<const std::string>>> changes;
    bool lost = false;     // some changes after `after` left the ring already
    bool stopped = false;  // Stop() was called
  };
  // Waits up to `timeout` for changes after sequence `after` (returns at
  // once when there are some, or on Stop()).
  Batch WaitAfter(uint64_t after, std::chrono::milliseconds timeout) const;

  uint64_t latest() const;  // 0 before any
  // Wakes every waiter; later WaitAfter calls return stopped at once.
  void Stop();

 private:
  const size_t capacity_;
  mutable std::mutex mu_;
  mutable std::condition_variable cv_;
  std::deque<std::pair<uint64_t, std::shared_ptr<const std::string>>> ring_;
  uint64_t latest_ = 0;
  bool stopped_ = false;
};

// POST /api/v1/events (docs/api.md): the body's events, checked and made
// durable by the daemon's IngestLog.
enum class IngestFormat {
  kJson,    // application/json: one object or an array of objects
  kNdjson,  // application/x-ndjson (or application/jsonl): one object per line
};

struct IngestReply {
  int status = 202;
  std::string body;  // JSON: {"accepted": N, "duplicates": D, "rejected": [{line, reason, detail}]}
};

}  // namespace hlo
