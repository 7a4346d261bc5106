// bench_core: Google Benchmark for the in-process parts of the observer, on
// the synthetic homelab of bench/workload.h. What `once` and `run` spend their
// time in, piece by piece: parsing lines, applying events, building the
// snapshot, serializing the world and the checkpoint, rendering /metrics,
// and the cost of one service_recovered with and without a node as the
// number of nodes that have the service grows, applied live
// (BM_ServiceRecovered/…) and as a replay applies (BM_ServiceRecoveredReplay/…).
//
//   bench_core [--hlo_quick] [Google Benchmark flags]
//
// --hlo_quick shrinks every world (for a smoke test; the figures then mean
// nothing). Worlds are built once, lazily, outside the timed loops.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "bench/workload.h"
#include "exporter/export_state.h"
#include "exporter/metrics_table.h"
#include "observer/apply.h"
#include "observer/checkpoint.h"
#include "observer/event_parser.h"
#include "observer/observer.h"
#include "observer/world_serializer.h"
#include "observer/world_snapshot.h"

namespace hlo::bench {
namespace {

bool quick = false;

// The parts of a world that BuildSnapshot joins: inventory, model, markers.
struct World {
  WorkloadSpec spec;
  Inventory inventory;
  StageMarkers stages;
  Model model;
  uint64_t accepted = 0;
};

Inventory MakeInventory(const WorkloadSpec& spec) {
  Inventory inventory;
  for (uint64_t n = 0; n < spec.nodes; ++n) {
    InventoryNode node;
    node.name = NodeName(spec, n);
    node.roles = NodeRoles(n);
    node.address = "10.0." + std::to_string(n / 256 % 256) + "." + std::to_string(n % 256);
    auto& services = inventory.services[node.name];
    for (uint64_t s = 0; s < spec.services; ++s) services.insert(ServiceName(s));
    inventory.nodes.emplace(node.name, std::move(node));
  }
  // As if loaded (LoadInventory numbers each load): what the observer
  // derives from it may then be kept between events.
  inventory.generation = 1;
  return inventory;
}

ApplyContext Context(const Inventory* inventory) {
  ApplyContext context;
  context.logs_dir = "/srv/homelab/logs";
  context.inventory = inventory;
  return context;
}

std::unique_ptr<World> BuildWorld(const WorkloadSpec& spec) {
  auto world = std::make_unique<World>();
  world->spec = spec;
  world->inventory = MakeInventory(spec);
  for (uint64_t n = 0; n < std::min<uint64_t>(spec.nodes, 10); ++n) {
    auto& markers = world->stages[NodeName(spec, n)];
    for (uint64_t s = 0; s <= n % 3; ++s) {
      markers.push_back({"0" + std::to_string(s + 1) + "-stage", {spec.start_unix - 86400, 0}});
    }
  }
  const ApplyContext context = Context(&world->inventory);
  WorkloadGenerator gen(spec);
  std::string line;
  while (gen.Next(&line)) {
    ParseResult r = ParseEventLine(line);
    if (const Event* e = std::get_if<Event>(&r)) {
      Apply(world->model, *e, context);
      ++world->accepted;
    } else {
      CountRejection(world->model, std::get<Rejection>(r).reason);
    }
  }
  return world;
}

WorldSnapshot Snapshot(const World& w, const HistorySummary* history = nullptr) {
  SnapshotInputs in;
  in.history = history;
  in.model = &w.model;
  in.inventory = &w.inventory;
  in.stages = &w.stages;
  in.now = {w.spec.start_unix + w.spec.span_seconds, 0};
  in.checkpoint_file = "events-000999.jsonl";
  in.checkpoint_offset = 123456;
  return BuildSnapshot(in);
}

// The cold-replay world of run_bench.sh: 1,000 nodes × 10 services, 1M events.
const World& ReplayWorld() {
  static const std::unique_ptr<World> world = [] {
    WorkloadSpec spec;
    spec.invalid_per_million = 100;
    if (quick) {
      spec.nodes = 20;
      spec.events = 20'000;
    }
    return BuildWorld(spec);
  }();
  return *world;
}

std::vector<std::string> Lines(uint64_t count) {
  WorkloadSpec spec;
  spec.events = count;
  spec.invalid_per_million = 100;
  WorkloadGenerator gen(spec);
  std::vector<std::string> lines;
  for (std::string line; gen.Next(&line);) lines.push_back(line);
  return lines;
}

const std::vector<std::string>& SampleLines() {
  static const std::vector<std::string> lines = Lines(quick ? 10'000 : 200'000);
  return lines;
}

void BM_ParseEventLine(benchmark::State& state) {
  const auto& lines = SampleLines();
  size_t i = 0;
  uint64_t bytes = 0;
  for (auto _ : state) {
    ParseResult r = ParseEventLine(lines[i]);
    benchmark::DoNotOptimize(r);
    bytes += lines[i].size() + 1;
    if (++i == lines.size()) i = 0;
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(static_cast<int64_t>(bytes));
}

// One iteration replays every sample event into a fresh model, as a cold
// replay does; tearing the model down is not timed.
void BM_Apply(benchmark::State& state) {
  static const std::vector<Event> events = [] {
    std::vector<Event> out;
    for (const auto& line : SampleLines()) {
      ParseResult r = ParseEventLine(line);
      if (Event* e = std::get_if<Event>(&r)) out.push_back(std::move(*e));
    }
    return out;
  }();
  static const Inventory inventory = MakeInventory(WorkloadSpec{});
  const ApplyContext context = Context(&inventory);
  for (auto _ : state) {
    auto model = std::make_unique<Model>();
    for (const Event& e : events) Apply(*model, e, context);
    state.PauseTiming();
    model.reset();
    state.ResumeTiming();
  }
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(events.size()));
}

void WorldCounters(benchmark::State& state, const World& w) {
  state.counters["nodes"] = static_cast<double>(w.model.nodes.size());
  state.counters["services"] = static_cast<double>(w.model.services.size());
  state.counters["incidents"] = static_cast<double>(w.model.incidents.size());
  state.counters["deployments"] = static_cast<double>(w.model.deployments.size());
}

void BM_BuildSnapshot(benchmark::State& state) {
  const World& w = ReplayWorld();
  for (auto _ : state) {
    WorldSnapshot s = Snapshot(w);
    benchmark::DoNotOptimize(s);
  }
  WorldCounters(state, w);
}

// As `run` builds it after a batch that changed no incident or deployment:
// the history's summary is kept from the batch before.
void BM_BuildSnapshotKeptHistory(benchmark::State& state) {
  const World& w = ReplayWorld();
  const HistorySummary history = SummarizeHistory(w.model);
  for (auto _ : state) {
    WorldSnapshot s = Snapshot(w, &history);
    benchmark::DoNotOptimize(s);
  }
  WorldCounters(state, w);
}

void BM_SerializeWorld(benchmark::State& state) {
  const WorldSnapshot snapshot = Snapshot(ReplayWorld());
  uint64_t bytes = 0;
  for (auto _ : state) {
    auto files = SerializeWorld(snapshot, ReplayWorld().model);
    for (const auto& f : files) bytes += f.content.size();
    benchmark::DoNotOptimize(files);
  }
  state.SetBytesProcessed(static_cast<int64_t>(bytes));
  state.counters["file_bytes"] = static_cast<double>(bytes) / static_cast<double>(state.iterations());
  WorldCounters(state, ReplayWorld());
}

void BM_DigestWorldFiles(benchmark::State& state) {
  std::vector<std::pair<std::string, std::string>> files;
  for (auto& f : SerializeWorld(Snapshot(ReplayWorld()), ReplayWorld().model)) {
    files.emplace_back(std::string(f.name), std::move(f.content));
  }
  uint64_t bytes = 0;
  for (const auto& f : files) bytes += f.second.size();
  for (auto _ : state) benchmark::DoNotOptimize(DigestWorldFiles(files));
  state.SetBytesProcessed(static_cast<int64_t>(bytes * state.iterations()));
}

Checkpoint MakeCheckpoint(const World& w) {
  Checkpoint c;
  c.file = "events-000999.jsonl";
  c.offset = 200'000;
  for (int i = 0; i < 1000; ++i) {
    char name[32];
    std::snprintf(name, sizeof name, "events-%06d.jsonl", i);
    c.files[name] = {200'000, 1000};
  }
  c.world_digest = "0123456789abcdef";
  c.model = w.model;
  return c;
}

void BM_SerializeCheckpoint(benchmark::State& state) {
  const Checkpoint c = MakeCheckpoint(ReplayWorld());
  uint64_t bytes = 0;
  for (auto _ : state) {
    std::string text = SerializeCheckpoint(c);
    bytes += text.size();
    benchmark::DoNotOptimize(text);
  }
  state.SetBytesProcessed(static_cast<int64_t>(bytes));
  state.counters["checkpoint_bytes"] =
      static_cast<double>(bytes) / static_cast<double>(state.iterations());
}

void BM_ParseCheckpoint(benchmark::State& state) {
  const std::string text = SerializeCheckpoint(MakeCheckpoint(ReplayWorld()));
  for (auto _ : state) {
    std::string error;
    auto c = ParseCheckpoint(text, &error);
    if (!c) state.SkipWithError(("checkpoint does not parse: " + error).c_str());
    benchmark::DoNotOptimize(c);
  }
  state.SetBytesProcessed(static_cast<int64_t>(text.size() * state.iterations()));
}

// A world whose /metrics has about `series` series: per node ~6 (up, status
// set, last seen, roles) and per service 4 (healthy, status set) plus 3 once
// deployed, plus 4 per active incident — about 60 per node of 10 services,
// as run_bench.sh sizes its worlds.
const World& ExpositionWorld(int64_t series) {
  static std::map<int64_t, std::unique_ptr<World>> worlds;
  auto& w = worlds[series];
  if (!w) {
    WorkloadSpec spec;
    spec.nodes = std::max<int64_t>(1, series / 60);
    spec.events = spec.nodes * spec.services * 50;
    w = BuildWorld(spec);
  }
  return *w;
}

void BM_RenderExposition(benchmark::State& state) {
  const World& w = ExpositionWorld(state.range(0));
  ExportState export_state;
  export_state.world = std::make_shared<const WorldSnapshot>(Snapshot(w));
  export_state.daemon.present = true;
  export_state.daemon.watch_mode = "inotify";
  const std::string once = RenderExposition(export_state);
  uint64_t series = 0;
  for (size_t pos = 0; pos < once.size();) {
    const size_t end = once.find('\n', pos);
    if (once[pos] != '#' && end != pos) ++series;
    pos = end == std::string::npos ? once.size() : end + 1;
  }
  for (auto _ : state) {
    std::string text = RenderExposition(export_state);
    benchmark::DoNotOptimize(text);
  }
  state.counters["series"] = static_cast<double>(series);
  state.counters["exposition_bytes"] = static_cast<double>(once.size());
  state.counters["nodes"] = static_cast<double>(w.spec.nodes);
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(series));
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(once.size()));
}

// One service_recovered, steady state, on a model where every one of
// `nodes` nodes has an entry of each of 10 services (all in the inventory
// too, as in a real run). One iteration: 10 failures, one on each service,
// each on another node (untimed), then the 10 service_recovered events that
// resolve them (timed) — with the failing node, or without a node (which
// recovers the service on every node that has it). So every recovery
// resolves exactly one active incident either way. Applied through the
// public API with a ModelIndex, as the observer does. The reported time is
// per recovery (the batch's time / 10). Every 1,000 iterations the model is
// put back as set up (untimed), so the history does not grow without bound.
constexpr uint64_t kRecoveryServices = 10;
constexpr int kRecoveryBatchesPerReset = 1000;

struct RecoveryWorld {
  WorkloadSpec spec;
  Inventory inventory;
  Model pristine;  // every entry healthy, no incident
  std::vector<std::string> nodes, services;
};

const RecoveryWorld& RecoveryWorldOf(uint64_t nodes) {
  static std::map<uint64_t, std::unique_ptr<RecoveryWorld>> worlds;
  auto& w = worlds[nodes];
  if (!w) {
    w = std::make_unique<RecoveryWorld>();
    w->spec.nodes = nodes;
    w->spec.services = kRecoveryServices;
    w->inventory = MakeInventory(w->spec);
    for (uint64_t n = 0; n < nodes; ++n) w->nodes.push_back(NodeName(w->spec, n));
    for (uint64_t s = 0; s < kRecoveryServices; ++s) w->services.push_back(ServiceName(s));
    const ApplyContext context = Context(&w->inventory);
    Event passed;
    passed.type = EventType::kHealthcheckPassed;
    passed.timestamp = {w->spec.start_unix, 0};
    for (const auto& node : w->nodes) {
      for (const auto& service : w->services) {
        passed.node = node;
        passed.service = service;
        Apply(w->pristine, passed, context);
      }
    }
  }
  return *w;
}

// ns per recovery of the with-node runs at each node count (one per
// repetition, which run back to back), for the without-node run's
// "x_with_node" counter: its ns over their median. It is registered right
// after them, so the counter is there unless a --benchmark_filter leaves the
// with-node runs out.
std::map<int64_t, std::vector<double>>& WithNodeNanos() {
  static std::map<int64_t, std::vector<double>> nanos;
  return nanos;
}

double Median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  const size_t n = values.size();
  return n == 0 ? 0 : n % 2 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
}

