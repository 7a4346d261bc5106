#include "exporter/process_stats.h"

#include <unistd.h>

#include <charconv>
#include <fstream>
#include <sstream>
#include <string>
#include <system_error>
#include <vector>

namespace hlo {
namespace {

std::string Slurp(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

bool ToNumber(std::string_view text, uint64_t& out) {
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && end == text.data() + text.size();
}

// The whitespace-separated fields of `text`.
std::vector<std::string_view> Fields(std::string_view text) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && (text[i] == ' ' || text[i] == '\n')) ++i;
    const size_t start = i;
    while (i < text.size() && text[i] != ' ' && text[i] != '\n') ++i;
    if (i > start) out.push_back(text.substr(start, i - start));
  }
  return out;
}

}  // namespace

std::optional<ProcessStats> ParseProcessStats(std::string_view stat, std::string_view proc_stat,
                                              std::string_view limits, uint64_t open_fds,
                                              long ticks_per_second, long page_size) {
  // "pid (comm) state ppid …": comm may hold spaces and parentheses, so the
  // fields are counted from the last ')'. After it, field 3 (state) is the
  // first; utime is field 14, stime 15, starttime 22, vsize 23, rss 24.
  const size_t paren = stat.rfind(')');
  if (paren == std::string_view::npos || ticks_per_second <= 0 || page_size <= 0) {
    return std::nullopt;
  }
  const std::vector<std::string_view> f = Fields(stat.substr(paren + 1));
  auto field = [&](size_t n, uint64_t& out) { return n - 3 < f.size() && ToNumber(f[n - 3], out); };
  uint64_t utime = 0, stime = 0, start = 0, vsize = 0, rss = 0;
  if (!field(14, utime) || !field(15, stime) || !field(22, start) || !field(23, vsize) ||
      !field(24, rss)) {
    return std::nullopt;
  }
  uint64_t boot = 0;
  bool have_boot = false;
  for (size_t at = 0; at < proc_stat.size();) {
    size_t end = proc_stat.find('\n', at);
    if (end == std::string_view::npos) end = proc_stat.size();
    const std::string_view line = proc_stat.substr(at, end - at);
    if (line.starts_with("btime ")) have_boot = ToNumber(line.substr(6), boot);
    at = end + 1;
  }
  if (!have_boot) return std::nullopt;
  ProcessStats s;
  const double ticks = static_cast<double>(ticks_per_second);
  s.cpu_seconds = static_cast<double>(utime + stime) / ticks;
  s.start_time_seconds = static_cast<double>(boot) + static_cast<double>(start) / ticks;
  s.virtual_bytes = vsize;
  s.resident_bytes = rss * static_cast<uint64_t>(page_size);
  s.open_fds = open_fds;
  // "Max open files            1024                 1048576              files"
  const size_t row = limits.find("Max open files");
  if (row != std::string_view::npos) {
    const size_t end = limits.find('\n', row);
    const std::vector<std::string_view> cols =
        Fields(limits.substr(row + 14, end == std::string_view::npos ? end : end - row - 14));
    uint64_t soft = 0;
    if (!cols.empty() && ToNumber(cols[0], soft)) s.max_fds = soft;
  }
  return s;
}

std::optional<ProcessStats> ReadProcessStats(const std::filesystem::path& proc) {
  const std::filesystem::path self = proc / "self";
  std::error_code ec;
  uint64_t fds = 0;
  for (std::filesystem::directory_iterator it(self / "fd", ec), end; !ec && it != end;
       it.increment(ec)) {
    ++fds;
  }
  if (fds > 0) --fds;  // the descriptor the listing itself holds open
  return ParseProcessStats(Slurp(self / "stat"), Slurp(proc / "stat"), Slurp(self / "limits"), fds,
                           ::sysconf(_SC_CLK_TCK), ::sysconf(_SC_PAGESIZE));
}

}  // namespace hlo
