// Issue 10, CONTRACT §4 and §6: events apply in event-time order —
// (timestamp as a UTC instant to the nanosecond, file name bytes, line or
// array index) — so the world is a function of the *set* of accepted events.
// With the same --now and flags, the world files and
// state/rejected-events.jsonl end byte-identical to one `once` over the final
// files, whatever order the files and lines arrived in and however `once` and
// `run` were interleaved and SIGKILLed.
//
// A seeded property test. Each case draws a small homelab history: 1–20
// files of mixed shapes (per-host `2026-12-04-jupiter.jsonl`, per-day
// `2026-12-03.jsonl`, `.ndjson`, `.json` drops renamed into place holding an
// object or an array), heartbeats, health checks, incidents, recoveries with
// and without node, deployments whose events are spread over several files,
// node_down, maintenance_started/_ended (node-wide and for one service, and
// now and then one without a node, rejected), unknown types and invalid
// lines; in about a third of the seeds one service flaps — a share of the
// events are health checks of one node/service alternating failed and passed
// — and some seeds pass --flap.high/--flap.low (low enough that flapping
// comes and goes) and --service-stale-after (CONTRACT §9). Timestamps come in mixed
// spellings (offsets, fractions, lower case) and follow a per-seed spread, so
// both reorderings within --events.max-lateness and arrivals beyond it
// happen; lines within a file need not be in time order, and some seeds pass
// a small (30s, 0s) or a wide (24h) max-lateness (under which a case
// without kills must count no replay at all). The final contents are
// delivered in a random interleaving: appends of random chunks (sometimes
// cut mid-line), .json drops written under a hidden name and renamed later,
// `once` runs at random steps, and in about one seed in five `run` daemons
// SIGKILLed after a random short while (and now and then a SIGKILLed `once`).
// At the end one more `once`, compared byte for byte with a fresh root that
// holds only the final files after a single `once`. Some intermediate `once`
// results are compared the same way with the files present at that moment.
// And the order itself is checked: the world must equal that of one `once`
// over a single file holding the case's accepted events sorted by (instant,
// file name, line) — the test's own model of the rule — followed by its
// rejected lines (the runtime summary compared without its `checkpoint`).
//
// On a mismatch the failure names the seed, the case, a unified diff, and a
// copy of the failing root with its steps (steps.txt) left under /tmp.
// Replay one seed with
//   HLO_EVENT_TIME_SEED=<seed> integration_tests --gtest_filter='EventTimePropertyReplay.*'
// (HLO_EVENT_TIME_KEEP=1 keeps the root of a passing seed as well.)
// HLO_EVENT_TIME_SEEDS_PER_BLOCK raises the number of seeds per block (soak).
// 200 seeds in 8 blocks take about 5–10 s a block in Release; a sanitizer
// build caps the `once` runs of a case at 8 (instead of about 20) to stay
// within 20–30 s a block.
#include <gtest/gtest.h>
#include <time.h>

#include <deque>
#include <nlohmann/json.hpp>
#include <random>

#include "tests/fakes/temp_dir.h"
#include "tests/integration/daemon_helpers.h"
#include "tests/integration/process_helpers.h"

namespace hlo {
namespace {

namespace fs = std::filesystem;
using testing::Clock;
using testing::Millis;
using ojson = nlohmann::ordered_json;

// The fixed clock of every run in this file.
constexpr char kPropertyNow[] = "2026-12-04T12:00:00Z";
// 2026-12-04T10:00:00Z, where each history's "true" time starts.
constexpr int64_t kBaseSeconds = 1796378400;

// 8 blocks of 25 seeds: 200 cases, in test cases ctest can run in parallel.
constexpr int kBlocks = 8;
constexpr int kSeedsPerBlock = 25;
constexpr uint64_t kFirstSeed = 1;

constexpr const char* kHosts[] = {"jupiter", "saturn", "mars", "venus", "pluto", "ceres"};
constexpr const char* kServices[] = {"nextcloud", "grafana", "mosquitto", "jellyfin"};

// True when the program under test was built with AddressSanitizer: each run
// then costs several times more, and cases do fewer `once` runs.
bool SanitizedBinary() {
  static const bool sanitized =
      testing::ReadFile(HLO_BINARY).value_or("").find("__asan_init") != std::string::npos;
  return sanitized;
}

class Rng {
 public:
  explicit Rng(uint64_t seed) : gen_(seed) {}
  int64_t Int(int64_t lo, int64_t hi) {
    return std::uniform_int_distribution<int64_t>(lo, hi)(gen_);
  }
  bool Chance(double p) { return std::uniform_real_distribution<double>(0, 1)(gen_) < p; }
  template <class T, size_t N>
  const T& Pick(const T (&a)[N]) {
    return a[Int(0, static_cast<int64_t>(N) - 1)];
  }
  template <class T>
  const T& Pick(const std::vector<T>& v) {
    return v[Int(0, static_cast<int64_t>(v.size()) - 1)];
  }
  std::mt19937_64& gen() { return gen_; }

