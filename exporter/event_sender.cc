#include "exporter/event_sender.h"

#include <algorithm>
#include <nlohmann/json.hpp>

namespace hlo {
namespace detail {
namespace {

bool Retryable(const HttpResult& r) {
  switch (r.kind) {
    case HttpResult::Kind::kConnectError:
    case HttpResult::Kind::kTimeout:
    case HttpResult::Kind::kSendError:
      return true;
    case HttpResult::Kind::kPermanent:
      return false;
    case HttpResult::Kind::kResponse:
      return r.status == 408 || r.status == 429 || r.status >= 500;
  }
  return false;
}

std::string Describe(const HttpResult& r) {
  if (r.kind != HttpResult::Kind::kResponse) return r.error;
  std::string body = r.body.substr(0, 300);
  while (!body.empty() && (body.back() == '\n' || body.back() == '\r')) body.pop_back();
  std::replace(body.begin(), body.end(), '\n', ' ');
  return "HTTP " + std::to_string(r.status) + (body.empty() ? "" : ": " + body);
}

uint64_t Count(const nlohmann::json& reply, const char* key) {
  const auto it = reply.find(key);
  return it != reply.end() && it->is_number_unsigned() ? it->get<uint64_t>() : 0;
}

// Adds the observer's answer for `batch` to `report`.
void Tally(const std::string& body, const std::vector<SpooledEvent>& batch, SendReport& report) {
  const nlohmann::json reply = nlohmann::json::parse(body, nullptr, false);
  if (!reply.is_object()) {
    report.accepted += batch.size();
    report.warnings.push_back("an answer was not the expected JSON; its " +
                              std::to_string(batch.size()) + " events are counted as accepted");
    return;
  }
  uint64_t rejected = 0;
  if (const auto it = reply.find("rejected"); it != reply.end() && it->is_array()) {
    for (const nlohmann::json& r : *it) {
      const uint64_t line = r.value("line", uint64_t{0});
      SendReport::Rejected entry;
      if (line >= 1 && line <= batch.size()) {
        entry.origin = batch[line - 1].origin;
        entry.event = batch[line - 1].json;
      } else {
        entry.origin = "line " + std::to_string(line) + " of a batch";
      }
      entry.reason = r.value("reason", std::string("?"));
      entry.detail = r.value("detail", std::string());
      report.rejected.push_back(std::move(entry));
      ++rejected;
    }
  }
  const uint64_t accepted = Count(reply, "accepted");
  const uint64_t duplicates = Count(reply, "duplicates");
  // Whether "accepted" includes the duplicates or not, every event of the
  // batch is one of the three.
  report.duplicates += duplicates;
  report.accepted += accepted + duplicates + rejected > batch.size() ? accepted - std::min(accepted, duplicates)
                                                                     : accepted;
}

}  // namespace
}  // namespace detail

std::vector<SpooledEvent> MemoryOutbox::Peek(size_t max_events, size_t max_bytes) {
  std::vector<SpooledEvent> out;
  size_t bytes = 0;
  for (size_t i = next_; i < events_.size(); ++i) {
    const size_t size = events_[i].json.size() + 1;
    if (!out.empty() && (out.size() >= max_events || bytes + size > max_bytes)) break;
    bytes += size;
    out.push_back(events_[i]);
  }
  return out;
}

bool MemoryOutbox::Ack(size_t count, std::string*) {
  next_ = std::min(events_.size(), next_ + count);
  return true;
}

Sender::Sender(HttpClient& client, std::string url, SenderOptions options,
               std::function<void(std::chrono::milliseconds)> sleep, uint64_t seed)
    : client_(client),
      url_(std::move(url)),
      options_(options),
      sleep_(std::move(sleep)),
      rng_state_(seed) {}

std::chrono::milliseconds Sender::Backoff(int attempt,
                                          std::optional<std::chrono::milliseconds> retry_after) {
  using std::chrono::milliseconds;
  milliseconds delay = options_.backoff_max;
  if (attempt < 30) delay = std::min(delay, options_.backoff_base * (int64_t{1} << attempt));
  // splitmix64: a jitter that spreads senders retrying at the same moment.
  uint64_t z = (rng_state_ += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  z ^= z >> 31;
  const int64_t half = delay.count() / 2;
  milliseconds wait(half + static_cast<int64_t>(z % static_cast<uint64_t>(delay.count() - half + 1)));
  if (retry_after) wait = std::max(wait, std::min(*retry_after, options_.retry_after_max));
  return wait;
}

SendReport Sender::Run(Outbox& outbox) {
  SendReport report;
  size_t max_events = std::max<size_t>(1, options_.batch_events);
  size_t max_bytes = std::max<size_t>(1, options_.batch_bytes);
  for (;;) {
    const std::vector<SpooledEvent> batch = outbox.Peek(max_events, max_bytes);
    if (batch.empty()) return report;
    std::string body;
    for (const SpooledEvent& e : batch) {
      body += e.json;
      body += '\n';
    }
    for (int attempt = 0;; ++attempt) {
      const HttpResult r = client_.Post(url_, "application/x-ndjson", body);
      if (r.kind == HttpResult::Kind::kResponse && r.status >= 200 && r.status < 300) {
        ++report.batches;
        detail::Tally(r.body, batch, report);
        std::string error;
        if (!outbox.Ack(batch.size(), &error)) {
          report.failure = "cannot record the acknowledgement: " + error;
          return report;
        }
        break;
      }
      if (r.kind == HttpResult::Kind::kResponse && r.status == 413) {
        if (batch.size() > 1) {  // the observer's limit is lower than ours: halve
          max_events = batch.size() / 2;
          max_bytes = std::max<size_t>(1, body.size() / 2);
          report.warnings.push_back("the observer refused " + std::to_string(body.size()) +
                                    " bytes (413): batches of at most " +
                                    std::to_string(max_events) + " events from now on");
          break;
        }
        report.rejected.push_back({batch[0].origin, batch[0].json, "too_large",
                                   "alone over the observer's body limit (413)"});
        std::string error;
        if (!outbox.Ack(1, &error)) {
          report.failure = "cannot record the acknowledgement: " + error;
          return report;
        }
        break;
      }
      if (!detail::Retryable(r)) {
        report.failure = "the observer refused the events at " + url_ + ": " + detail::Describe(r);
        return report;
      }
      if (attempt >= options_.retries) {
        report.failure = "gave up after " + std::to_string(attempt + 1) +
                         (attempt == 0 ? " attempt at " : " attempts at ") + url_ + ": " +
                         detail::Describe(r);
        return report;
      }
      ++report.retries;
      sleep_(Backoff(attempt, r.retry_after));
    }
  }
}

std::string EventsEndpoint(const std::string& url) {
  static const std::string kPath = "/api/v1/events";
  const size_t query = url.find_first_of("?#");
  std::string base = url.substr(0, query);
  const std::string rest = query == std::string::npos ? "" : url.substr(query);
  if (base.size() >= kPath.size() && base.compare(base.size() - kPath.size(), kPath.size(), kPath) == 0) {
    return url;
  }
  while (!base.empty() && base.back() == '/') base.pop_back();
  return base + kPath + rest;
}

}  // namespace hlo
