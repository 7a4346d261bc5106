// The delivery logic of `homelab-observer send`: batches from an Outbox,
// posted as NDJSON to the observer's POST /api/v1/events, retried with
// exponential backoff and full jitter on what may be transient (connection
// errors, timeouts, 408, 429, 5xx; Retry-After honoured), acknowledged to
// the Outbox only after a 2xx answer. Every event carries an id, so a batch
// posted twice (its answer lost, the observer killed after its fsync) is
// applied once: at-least-once delivery, exactly-once application.
//
// No clock, no sockets, no randomness of its own: the HttpClient, the sleep
// and the jitter's seed are passed in, so tests run it on fakes in no time.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "exporter/http_client.h"
#include "exporter/spool.h"

namespace hlo {

// Where the events come from, in the order they are to be sent.
class Outbox {
 public:
  virtual ~Outbox() = default;
  // The next events not yet acknowledged, as Spool::Peek; empty when none.
  virtual std::vector<SpooledEvent> Peek(size_t max_events, size_t max_bytes) = 0;
  // The first `count` of the last Peek are done with (accepted, duplicate or
  // rejected by the observer): they must not be sent again.
  virtual bool Ack(size_t count, std::string* error) = 0;
  // Events not yet acknowledged.
  virtual uint64_t Remaining() = 0;
};

// Events held in memory (send without --spool); origins given by the caller.
class MemoryOutbox : public Outbox {
 public:
  explicit MemoryOutbox(std::vector<SpooledEvent> events) : events_(std::move(events)) {}
  std::vector<SpooledEvent> Peek(size_t max_events, size_t max_bytes) override;
  bool Ack(size_t count, std::string* error) override;
  uint64_t Remaining() override { return events_.size() - next_; }

 private:
  std::vector<SpooledEvent> events_;
  size_t next_ = 0;
};

// A drained Spool; the caller holds its drain lock.
class SpoolOutbox : public Outbox {
 public:
  explicit SpoolOutbox(Spool& spool) : spool_(spool) {}
  std::vector<SpooledEvent> Peek(size_t max_events, size_t max_bytes) override {
    return spool_.Peek(max_events, max_bytes);
  }
  bool Ack(size_t count, std::string* error) override { return spool_.Ack(count, error); }
  uint64_t Remaining() override { return spool_.PendingEvents(); }

 private:
  Spool& spool_;
};

struct SenderOptions {
  // One POST carries at most this many events and about this many bytes (an
  // event larger than batch_bytes goes alone), far under the observer's
  // default body limit of 8 MiB. A 413 halves both for the rest of the run.
  size_t batch_events = 1000;
  size_t batch_bytes = 1 << 20;
  // Attempts after the first, per batch, before giving up.
  int retries = 8;
  // Retry n (0-based) waits a uniformly random time in
  // [d/2, d] with d = min(backoff_max, backoff_base * 2^n), or the answer's
  // Retry-After when that is longer (at most retry_after_max).
  std::chrono::milliseconds backoff_base{500};
  std::chrono::milliseconds backoff_max{30000};
  std::chrono::milliseconds retry_after_max{300000};
};

struct SendReport {
  uint64_t batches = 0;     // POSTs answered 2xx
  uint64_t accepted = 0;    // events the observer took as new
  uint64_t duplicates = 0;  // events whose id it had already
  uint64_t retries = 0;     // attempts after a first one, over all batches
  struct Rejected {
    std::string origin;  // where the event came from: "line 12", a spool position
    std::string event;   // its JSON line as sent
    std::string reason;
    std::string detail;
  };
  std::vector<Rejected> rejected;
  // Empty when the Outbox was emptied; else why sending stopped (a
  // permanent error, or retries exhausted): the rest is not delivered.
  std::string failure;
  std::vector<std::string> warnings;
};

class Sender {
 public:
  // `url` is the full endpoint (…/api/v1/events). `sleep` waits (tests pass
  // one that only records).
  Sender(HttpClient& client, std::string url, SenderOptions options,
         std::function<void(std::chrono::milliseconds)> sleep, uint64_t seed);

  SendReport Run(Outbox& outbox);

  // The wait before retry `attempt` (0-based), given the answer's Retry-After.
  std::chrono::milliseconds Backoff(int attempt,
                                    std::optional<std::chrono::milliseconds> retry_after);

 private:
  HttpClient& client_;
  std::string url_;
  SenderOptions options_;
  std::function<void(std::chrono::milliseconds)> sleep_;
  uint64_t rng_state_;
};

// A base URL ("http://host:9847", "https://host/observer/") gets
// "/api/v1/events" appended; a URL whose path already ends in
// "/api/v1/events" is kept. Query strings are kept in place.
std::string EventsEndpoint(const std::string& url);

}  // namespace hlo
