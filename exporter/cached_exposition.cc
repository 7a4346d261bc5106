#include "exporter/cached_exposition.h"

#include "exporter/metrics_table.h"

namespace hlo {
namespace detail {

class WorldText {
 public:
  WorldText(std::shared_ptr<const WorldSnapshot> world, ObserverFigures observer,
            std::string site_name, size_t size_hint)
      : world_(std::move(world)),
        observer_(std::move(observer)),
        site_name_(std::move(site_name)),
        size_hint_(size_hint) {}

  // The world families read nothing of a state but its snapshot, the
  // observer's figures and the site name (see MetricTable), so any state
  // with all three renders them.
  bool Serves(const ExportState& state) const {
    return state.world == world_ && state.observer == observer_ && state.site_name == site_name_;
  }

  const std::string& Get(const ExportState& state, ExpositionCounters* counters) {
    std::call_once(once_, [&] {
      // A little slack: a world that grew a bit should not double the buffer.
      // Built aside, so a throw (which lets the next caller retry) leaves
      // text_ untouched.
      std::string text;
      text.reserve(size_hint_ + size_hint_ / 16);
      AppendExposition(state, "world", &text);
      text_ = std::move(text);
      rendered_.store(true, std::memory_order_release);
      if (counters != nullptr) ++counters->world_renders;
    });
    return text_;
  }

  // The size once rendered, else the hint it was given. Safe while another
  // thread renders: text_ is read only after it is complete.
  size_t SizeHint() const {
    return rendered_.load(std::memory_order_acquire) ? text_.size() : size_hint_;
  }

 private:
  const std::shared_ptr<const WorldSnapshot> world_;
  const ObserverFigures observer_;
  const std::string site_name_;
  const size_t size_hint_;
  std::once_flag once_;
  std::string text_;
  std::atomic<bool> rendered_{false};
};

}  // namespace detail

namespace {

std::shared_ptr<detail::WorldText> WorldTextFor(const ExportState* state,
                                                const std::shared_ptr<detail::WorldText>& previous) {
  if (state == nullptr || state->world == nullptr) return nullptr;
  if (previous != nullptr && previous->Serves(*state)) return previous;
  return std::make_shared<detail::WorldText>(state->world, state->observer, state->site_name,
                                             previous != nullptr ? previous->SizeHint() : 0);
}

}  // namespace

CachedExposition::CachedExposition(std::shared_ptr<const ExportState> state,
                                   const CachedExposition* previous,
                                   std::shared_ptr<ExpositionCounters> counters)
    : state_(std::move(state)),
      world_(WorldTextFor(state_.get(), previous != nullptr ? previous->world_ : nullptr)),
      counters_(std::move(counters)) {}

CachedExposition::~CachedExposition() = default;

const std::string& CachedExposition::Text() const {
  if (world_ == nullptr) return text_;  // nothing to render: stays empty
  std::call_once(text_once_, [this] {
    const std::string& world = world_->Get(*state_, counters_.get());
    std::string daemon;
    if (state_->daemon.present) AppendExposition(*state_, "daemon", &daemon);
    std::string text;
    text.reserve(world.size() + daemon.size());
    text.append(world).append(daemon);
    text_ = std::move(text);
    if (counters_ != nullptr) ++counters_->renders;
  });
  return text_;
}

const std::string* CachedExposition::Gzip() const {
  std::call_once(gzip_once_, [this] {
    if (auto compressed = detail::Gzip(Text())) {
      gzip_ = std::make_unique<const std::string>(std::move(*compressed));
    }
    if (counters_ != nullptr) ++counters_->gzips;
  });
  return gzip_.get();
}

}  // namespace hlo
