// bench_json_writer: JsonWriter against what it replaces, building a
// nlohmann::json DOM and dumping it, on incidents.json-shaped data (objects of
// about a dozen short string/number fields, arrays of timestamps), ~15 MB.
//
//   bench_json_writer [Google Benchmark flags, e.g. --benchmark_repetitions=5]
//
// Both sides start from the same plain structs; the bytes are checked equal
// once before timing.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "observer/json_writer.h"

namespace hlo::bench {
namespace {

using nlohmann::json;

struct Incident {
  std::string id, node, service, status, severity, started_at, last_occurrence;
  uint64_t occurrence_count = 0;
  std::vector<std::string> events;
  std::string correlation_id, resolved_at, repeat_of;  // empty: null
  std::vector<std::string> diagnostics;
};

std::string Time(uint64_t second) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "2026-%02u-%02uT%02u:%02u:%02uZ",
                unsigned(second / 2419200 % 12 + 1), unsigned(second / 86400 % 28 + 1),
                unsigned(second / 3600 % 24), unsigned(second / 60 % 60), unsigned(second % 60));
  return buf;
}

// Sorted by id, as the world's std::map keeps them.
const std::vector<Incident>& Incidents() {
  static const std::vector<Incident> incidents = [] {
    std::vector<Incident> out;
    for (uint64_t i = 0; i < 20000; ++i) {
      Incident inc;
      const uint64_t start = 1'000'000 + i * 97;
      inc.node = "node-" + std::to_string(1000 + i % 1000);
      inc.service = i % 3 == 0 ? "postgres" : "grafana";
      inc.id = "inc-" + std::to_string(1767225600 + start) + "-" + inc.node + "-" + inc.service;
      inc.status = i % 4 == 0 ? "active" : "resolved";
      inc.severity = i % 5 == 0 ? "critical" : "warning";
      inc.started_at = Time(start);
      inc.occurrence_count = 1 + i % 20;
      for (uint64_t e = 0; e < inc.occurrence_count; ++e) {
        inc.events.push_back(Time(start + e * 30));
      }
      inc.last_occurrence = inc.events.back();
      if (i % 2 == 0) inc.correlation_id = "deploy-" + std::to_string(i);
      if (inc.status == "resolved") inc.resolved_at = Time(start + 3600);
      if (i % 7 == 0) inc.repeat_of = "inc-" + std::to_string(1767225600 + start - 50) + "-x";
      if (i % 3 == 0) inc.diagnostics.push_back("logs/deploy-" + std::to_string(i) + ".log");
      out.push_back(std::move(inc));
    }
    return out;
  }();
  return incidents;
}

json OrNull(const std::string& s) { return s.empty() ? json() : json(s); }

std::string DumpViaDom() {
  json out = json::object();
  for (const Incident& i : Incidents()) {
    json events = json::array();
    for (const std::string& t : i.events) events.push_back(t);
    out[i.id] = {{"id", i.id},
                 {"node", i.node},
                 {"service", i.service},
                 {"status", i.status},
                 {"severity", i.severity},
                 {"started_at", i.started_at},
                 {"last_occurrence", i.last_occurrence},
                 {"occurrence_count", i.occurrence_count},
                 {"events", std::move(events)},
                 {"correlation_id", OrNull(i.correlation_id)},
                 {"resolved_at", OrNull(i.resolved_at)},
                 {"repeat_of", OrNull(i.repeat_of)},
                 {"diagnostics", i.diagnostics}};
  }
  return out.dump(2, ' ', false, json::error_handler_t::replace) + "\n";
}

void KeyOrNull(JsonWriter& w, std::string_view key, const std::string& value) {
  w.Key(key);
  if (value.empty()) {
    w.Null();
  } else {
    w.String(value);
  }
}

void Strings(JsonWriter& w, std::string_view key, const std::vector<std::string>& values) {
  w.Key(key);
  w.BeginArray();
  for (const std::string& v : values) w.String(v);
  w.EndArray();
}

// Keys in std::string order, as nlohmann's std::map would have them.
void WriteIncidents(JsonWriter& w) {
  w.BeginObject();
  for (const Incident& i : Incidents()) {
    w.Key(i.id);
    w.BeginObject();
    KeyOrNull(w, "correlation_id", i.correlation_id);
    Strings(w, "diagnostics", i.diagnostics);
    Strings(w, "events", i.events);
    w.KeyString("id", i.id);
    w.KeyString("last_occurrence", i.last_occurrence);
    w.KeyString("node", i.node);
    w.KeyUint("occurrence_count", i.occurrence_count);
    KeyOrNull(w, "repeat_of", i.repeat_of);
    KeyOrNull(w, "resolved_at", i.resolved_at);
    w.KeyString("service", i.service);
    w.KeyString("severity", i.severity);
    w.KeyString("started_at", i.started_at);
    w.KeyString("status", i.status);
    w.EndObject();
  }
  w.EndObject();
}

std::string DumpViaWriter() {
  JsonWriter w(JsonWriter::Style::kPretty);
  WriteIncidents(w);
  w.Finish("\n");
  return w.Take();
}

void BM_NlohmannDomDump(benchmark::State& state) {
  std::size_t bytes = 0;
  for (auto _ : state) {
    const std::string text = DumpViaDom();
    bytes = text.size();
    benchmark::DoNotOptimize(text.data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * bytes));
}

void BM_JsonWriterToString(benchmark::State& state) {
  std::size_t bytes = 0;
  for (auto _ : state) {
    const std::string text = DumpViaWriter();
    bytes = text.size();
    benchmark::DoNotOptimize(text.data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * bytes));
}

// Streaming in 1 MiB pieces to a sink that only sums bytes (stands in for
// write + hash, which cost the same on both sides).
void BM_JsonWriterToSink(benchmark::State& state) {
  std::size_t bytes = 0;
  for (auto _ : state) {
    uint64_t sum = 0;
    JsonWriter w(JsonWriter::Style::kPretty, [&sum](std::string_view piece) {
      sum += piece.size();
      return true;
    });
    WriteIncidents(w);
    w.Finish("\n");
    bytes = sum;
    benchmark::DoNotOptimize(sum);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * bytes));
}

BENCHMARK(BM_NlohmannDomDump)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_JsonWriterToString)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_JsonWriterToSink)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace hlo::bench

int main(int argc, char** argv) {
  if (hlo::bench::DumpViaDom() != hlo::bench::DumpViaWriter()) {
    std::fprintf(stderr, "bench_json_writer: JsonWriter output differs from nlohmann's\n");
    return 1;
  }
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