// The two events every recovery benchmark applies, and the counters it reports.
struct RecoveryEvents {
  Event failure, recovery;
  RecoveryEvents() {
    failure.type = EventType::kHealthcheckFailed;
    failure.severity = Severity::kError;
    recovery.type = EventType::kServiceRecovered;
  }
};

// ns per recovery and the node count; for the without-node run, its ns over
// the median of the with-node runs at the same node count in `with_node_nanos`
// (x_with_node). An incident left active means the recoveries did not work.
void ReportRecoveries(benchmark::State& state, const RecoveryWorld& w, size_t active,
                      uint64_t resolved, double timed_ns, bool with_node,
                      std::map<int64_t, std::vector<double>>& with_node_nanos) {
  if (active != 0) state.SkipWithError("a recovery left an incident active");
  const double ns = resolved ? timed_ns / static_cast<double>(resolved) : 0;
  state.counters["nodes"] = static_cast<double>(w.nodes.size());
  state.counters["ns_per_recovery"] = ns;
  if (with_node) {
    with_node_nanos[state.range(0)].push_back(ns);
  } else if (auto it = with_node_nanos.find(state.range(0)); it != with_node_nanos.end()) {
    const double with = Median(it->second);
    state.counters["x_with_node"] = with > 0 ? ns / with : 0;
  }
}

