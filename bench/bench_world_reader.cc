// bench_world_reader: Google Benchmark for reading incidents.json and
// deployments.json back into the model (observer/world_reader.h), on the world
// of bench_core's cold replay: 1,000 nodes × 10 services, 1M events. (Without
// the inventory: it changes services.json, not these two files.)
//
//   bench_world_reader [--hlo_quick] [Google Benchmark flags]
//
// --hlo_quick shrinks the world (for a smoke test; the figures then mean
// nothing). The files are built once, lazily, outside the timed loops; freeing
// what was read is not timed either, as a resuming observer keeps it.
#include <benchmark/benchmark.h>

#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include "bench/workload.h"
#include "observer/apply.h"
#include "observer/event_parser.h"
#include "observer/world_reader.h"
#include "observer/world_serializer.h"
#include "observer/world_snapshot.h"

namespace hlo::bench {
namespace {

bool quick = false;

struct HistoryFiles {
  std::string incidents;
  std::string deployments;
};

const HistoryFiles& ReplayFiles() {
  static const HistoryFiles files = [] {
    WorkloadSpec spec;
    spec.invalid_per_million = 100;
    if (quick) {
      spec.nodes = 20;
      spec.events = 20'000;
    }
    Model model;
    ApplyContext context;
    context.logs_dir = "/srv/homelab/logs";
    WorkloadGenerator gen(spec);
    for (std::string line; gen.Next(&line);) {
      ParseResult r = ParseEventLine(line);
      if (const Event* e = std::get_if<Event>(&r)) Apply(model, *e, context);
    }
    SnapshotInputs in;
    in.model = &model;
    in.now = {spec.start_unix + spec.span_seconds, 0};
    auto world = SerializeWorld(BuildSnapshot(in), model);
    return HistoryFiles{std::move(world[1].content), std::move(world[0].content)};
  }();
  return files;
}

template <class Map>
void ReadLoop(benchmark::State& state, const std::string& text,
              std::optional<Map> (*read)(std::string_view, std::string*)) {
  size_t entries = 0;
  for (auto _ : state) {
    std::string error;
    std::optional<Map> map = read(text, &error);
    if (!map) {
      state.SkipWithError(("does not read: " + error).c_str());
      break;
    }
    entries = map->size();
    state.PauseTiming();
    map.reset();
    state.ResumeTiming();
  }
  state.SetBytesProcessed(static_cast<int64_t>(text.size() * state.iterations()));
  state.counters["entries"] = static_cast<double>(entries);
  state.counters["file_bytes"] = static_cast<double>(text.size());
}

void BM_ReadIncidents(benchmark::State& state) {
  ReadLoop(state, ReplayFiles().incidents, &ReadIncidents);
}

void BM_ReadDeployments(benchmark::State& state) {
  ReadLoop(state, ReplayFiles().deployments, &ReadDeployments);
}

BENCHMARK(BM_ReadIncidents)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_ReadDeployments)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace hlo::bench

int main(int argc, char** argv) {
  std::vector<char*> args;
  for (int i = 0; i < argc; ++i) {
    if (std::strcmp(argv[i], "--hlo_quick") == 0) {
      hlo::bench::quick = true;
    } else {
      args.push_back(argv[i]);
    }
  }
  int count = static_cast<int>(args.size());
  benchmark::Initialize(&count, args.data());
  if (benchmark::ReportUnrecognizedArguments(count, args.data())) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
