#include "observer/rejected_log.h"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <tuple>

namespace hlo {
namespace detail {
namespace {

using Key = std::pair<std::string, uint64_t>;

Key KeyOf(const RejectedEvent& r) { return {r.file, r.line}; }

// The (file, line) of a line the log holds; ("", 0) for one that does not
// parse (it sorts first: a hand edit should not lose other lines).
Key KeyOfLine(std::string_view line) {
  const nlohmann::json j = nlohmann::json::parse(line, nullptr, false);
  if (j.is_object() && j.contains("file") && j["file"].is_string() && j.contains("line") &&
      j["line"].is_number_unsigned()) {
    return {j["file"].get<std::string>(), j["line"].get<uint64_t>()};
  }
  return {"", 0};
}

// The log's first `bytes` bytes with `pending` (sorted) merged in.
std::string Merged(std::string_view old, const std::vector<RejectedEvent>& pending,
                   std::optional<Key>* last) {
  std::string merged;
  size_t p = 0;
  while (!old.empty()) {
    const size_t nl = old.find('\n');
    const std::string_view line = old.substr(0, nl == std::string_view::npos ? old.size() : nl + 1);
    old.remove_prefix(line.size());
    const Key key = KeyOfLine(line);
    while (p < pending.size() && KeyOf(pending[p]) < key) merged += RejectedLine(pending[p++]);
    merged += line;
    if (!*last || **last < key) *last = key;
  }
  while (p < pending.size()) merged += RejectedLine(pending[p++]);
  return merged;
}

}  // namespace
}  // namespace detail

uint64_t Fnv1a(std::string_view bytes, uint64_t hash) {
  for (const unsigned char c : bytes) {
    hash ^= c;
    hash *= 1099511628211ull;
  }
  return hash;
}

std::string RejectedLine(const RejectedEvent& r) {
  const nlohmann::json j = {{"file", r.file},
                            {"line", r.line},
                            {"reason", RejectReasonName(r.reason)},
                            {"detail", r.detail},
                            {"raw", r.raw}};
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

bool CheckRejectedLog(Env& env, const std::filesystem::path& path, const RejectedLogState& state,
                      RejectedLogCheck* check, std::string* error) {
  if (env.FileSize(path) < state.bytes) {
    *check = RejectedLogCheck::kShorter;
    return true;
  }
  // A log replaced after the checkpoint (merged, or after a replay) is not
  // the one it describes, even when it is as long.
  std::optional<std::string> log = env.ReadWholeFile(path, nullptr);
  const std::string_view logged =
      log ? std::string_view(*log).substr(0, state.bytes) : std::string_view();
  if (Fnv1a(logged) != state.hash) {
    *check = RejectedLogCheck::kOther;
    return true;
  }
  *check = RejectedLogCheck::kOk;
  return env.TruncateTo(path, state.bytes, error);
}

bool WriteRejectedLog(Env& env, const std::filesystem::path& path,
                      std::vector<RejectedEvent>& pending, bool rewrite, RejectedLogState& state,
                      std::string* error) {
  std::sort(pending.begin(), pending.end(), [](const RejectedEvent& a, const RejectedEvent& b) {
    return std::tie(a.file, a.line) < std::tie(b.file, b.line);
  });
  std::optional<detail::Key> last = state.last;
  if (!pending.empty()) last = detail::KeyOf(pending.back());
  const bool append = !rewrite && (pending.empty() || !state.last ||
                                   *state.last < detail::KeyOf(pending.front()));
  if (append) {
    std::string text;
    for (const RejectedEvent& r : pending) text += RejectedLine(r);
    if (!text.empty() && !env.AppendAndSync(path, text, error)) {
      // A partial append (a full disk) must not stay: the retry appends the
      // whole batch again.
      env.TruncateTo(path, state.bytes, nullptr);
      return false;
    }
    state.bytes += text.size();
    state.hash = Fnv1a(text, state.hash);
    state.last = last;
    return true;
  }
  std::string text;
  if (rewrite) {
    for (const RejectedEvent& r : pending) text += RejectedLine(r);
  } else {
    // Rejections that belong among those written: merge, replace whole.
    const std::optional<std::string> old = env.ReadWholeFile(path, nullptr);
    const std::string_view kept =
        old ? std::string_view(*old).substr(0, state.bytes) : std::string_view();
    text = detail::Merged(kept, pending, &last);
  }
  if (!env.WriteFileAtomic(path, text, error)) return false;
  state.bytes = text.size();
  state.hash = Fnv1a(text);
  state.last = last;
  return true;
}

}  // namespace hlo