 private:
  std::mt19937_64 gen_;
};

// ------------------------------------------------------------- the case ----

// What a seed decides about its case.
struct Params {
  int files = 1;
  int events = 10;
  int64_t span_s = 600;   // the history's true times cover this much
  int64_t jitter_s = 0;   // each timestamp moves by up to ± this
  double outliers = 0;    // share of events dated 5m..90m before their place
  int64_t grid_s = 1;     // timestamps on multiples of this (ties across files)
  double fractions = 0;   // share of timestamps with a fraction of a second
  double spellings = 0;   // share of timestamps with an offset, lower case, zeros
  double invalid = 0.06;  // share of invalid lines
  double ids = 0;         // share of events with an `id` (from a pool of 4: duplicates)
  int deployments = 2;    // correlation ids c1..cN
  int skewed_host = -1;   // a host whose clock is behind by skew_s, or -1
  int64_t skew_s = 0;
  std::vector<std::string> flags;      // for every command
  std::vector<std::string> run_flags;  // for `run` only
  bool wide_window = false;            // max-lateness covers the whole history
  bool daemons = false;                // run and SIGKILL `run`
  double once_rate = 0.2;              // chance of a `once` after a step
  int max_line_chunk = 3;              // lines per append
  double cut_mid_line = 0.15;          // chance an append ends mid-line
  double sticky = 0.3;                 // chance the next step writes to the same file
  bool killed_onces = false;           // SIGKILL some `once` runs too
  // A flapping service (CONTRACT §9): this share of the events are health
  // checks of flap_node/flap_service, alternating failed and passed.
  double flap_share = 0;
  std::string flap_node, flap_service;
};

// A JSONL line or .json array element, without '\n'.
struct Line {
  std::string text;
  bool valid = false;  // an event the observer accepts; then its instant:
  int64_t seconds = 0;
  int32_t nanos = 0;
};

struct FileSpec {
  std::string name;
  std::string host;  // for per-host names: most events name this node
  bool json = false;
  bool broken = false;      // a .json that does not parse: one rejection, no event
  std::vector<Line> lines;  // in file order
  std::string content;      // the final bytes
};

// One write to events/ (or a `.json` coming into place).
struct Action {
  enum Kind { kAppend, kWriteTemp, kRename } kind = kAppend;
  size_t file = 0;
  std::string bytes;
};

struct Case {
  uint64_t seed = 0;
  Params params;
  std::vector<FileSpec> files;
  std::vector<std::deque<Action>> actions;  // per file, in order
};

Params DrawParams(Rng& rng) {
  Params p;
  p.files = static_cast<int>(rng.Chance(0.3) ? rng.Int(1, 4) : rng.Int(1, 20));
  p.events =
      static_cast<int>(std::min<int64_t>(160, rng.Int(std::max(8, 3 * p.files), 40 + 8 * p.files)));
  p.span_s = rng.Pick({120, 600, 1800, 7200});
  p.jitter_s = rng.Pick({0, 3, 30, 200, 600});
  p.outliers = rng.Pick({0.0, 0.0, 0.03, 0.1});
  p.grid_s = rng.Pick({1, 1, 10, 60});
  p.fractions = rng.Pick({0.0, 0.0, 0.15, 0.5});
  p.spellings = rng.Pick({0.0, 0.1, 0.3});
  p.invalid = rng.Pick({0.0, 0.05, 0.1});
  p.ids = rng.Pick({0.0, 0.0, 0.0, 0.08});
  p.deployments = static_cast<int>(rng.Int(1, 4));
  if (rng.Chance(0.15)) {
    p.skewed_host = static_cast<int>(rng.Int(0, 5));
    p.skew_s = rng.Int(400, 3600);
  }
  switch (rng.Int(0, 9)) {
    case 0:
    case 1:
      p.flags = {"--events.max-lateness", "30s"};
      break;
    case 2:
      p.flags = {"--events.max-lateness", "0s"};
      break;
    case 3:
      p.flags = {"--events.max-lateness", "1m"};
      break;
    case 4:
      p.flags = {"--events.max-lateness", "24h"};
      p.wide_window = true;
      break;
    default:
      break;  // the default, 5m
  }
  p.daemons = rng.Chance(0.2);
  if (p.daemons && rng.Chance(0.5)) p.run_flags = {"--events.replay-min-interval", "1s"};
  p.once_rate = rng.Pick({0.05, 0.2, 0.5, 1.0});
  p.max_line_chunk = static_cast<int>(rng.Pick({1, 3, 8}));
  p.cut_mid_line = rng.Pick({0.0, 0.15, 0.4});
  p.sticky = rng.Pick({0.0, 0.3, 0.8});
  p.killed_onces = rng.Chance(0.2);
  if (rng.Chance(0.35)) {
    p.flap_share = rng.Pick({0.25, 0.4, 0.6});
    p.flap_node = rng.Pick(kHosts);
    p.flap_service = rng.Pick(kServices);
  }
  if (rng.Chance(0.3)) {
    const bool low = rng.Chance(0.5);
    p.flags.insert(p.flags.end(), {"--flap.high", low ? "8" : "40", "--flap.low", low ? "4" : "25"});
  }
  if (rng.Chance(0.2)) p.flags.insert(p.flags.end(), {"--service-stale-after", "20m"});
  return p;
}

// `seconds.nanos` as an RFC 3339 timestamp; with `vary`, in another spelling
// of the same instant (an offset, lower-case t/z, trailing zeros).
std::string RenderTime(Rng& rng, int64_t seconds, int32_t nanos, bool vary) {
  const int style = vary ? static_cast<int>(rng.Int(1, 4)) : 0;
  int offset_min = 0;
  if (style == 2) offset_min = rng.Pick({60, 330, -480, 0, 840, -150});
  const time_t local = static_cast<time_t>(seconds + offset_min * 60);
  tm t{};
  gmtime_r(&local, &t);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02d%c%02d:%02d:%02d", t.tm_year + 1900, t.tm_mon + 1,
                t.tm_mday, style == 1 ? 't' : 'T', t.tm_hour, t.tm_min, t.tm_sec);
  std::string out = buf;
  if (nanos != 0) {
    char frac[16];
    std::snprintf(frac, sizeof frac, ".%09d", nanos);
    std::string f = frac;
    if (style != 3) {
      while (f.back() == '0') f.pop_back();
    }
    out += f;
  } else if (style == 3) {
    out += rng.Chance(0.5) ? ".0" : ".000000000";
  }
  if (style == 2) {
    const int a = std::abs(offset_min);
    std::snprintf(buf, sizeof buf, "%c%02d:%02d", offset_min < 0 ? '-' : '+', a / 60, a % 60);
    out += buf;
  } else {
    out += style == 1 ? 'z' : 'Z';
  }
  return out;
}

// One event (or invalid line) as JSON text without '\n'; *valid tells
// which. `in_array`: an element of a .json array (no bad_json there: it
// would reject the file). `*flips` counts the flapping service's checks so
// far, which alternate failed and passed.
std::string DrawEvent(Rng& rng, const Params& p, const std::string& ts, const std::string& host,
                      bool in_array, bool* valid, int* flips) {
  *valid = false;
  const std::string node = !host.empty() && rng.Chance(0.8) ? host : rng.Pick(kHosts);
  const std::string service = rng.Pick(kServices);
  const std::string corr = "c" + std::to_string(rng.Int(1, p.deployments));
  if (rng.Chance(p.invalid)) {
    switch (rng.Int(in_array ? 1 : 0, 6)) {
      case 0:  // bad_json
        return R"({"timestamp":")" + ts + R"(","type":"node_heartbeat","node":)";
      case 1:  // missing_field: no service, or a maintenance event without node
        if (rng.Chance(0.3)) {
          return ojson{{"timestamp", ts}, {"type", "maintenance_started"}, {"service", service}}
              .dump();
        }
        return ojson{{"timestamp", ts}, {"type", "healthcheck_passed"}, {"node", node}}.dump();
      case 2:  // bad_timestamp
        return ojson{
            {"timestamp", "2026-12-04 10:00:00Z"}, {"type", "node_heartbeat"}, {"node", node}}
            .dump();
      case 3:  // bad_severity
        return ojson{{"timestamp", ts},
                     {"type", "healthcheck_failed"},
                     {"node", node},
                     {"service", service},
                     {"severity", "high"}}
            .dump();
      case 4:  // mistyped_field
        return R"({"timestamp":")" + ts + R"(","type":"node_heartbeat","node":42})";
      case 5:  // not_object
        return in_array ? R"("not an event")" : R"(["node_heartbeat"])";
      default:  // bad_name
        return ojson{{"timestamp", ts}, {"type", "node_heartbeat"}, {"node", node + "/eth0"}}
            .dump();
    }
  }
  *valid = true;
  ojson e;
  e["timestamp"] = ts;
  if (rng.Chance(p.flap_share)) {
    e["type"] = (*flips)++ % 2 == 0 ? "healthcheck_failed" : "healthcheck_passed";
    e["node"] = p.flap_node;
    e["service"] = p.flap_service;
    if (rng.Chance(0.1)) e["type"] = rng.Chance(0.5) ? "service_unhealthy" : "service_recovered";
    return e.dump();
  }
  static constexpr const char* kSeverities[] = {"", "info", "warning", "error", "critical"};
  const int64_t kind = rng.Int(0, 99);
  auto failure = [&](const char* type) {
    e["type"] = type;
    e["node"] = node;
    e["service"] = service;
    const std::string sev = rng.Pick(kSeverities);
    if (!sev.empty()) e["severity"] = sev;
    if (rng.Chance(0.1)) e["correlation_id"] = corr;
  };
  if (kind < 18) {
    e["type"] = "node_heartbeat";
    e["node"] = node;
  } else if (kind < 25) {  // maintenance: node-wide, or of one service
    e["type"] = rng.Chance(0.5) ? "maintenance_started" : "maintenance_ended";
    e["node"] = node;
    if (kind >= 22) e["service"] = service;
  } else if (kind < 40) {
    e["type"] = "healthcheck_passed";
    e["node"] = node;
    e["service"] = service;
  } else if (kind < 50) {
    failure("healthcheck_failed");
    if (rng.Chance(0.3)) e["message"] = "GET /health took 9.8s — \"slow\"";
  } else if (kind < 57) {
    failure("service_unhealthy");
  } else if (kind < 63) {
    e["type"] = "service_recovered";
    e["node"] = node;
    e["service"] = service;
  } else if (kind < 67) {
    e["type"] = "service_recovered";
    e["service"] = service;
  } else if (kind < 74) {
    e["type"] = "deployment_started";
    e["correlation_id"] = corr;
    if (rng.Chance(0.8)) e["node"] = node;
    if (rng.Chance(0.8)) e["service"] = service;
  } else if (kind < 80) {
    e["type"] = "deployment_stage";
    e["correlation_id"] = corr;
    e["payload"] = {{"stage", rng.Pick({"pull", "migrate", "restart"})}};
  } else if (kind < 85) {
    e["type"] = "deployment_succeeded";
    e["correlation_id"] = corr;
    if (rng.Chance(0.3)) e["node"] = node;
  } else if (kind < 90) {
    e["type"] = "deployment_failed";
    e["correlation_id"] = corr;
    if (rng.Chance(0.3)) e["service"] = service;
    if (rng.Chance(0.7)) {
      e["payload"] = {
          {"diagnostics", ojson::array({"deploy-" + corr + ".log", "../../etc/passwd"})}};
    }
    const std::string sev = rng.Pick(kSeverities);
    if (!sev.empty()) e["severity"] = sev;
  } else if (kind < 96) {
    e["type"] = "node_down";
    e["node"] = node;
  } else {
    e["type"] = "backup_completed";  // unknown type
    e["node"] = node;
    e["service"] = "restic";
  }
  if (rng.Chance(p.ids)) e["id"] = "ev-" + std::to_string(rng.Int(1, 4));
  return e.dump();
}

std::string DrawFileName(Rng& rng, std::string* host) {
  const std::string day = rng.Chance(0.7) ? "2026-12-04" : "2026-12-03";
  host->clear();
  switch (rng.Int(0, 9)) {
    case 0:
    case 1:
    case 2:  // per host and day
      *host = rng.Pick(kHosts);
      return day + "-" + *host + ".jsonl";
    case 3:  // per day
      return day + ".jsonl";
    case 4: {  // per hour
      char buf[32];
      std::snprintf(buf, sizeof buf, "T%02d.jsonl", static_cast<int>(rng.Int(9, 12)));
      return day + buf;
    }
    case 5:  // ndjson, per host
      *host = rng.Pick(kHosts);
      return rng.Chance(0.5) ? *host + ".ndjson" : day + "-" + *host + ".ndjson";
    case 6:  // names that sort anywhere
      return rng.Pick(
          {"00-import.jsonl", "manual-notes.jsonl", "zz-backfill.ndjson", "Deploys.jsonl"});
    default: {  // a .json drop
      char buf[64];
      std::snprintf(buf, sizeof buf, "2026-12-04T%02d-%02d-%02dZ-",
                    static_cast<int>(rng.Int(9, 12)), static_cast<int>(rng.Int(0, 59)),
                    static_cast<int>(rng.Int(0, 59)));
      return buf + std::string(rng.Pick({"deploy", "check", "backup"})) + ".json";
    }
  }
}

// The final bytes of a .jsonl/.ndjson: its lines, a blank or CRLF line now
// and then, and rarely a last line without its newline (never consumed).
std::string JsonlContent(Rng& rng, const std::vector<Line>& lines) {
  std::string out;
  for (const Line& line : lines) {
    if (rng.Chance(0.03)) out += rng.Chance(0.5) ? "\n" : " \t\r\n";
    out += line.text;
    out += rng.Chance(0.05) ? "\r\n" : "\n";
  }
  if (rng.Chance(0.05)) out += R"({"timestamp":"2026-12-04T11:59:00Z","type":"node_heartbeat",)";
  return out;
}

std::string JsonContent(Rng& rng, const std::vector<Line>& elements, bool* broken) {
  *broken = rng.Chance(0.04);
  if (*broken) return R"([{"timestamp": "2026-12-04T10:00:00Z", "type": )";  // bad_json
  if (elements.size() == 1 && rng.Chance(0.5)) return elements.front().text + "\n";
  std::string out = "[\n";
  for (size_t i = 0; i < elements.size(); ++i) {
    out += "  " + elements[i].text + (i + 1 < elements.size() ? ",\n" : "\n");
  }
  return out + "]\n";
}

Case DrawCase(uint64_t seed) {
  Rng rng(seed * 0x9E3779B97F4A7C15ull + 17);
  Case c;
  c.seed = seed;
  c.params = DrawParams(rng);
  const Params& p = c.params;

  std::set<std::string> names;
  while (static_cast<int>(c.files.size()) < p.files) {
    FileSpec f;
    f.name = DrawFileName(rng, &f.host);
    if (!names.insert(f.name).second) continue;
    f.json = f.name.ends_with(".json");
    c.files.push_back(std::move(f));
  }
  // Events in their true order, each to a random file; noise on the times.
  int flips = 0;
  for (int k = 0; k < p.events; ++k) {
    const size_t fi = static_cast<size_t>(rng.Int(0, p.files - 1));
    FileSpec& f = c.files[fi];
    int64_t t = kBaseSeconds + p.span_s * k / p.events;
    if (p.jitter_s > 0) t += rng.Int(-p.jitter_s, p.jitter_s);
    if (rng.Chance(p.outliers)) t -= rng.Int(301, 5400);
    if (p.skewed_host >= 0 && f.host == kHosts[p.skewed_host]) t -= p.skew_s;
    t -= ((t % p.grid_s) + p.grid_s) % p.grid_s;
    int32_t nanos = 0;
    if (rng.Chance(p.fractions)) {
      nanos = static_cast<int32_t>(rng.Pick({1, 250000000, 500000000, 999999999, 123456789}));
    }
    const std::string ts = RenderTime(rng, t, nanos, rng.Chance(p.spellings));
    Line line{"", false, t, nanos};
    line.text = DrawEvent(rng, p, ts, f.host, f.json, &line.valid, &flips);
    f.lines.push_back(std::move(line));
  }
  for (FileSpec& f : c.files) {
    if (f.lines.empty() && f.json) {
      Line line{"", false, kBaseSeconds, 0};
      line.text =
          DrawEvent(rng, p, RenderTime(rng, kBaseSeconds, 0, false), f.host, true, &line.valid,
                    &flips);
      f.lines.push_back(std::move(line));
    }
    // Some files hold their lines in no time order at all (a concatenation).
    if (rng.Chance(0.15)) std::shuffle(f.lines.begin(), f.lines.end(), rng.gen());
    f.content = f.json ? JsonContent(rng, f.lines, &f.broken) : JsonlContent(rng, f.lines);
  }

  // How each file is delivered.
  c.actions.resize(c.files.size());
  for (size_t i = 0; i < c.files.size(); ++i) {
    const FileSpec& f = c.files[i];
    if (f.json) {
      c.actions[i].push_back({Action::kWriteTemp, i, f.content});
      c.actions[i].push_back({Action::kRename, i, ""});
      continue;
    }
    for (size_t at = 0; at < f.content.size();) {
      size_t n = 0;
      if (rng.Chance(p.cut_mid_line)) {
        n = static_cast<size_t>(rng.Int(1, std::min<int64_t>(200, f.content.size() - at)));
      } else {
        size_t end = at;
        for (int64_t k = rng.Int(1, p.max_line_chunk); k > 0 && end < f.content.size(); --k) {
          const size_t nl = f.content.find('\n', end);
          end = nl == std::string::npos ? f.content.size() : nl + 1;
        }
        n = end - at;
      }
      c.actions[i].push_back({Action::kAppend, i, f.content.substr(at, n)});
      at += n;
    }
  }
  return c;
}

std::string Describe(const Case& c) {
  const Params& p = c.params;
  std::ostringstream s;
  s << "seed " << c.seed << ": " << p.files << " files, " << p.events << " events, span "
    << p.span_s << "s, jitter " << p.jitter_s << "s, outliers " << p.outliers << ", grid "
    << p.grid_s << "s, fractions " << p.fractions << ", spellings " << p.spellings << ", invalid "
    << p.invalid << ", ids " << p.ids;
  if (p.flap_share > 0) {
    s << ", " << p.flap_node << "/" << p.flap_service << " flapping in " << p.flap_share
      << " of the events";
  }
  if (p.skewed_host >= 0) s << ", " << kHosts[p.skewed_host] << " skewed by -" << p.skew_s << "s";
  s << ", flags [";
  for (const std::string& f : p.flags) s << " " << f;
  s << " ], run flags [";
  for (const std::string& f : p.run_flags) s << " " << f;
  s << " ]" << (p.daemons ? ", SIGKILLed daemons" : "")
    << (p.killed_onces ? ", SIGKILLed onces" : "") << "\nfiles:";
  for (const FileSpec& f : c.files) s << " " << f.name;
  return s.str();
}

// ------------------------------------------------------------ comparison ----

std::vector<std::string> OnceArgv(const fs::path& root, const std::vector<std::string>& flags) {
  return testing::OnceArgs(root, flags, kPropertyNow);
}

// The regular, non-hidden *.json names in `dir`.
std::set<std::string> JsonNames(const fs::path& dir) {
  std::set<std::string> names;
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (name.ends_with(".json") && name.front() != '.') names.insert(name);
  }
  return names;
}

