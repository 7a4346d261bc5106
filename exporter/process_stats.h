// The standard process metrics every exporter has (Prometheus client
// libraries' "process collector"), read from /proc for this process.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string_view>

namespace hlo {

struct ProcessStats {
  double cpu_seconds = 0;         // user + system time
  uint64_t resident_bytes = 0;    // RSS
  uint64_t virtual_bytes = 0;     // VSZ
  uint64_t open_fds = 0;
  uint64_t max_fds = 0;           // the soft limit ("Max open files")
  double start_time_seconds = 0;  // Unix time the process started
  friend bool operator==(const ProcessStats&, const ProcessStats&) = default;
};

// Pure: the figures from the text of /proc/<pid>/stat, /proc/stat (its
// btime line), /proc/<pid>/limits and the number of open descriptors, with
// the clock tick and page size. nullopt when `stat` or `proc_stat` does not
// parse.
std::optional<ProcessStats> ParseProcessStats(std::string_view stat, std::string_view proc_stat,
                                              std::string_view limits, uint64_t open_fds,
                                              long ticks_per_second, long page_size);

// This process's figures now; nullopt where /proc is not there.
std::optional<ProcessStats> ReadProcessStats(const std::filesystem::path& proc = "/proc");

}  // namespace hlo
