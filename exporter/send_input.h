// The input of `homelab-observer send`: a JSON object, a JSON array of
// objects, or NDJSON (one object per line), told apart by their shape; each
// event becomes one compact JSON line carrying an `id`, ready to be spooled
// or posted. Pure: no files, no clock (the id generator is passed in).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace hlo {

struct SendEvent {
  uint64_t line = 0;  // the input's line (NDJSON) or 1-based index (array); 1 for one object
  std::string json;   // one line of compact JSON, no newline, with an "id"
};

struct SendInputProblem {
  uint64_t line = 0;
  std::string reason;  // bad_json, bad_encoding or not_object, as CONTRACT §8 names them
  std::string detail;
};

struct SendInput {
  std::vector<SendEvent> events;
  // What could not even be read as an object; never sent (the observer
  // would reject it the same way).
  std::vector<SendInputProblem> problems;
  // "json" (one object), "array" or "ndjson".
  std::string format;
};

// Parses `text`. Input whose first non-blank byte is '[' is an array; one
// that parses whole as a single JSON object is that object; anything else
// is NDJSON (blank lines skipped, as in events/). An event without a
// non-empty string `id` gets `new_id()`; one with an id keeps it, so that
// re-sending the same input (or a spool) never applies an event twice.
SendInput ParseSendInput(std::string_view text, const std::function<std::string()>& new_id);

// "<hostname>-<32 hex digits from a CSPRNG>": unique across hosts and runs.
std::string RandomEventId();

}  // namespace hlo
