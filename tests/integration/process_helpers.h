// Helpers for tests that run the real program (HLO_BINARY) as a child
// process: run it to completion with its output captured, or start it and
// SIGKILL it; plus the file plumbing those tests share (world files, the
// checkpoint, event lines). Header-only; every test binary that runs the
// program includes it.
#pragma once

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "tests/fakes/temp_dir.h"

extern char** environ;

namespace hlo::testing {

namespace fs = std::filesystem;

// The clock every test passes as --now unless it says otherwise.
inline constexpr char kNow[] = "2026-05-12T12:15:00Z";

inline constexpr const char* kWorldFiles[] = {"deployments.json", "incidents.json", "nodes.json",
                                              "runtime-summary.json", "services.json"};

struct ProcessResult {
  int exit_code = -1;  // -1 when ended by a signal
  int signal = 0;      // the signal that ended it, 0 when it exited
  bool timed_out = false;
  // The child's peak resident set (VmHWM) as last sampled while it ran;
  // only with RunOptions::sample_memory. (wait4's ru_maxrss would not do: a
  // posix_spawn child inherits the parent's high-water mark through vfork.)
  long peak_rss_kb = 0;
  std::string out;
  std::string err;
};

namespace detail {

inline std::vector<char*> Argv(const std::vector<std::string>& args, std::string& program) {
  program = HLO_BINARY;
  std::vector<char*> argv;
  argv.push_back(program.data());
  for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  return argv;
}

inline void Check(int rc, const char* what) {
  if (rc != 0) throw std::runtime_error(std::string(what) + ": " + std::strerror(rc));
}

inline void Decode(int status, ProcessResult* r) {
  if (WIFEXITED(status)) r->exit_code = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) r->signal = WTERMSIG(status);
}

}  // namespace detail

// VmHWM of a running process in KiB; 0 when it cannot be read.
inline long PeakRssKb(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("VmHWM:", 0) == 0) return std::atol(line.c_str() + 6);
  }
  return 0;
}

struct RunOptions {
  // A child still running after this is SIGKILLed and reported as timed_out
  // (a hang is then a failure, not a stuck test run).
  std::chrono::milliseconds timeout = std::chrono::seconds(60);
  bool sample_memory = false;  // fill ProcessResult::peak_rss_kb
};

// Runs the program with `args` (argv[0] excluded), stdin from /dev/null,
// stdout and stderr captured.
inline ProcessResult RunProgram(const std::vector<std::string>& args, RunOptions options = {}) {
  int out_pipe[2], err_pipe[2];
  if (::pipe2(out_pipe, O_CLOEXEC) != 0 || ::pipe2(err_pipe, O_CLOEXEC) != 0) {
    throw std::runtime_error("pipe2 failed");
  }
  posix_spawn_file_actions_t actions;
  detail::Check(posix_spawn_file_actions_init(&actions), "posix_spawn_file_actions_init");
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, out_pipe[1], 1);
  posix_spawn_file_actions_adddup2(&actions, err_pipe[1], 2);
  std::string program;
  std::vector<char*> argv = detail::Argv(args, program);
  pid_t pid = 0;
  const int rc = posix_spawn(&pid, program.c_str(), &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  ::close(out_pipe[1]);
  ::close(err_pipe[1]);
  if (rc != 0) {
    ::close(out_pipe[0]);
    ::close(err_pipe[0]);
    detail::Check(rc, "posix_spawn");
  }

  ProcessResult result;
  const auto deadline = std::chrono::steady_clock::now() + options.timeout;
  pollfd fds[2] = {{out_pipe[0], POLLIN, 0}, {err_pipe[0], POLLIN, 0}};
  std::string* sinks[2] = {&result.out, &result.err};
  int open_fds = 2;
  char buf[1 << 16];
  while (open_fds > 0) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0 && !result.timed_out) {
      result.timed_out = true;
      ::kill(pid, SIGKILL);
    }
    int wait_ms = result.timed_out ? 1000 : static_cast<int>(left.count()) + 1;
    if (options.sample_memory) {
      result.peak_rss_kb = std::max(result.peak_rss_kb, PeakRssKb(pid));
      wait_ms = std::min(wait_ms, 5);
    }
    const int ready = ::poll(fds, 2, wait_ms);
    if (ready < 0 && errno != EINTR) break;
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || (fds[i].revents & (POLLIN | POLLHUP | POLLERR)) == 0) continue;
      const ssize_t n = ::read(fds[i].fd, buf, sizeof buf);
      if (n > 0) {
        sinks[i]->append(buf, static_cast<size_t>(n));
      } else if (n == 0 || errno != EINTR) {
        ::close(fds[i].fd);
        fds[i].fd = -1;
        --open_fds;
      }
    }
  }
  for (const pollfd& p : fds) {
    if (p.fd >= 0) ::close(p.fd);
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  detail::Decode(status, &result);
  return result;
}

