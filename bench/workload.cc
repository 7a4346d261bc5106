#include "bench/workload.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace hlo::bench {
namespace {

const char* const kServices[] = {
    "postgres",  "grafana",    "prometheus", "nextcloud", "jellyfin", "home-assistant",
    "mosquitto", "traefik",    "redis",      "vaultwarden", "gitea",  "pihole",
    "syncthing", "zigbee2mqtt", "minio",     "loki",      "immich",   "paperless",
    "uptime-kuma", "node-red"};
constexpr uint64_t kServiceCount = sizeof(kServices) / sizeof(kServices[0]);

const char* const kRoles[] = {"k3s-agent", "nas", "media", "k3s-server", "backup",
                              "home-automation", "mqtt", "monitoring"};
const char* const kStages[] = {"pull", "migrate", "restart", "verify", "smoke-test"};
const char* const kUnknownTypes[] = {"backup_completed", "certificate_renewed",
                                     "disk_smart_report"};

// Howard Hinnant's civil_from_days.
void CivilFromDays(int64_t z, int64_t* y, unsigned* m, unsigned* d) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  *d = doy - (153 * mp + 2) / 5 + 1;
  *m = mp < 10 ? mp + 3 : mp - 9;
  *y = static_cast<int64_t>(yoe) + era * 400 + (*m <= 2);
}

}  // namespace

std::string NodeName(const WorkloadSpec& spec, uint64_t node) {
  int width = 4;
  for (uint64_t n = spec.nodes; n >= 10000; n /= 10) ++width;
  char buf[32];
  std::snprintf(buf, sizeof buf, "node-%0*llu", width, static_cast<unsigned long long>(node));
  return buf;
}

std::string ServiceName(uint64_t service) {
  std::string name = kServices[service % kServiceCount];
  if (service >= kServiceCount) name += "-" + std::to_string(service / kServiceCount + 1);
  return name;
}

std::vector<std::string> NodeRoles(uint64_t node) {
  std::vector<std::string> roles{kRoles[node % 8]};
  if (node % 3 == 0) roles.push_back(kRoles[(node / 3 + 1) % 8]);
  if (roles.size() == 2 && roles[0] == roles[1]) roles.pop_back();
  return roles;
}

std::string FormatMillis(int64_t unix_seconds, int64_t millis) {
  const int64_t days = (unix_seconds >= 0 ? unix_seconds : unix_seconds - 86399) / 86400;
  const int64_t secs = unix_seconds - days * 86400;
  int64_t y;
  unsigned m, d;
  CivilFromDays(days, &y, &m, &d);
  char buf[96];
  std::snprintf(buf, sizeof buf, "%04lld-%02u-%02uT%02lld:%02lld:%02lld.%03lldZ",
                static_cast<long long>(y), m, d, static_cast<long long>(secs / 3600),
                static_cast<long long>(secs / 60 % 60), static_cast<long long>(secs % 60),
                static_cast<long long>(millis));
  return buf;
}

WorkloadGenerator::WorkloadGenerator(const WorkloadSpec& spec)
    : spec_(spec),
      heartbeat_end_(0),
      passed_end_(0),
      failure_end_(0),
      recovered_end_(0),
      state_(spec.seed * 0x9E3779B97F4A7C15ULL + 0x1234567ULL),
      step_ns_(spec.events == 0 ? 0
                                : spec.span_seconds * 1'000'000'000LL /
                                      static_cast<int64_t>(spec.events)),
      failing_pos_(spec.nodes * spec.services, -1) {
  // The default mix, per 10,000: 5,000 heartbeats, 3,000 passed checks, 800
  // failures, 400 recoveries, then deployments, unknown types and node_down
  // from 9,200 on. A failure rate scales failures and recoveries together
  // (so incidents still resolve) and takes what they gain from heartbeats
  // and passed checks, 5:3, leaving everything from 9,200 on as it is. All
  // in integers, so a rate of 1 gives exactly the bands, and bytes, of old.
  const double rate = std::clamp(spec.failure_rate, 0.0, kMaxFailureRate);
  const int64_t failures = std::llround(800 * rate), recoveries = std::llround(400 * rate);
  const int64_t gained = failures + recoveries - 1200;
  const int64_t from_heartbeats = gained * 5 / 8;
  heartbeat_end_ = static_cast<uint64_t>(5000 - from_heartbeats);
  passed_end_ = static_cast<uint64_t>(8000 - gained);
  failure_end_ = passed_end_ + static_cast<uint64_t>(failures);
  recovered_end_ = failure_end_ + static_cast<uint64_t>(recoveries);  // always 9,200
}