// A unified diff of two files (cut to a few KiB); FirstDifference when diff
// is not there.
std::string UnifiedDiff(const fs::path& expected, const fs::path& actual) {
  const testing::ProcessResult r = testing::RunTool({"diff", "-u", "--label", "expected", "--label",
                                                     "actual", expected.string(), actual.string()});
  std::string out = r.out;
  if (r.exit_code != 1 || out.empty()) {
    out = testing::FirstDifference(testing::ReadFile(expected).value_or("<missing>"),
                                   testing::ReadFile(actual).value_or("<missing>"));
  }
  if (out.size() > 6000) out = out.substr(0, 6000) + "\n[... diff cut ...]\n";
  return out;
}

// "" when `rejected` (the text of a rejected-events.jsonl) is ordered by
// file name, then line; else what is out of order.
std::string RejectedOrderProblem(const std::string& rejected) {
  std::istringstream in(rejected);
  std::pair<std::string, int64_t> last{"", 0};
  int n = 0;
  for (std::string line; std::getline(in, line); ++n) {
    const auto j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_discarded() || !j.contains("file") || !j.contains("line")) {
      return "line " + std::to_string(n + 1) + " does not parse: " + line;
    }
    std::pair<std::string, int64_t> key{j["file"].get<std::string>(), j["line"].get<int64_t>()};
    if (n > 0 && !(last < key)) {
      return "line " + std::to_string(n + 1) + " (" + key.first + ":" + std::to_string(key.second) +
             ") comes after " + last.first + ":" + std::to_string(last.second);
    }
    last = key;
  }
  return "";
}