// As a replay applies (ModelIndex bulk mode, FinishBulk): a node-less
// recovery is deferred, and its entries catch up when a later failure
// touches them or at FinishBulk, so that work is in the failures and the
// FinishBulk. Timed here is everything — failures, recoveries and each
// FinishBulk (one per model reset) — per recovery, with a node and without.
void BM_ServiceRecoveredReplay(benchmark::State& state, bool with_node) {
  const RecoveryWorld& w = RecoveryWorldOf(static_cast<uint64_t>(state.range(0)));
  const ApplyContext context = Context(&w.inventory);
  Model model = w.pristine;
  ModelIndex index;
  index.Reset(model);
  index.BeginBulk();
  RecoveryEvents events;
  Event& failure = events.failure;
  Event& recovery = events.recovery;
  int64_t seconds = w.spec.start_unix + 1;
  uint64_t next_node = 0, batches = 0, resolved = 0;
  double timed_ns = 0;
  size_t active = 0;
  for (auto _ : state) {
    const auto start = std::chrono::steady_clock::now();
    for (uint64_t s = 0; s < kRecoveryServices; ++s) {
      failure.timestamp = {seconds++, 0};
      failure.node = w.nodes[next_node++ % w.nodes.size()];
      failure.service = w.services[s];
      Apply(model, failure, context, {&index, nullptr});
      if (with_node) recovery.node = failure.node;
      recovery.timestamp = {seconds++, 0};
      recovery.service = w.services[s];
      Apply(model, recovery, context, {&index, nullptr});
    }
    const bool reset = ++batches % kRecoveryBatchesPerReset == 0;
    if (reset) FinishBulk(model, index, context);
    const std::chrono::duration<double> elapsed = std::chrono::steady_clock::now() - start;
    state.SetIterationTime(elapsed.count() / kRecoveryServices);
    timed_ns += elapsed.count() * 1e9;
    resolved += kRecoveryServices;
    if (reset) {
      for (const auto& [id, incident] : model.incidents) active += incident.active ? 1 : 0;
      model = w.pristine;
      index.Reset(model);
      index.BeginBulk();
    }
  }
  FinishBulk(model, index, context);
  for (const auto& [id, incident] : model.incidents) active += incident.active ? 1 : 0;
  static std::map<int64_t, std::vector<double>> with_node_nanos;
  ReportRecoveries(state, w, active, resolved, timed_ns, with_node, with_node_nanos);
}

