#include "observer/event_id_log.h"

#include <algorithm>

#include "observer/rejected_log.h"

namespace hlo {

bool LoadEventIdLog(Env& env, const std::filesystem::path& path, const EventIdLogState& state,
                    StringSet* ids, std::string* why) {
  ids->clear();
  if (state.bytes == 0 && state.count == 0) {
    // Nothing was logged; whatever is there was written after the checkpoint.
    if (env.Exists(path) && !env.TruncateTo(path, 0, why)) return false;
    return true;
  }
  if (env.FileSize(path) < state.bytes) {
    *why = "state/event-ids.log is shorter than the checkpoint says";
    return false;
  }
  std::optional<std::string> log = env.ReadWholeFile(path, why);
  if (!log) return false;
  const std::string_view logged = std::string_view(*log).substr(0, state.bytes);
  if (Fnv1a(logged) != state.hash) {
    *why = "state/event-ids.log is not the one the checkpoint was written with";
    return false;
  }
  size_t start = 0;
  while (start < logged.size()) {
    size_t end = logged.find('\n', start);
    if (end == std::string_view::npos) end = logged.size();
    if (end > start) ids->emplace(logged.substr(start, end - start));
    start = end + 1;
  }
  if (ids->size() != state.count) {
    *why = "state/event-ids.log holds " + std::to_string(ids->size()) + " ids, the checkpoint " +
           std::to_string(state.count);
    return false;
  }
  return log->size() == state.bytes || env.TruncateTo(path, state.bytes, why);
}

bool WriteEventIdLog(Env& env, const std::filesystem::path& path, bool rewrite,
                     const StringSet& all, const std::vector<std::string>& added,
                     EventIdLogState& state, std::string* error) {
  std::string text;
  if (rewrite) {
    std::vector<std::string_view> sorted(all.begin(), all.end());
    std::sort(sorted.begin(), sorted.end());
    for (std::string_view id : sorted) text.append(id).append(1, '\n');
    if (!env.WriteFileAtomic(path, text, error)) return false;
    state = {text.size(), all.size(), Fnv1a(text)};
    return true;
  }
  for (const std::string& id : added) text.append(id).append(1, '\n');
  if (!text.empty() && !env.AppendAndSync(path, text, error)) {
    env.TruncateTo(path, state.bytes, nullptr);  // the retry appends them all again
    return false;
  }
  state.bytes += text.size();
  state.hash = Fnv1a(text, state.hash);
  state.count = all.size();
  return true;
}

}  // namespace hlo
