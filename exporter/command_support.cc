#include "exporter/command_support.h"

#include <chrono>
#include <system_error>

namespace hlo {

Timestamp SystemNow() {
  const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                      std::chrono::system_clock::now().time_since_epoch())
                      .count();
  return Timestamp{ns / 1'000'000'000, static_cast<int32_t>(ns % 1'000'000'000)};
}

Timestamp ConfiguredNow(const Config& config) { return config.now ? *config.now : SystemNow(); }

std::string RootWarning(const std::filesystem::path& root) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::is_directory(root, ec) || fs::exists(root / "events", ec)) return "";
  size_t count = 0;
  std::string example;
  for (fs::directory_iterator it(root, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string ext = it->path().extension().string();
    if (ext != ".json" && ext != ".jsonl" && ext != ".ndjson") continue;
    if (!it->is_regular_file(ec)) continue;
    if (count++ == 0) example = it->path().filename().string();
  }
  if (count == 0) return "";
  const fs::path absolute = fs::absolute(root, ec).lexically_normal();
  const fs::path parent = absolute.has_filename() ? absolute.parent_path()
                                                  : absolute.parent_path().parent_path();
  std::string hint = "--root must be the folder that holds events/";
  if (absolute.filename() == "events" || absolute.parent_path().filename() == "events") {
    hint += ": here, --root " + parent.string();
  } else {
    hint += " (move these files into " + (absolute / "events").string() + ")";
  }
  return "WARNING: " + root.string() + " has no events/ folder, but holds " +
         std::to_string(count) + " event file(s) (" + example +
         (count > 1 ? ", ..." : "") + ") that will NOT be read; " + hint;
}

}  // namespace hlo
