#include "observer/event_queue.h"

#include <algorithm>

namespace hlo {

uint32_t EventQueue::AddFile(const std::string& name) {
  files_.push_back(name);
  return static_cast<uint32_t>(files_.size() - 1);
}

uint32_t EventQueue::Intern(const std::string& s) {
  if (s.empty()) return 0;
  if (auto it = ids_.find(std::string_view(s)); it != ids_.end()) return it->second;
  const uint32_t id = static_cast<uint32_t>(strings_.size() + 1);
  auto [it, inserted] = ids_.emplace(s, id);
  strings_.push_back(&it->first);
  return id;
}

void EventQueue::Push(uint32_t file, uint64_t line, const Event& event) {
  Record r;
  r.timestamp = event.timestamp;
  r.line = line;
  r.file = file;
  r.node = Intern(event.node);
  r.service = Intern(event.service);
  r.correlation_id = Intern(event.correlation_id);
  r.stage = Intern(event.stage);
  if (!event.diagnostics.empty()) {
    diagnostics_.push_back(event.diagnostics);
    r.diagnostics = static_cast<uint32_t>(diagnostics_.size());
  }
  if (!event.id.empty()) {
    ids_of_events_.push_back(event.id);
    r.id = static_cast<uint32_t>(ids_of_events_.size());
  }
  r.type = event.type;
  r.severity = event.severity ? static_cast<int8_t>(*event.severity) : int8_t{-1};
  if (records_.empty() || r.timestamp < earliest_) earliest_ = r.timestamp;
  records_.push_back(r);
}

void EventQueue::Sort() {
  order_.clear();
  // Records are in (file name, line) order: a stable sort by timestamp gives
  // the processing order. Most histories are already in it (one writer, or
  // files named by time): one pass tells.
  const bool sorted = std::is_sorted(
      records_.begin(), records_.end(),
      [](const Record& a, const Record& b) { return a.timestamp < b.timestamp; });
  if (sorted) return;
  struct Slot {
    Timestamp timestamp;
    uint32_t index;
  };
  std::vector<Slot> slots(records_.size());
  for (size_t i = 0; i < records_.size(); ++i) {
    slots[i] = {records_[i].timestamp, static_cast<uint32_t>(i)};
  }
  // The index breaks ties, so an unstable sort gives the stable order.
  std::sort(slots.begin(), slots.end(), [](const Slot& a, const Slot& b) {
    return a.timestamp < b.timestamp || (a.timestamp == b.timestamp && a.index < b.index);
  });
  order_.resize(slots.size());
  for (size_t i = 0; i < slots.size(); ++i) order_[i] = slots[i].index;
}

EventQueue EventQueue::Rest(size_t from) const {
  EventQueue rest;
  rest.files_ = files_;
  Event event;
  for (size_t i = from; i < size(); ++i) {
    Get(i, &event);
    rest.Push(At(i).file, At(i).line, event);
  }
  return rest;
}

OrderKey EventQueue::Key(size_t i) const {
  const Record& r = At(i);
  return {r.timestamp, files_[r.file], r.line};
}

void EventQueue::Get(size_t i, Event* out) const {
  const Record& r = At(i);
  out->timestamp = r.timestamp;
  out->type = r.type;
  out->node.assign(String(r.node));
  out->service.assign(String(r.service));
  out->correlation_id.assign(String(r.correlation_id));
  out->stage.assign(String(r.stage));
  out->message.clear();
  if (r.id == 0) {
    out->id.clear();
  } else {
    out->id.assign(ids_of_events_[r.id - 1]);
  }
  if (r.diagnostics == 0) {
    out->diagnostics.clear();
  } else {
    out->diagnostics = diagnostics_[r.diagnostics - 1];
  }
  out->severity = r.severity < 0 ? std::nullopt
                                 : std::optional<Severity>(static_cast<Severity>(r.severity));
}

}  // namespace hlo