uint64_t WorkloadGenerator::Rand() {  // splitmix64
  uint64_t z = (state_ += 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

uint64_t WorkloadGenerator::Below(uint64_t n) {
  return n == 0 ? 0 : Rand() % n;  // the modulo bias is far below what matters here
}

void WorkloadGenerator::Begin(std::string* line, const char* type) {
  line->clear();
  *line += "{\"timestamp\": \"";
  *line += now_;
  *line += "\", \"type\": \"";
  *line += type;
  *line += '"';
}

void WorkloadGenerator::AddString(std::string* line, const char* key, const std::string& value) {
  *line += ", \"";
  *line += key;
  *line += "\": \"";
  *line += value;
  *line += '"';
}

bool WorkloadGenerator::Next(std::string* line) {
  if (index_ >= spec_.events) return false;
  const int64_t t = static_cast<int64_t>(index_) * step_ns_;
  now_ = FormatMillis(spec_.start_unix + t / 1'000'000'000, t / 1'000'000 % 1000);
  ++index_;
  if (spec_.invalid_per_million > 0 && Below(1'000'000) < spec_.invalid_per_million) {
    Invalid(line);
    ++stats_.invalid;
  } else {
    const uint64_t r = Below(10000);
    if (r < heartbeat_end_) Heartbeat(line);
    else if (r < passed_end_) HealthPassed(line);
    else if (r < failure_end_) Failure(line);
    else if (r < recovered_end_) Recovered(line);
    else if (r < 9800) DeploymentStep(line);
    else if (r < 9950) Unknown(line);
    else NodeDown(line);
  }
  ++stats_.lines;
  stats_.bytes += line->size();
  return true;
}

void WorkloadGenerator::Heartbeat(std::string* line) {
  const std::string node = NodeName(spec_, Below(spec_.nodes));
  Begin(line, "node_heartbeat");
  AddString(line, "node", node);
  AddString(line, "severity", "info");
  AddString(line, "message", "agent 2.4.1 alive");
  char payload[160];
  std::snprintf(payload, sizeof payload,
                ", \"payload\": {\"uptime_s\": %llu, \"load1\": %llu.%02llu, \"mem_used_pct\": "
                "%llu.%llu}}",
                static_cast<unsigned long long>(Below(40'000'000)),
                static_cast<unsigned long long>(Below(8)),
                static_cast<unsigned long long>(Below(100)),
                static_cast<unsigned long long>(Below(100)),
                static_cast<unsigned long long>(Below(10)));
  *line += payload;
}

void WorkloadGenerator::HealthPassed(std::string* line) {
  const uint64_t node = Below(spec_.nodes), service = Below(spec_.services);
  const std::string svc = ServiceName(service);
  Begin(line, "healthcheck_passed");
  AddString(line, "node", NodeName(spec_, node));
  AddString(line, "service", svc);
  AddString(line, "message", "GET http://" + svc + ".lan/health -> 200 OK");
  *line += ", \"payload\": {\"latency_ms\": " + std::to_string(2 + Below(250)) +
           "}}";
}

void WorkloadGenerator::MarkFailing(uint64_t pair) {
  if (failing_pos_[pair] >= 0) return;
  failing_pos_[pair] = static_cast<int64_t>(failing_.size());
  failing_.push_back(pair);
}

void WorkloadGenerator::MarkRecovered(uint64_t pair) {
  const int64_t pos = failing_pos_[pair];
  if (pos < 0) return;
  failing_[pos] = failing_.back();
  failing_pos_[failing_.back()] = pos;
  failing_.pop_back();
  failing_pos_[pair] = -1;
}

void WorkloadGenerator::Failure(std::string* line) {
  // Half the failures hit something already failing (occurrences pile up on
  // one incident), half something new (a new incident, or a repeat).
  uint64_t pair = !failing_.empty() && Below(2) == 0
                      ? failing_[Below(failing_.size())]
                      : Below(spec_.nodes * spec_.services);
  MarkFailing(pair);
  const uint64_t node = pair / spec_.services, service = pair % spec_.services;
  const std::string svc = ServiceName(service);
  const bool check = Below(10) < 6;
  Begin(line, check ? "healthcheck_failed" : "service_unhealthy");
  AddString(line, "node", NodeName(spec_, node));
  AddString(line, "service", svc);
  static const char* const kSev[] = {"warning", "error", "error", "critical"};
  AddString(line, "severity", kSev[Below(4)]);
  AddString(line, "message",
            check ? "GET http://" + svc + ".lan/health -> 503 Service Unavailable after 5000 ms"
                  : "container " + svc + " restarted 3 times in 10 minutes (exit code 137)");
  *line += ", \"payload\": {\"attempt\": " + std::to_string(1 + Below(5)) + "}}";
}

void WorkloadGenerator::Recovered(std::string* line) {
  uint64_t pair = failing_.empty() ? Below(spec_.nodes * spec_.services)
                                   : failing_[Below(failing_.size())];
  const uint64_t service = pair % spec_.services;
  const std::string svc = ServiceName(service);
  Begin(line, "service_recovered");
  if (Below(100) < spec_.nodeless_recovery_percent) {
    // Without a node: recovers the service everywhere.
    for (size_t i = 0; i < failing_.size();) {
      if (failing_[i] % spec_.services == service) MarkRecovered(failing_[i]);
      else ++i;
    }
  } else {
    AddString(line, "node", NodeName(spec_, pair / spec_.services));
    MarkRecovered(pair);
  }
  AddString(line, "service", svc);
  AddString(line, "severity", "info");
  AddString(line, "message", svc + " answers its health check again; closing the incident");
  *line += '}';
}

void WorkloadGenerator::DeploymentStep(std::string* line) {
  const bool advance = !in_flight_.empty() && (in_flight_.size() >= 8 || Below(100) < 75);
  if (!advance) {
    Deployment d;
    if (!retry_.empty() && Below(2) == 0) {
      d = std::move(retry_.back());  // a new attempt of a failed deployment
      retry_.pop_back();
      d.stages_done = 0;
    } else {
      d.node = Below(spec_.nodes);
      d.service = Below(spec_.services);
      d.id = "deploy-" + ServiceName(d.service) + "-" + std::to_string(++deployments_started_);
    }
    d.stages_total = 2 + static_cast<int>(Below(3));
    Begin(line, "deployment_started");
    AddString(line, "correlation_id", d.id);
    AddString(line, "node", NodeName(spec_, d.node));
    AddString(line, "service", ServiceName(d.service));
    AddString(line, "message", "ansible-playbook site.yml --limit " + NodeName(spec_, d.node) +
                                   " --tags " + ServiceName(d.service));
    *line += '}';
    in_flight_.push_back(std::move(d));
    return;
  }
  const size_t pick = Below(in_flight_.size());
  Deployment& d = in_flight_[pick];
  if (d.stages_done < d.stages_total) {
    Begin(line, "deployment_stage");
    AddString(line, "correlation_id", d.id);
    AddString(line, "node", NodeName(spec_, d.node));
    AddString(line, "message", "stage finished after " + std::to_string(1 + Below(90)) + " s");
    *line += ", \"payload\": {\"stage\": \"";
    *line += kStages[d.stages_done++];
    *line += "\"}}";
    return;
  }
  const bool failed = Below(100) < 15;
  Begin(line, failed ? "deployment_failed" : "deployment_succeeded");
  AddString(line, "correlation_id", d.id);
  AddString(line, "node", NodeName(spec_, d.node));
  AddString(line, "service", ServiceName(d.service));
  if (failed) {
    AddString(line, "severity", "error");
    AddString(line, "message", "task 'restart " + ServiceName(d.service) + "' failed: non-zero exit");
    *line += ", \"payload\": {\"diagnostics\": [\"" + d.id + ".log\", \"" +
             ServiceName(d.service) + "/compose-" + std::to_string(deployments_started_) +
             ".txt\"]}}";
    MarkFailing(d.node * spec_.services + d.service);
    if (Below(10) < 3) retry_.push_back(d);
  } else {
    AddString(line, "message", "deployed in " + std::to_string(10 + Below(600)) + " s");
    *line += '}';
  }
  in_flight_[pick] = std::move(in_flight_.back());
  in_flight_.pop_back();
}

void WorkloadGenerator::Unknown(std::string* line) {
  const std::string node = NodeName(spec_, Below(spec_.nodes));
  Begin(line, kUnknownTypes[Below(3)]);
  AddString(line, "node", node);
  AddString(line, "message", "reported by a tool the observer does not know (yet)");
  *line += ", \"payload\": {\"size_bytes\": " + std::to_string(Below(1ULL << 40)) + "}}";
}

void WorkloadGenerator::NodeDown(std::string* line) {
  const std::string node = NodeName(spec_, Below(spec_.nodes));
  Begin(line, "node_down");
  AddString(line, "node", node);
  AddString(line, "severity", "critical");
  AddString(line, "message", "no answer to ping from the monitoring host for 5 minutes");
  *line += '}';
}

void WorkloadGenerator::Invalid(std::string* line) {
  const std::string node = NodeName(spec_, Below(spec_.nodes));
  switch (Below(5)) {
    case 0:  // malformed JSON: a line cut short
      Heartbeat(line);
      line->resize(line->size() / 2);
      break;
    case 1:  // node is not a string
      Begin(line, "node_heartbeat");
      *line += ", \"node\": " + std::to_string(Below(1000)) + "}";
      break;
    case 2:  // impossible date
      line->clear();
      *line += "{\"timestamp\": \"2025-02-30T25:61:00Z\", \"type\": \"node_heartbeat\", \"node\": \"" +
               node + "\"}";
      break;
    case 3:  // missing service
      Begin(line, "healthcheck_failed");
      AddString(line, "node", node);
      *line += '}';
      break;
    default:  // not an object
      *line = "[\"node_heartbeat\", \"" + node + "\"]";
      break;
  }
}

std::string TopologyYaml(const WorkloadSpec& spec) {
  std::string out = "# Generated by bench_generate.\nnodes:\n";
  for (uint64_t n = 0; n < spec.nodes; ++n) {
    out += "  - name: " + NodeName(spec, n) + "\n    roles: [";
    const auto roles = NodeRoles(n);
    for (size_t i = 0; i < roles.size(); ++i) out += (i ? ", " : "") + roles[i];
    out += "]\n    address: 10." + std::to_string(n / 65536 % 256) + "." +
           std::to_string(n / 256 % 256) + "." + std::to_string(n % 256) + "\n";
  }
  return out;
}

std::string ServicesYaml(const WorkloadSpec& spec, uint64_t) {
  std::string out = "services:\n";
  for (uint64_t s = 0; s < spec.services; ++s) out += "  - " + ServiceName(s) + "\n";
  return out;
}

}  // namespace hlo::bench
