#include "observer/stage_markers.h"

#include "observer/event_parser.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <optional>
#include <string_view>
#include <system_error>

#include <nlohmann/json.hpp>

namespace hlo {
namespace detail {
namespace {

namespace fs = std::filesystem;

// Markers are tiny ("{"completed_at": "…"}" or empty). Anything larger is not
// a marker written by our tooling, and reading it whole would let one stray
// file stall every cycle; it falls back to the mtime.
constexpr size_t kMaxMarkerBytes = 64 * 1024;

// IsValidUtf8 is the event parser's (observer/event_parser.h): one
// definition of well-formed UTF-8 for events, inventory and markers alike.

// A folder becomes a node, so its name must be one an event could carry;
// otherwise it could not be told apart in nodes.json or the metrics.
bool IsNodeName(std::string_view name) {
  if (name.empty() || name.size() > kMaxNameBytes || !IsValidUtf8(name)) return false;
  return ForbiddenNameByte(name) == std::string_view::npos;  // a folder name has no '/'
}

bool IsHidden(const std::string& name) { return name.empty() || name[0] == '.'; }

// The marker's content, or nullopt when it cannot be opened, is not a
// regular file any more (raced with a rename), or exceeds kMaxMarkerBytes.
std::optional<std::string> ReadSmallFile(const fs::path& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  std::optional<std::string> content;
  struct stat st {};
  if (::fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
      static_cast<uintmax_t>(st.st_size) <= kMaxMarkerBytes) {
    std::string data(kMaxMarkerBytes + 1, '\0');
    size_t got = 0;
    while (got < data.size()) {
      const ssize_t n = ::read(fd, data.data() + got, data.size() - got);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      got += static_cast<size_t>(n);
    }
    if (got <= kMaxMarkerBytes) {  // it may have grown since fstat
      data.resize(got);
      content = std::move(data);
    }
  }
  ::close(fd);
  return content;
}

// `{"completed_at": "<RFC 3339>"}` → that instant; anything else → nullopt.
std::optional<Timestamp> CompletedAtFromContent(std::string_view content) {
  const nlohmann::json doc = nlohmann::json::parse(content, nullptr, /*allow_exceptions=*/false);
  if (!doc.is_object()) return std::nullopt;
  const auto it = doc.find("completed_at");
  if (it == doc.end() || !it->is_string()) return std::nullopt;
  return ParseTimestamp(it->get_ref<const std::string&>());
}

std::vector<StageMarker> LoadNodeMarkers(const fs::path& dir) {
  std::vector<StageMarker> markers;
  std::error_code ec;
  fs::directory_iterator it(dir, ec), end;
  for (; !ec && it != end; it.increment(ec)) {
    std::string name = it->path().filename().string();
    if (IsHidden(name) || !IsValidUtf8(name)) continue;
    // lstat: a symlink is never a marker (it could point anywhere), and
    // st_mtim carries the nanoseconds that fs::last_write_time may round.
    struct stat st {};
    if (::lstat(it->path().c_str(), &st) != 0 || !S_ISREG(st.st_mode)) continue;
    StageMarker marker{std::move(name), Timestamp{st.st_mtim.tv_sec,
                                                  static_cast<int32_t>(st.st_mtim.tv_nsec)}};
    if (std::optional<std::string> content = ReadSmallFile(it->path())) {
      if (std::optional<Timestamp> at = CompletedAtFromContent(*content)) {
        marker.completed_at = *at;
      }
    }
    markers.push_back(std::move(marker));
  }
  // std::string compares as unsigned char: raw byte order of the names.
  std::sort(markers.begin(), markers.end(),
            [](const StageMarker& a, const StageMarker& b) { return a.name < b.name; });
  return markers;
}

}  // namespace
}  // namespace detail

StageMarkers LoadStageMarkers(const std::filesystem::path& stages_dir) {
  StageMarkers result;
  try {
    std::error_code ec;
    std::filesystem::directory_iterator it(stages_dir, ec), end;
    for (; !ec && it != end; it.increment(ec)) {
      std::string name = it->path().filename().string();
      if (detail::IsHidden(name) || !detail::IsNodeName(name)) continue;
      // Only real folders: a symlinked one would let markers come from
      // anywhere on the machine.
      struct stat st {};
      if (::lstat(it->path().c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) continue;
      result[name] = detail::LoadNodeMarkers(it->path());
    }
  } catch (const std::exception&) {
    // Only allocation can throw here; whatever was gathered is still useful.
  }
  return result;
}

}  // namespace hlo