// Starts the program with output discarded; the caller kills and reaps it.
inline pid_t Start(const std::vector<std::string>& args) {
  posix_spawn_file_actions_t actions;
  detail::Check(posix_spawn_file_actions_init(&actions), "posix_spawn_file_actions_init");
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
  std::string program;
  std::vector<char*> argv = detail::Argv(args, program);
  pid_t pid = 0;
  const int rc = posix_spawn(&pid, program.c_str(), &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  detail::Check(rc, "posix_spawn");
  return pid;
}

// SIGKILLs `pid` (harmless when it has already exited) and reaps it.
inline ProcessResult KillAndReap(pid_t pid) {
  ::kill(pid, SIGKILL);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  ProcessResult result;
  detail::Decode(status, &result);
  return result;
}

// `once --root ROOT --now NOW` plus `extra`.
inline std::vector<std::string> OnceArgs(const fs::path& root,
                                         const std::vector<std::string>& extra = {},
                                         const std::string& now = kNow) {
  std::vector<std::string> args = {"once", "--root", root.string(), "--now", now};
  args.insert(args.end(), extra.begin(), extra.end());
  return args;
}

inline ProcessResult Once(const fs::path& root, const std::vector<std::string>& extra = {}) {
  return RunProgram(OnceArgs(root, extra));
}

// ---------------------------------------------------------------- files ----

inline std::optional<std::string> ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

inline void WriteFile(const fs::path& path, std::string_view content) {
  fs::create_directories(path.parent_path());
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(content.data(), static_cast<std::streamsize>(content.size()));
  if (!out) throw std::runtime_error("cannot write " + path.string());
}

inline void AppendFile(const fs::path& path, std::string_view content) {
  std::ofstream out(path, std::ios::binary | std::ios::app);
  out.write(content.data(), static_cast<std::streamsize>(content.size()));
  if (!out) throw std::runtime_error("cannot append to " + path.string());
}

// The five world files by name; a missing one reads as "<missing>".
inline std::map<std::string, std::string> WorldFiles(const fs::path& root) {
  std::map<std::string, std::string> files;
  for (const char* name : kWorldFiles) {
    files[name] = ReadFile(root / "world" / name).value_or("<missing>");
  }
  return files;
}

// "" when equal; else where two texts first differ, with a little context
// (world files can be megabytes: never print them whole).
inline std::string FirstDifference(const std::string& a, const std::string& b) {
  if (a == b) return "";
  size_t i = 0;
  while (i < a.size() && i < b.size() && a[i] == b[i]) ++i;
  const size_t from = i > 120 ? i - 120 : 0;
  return "differ at byte " + std::to_string(i) + " (sizes " + std::to_string(a.size()) + " vs " +
         std::to_string(b.size()) + ")\n--- expected ---\n" + a.substr(from, 240) +
         "\n--- actual ---\n" + b.substr(from, 240);
}

// "" when both roots hold byte-identical world files; else what differs.
inline std::string WorldDifference(const fs::path& expected_root, const fs::path& actual_root) {
  const auto expected = WorldFiles(expected_root);
  const auto actual = WorldFiles(actual_root);
  std::string out;
  for (const auto& [name, content] : expected) {
    const std::string diff = FirstDifference(content, actual.at(name));
    if (!diff.empty()) out += name + ": " + diff + "\n";
  }
  return out;
}

inline nlohmann::json ReadJson(const fs::path& path) {
  const std::optional<std::string> text = ReadFile(path);
  if (!text) throw std::runtime_error("cannot read " + path.string());
  return nlohmann::json::parse(*text);
}

inline nlohmann::json Checkpoint(const fs::path& root) {
  return ReadJson(root / "state" / "observer_checkpoint.json");
}

// The replays a checkpoint counts for `reason` (checkpoint, file_rewritten,
// file_shrank, late_event): its `rebuilds_by_reason` holds [reason, n]
// pairs. 0 when the reason is not listed.
inline uint64_t RebuildsFor(const nlohmann::json& checkpoint, std::string_view reason) {
  for (const nlohmann::json& pair : checkpoint.at("rebuilds_by_reason")) {
    if (pair.at(0).get<std::string>() == reason) return pair.at(1).get<uint64_t>();
  }
  return 0;
}

// The sum over every reason of `rebuilds_by_reason`.
inline uint64_t RebuildsByReasonSum(const nlohmann::json& checkpoint) {
  uint64_t sum = 0;
  for (const nlohmann::json& pair : checkpoint.at("rebuilds_by_reason")) {
    sum += pair.at(1).get<uint64_t>();
  }
  return sum;
}

// The events a checkpoint counts as later than --events.max-lateness for
// `file` (a name inside events/): its `late_events` holds [hex of the name,
// n] pairs. 0 when the file is not listed.
inline uint64_t LateEventsFor(const nlohmann::json& checkpoint, std::string_view file) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string hex;
  for (unsigned char c : file) {
    hex += kDigits[c >> 4];
    hex += kDigits[c & 0xf];
  }
  for (const nlohmann::json& pair : checkpoint.at("late_events")) {
    if (pair.at(0).get<std::string>() == hex) return pair.at(1).get<uint64_t>();
  }
  return 0;
}