void BM_ServiceRecovered(benchmark::State& state, bool with_node) {
  const RecoveryWorld& w = RecoveryWorldOf(static_cast<uint64_t>(state.range(0)));
  const ApplyContext context = Context(&w.inventory);
  Model model = w.pristine;
  ModelIndex index;
  index.Reset(model);
  RecoveryEvents events;
  Event& failure = events.failure;
  Event& recovery = events.recovery;
  int64_t seconds = w.spec.start_unix + 1;  // distinct times: no incident id clashes
  uint64_t next_node = 0, batches = 0, resolved = 0;
  double timed_ns = 0;
  for (auto _ : state) {
    if (++batches % kRecoveryBatchesPerReset == 0) {
      model = w.pristine;
      index.Reset(model);
    }
    std::string failing[kRecoveryServices];
    for (uint64_t s = 0; s < kRecoveryServices; ++s) {
      failure.timestamp = {seconds++, 0};
      failure.node = w.nodes[next_node++ % w.nodes.size()];
      failure.service = w.services[s];
      Apply(model, failure, context, {&index, nullptr});
      failing[s] = failure.node;
    }
    const auto start = std::chrono::steady_clock::now();
    for (uint64_t s = 0; s < kRecoveryServices; ++s) {
      recovery.timestamp = {seconds++, 0};
      recovery.service = w.services[s];
      if (with_node) recovery.node = failing[s];
      Apply(model, recovery, context, {&index, nullptr});
    }
    const std::chrono::duration<double> elapsed = std::chrono::steady_clock::now() - start;
    state.SetIterationTime(elapsed.count() / kRecoveryServices);
    timed_ns += elapsed.count() * 1e9;
    resolved += kRecoveryServices;
  }
  // A check that the recoveries did resolve: nothing may be left active.
  size_t active = 0;
  for (const auto& [id, incident] : model.incidents) active += incident.active ? 1 : 0;
  ReportRecoveries(state, w, active, resolved, timed_ns, with_node, WithNodeNanos());
}

