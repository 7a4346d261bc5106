// The exposition of one published ExportState, rendered at most once and then
// served, as the same immutable bytes, to every scrape until the next
// publish (see WorldCollector). A scrape of a 100k-series world is then a
// send of cached bytes instead of a ~70 ms render.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>

#include "exporter/export_state.h"
#include "exporter/http_server.h"

namespace hlo {

// How often the expensive steps ran; shared by the expositions of one
// WorldCollector, for tests and benchmarks.
struct ExpositionCounters {
  std::atomic<uint64_t> world_renders{0};  // world families rendered (the big part)
  std::atomic<uint64_t> renders{0};        // whole expositions assembled
  std::atomic<uint64_t> gzips{0};          // bodies compressed
};

namespace detail {
// The text of the world families of one snapshot and rebuild count, shared
// by the expositions of the states published with them. The daemon
// publishes twice per batch with the same snapshot (before and after its
// commit, only its own figures changed), and these are ~all of the text.
class WorldText;
}  // namespace detail

class CachedExposition final : public MetricsBody {
 public:
  // `state` (or its world) null: an empty exposition (nothing published yet). `previous`:
  // the exposition published before this one, or null; its world text is
  // shared when it has the same snapshot and rebuild count. `counters` may
  // be null.
  CachedExposition(std::shared_ptr<const ExportState> state, const CachedExposition* previous,
                   std::shared_ptr<ExpositionCounters> counters);
  ~CachedExposition() override;

  const std::shared_ptr<const ExportState>& state() const { return state_; }

  // RenderExposition(*state()), rendered on the first call. Concurrent first
  // callers wait for that one rendering; nobody sees a partial text.
  const std::string& Text() const override;
  // Text() as gzip, compressed on the first call, in the same way; null if
  // zlib failed.
  const std::string* Gzip() const override;

 private:
  const std::shared_ptr<const ExportState> state_;
  const std::shared_ptr<detail::WorldText> world_;  // null: empty exposition
  const std::shared_ptr<ExpositionCounters> counters_;
  mutable std::once_flag text_once_;
  mutable std::string text_;
  mutable std::once_flag gzip_once_;
  mutable std::unique_ptr<const std::string> gzip_;
};

}  // namespace hlo