inline nlohmann::json World(const fs::path& root, const std::string& name) {
  return ReadJson(root / "world" / name);
}

// The lines of state/rejected-events.jsonl, each parsed.
inline std::vector<nlohmann::json> RejectedLines(const fs::path& root) {
  std::vector<nlohmann::json> lines;
  std::istringstream in(ReadFile(root / "state" / "rejected-events.jsonl").value_or(""));
  for (std::string line; std::getline(in, line);) lines.push_back(nlohmann::json::parse(line));
  return lines;
}

// Names starting with '.' directly in `dir` (leftover temporary files).
inline std::set<std::string> HiddenEntries(const fs::path& dir) {
  std::set<std::string> names;
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (!name.empty() && name.front() == '.') names.insert(name);
  }
  return names;
}

// "" when `root` holds what a single clean `once` (same --now, same extra
// flags) over a copy of its events/ gives: the world files and
// state/rejected-events.jsonl byte for byte; else what differs.
inline std::string DifferenceFromCleanRun(const fs::path& root,
                                          const std::vector<std::string>& extra = {},
                                          const std::string& now = kNow,
                                          const fs::path& events = {}) {
  TempDir clean;
  fs::copy(events.empty() ? root / "events" : events, clean.path() / "events",
           fs::copy_options::recursive);
  const ProcessResult r = RunProgram(OnceArgs(clean.path(), extra, now));
  if (r.exit_code != 0) return "clean run failed: " + r.err;
  std::string diff = WorldDifference(clean.path(), root);
  const std::string rejected =
      FirstDifference(ReadFile(clean.path() / "state" / "rejected-events.jsonl").value_or(""),
                      ReadFile(root / "state" / "rejected-events.jsonl").value_or(""));
  if (!rejected.empty()) diff += "rejected-events.jsonl: " + rejected + "\n";
  return diff;
}