// "" when `root`'s world/*.json and state/rejected-events.jsonl are
// byte-identical to those of a single `once` (same --now, same flags) over a
// fresh copy of its events/; else unified diffs of what differs.
std::string DifferenceFromOneOnce(const fs::path& root, const std::vector<std::string>& flags) {
  TempDir clean;
  fs::copy(root / "events", clean.path() / "events", fs::copy_options::recursive);
  const testing::ProcessResult r = testing::RunProgram(OnceArgv(clean.path(), flags));
  if (r.exit_code != 0)
    return "the clean once failed (exit " + std::to_string(r.exit_code) + "): " + r.err;
  std::string diff;
  std::set<std::string> names = JsonNames(clean.path() / "world");
  for (const std::string& n : JsonNames(root / "world")) names.insert(n);
  for (const std::string& name : names) {
    const fs::path a = clean.path() / "world" / name, b = root / "world" / name;
    if (testing::ReadFile(a) != testing::ReadFile(b)) {
      diff += "world/" + name + " differs:\n" + UnifiedDiff(a, b);
    }
  }
  const fs::path ra = clean.path() / "state" / "rejected-events.jsonl";
  const fs::path rb = root / "state" / "rejected-events.jsonl";
  if (testing::ReadFile(ra).value_or("") != testing::ReadFile(rb).value_or("")) {
    diff += "state/rejected-events.jsonl differs:\n" + UnifiedDiff(ra, rb);
  }
  const std::string order = RejectedOrderProblem(testing::ReadFile(ra).value_or(""));
  if (!order.empty())
    diff += "the clean rejected-events.jsonl is not in file, line order: " + order;
  return diff;
}

