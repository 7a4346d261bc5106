// bench_generate: writes a deterministic synthetic homelab for the benchmarks.
//
//   bench_generate --out DIR [--nodes N] [--services S] [--events E]
//                  [--files F] [--layout jsonl|json|interleaved] [--seed K]
//                  [--invalid-per-million M] [--nodeless-recovery-percent P]
//                  [--failure-rate X] [--span-days D]
//
// --nodeless-recovery-percent P (0–100, default 1): the share of
// service_recovered events without a node, which recover that service on
// every node. --failure-rate X (0–7.5, default 1): how often failures
// (healthcheck_failed, service_unhealthy; 8% of events at 1) occur, as a
// multiple; recoveries (4% at 1) scale with them so incidents still resolve,
// and the share they gain comes from node_heartbeat and healthcheck_passed.
// --span-days D (default 365): the timestamps rise over D days from
// 2025-01-01, so the same number of events can be a denser or a longer
// history. The defaults give the same bytes as before these flags existed.
//
// DIR/events/ gets F .jsonl files of roughly equal size whose names sort in
// processing order (or, with --layout json, one .json per event; with
// --layout interleaved, F files host-K.jsonl taking events round-robin, so
// every file spans the whole time range, as one file per host does: the
// events arrive in no useful name order and must be sorted);
// DIR/inventory/topology.yaml and DIR/hosts/<node>/services.yaml the
// inventory (so DIR serves as both --root and --inventory); and
// DIR/state/stages/ a few stage markers. The same flags give the same bytes.
// DIR/events must be absent or empty: nothing is overwritten.
#include <charconv>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <map>
#include <memory>
#include <string>
#include <system_error>

#include "bench/workload.h"

namespace fs = std::filesystem;
using hlo::bench::WorkloadSpec;

namespace {

struct Options {
  fs::path out;
  WorkloadSpec spec;
  uint64_t files = 1;
  bool json_layout = false;
  bool interleaved = false;
  uint64_t span_days = 365;
};

constexpr const char* kUsage =
    "usage: bench_generate --out DIR [--nodes N] [--services S] [--events E] [--files F]\n"
    "                      [--layout jsonl|json|interleaved] [--seed K] [--invalid-per-million M]\n"
    "                      [--nodeless-recovery-percent P] [--failure-rate X] [--span-days D]\n"
    "  --nodeless-recovery-percent P  share of service_recovered without a node, 0-100 (default 1)\n"
    "  --failure-rate X               failures (and recoveries with them) as a multiple of the\n"
    "                                 default mix's 8% (4%), taken from heartbeats and passed\n"
    "                                 checks; 0-7.5 (default 1)\n"
    "  --span-days D                  the events' timestamps rise over D days from\n"
    "                                 2025-01-01 (default 365)\n";

bool ParseCount(const std::string& text, uint64_t* value) {
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, *value);
  return !text.empty() && ec == std::errc() && ptr == end;
}

bool ParseRate(const std::string& text, double* value) {
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, *value);
  return !text.empty() && ec == std::errc() && ptr == end && std::isfinite(*value);
}

// "" or an error message.
std::string ParseArgs(int argc, char** argv, Options* o) {
  std::map<std::string, uint64_t*> counts = {
      {"--nodes", &o->spec.nodes},   {"--services", &o->spec.services},
      {"--events", &o->spec.events}, {"--files", &o->files},
      {"--seed", &o->spec.seed},     {"--invalid-per-million", &o->spec.invalid_per_million},
      {"--nodeless-recovery-percent", &o->spec.nodeless_recovery_percent},
      {"--span-days", &o->span_days}};
  for (int i = 1; i < argc; ++i) {
    const std::string flag = argv[i];
    if (flag == "--help" || flag == "-h") return "help";
    if (i + 1 >= argc) return flag + ": needs a value";
    const std::string value = argv[++i];
    if (flag == "--out") {
      o->out = value;
    } else if (flag == "--layout") {
      if (value != "jsonl" && value != "json" && value != "interleaved") {
        return "--layout " + value + ": jsonl, json or interleaved";
      }
      o->json_layout = value == "json";
      o->interleaved = value == "interleaved";
    } else if (flag == "--failure-rate") {
      if (!ParseRate(value, &o->spec.failure_rate) || o->spec.failure_rate < 0 ||
          o->spec.failure_rate > hlo::bench::kMaxFailureRate) {
        return "--failure-rate " + value + ": a number from 0 to 7.5";
      }
    } else if (auto it = counts.find(flag); it != counts.end()) {
      if (!ParseCount(value, it->second)) return flag + " " + value + ": not a count";
    } else {
      return "unknown flag " + flag;
    }
  }
  if (o->out.empty()) return "--out is required";
  if (o->spec.nodes == 0 || o->spec.services == 0) return "--nodes and --services must be > 0";
  if (o->files == 0) return "--files must be > 0";
  if (o->spec.invalid_per_million > 1'000'000) return "--invalid-per-million is at most 1000000";
  if (o->spec.nodeless_recovery_percent > 100) return "--nodeless-recovery-percent is at most 100";
  if (o->span_days == 0 || o->span_days > 3650) return "--span-days is 1 to 3650";
  o->spec.span_seconds = static_cast<int64_t>(o->span_days) * 86400;
  return "";
}