// ---------------------------------------------------------------- events ----

// One JSONL line (with its '\n'). Empty node/service are left out; `extra`
// is spliced in as further members, e.g. R"("severity":"warning")".
inline std::string Event(std::string_view timestamp, std::string_view type,
                         std::string_view node = "", std::string_view service = "",
                         std::string_view extra = "") {
  std::string line = "{\"timestamp\":\"";
  line += timestamp;
  line += "\",\"type\":\"";
  line += type;
  line += '"';
  if (!node.empty()) {
    line += ",\"node\":\"";
    line += node;
    line += '"';
  }
  if (!service.empty()) {
    line += ",\"service\":\"";
    line += service;
    line += '"';
  }
  if (!extra.empty()) {
    line += ',';
    line += extra;
  }
  line += "}\n";
  return line;
}

// A time on 2026-05-12 from seconds after midnight UTC.
inline std::string At(int seconds) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "2026-05-12T%02d:%02d:%02dZ", seconds / 3600 % 24,
                seconds / 60 % 60, seconds % 60);
  return buf;
}

// Kinds of line in the generated histories: 0 to kSpecialKinds - 1 are the
// cases of LineOfKind's switch; any other kind is plain heartbeat and
// health-check traffic.
inline constexpr uint64_t kSpecialKinds = 11;

// Line `i` of a generated history, of kind `kind` (see the switch); node,
// service and time vary with i.
inline std::string LineOfKind(uint64_t i, uint64_t kind) {
  static constexpr const char* kNodes[] = {"saturn", "jupiter", "mars", "venus", "pluto"};
  static constexpr const char* kServices[] = {"mosquitto", "nextcloud", "grafana", "restic"};
  const uint64_t h = (i * 2654435761u) ^ (i >> 3);
  const std::string node = kNodes[h % 5];
  const std::string service = kServices[(h / 5) % 4];
  const std::string ts = At(static_cast<int>(i % 86400));
  const std::string dep = "\"correlation_id\":\"dep-" + std::to_string((h / 20) % 40) + "\"";
  switch (kind) {
    case 0: return "{\"timestamp\":\"" + ts + "\",\"type\":\n";  // bad_json
    case 1: return Event(ts, "healthcheck_failed", node, service, "\"severity\":\"warning\"");
    case 2: return Event(ts, "service_unhealthy", node, service, "\"correlation_id\":\"hc-1\"");
    case 3: return Event(ts, "service_recovered", node, service);
    case 4: return Event(ts, "deployment_started", node, service, dep);
    case 5: return Event(ts, "deployment_stage", "", "", dep + ",\"payload\":{\"stage\":\"pull\"}");
    case 6: return Event(ts, "deployment_succeeded", "", "", dep);
    case 7:
      return Event(
          ts, "deployment_failed", "", "",
          dep + ",\"payload\":{\"diagnostics\":[\"deploy-" + std::to_string(i % 7) + ".log\"]}");
    case 8: return Event(ts, "node_down", node);
    case 9: return Event(ts, "healthcheck_passed", node);           // missing_field: no service
    case 10: return Event(ts, "backup_completed", node, "restic");  // unknown type
    default:
      return (h % 3 == 0) ? Event(ts, "healthcheck_passed", node, service)
                          : Event(ts, "node_heartbeat", node);
  }
}

// A large, realistic history: each special kind about 1 line in 50 (about
// one bad line in 25). Line i is the same whatever the history's length.
inline std::string MixedLine(uint64_t i) {
  const uint64_t h = (i * 2654435761u) ^ (i >> 3);
  return LineOfKind(i, (h / 7) % 50);
}

// A short history that still has every kind: they take turns.
inline std::string EveryKindLine(uint64_t i) { return LineOfKind(i, i % (kSpecialKinds + 3)); }

}  // namespace hlo::testing
