// Accepted events gathered from the event files, waiting to be applied in
// processing order (CONTRACT §4): (timestamp, file name bytes, line). A
// replay gathers every event of the history before applying the first, so an
// event is held compactly: its names interned once, ~56 bytes each.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "observer/event.h"
#include "observer/model.h"

namespace hlo {

// An event's place in processing order.
struct OrderKey {
  Timestamp timestamp;
  std::string file;  // name inside events/, compared as raw bytes
  uint64_t line = 0;

  friend auto operator<=>(const OrderKey&, const OrderKey&) = default;
  friend bool operator==(const OrderKey&, const OrderKey&) = default;
};

class EventQueue {
 public:
  // Files must be added in the order of their names, and each file's events
  // pushed in line order: then a stable sort by timestamp is the processing
  // order. Returns the file's number for Push.
  uint32_t AddFile(const std::string& name);
  void Push(uint32_t file, uint64_t line, const Event& event);

  size_t size() const { return records_.size(); }
  // The earliest timestamp held; meaningless when empty.
  Timestamp earliest() const { return earliest_; }
  bool empty() const { return records_.empty(); }

  // Puts the events into processing order (cheap when they already are).
  void Sort();

  // After Sort: the i-th event in processing order.
  Timestamp timestamp(size_t i) const { return At(i).timestamp; }
  OrderKey Key(size_t i) const;
  // Fills `out` (reusing its strings' buffers).
  void Get(size_t i, Event* out) const;
  const std::string& file_name(size_t i) const { return files_[At(i).file]; }

  // After Sort: a queue of the events from the i-th on, in processing order,
  // with the same files (their numbers stay valid for Push). Files pushed to
  // it afterwards must sort after every file of these events: a replay that
  // applies what is safe after each file keeps only the rest (see
  // Observer::Replay).
  EventQueue Rest(size_t from) const;

 private:
  struct Record {
    Timestamp timestamp;
    uint64_t line = 0;
    uint32_t file = 0;
    uint32_t node = 0, service = 0, correlation_id = 0, stage = 0;  // 0 = ""
    uint32_t diagnostics = 0;  // 0 = none, else 1 + index into diagnostics_
    uint32_t id = 0;           // 0 = none, else 1 + index into ids_of_events_ (not interned: unique)
    EventType type = EventType::kUnknown;
    int8_t severity = -1;  // -1 = absent
  };
  const Record& At(size_t i) const { return order_.empty() ? records_[i] : records_[order_[i]]; }
  uint32_t Intern(const std::string& s);
  const std::string& String(uint32_t id) const { return id == 0 ? empty_ : *strings_[id - 1]; }

  std::vector<std::string> files_;
  std::vector<Record> records_;
  std::vector<uint32_t> order_;  // empty when records_ is already in order
  StringMap<uint32_t> ids_;
  std::vector<const std::string*> strings_;  // keys of ids_ (stable)
  std::vector<std::vector<std::string>> diagnostics_;
  std::vector<std::string> ids_of_events_;
  std::string empty_;
  Timestamp earliest_{};
};

}  // namespace hlo