bool WriteWhole(const fs::path& path, const std::string& content) {
  std::error_code ec;
  fs::create_directories(path.parent_path(), ec);
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) return false;
  const bool ok = std::fwrite(content.data(), 1, content.size(), f) == content.size();
  return std::fclose(f) == 0 && ok;
}

std::string Numbered(const char* prefix, uint64_t i, uint64_t total, const char* ext) {
  int width = 6;
  for (uint64_t n = total; n >= 1'000'000 && width < 20; n /= 10) ++width;
  char buf[96];
  std::snprintf(buf, sizeof buf, "%s%0*llu%s", prefix, width, static_cast<unsigned long long>(i),
                ext);
  return buf;
}

bool WriteEvents(const Options& o, hlo::bench::WorkloadGenerator* gen) {
  const fs::path dir = o.out / "events";
  std::string line, buffer;
  if (o.json_layout) {
    for (uint64_t i = 0; gen->Next(&line); ++i) {
      if (!WriteWhole(dir / Numbered("event-", i, o.spec.events, ".json"), line + "\n")) {
        return false;
      }
    }
    return true;
  }
  if (o.interleaved) {
    std::vector<std::string> buffers(o.files);
    for (uint64_t i = 0; gen->Next(&line); ++i) {
      buffers[i % o.files] += line;
      buffers[i % o.files] += '\n';
    }
    for (uint64_t k = 0; k < o.files; ++k) {
      if (!WriteWhole(dir / Numbered("host-", k, o.files, ".jsonl"), buffers[k])) return false;
    }
    return true;
  }
  // File k holds events [k*E/F, (k+1)*E/F): equal counts, so roughly equal size.
  for (uint64_t k = 0; k < o.files; ++k) {
    const uint64_t end = o.spec.events / o.files * (k + 1) +
                         o.spec.events % o.files * (k + 1) / o.files;
    buffer.clear();
    while (gen->stats().lines < end && gen->Next(&line)) {
      buffer += line;
      buffer += '\n';
    }
    if (!WriteWhole(dir / Numbered("events-", k, o.files, ".jsonl"), buffer)) return false;
  }
  return true;
}

bool WriteInventory(const Options& o) {
  if (!WriteWhole(o.out / "inventory" / "topology.yaml", hlo::bench::TopologyYaml(o.spec))) {
    return false;
  }
  for (uint64_t n = 0; n < o.spec.nodes; ++n) {
    const std::string node = hlo::bench::NodeName(o.spec, n);
    if (!WriteWhole(o.out / "hosts" / node / "services.yaml",
                    hlo::bench::ServicesYaml(o.spec, n))) {
      return false;
    }
  }
  // Stage markers for the first few nodes, with explicit times so the bytes
  // (and the world files) do not depend on when the generator ran.
  static const char* const kStages[] = {"01-bootstrap", "02-hardening", "03-services"};
  for (uint64_t n = 0; n < std::min<uint64_t>(o.spec.nodes, 10); ++n) {
    for (uint64_t s = 0; s <= n % 3; ++s) {
      const std::string at = hlo::bench::FormatMillis(o.spec.start_unix - 86400 + 600 * s, 0);
      if (!WriteWhole(o.out / "state" / "stages" / hlo::bench::NodeName(o.spec, n) / kStages[s],
                      "{\"completed_at\": \"" + at + "\"}\n")) {
        return false;
      }
    }
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  const std::string problem = ParseArgs(argc, argv, &o);
  if (problem == "help") {
    std::cout << kUsage;
    return 0;
  }
  if (!problem.empty()) {
    std::cerr << "bench_generate: " << problem << "\n" << kUsage;
    return 2;
  }
  std::error_code ec;
  const fs::path events = o.out / "events";
  if (fs::exists(events, ec) && !fs::is_empty(events, ec)) {
    std::cerr << "bench_generate: " << events.string() << " is not empty; remove it first\n";
    return 1;
  }
  fs::create_directories(events, ec);
  if (ec) {
    std::cerr << "bench_generate: cannot create " << events.string() << ": " << ec.message() << "\n";
    return 1;
  }
  hlo::bench::WorkloadGenerator gen(o.spec);
  if (!WriteEvents(o, &gen) || !WriteInventory(o)) {
    std::cerr << "bench_generate: cannot write under " << o.out.string() << "\n";
    return 1;
  }
  const auto& st = gen.stats();
  std::cout << "wrote " << st.lines << " events (" << st.invalid << " invalid, "
            << st.bytes + st.lines << " bytes, "
            << (st.lines ? (st.bytes + st.lines) / st.lines : 0) << " bytes/event) in "
            << (o.json_layout ? st.lines : o.files) << " file(s) to " << events.string() << "\n";
  return 0;
}