// The oracle for the order itself: every accepted event of the case in one
// file, sorted by (instant, file name bytes, position in its file), then the
// rejected lines (one bad_json line for a .json that does not parse). One
// `once` over that file must give the same world: nodes, services,
// deployments and incidents byte for byte, and the runtime summary but for
// its `checkpoint` (which names the file).
std::string MergedHistory(const Case& c) {
  struct Key {
    int64_t seconds;
    int32_t nanos;
    const std::string* file;
    size_t index;
    const std::string* text;
  };
  std::vector<Key> events;
  std::string rejected;
  for (const FileSpec& f : c.files) {
    if (f.broken) {
      rejected += R"({"timestamp": "2026-12-04T10:00:00Z", "type": )"
                  "\n";
      continue;
    }
    for (size_t i = 0; i < f.lines.size(); ++i) {
      const Line& l = f.lines[i];
      if (l.valid) {
        events.push_back({l.seconds, l.nanos, &f.name, i, &l.text});
      } else {
        rejected += l.text + "\n";
      }
    }
  }
  std::sort(events.begin(), events.end(), [](const Key& a, const Key& b) {
    return std::tie(a.seconds, a.nanos, *a.file, a.index) <
           std::tie(b.seconds, b.nanos, *b.file, b.index);
  });
  std::string out;
  for (const Key& k : events) out += *k.text + "\n";
  return out + rejected;
}

