// The lateness window (CONTRACT §4, --events.max-lateness): the events
// applied within `max_lateness` of the latest applied event time, each with
// what it changed (UndoStep). An event that lands late but inside the window
// is folded in without a replay: the model is rolled back to its place, it is
// applied, and the events after it are applied again. Everything older has
// left the window for good; an event that belongs before it needs a replay.
//
// Cost: one UndoStep per event in the window (the states of the entries it
// touched), plus the event itself; ApproximateBytes() reports it.
#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <vector>

#include "observer/apply.h"
#include "observer/event_queue.h"
#include "observer/undo_step.h"

namespace hlo {

struct TimedEvent {
  OrderKey key;
  Event event;
};

class Timeline {
 public:
  // The most events kept, whatever their times: a bound on memory (about
  // 1 KiB an event) and on the checkpoint (about 100 bytes an event) for
  // bursts — 5 minutes at 66 events/s. Past it the oldest leave early, and
  // an event older than them needs a replay.
  static constexpr size_t kMaxEvents = 20'000;

  explicit Timeline(Duration max_lateness = Duration{300'000'000'000})
      : max_lateness_(max_lateness) {}

  // Whether an event with this key can still be applied in its place: it
  // comes after every event that has left the window.
  bool Accepts(const OrderKey& key) const { return !floor_ || *floor_ < key; }

  // Applies `events`, sorted by key and each Accepts(), in their places
  // among those applied before; events applied before whose keys are
  // larger are taken back and applied again after them. Returns how many of
  // `events` came before an event already applied (were reordered).
  uint64_t Insert(Model& model, ModelIndex& index, const ApplyContext& context,
                  std::vector<TimedEvent>&& events);

  // Records that events up to `key` were applied without being kept (the
  // part of a replay that is older than the window).
  void SetFloor(OrderKey key) { floor_ = std::move(key); }
  const std::optional<OrderKey>& floor() const { return floor_; }

  // Lets events older than `latest` − max_lateness (and any beyond
  // kMaxEvents) leave the window.
  void Trim(std::optional<Timestamp> latest);

  // Forgets everything (a replay starts from zero).
  void Clear();

  Duration max_lateness() const { return max_lateness_; }
  // latest − max_lateness: events before it are late (and leave the window).
  Timestamp Horizon(Timestamp latest) const { return Add(latest, Duration{-max_lateness_.nanos}); }
  size_t size() const { return entries_.size(); }
  size_t ApproximateBytes() const;

  // The checkpoint's view: the events in the window, oldest first, and for
  // every entry they touched its state before the oldest of them (as a
  // partial model: absent entries are listed in `absent`), with the
  // counters as they were before the window.
  struct Saved {
    std::optional<OrderKey> floor;
    std::vector<const TimedEvent*> events;
    Model before;  // only the touched entries, and the counters
    std::vector<std::pair<UndoStep::Kind, std::string>> absent;
    std::vector<std::string> added_ids;  // ids the window's events added to event_ids
  };
  Saved Save(const Model& model) const;

  // The inverse: from `model` (the checkpoint's, whose window this was),
  // rolls back to the window's start and applies its events again, which
  // rebuilds the undo steps. false when the result is not `model` again.
  bool Restore(Model& model, ModelIndex& index, const ApplyContext& context,
               std::optional<OrderKey> floor, std::vector<TimedEvent> events, const Model& before,
               const std::vector<std::pair<UndoStep::Kind, std::string>>& absent,
               const std::vector<std::string>& added_ids);

 private:
  struct Entry {
    TimedEvent timed;
    UndoStep undo;
  };
  void ApplyKept(Model& model, ModelIndex& index, const ApplyContext& context, TimedEvent&& timed);

  Duration max_lateness_;
  std::deque<Entry> entries_;      // in processing order
  std::optional<OrderKey> floor_;  // the last event that left the window
};

}  // namespace hlo