void Register() {
  benchmark::RegisterBenchmark("BM_ParseEventLine", BM_ParseEventLine);
  benchmark::RegisterBenchmark("BM_Apply", BM_Apply)->Unit(benchmark::kMillisecond);
  benchmark::RegisterBenchmark("BM_BuildSnapshot", BM_BuildSnapshot)
      ->Unit(benchmark::kMillisecond);
  benchmark::RegisterBenchmark("BM_BuildSnapshotKeptHistory", BM_BuildSnapshotKeptHistory)
      ->Unit(benchmark::kMillisecond);
  benchmark::RegisterBenchmark("BM_SerializeWorld", BM_SerializeWorld)
      ->Unit(benchmark::kMillisecond);
  benchmark::RegisterBenchmark("BM_DigestWorldFiles", BM_DigestWorldFiles)
      ->Unit(benchmark::kMillisecond);
  benchmark::RegisterBenchmark("BM_SerializeCheckpoint", BM_SerializeCheckpoint)
      ->Unit(benchmark::kMillisecond);
  benchmark::RegisterBenchmark("BM_ParseCheckpoint", BM_ParseCheckpoint)
      ->Unit(benchmark::kMillisecond);
  auto* render = benchmark::RegisterBenchmark("BM_RenderExposition", BM_RenderExposition)
                     ->Unit(benchmark::kMillisecond)
                     ->ArgName("target_series");
  for (int64_t series : quick ? std::vector<int64_t>{1000} : std::vector<int64_t>{1000, 10000, 100000}) {
    render->Arg(series);
  }
  // Interleaved, so each node count's two rows are adjacent in the table.
  // The untimed failures cost more than the timed recoveries, and the
  // manual time counts a tenth of each batch: with run_bench.sh's 0.5 s these
  // would run for minutes. 0.05 s of recoveries is ~400,000 of them with a
  // node and ~200 without one on 1,000 nodes.
  for (int64_t nodes : quick ? std::vector<int64_t>{10, 100} : std::vector<int64_t>{10, 100, 1000}) {
    for (const bool with_node : {true, false}) {
      auto* b = benchmark::RegisterBenchmark(
                    with_node ? "BM_ServiceRecovered/with_node" : "BM_ServiceRecovered/without_node",
                    [with_node](benchmark::State& state) { BM_ServiceRecovered(state, with_node); })
                    ->ArgName("nodes")
                    ->Arg(nodes)
                    ->UseManualTime()
                    ->Unit(benchmark::kNanosecond);
      if (!quick) b->MinTime(0.05);
    }
  }
  // The same in a replay's bulk mode: failures, recoveries and catching up
  // all timed (see BM_ServiceRecoveredReplay).
  for (int64_t nodes : quick ? std::vector<int64_t>{10, 100} : std::vector<int64_t>{10, 100, 1000}) {
    for (const bool with_node : {true, false}) {
      auto* b = benchmark::RegisterBenchmark(
                    with_node ? "BM_ServiceRecoveredReplay/with_node"
                              : "BM_ServiceRecoveredReplay/without_node",
                    [with_node](benchmark::State& state) {
                      BM_ServiceRecoveredReplay(state, with_node);
                    })
                    ->ArgName("nodes")
                    ->Arg(nodes)
                    ->UseManualTime()
                    ->Unit(benchmark::kNanosecond);
      if (!quick) b->MinTime(0.05);
    }
  }
}

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
  hlo::bench::Register();
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