std::string WithoutCheckpoint(const std::string& summary) {
  auto j = nlohmann::ordered_json::parse(summary, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return summary;
  j.erase("checkpoint");
  return j.dump(2);
}

std::string DifferenceFromMergedHistory(const Case& c, const fs::path& root) {
  TempDir merged;
  testing::WriteFile(merged.path() / "events" / "merged.jsonl", MergedHistory(c));
  const testing::ProcessResult r = testing::RunProgram(OnceArgv(merged.path(), c.params.flags));
  if (r.exit_code != 0) return "the once over the merged history failed: " + r.err;
  std::string diff;
  for (const char* name : testing::kWorldFiles) {
    const fs::path a = merged.path() / "world" / name, b = root / "world" / name;
    if (std::string(name) == "runtime-summary.json") {
      const std::string x = WithoutCheckpoint(testing::ReadFile(a).value_or("")),
                        y = WithoutCheckpoint(testing::ReadFile(b).value_or(""));
      if (x != y) {
        testing::WriteFile(merged.path() / "x.json", x);
        testing::WriteFile(merged.path() / "y.json", y);
        diff += "world/runtime-summary.json (without checkpoint) differs:\n" +
                UnifiedDiff(merged.path() / "x.json", merged.path() / "y.json");
      }
    } else if (testing::ReadFile(a) != testing::ReadFile(b)) {
      diff += "world/" + std::string(name) + " differs:\n" + UnifiedDiff(a, b);
    }
  }
  return diff;
}

// ------------------------------------------------------------- the runs ----

bool IsSanitizerReport(const std::string& err) {
  for (const char* marker : {"AddressSanitizer", "LeakSanitizer", "runtime error:"}) {
    if (err.find(marker) != std::string::npos) return true;
  }
  return false;
}

struct Stats {
  int cases = 0, steps = 0, onces = 0, daemons = 0, killed_onces = 0, checks = 0;
  int replayed_cases = 0;  // cases whose checkpoint counts a replay at the end
  // Cases whose final world has a flapping service, a service or node in
  // maintenance, a stale service (CONTRACT §9): the generator reaches them.
  int flapping_cases = 0, maintenance_cases = 0, stale_cases = 0;
  double reordered = 0;    // events folded in within the window, over all `once` runs
  double late = 0;         // events later than the window, over all `once` runs
};

// Inside CaseRunner: returns Fail(...) of a non-empty failure.
#define RETURN_IF_FAILED(expr)                                 \
  do {                                                         \
    if (std::string f_ = (expr); !f_.empty()) return Fail(f_); \
  } while (0)

class CaseRunner {
 public:
  explicit CaseRunner(const Case& c) : c_(c), rng_(c.seed * 31 + 7) {}

  // "" when the property holds; else the failure, naming the seed.
  std::string Run(Stats* stats) {
    const Params& p = c_.params;
    fs::create_directories(root() / "events");
    size_t total_steps = 0;
    for (const auto& q : c_.actions) total_steps += q.size();
    // About 20 `once` runs at most (8 in a sanitizer build), whatever the
    // number of steps.
    const double max_onces = SanitizedBinary() ? 8 : 20;
    const double once_rate = std::min(p.once_rate, max_onces / static_cast<double>(total_steps));
    int daemons_left = p.daemons ? static_cast<int>(rng_.Int(1, 3)) : 0;
    const double daemon_rate = 1.5 / static_cast<double>(total_steps);
    int checks_left = SanitizedBinary() ? 1 : 3;
    auto actions = c_.actions;

    if (rng_.Chance(0.2)) RETURN_IF_FAILED(Once("before any file"));
    size_t last = SIZE_MAX;
    for (;;) {
      RETURN_IF_FAILED(Step(actions, &last));
      if (done_) break;
      if (rng_.Chance(once_rate)) {
        RETURN_IF_FAILED(Once("after step " + std::to_string(steps_)));
        if (checks_left > 0 && rng_.Chance(0.12)) {
          --checks_left;
          ++stats->checks;
          const std::string diff = DifferenceFromOneOnce(root(), p.flags);
          if (!diff.empty()) {
            return Fail("after `once` #" + std::to_string(onces_) + " (step " +
                        std::to_string(steps_) +
                        "), the world differs from one `once` over "
                        "the files present then:\n" +
                        diff);
          }
        }
      }
      if (daemons_left > 0 && (rng_.Chance(daemon_rate) || Pending(actions) == 0)) {
        --daemons_left;
        RETURN_IF_FAILED(Daemon(actions, &last));
      }
      if (p.killed_onces && rng_.Chance(0.15)) KilledOnce();
    }
    while (daemons_left-- > 0) RETURN_IF_FAILED(Daemon(actions, &last));
    RETURN_IF_FAILED(Once("final"));
    stats->steps += steps_;
    stats->onces += onces_;
    stats->daemons += daemons_;
    stats->killed_onces += killed_onces_;
    stats->reordered += reordered_;
    stats->late += late_replays_;
    if (testing::Checkpoint(root()).value("rebuilds", 0) > 0) ++stats->replayed_cases;
    CountWorldRules(stats);
    const std::string diff = DifferenceFromOneOnce(root(), p.flags);
    if (!diff.empty()) {
      return Fail(
          "after the final `once`, the world differs from one `once` over the final "
          "files:\n" +
          diff);
    }
    const std::string order = DifferenceFromMergedHistory(c_, root());
    if (!order.empty()) {
      return Fail(
          "the world is not that of the same events applied in (timestamp, file, line) "
          "order, i.e. of one `once` over them merged into one file in that order "
          "(expected: merged, actual: this case):\n" +
          order);
    }
    if (p.wide_window && daemons_ == 0 && killed_onces_ == 0) {
      // Every event is within --events.max-lateness of every other: no replay.
      const auto checkpoint = testing::Checkpoint(root());
      if (checkpoint.value("rebuilds", -1) != 0) {
        return Fail(
            "with --events.max-lateness 24h over a history of hours, the checkpoint "
            "counts " +
            checkpoint["rebuilds"].dump() + " rebuilds (expected 0)");
      }
    }
    if (std::getenv("HLO_EVENT_TIME_KEEP") != nullptr) {
      std::printf("[ info ] seed %llu kept in %s\n", static_cast<unsigned long long>(c_.seed),
                  Keep().c_str());
    }
    return "";
  }

 private:
  fs::path root() const { return tmp_.path(); }

  void CountWorldRules(Stats* stats) const {
    const auto services =
        nlohmann::json::parse(testing::ReadFile(root() / "world" / "services.json").value_or("{}"),
                              nullptr, false);
    const auto nodes =
        nlohmann::json::parse(testing::ReadFile(root() / "world" / "nodes.json").value_or("{}"),
                              nullptr, false);
    bool flapping = false, maintenance = false, stale = false;
    for (const auto& entry : {services, nodes}) {
      if (!entry.is_object()) continue;
      for (const auto& [key, v] : entry.items()) {
        flapping = flapping || v.value("flapping", false);
        maintenance = maintenance || v.value("maintenance", false);
        stale = stale || v.value("status", "") == "stale";
      }
    }
    stats->flapping_cases += flapping;
    stats->maintenance_cases += maintenance;
    stats->stale_cases += stale;
  }

  static size_t Pending(const std::vector<std::deque<Action>>& actions) {
    size_t n = 0;
    for (const auto& q : actions) n += q.size();
    return n;
  }

  // Does the next write (sets done_ when there is none left).
  std::string Step(std::vector<std::deque<Action>>& actions, size_t* last) {
    std::vector<size_t> open;
    for (size_t i = 0; i < actions.size(); ++i) {
      if (!actions[i].empty()) open.push_back(i);
    }
    if (open.empty()) {
      done_ = true;
      return "";
    }
    size_t fi = rng_.Pick(open);
    if (*last < actions.size() && !actions[*last].empty() && rng_.Chance(c_.params.sticky)) {
      fi = *last;
    }
    *last = fi;
    Action a = std::move(actions[fi].front());
    actions[fi].pop_front();
    ++steps_;
    const FileSpec& f = c_.files[fi];
    const fs::path events = root() / "events";
    const fs::path temp = events / ("." + f.name + ".x.tmp");
    try {
      switch (a.kind) {
        case Action::kAppend:
          testing::AppendFile(events / f.name, a.bytes);
          Log("append " + std::to_string(a.bytes.size()) + " bytes to " + f.name +
              (a.bytes.empty() || a.bytes.back() != '\n' ? " (ends mid-line)" : ""));
          break;
        case Action::kWriteTemp:
          testing::WriteFile(temp, a.bytes);
          Log("write " + temp.filename().string());
          break;
        case Action::kRename:
          fs::rename(temp, events / f.name);
          Log("rename into place: " + f.name);
          break;
      }
    } catch (const std::exception& e) {
      return std::string("cannot write: ") + e.what();
    }
    return "";
  }

  std::string Once(const std::string& when) {
    ++onces_;
    Log("once #" + std::to_string(onces_) + " (" + when + ")");
    std::vector<std::string> flags = c_.params.flags;
    const fs::path textfile = logs_.path() / "once.prom";
    flags.insert(flags.end(), {"--textfile", textfile.string()});
    const testing::ProcessResult r = testing::RunProgram(OnceArgv(root(), flags));
    if (r.exit_code == 0) {
      const auto s = testing::ParseExposition(testing::ReadFile(textfile).value_or(""));
      for (const testing::Sample& x : s) {
        if (x.name == "homelab_observer_reordered_events_total") reordered_ += x.value;
      }
      if (const auto late =
              testing::Value(s, "homelab_observer_rebuilds_total", {{"reason", "late_event"}})) {
        late_replays_ = *late;
      }
    }
    if (r.timed_out || r.exit_code != 0 || IsSanitizerReport(r.err)) {
      return "`once` #" + std::to_string(onces_) + " (" + when + ") ended with exit " +
             std::to_string(r.exit_code) + ", signal " + std::to_string(r.signal) +
             (r.timed_out ? " (timed out)" : "") + "; stderr:\n" + r.err;
    }
    return "";
  }

  // A `once` SIGKILLed within its first few milliseconds.
  void KilledOnce() {
    const pid_t pid = testing::Start(OnceArgv(root(), c_.params.flags));
    const int64_t us = rng_.Int(0, 15000);
    std::this_thread::sleep_for(std::chrono::microseconds(us));
    const testing::ProcessResult r = testing::KillAndReap(pid);
    ++killed_onces_;
    Log("once SIGKILLed after " + std::to_string(us) + " us" +
        (r.signal == SIGKILL ? "" : " (it had already exited)"));
  }

  // `run` on a free port while a few more writes land, SIGKILLed after a
  // random short while.
  std::string Daemon(std::vector<std::deque<Action>>& actions, size_t* last) {
    ++daemons_;
    std::vector<std::string> argv = {HLO_BINARY,
                                     "run",
                                     "--root",
                                     root().string(),
                                     "--now",
                                     kPropertyNow,
                                     "--web.listen-address",
                                     "127.0.0.1:0"};
    argv.insert(argv.end(), c_.params.flags.begin(), c_.params.flags.end());
    argv.insert(argv.end(), c_.params.run_flags.begin(), c_.params.run_flags.end());
    const std::string tag = std::to_string(daemons_);
    const fs::path out = logs_.path() / ("stdout-" + tag), err = logs_.path() / ("stderr-" + tag);
    Log("run #" + tag + " started");
    {
      testing::Child child(argv, out, err);
      const int64_t writes = rng_.Int(0, 6);
      for (int64_t i = 0; i < writes && !done_; ++i) {
        std::this_thread::sleep_for(Millis(rng_.Int(0, 40)));
        if (std::string f = Step(actions, last); !f.empty()) return f;
      }
      const int64_t ms = rng_.Int(0, 300);
      std::this_thread::sleep_for(Millis(ms));
      if (auto r = child.Wait(Millis(0))) {
        return "run #" + tag + " exited by itself (exit " + std::to_string(r->exit_code) +
               "); stderr:\n" + r->err;
      }
      child.Signal(SIGKILL);
      child.Wait(Millis(10000));
      Log("run #" + tag + " SIGKILLed " + std::to_string(ms) + " ms after its last write");
    }
    const std::string stderr_text = testing::ReadFile(err).value_or("");
    if (IsSanitizerReport(stderr_text)) return "run #" + tag + " reported:\n" + stderr_text;
    return "";
  }

  void Log(const std::string& line) { log_ += line + "\n"; }

  // Copies the root, with the case and its steps in steps.txt, to /tmp.
  fs::path Keep() const {
    const fs::path keep =
        fs::temp_directory_path() / ("hlo-event-time-seed-" + std::to_string(c_.seed));
    std::error_code ec;
    fs::remove_all(keep, ec);
    fs::copy(root(), keep, fs::copy_options::recursive, ec);
    testing::WriteFile(keep / "steps.txt", Describe(c_) + "\n\n" + log_);
    testing::WriteFile(keep / "merged-history.jsonl", MergedHistory(c_));
    return keep;
  }

  // The failure message; the root and its steps are kept under /tmp.
  std::string Fail(const std::string& what) {
    const fs::path keep = Keep();
    std::string tail = log_;
    if (tail.size() > 3000) tail = "[...]\n" + tail.substr(tail.size() - 3000);
    return Describe(c_) + "\n" + what + "\nlast steps:\n" + tail + "(root and steps kept in " +
           keep.string() + "; replay: HLO_EVENT_TIME_SEED=" + std::to_string(c_.seed) +
           " integration_tests --gtest_filter='EventTimePropertyReplay.*')";
  }
#undef RETURN_IF_FAILED

  const Case& c_;
  Rng rng_;
  TempDir tmp_;
  TempDir logs_;
  std::string log_;
  bool done_ = false;
  int steps_ = 0, onces_ = 0, daemons_ = 0, killed_onces_ = 0;
  double reordered_ = 0;     // summed over this case's `once` runs
  double late_replays_ = 0;  // as the last `once` counted them
};

std::string RunSeed(uint64_t seed, Stats* stats) {
  const Case c = DrawCase(seed);
  ++stats->cases;
  CaseRunner runner(c);
  return runner.Run(stats);
}

void PrintStats(const std::string& what, const Stats& s, Clock::time_point start) {
  std::printf(
      "[ info ] %s: %d cases, %d writes, %d `once` runs, %d `run` daemons SIGKILLed, %d `once` "
      "SIGKILLed, %d intermediate comparisons; %.0f events folded in out of order, %.0f "
      "late-event replays, %d cases with a replay; cases ending with a flapping service %d, "
      "in maintenance %d, with a stale service %d; %.1f s\n",
      what.c_str(), s.cases, s.steps, s.onces, s.daemons, s.killed_onces, s.checks, s.reordered,
      s.late, s.replayed_cases, s.flapping_cases, s.maintenance_cases, s.stale_cases,
      testing::MillisSince(start) / 1000);
}

int SeedsPerBlock() {
  if (const char* s = std::getenv("HLO_EVENT_TIME_SEEDS_PER_BLOCK")) {
    return std::max(1, std::atoi(s));
  }
  return kSeedsPerBlock;
}

class EventTimePropertyTest : public ::testing::TestWithParam<int> {};

TEST_P(EventTimePropertyTest, AnyArrivalOrderAndAnyKillEndEqualToOneOnceOverTheFinalFiles) {
  const int per_block = SeedsPerBlock();
  const uint64_t first = kFirstSeed + static_cast<uint64_t>(GetParam()) * per_block;
  const auto start = Clock::now();
  if (SanitizedBinary()) std::printf("[ info ] sanitized binary: at most 8 `once` runs a case\n");
  Stats stats;
  int failures = 0;
  for (uint64_t seed = first; seed < first + per_block; ++seed) {
    const std::string failure = RunSeed(seed, &stats);
    if (!failure.empty()) {
      ADD_FAILURE() << failure;
      if (++failures == 3) {
        std::printf("[ info ] three seeds failed: the rest of this block is skipped\n");
        break;
      }
    }
  }
  PrintStats("seeds " + std::to_string(first) + ".." + std::to_string(first + per_block - 1), stats,
             start);
}

INSTANTIATE_TEST_SUITE_P(SeedBlocks, EventTimePropertyTest, ::testing::Range(0, kBlocks));

TEST(EventTimePropertyReplay, OneSeedFromTheEnvironment) {
  const char* s = std::getenv("HLO_EVENT_TIME_SEED");
  if (s == nullptr) GTEST_SKIP() << "set HLO_EVENT_TIME_SEED to replay one seed";
  const uint64_t seed = std::strtoull(s, nullptr, 10);
  std::printf("[ info ] %s\n", Describe(DrawCase(seed)).c_str());
  const auto start = Clock::now();
  Stats stats;
  const std::string failure = RunSeed(seed, &stats);
  if (!failure.empty()) ADD_FAILURE() << failure;
  PrintStats("seed " + std::to_string(seed), stats, start);
}

}  // namespace
}  // namespace hlo
