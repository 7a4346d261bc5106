// A deterministic synthetic homelab for the benchmarks: event lines in a
// realistic mix, and the inventory they refer to. The same spec gives the
// same bytes on every machine: the generator draws from its own PRNG
// (splitmix64), never from <random>'s distributions, the clock or the
// environment.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace hlo::bench {

struct WorkloadSpec {
  uint64_t nodes = 1000;       // node-0000 … 
  uint64_t services = 10;      // per node
  uint64_t events = 1'000'000;
  uint64_t seed = 1;
  uint64_t invalid_per_million = 0;  // lines replaced by malformed ones
  // The share (0–100) of service_recovered events that carry no node (and
  // so recover the service on every node).
  uint64_t nodeless_recovery_percent = 1;
  // How often failures (healthcheck_failed / service_unhealthy, 8% of the
  // mix at 1) and, in step, recoveries (service_recovered, 4% at 1) occur,
  // as a multiple of the default mix; the share they gain is taken from
  // node_heartbeat and healthcheck_passed in proportion (5:3). 0 to
  // kMaxFailureRate; 1 leaves the mix, and so the bytes, as they always were.
  double failure_rate = 1.0;
  // Timestamps rise monotonically from `start_unix` over `span_seconds`.
  int64_t start_unix = 1735689600;  // 2025-01-01T00:00:00Z
  int64_t span_seconds = 365LL * 86400;
};

// failure_rate above this would leave no room for heartbeats and passed checks.
inline constexpr double kMaxFailureRate = 7.5;

// "node-0042": zero-padded to the width of the largest index (at least 4).
std::string NodeName(const WorkloadSpec& spec, uint64_t node);
// Realistic names ("postgres", "grafana", …), suffixed "-2", "-3", … past the list.
std::string ServiceName(uint64_t service);
// The roles the inventory gives a node (one or two, deterministic).
std::vector<std::string> NodeRoles(uint64_t node);

// UTC "YYYY-MM-DDTHH:MM:SS.mmmZ".
std::string FormatMillis(int64_t unix_seconds, int64_t millis);

// What a generator produced so far, for the summary line.
struct WorkloadStats {
  uint64_t lines = 0;
  uint64_t invalid = 0;
  uint64_t bytes = 0;  // without newlines
};

// Produces the workload's event lines one at a time, in processing order.
class WorkloadGenerator {
 public:
  explicit WorkloadGenerator(const WorkloadSpec& spec);

  // Replaces *line with the next event line (no '\n'); false once
  // spec.events lines have been produced.
  bool Next(std::string* line);

  const WorkloadStats& stats() const { return stats_; }

 private:
  struct Deployment {
    std::string id;
    uint64_t node = 0, service = 0;
    int stages_done = 0, stages_total = 0;
  };

  uint64_t Rand();
  uint64_t Below(uint64_t n);
  void Begin(std::string* line, const char* type);
  void AddString(std::string* line, const char* key, const std::string& value);
  void Heartbeat(std::string* line);
  void HealthPassed(std::string* line);
  void Failure(std::string* line);
  void Recovered(std::string* line);
  void DeploymentStep(std::string* line);
  void Unknown(std::string* line);
  void NodeDown(std::string* line);
  void Invalid(std::string* line);
  void MarkFailing(uint64_t pair);
  void MarkRecovered(uint64_t pair);

  WorkloadSpec spec_;
  // Upper bounds (of 10,000) of the mix's bands, from the spec.
  uint64_t heartbeat_end_, passed_end_, failure_end_, recovered_end_;
  uint64_t state_;
  uint64_t index_ = 0;
  int64_t step_ns_;
  std::string now_;  // this event's timestamp
  std::vector<uint64_t> failing_;         // node * services + service
  std::vector<int64_t> failing_pos_;      // index in failing_, or -1
  std::vector<Deployment> in_flight_;
  std::vector<Deployment> retry_;         // failed deployments to start again
  uint64_t deployments_started_ = 0;
  WorkloadStats stats_;
};

// inventory/topology.yaml for the spec's nodes.
std::string TopologyYaml(const WorkloadSpec& spec);
// hosts/<node>/services.yaml.
std::string ServicesYaml(const WorkloadSpec& spec, uint64_t node);

}  // namespace hlo::bench
