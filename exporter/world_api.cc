#include "exporter/world_api.h"

#include <cstdio>
#include <nlohmann/json.hpp>

#include "exporter/http_server.h"

namespace hlo {

// Each part is made on first use, under its own once_flag: a document nobody
// asks for gzip of is never compressed, and concurrent first callers wait for
// the one rendering.
struct JsonDocument::Lazy {
  std::function<std::string()> render;
  std::once_flag text_once;
  std::string text;
  std::once_flag gzip_once;
  std::optional<std::string> gzip;
  std::once_flag etag_once;
  std::string etag;
  std::once_flag parsed_once;
  nlohmann::json parsed;
};

namespace {

// FNV-1a over 64 bits: an entity tag only has to change when the bytes do.
std::string EntityTag(std::string_view bytes) {
  uint64_t h = 14695981039346656037ull;
  for (const unsigned char c : bytes) {
    h ^= c;
    h *= 1099511628211ull;
  }
  char hex[19];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(h));
  return "\"" + std::string(hex) + "\"";
}

}  // namespace

JsonDocument::JsonDocument(std::function<std::string()> render) : lazy_(std::make_unique<Lazy>()) {
  lazy_->render = std::move(render);
}

std::shared_ptr<const JsonDocument> JsonDocument::Of(std::string bytes) {
  auto document = std::make_shared<JsonDocument>(nullptr);
  std::call_once(document->lazy_->text_once, [&] { document->lazy_->text = std::move(bytes); });
  return document;
}

JsonDocument::~JsonDocument() = default;

const std::string& JsonDocument::Text() const {
  std::call_once(lazy_->text_once, [this] {
    lazy_->text = lazy_->render();
    lazy_->render = nullptr;  // what it captured is no longer needed
  });
  return lazy_->text;
}

const std::string* JsonDocument::Gzip() const {
  std::call_once(lazy_->gzip_once, [this] { lazy_->gzip = detail::Gzip(Text()); });
  return lazy_->gzip ? &*lazy_->gzip : nullptr;
}

const std::string& JsonDocument::ETag() const {
  std::call_once(lazy_->etag_once, [this] { lazy_->etag = EntityTag(Text()); });
  return lazy_->etag;
}

const nlohmann::json& JsonDocument::Parsed() const {
  // A parse error propagates out of call_once, which then runs again on the
  // next call: the error is reported every time, never a half-parsed value.
  std::call_once(lazy_->parsed_once, [this] { lazy_->parsed = nlohmann::json::parse(Text()); });
  return lazy_->parsed;
}

ChangeFeed::ChangeFeed(size_t capacity) : capacity_(capacity == 0 ? 1 : capacity) {}

uint64_t ChangeFeed::Publish(std::string data) {
  auto shared = std::make_shared<const std::string>(std::move(data));
  uint64_t sequence = 0;
  {
    std::lock_guard lock(mu_);
    sequence = ++latest_;
    ring_.emplace_back(sequence, std::move(shared));
    while (ring_.size() > capacity_) ring_.pop_front();
  }
  cv_.notify_all();
  return sequence;
}

ChangeFeed::Batch ChangeFeed::WaitAfter(uint64_t after, std::chrono::milliseconds timeout) const {
  std::unique_lock lock(mu_);
  cv_.wait_for(lock, timeout, [&] { return stopped_ || latest_ > after; });
  Batch batch;
  batch.stopped = stopped_;
  if (latest_ <= after) return batch;
  // The ring holds sequences (latest_ - size, latest_]; anything at or
  // below its front's predecessor is gone.
  const uint64_t oldest = ring_.empty() ? latest_ + 1 : ring_.front().first;
  if (after + 1 < oldest) batch.lost = true;
  for (const auto& change : ring_) {
    if (change.first > after) batch.changes.push_back(change);
  }
  return batch;
}

uint64_t ChangeFeed::latest() const {
  std::lock_guard lock(mu_);
  return latest_;
}

void ChangeFeed::Stop() {
  {
    std::lock_guard lock(mu_);
    stopped_ = true;
  }
  cv_.notify_all();
}

}  // namespace hlo
