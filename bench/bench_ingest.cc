// bench_ingest: what one POSTed event costs (issue 11 §3), measured against
// a real `homelab-observer run --web.enable-ingest` it starts on a scratch
// root and a free loopback port, through send's own HttpClient (libcurl).
//
//   bench_ingest --binary PATH [--events N] [--batches B] [--batch-events E]
//                [--runs R] [--poll-us P]
//
// 1. Latency, N times (default 200) one after another: POST one event (a
//    heartbeat of a new node, with an id), then poll /metrics every P µs
//    (default 500) until homelab_observer_events_processed_total has counted
//    it. Prints p50/p99/max of the POST alone (202: the event is fsynced)
//    and of POST → visible on /metrics.
// 2. Throughput, R runs (default 3): B POSTs (default 100) of E events each
//    (default 1000) back to back, then wait until all are counted on
//    /metrics. Prints the median events/s accepted (202s) and applied.
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <unistd.h>

#include <fcntl.h>

#include <algorithm>
#include <cmath>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "exporter/http_client.h"

extern char** environ;

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

double Ms(Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

double Percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const size_t rank = static_cast<size_t>(std::ceil(p / 100.0 * static_cast<double>(v.size())));
  return v[std::min(v.size() - 1, rank == 0 ? 0 : rank - 1)];
}

int FreePort() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

// The sum of homelab_observer_events_processed_total; -1 when unreadable.
double Processed(hlo::HttpClient& client, const std::string& base) {
  const hlo::HttpResult r = client.Get(base + "/metrics");
  if (r.status != 200) return -1;
  double sum = 0;
  static const std::string kName = "homelab_observer_events_processed_total{";
  for (size_t at = r.body.find(kName); at != std::string::npos; at = r.body.find(kName, at + 1)) {
    if (at > 0 && r.body[at - 1] != '\n') continue;
    const size_t space = r.body.find("} ", at);
    if (space != std::string::npos) sum += std::strtod(r.body.c_str() + space + 2, nullptr);
  }
  return sum;
}

// Event n, 10 ms after event n-1 (from midnight on): time only moves on, so
// no event is ever late and no replay is measured.
std::string Event(uint64_t n) {
  const uint64_t ms = n * 10;
  const uint64_t second = ms / 1000;
  char buf[220];
  std::snprintf(buf, sizeof buf,
                "{\"id\":\"bench-%llu\",\"timestamp\":\"2026-05-12T%02d:%02d:%02d.%03dZ\","
                "\"type\":\"node_heartbeat\",\"node\":\"bench-%llu\"}\n",
                static_cast<unsigned long long>(n), static_cast<int>(second / 3600 % 24),
                static_cast<int>(second / 60 % 60), static_cast<int>(second % 60),
                static_cast<int>(ms % 1000), static_cast<unsigned long long>(n % 5000));
  return buf;
}

}  // namespace

int main(int argc, char** argv) {
  std::string binary;
  int events = 200, batches = 100, batch_events = 1000, runs = 3, poll_us = 500;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i], value = argv[i + 1];
    if (flag == "--binary") binary = value;
    else if (flag == "--events") events = std::atoi(value.c_str());
    else if (flag == "--batches") batches = std::atoi(value.c_str());
    else if (flag == "--batch-events") batch_events = std::atoi(value.c_str());
    else if (flag == "--runs") runs = std::atoi(value.c_str());
    else if (flag == "--poll-us") poll_us = std::atoi(value.c_str());
    else {
      std::fprintf(stderr, "bench_ingest: unknown flag %s\n", flag.c_str());
      return 2;
    }
  }
  if (binary.empty()) {
    std::fprintf(stderr, "usage: bench_ingest --binary PATH [--events N] [--batches B] "
                         "[--batch-events E] [--runs R] [--poll-us P]\n");
    return 2;
  }
  char tmpl[] = "/tmp/bench-ingest-XXXXXX";
  const fs::path root = ::mkdtemp(tmpl);
  const int port = FreePort();
  const std::string base = "http://127.0.0.1:" + std::to_string(port);
  const std::string listen = "127.0.0.1:" + std::to_string(port);
  std::vector<std::string> args = {binary, "run", "--root", root.string(), "--web.listen-address",
                                   listen, "--web.enable-ingest", "--events.max-lateness", "48h"};
  std::vector<char*> cargs;
  for (std::string& a : args) cargs.push_back(a.data());
  cargs.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
  pid_t pid = 0;
  if (posix_spawn(&pid, binary.c_str(), &actions, nullptr, cargs.data(), environ) != 0) {
    std::fprintf(stderr, "bench_ingest: cannot start %s\n", binary.c_str());
    return 1;
  }
  posix_spawn_file_actions_destroy(&actions);
  const auto client = hlo::MakeCurlHttpClient({});
  const auto metrics_client = hlo::MakeCurlHttpClient({});
  const auto give_up = Clock::now() + std::chrono::seconds(20);
  while (Processed(*metrics_client, base) < 0 && Clock::now() < give_up) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  int rc = 0;
  uint64_t sent = 0;
  const auto wait_for = [&](double count) {
    const auto limit = Clock::now() + std::chrono::seconds(60);
    while (Processed(*metrics_client, base) < count) {
      if (Clock::now() > limit) return false;
      std::this_thread::sleep_for(std::chrono::microseconds(poll_us));
    }
    return true;
  };

  std::vector<double> post_ms, visible_ms;
  for (int i = 0; i < events && rc == 0; ++i) {
    const std::string body = Event(sent++);
    const auto t0 = Clock::now();
    const hlo::HttpResult r = client->Post(base + "/api/v1/events", "application/x-ndjson", body);
    const auto t1 = Clock::now();
    if (r.status != 202) {
      std::fprintf(stderr, "bench_ingest: POST answered %d %s %s\n", r.status, r.error.c_str(),
                   r.body.c_str());
      rc = 1;
      break;
    }
    if (!wait_for(static_cast<double>(sent))) rc = 1;
    post_ms.push_back(Ms(t1 - t0));
    visible_ms.push_back(Ms(Clock::now() - t0));
  }
  if (rc == 0) {
    std::printf("one event, %d sequential POSTs:\n", events);
    std::printf("  POST → 202 (fsynced)        p50 %.2f ms  p99 %.2f ms  max %.2f ms\n",
                Percentile(post_ms, 50), Percentile(post_ms, 99), Percentile(post_ms, 100));
    std::printf("  POST → visible on /metrics  p50 %.2f ms  p99 %.2f ms  max %.2f ms\n",
                Percentile(visible_ms, 50), Percentile(visible_ms, 99), Percentile(visible_ms, 100));
  }

  std::vector<double> accepted_rate, applied_rate;
  for (int run = 0; run < runs && rc == 0; ++run) {
    std::vector<std::string> bodies;
    for (int b = 0; b < batches; ++b) {
      std::string body;
      for (int e = 0; e < batch_events; ++e) body += Event(sent++);
      bodies.push_back(std::move(body));
    }
    const auto t0 = Clock::now();
    for (const std::string& body : bodies) {
      const hlo::HttpResult r = client->Post(base + "/api/v1/events", "application/x-ndjson", body);
      if (r.status != 202) {
        std::fprintf(stderr, "bench_ingest: batch POST answered %d %s\n", r.status, r.error.c_str());
        rc = 1;
        break;
      }
    }
    const auto t1 = Clock::now();
    if (rc != 0 || !wait_for(static_cast<double>(sent))) {
      rc = 1;
      break;
    }
    const double n = static_cast<double>(batches) * batch_events;
    accepted_rate.push_back(n / std::chrono::duration<double>(t1 - t0).count());
    applied_rate.push_back(n / std::chrono::duration<double>(Clock::now() - t0).count());
  }
  if (rc == 0) {
    std::printf("batched, %d POSTs of %d events, median of %d runs:\n", batches, batch_events, runs);
    std::printf("  accepted (202s back to back)  %.0f events/s\n", Percentile(accepted_rate, 50));
    std::printf("  applied (visible on /metrics) %.0f events/s\n", Percentile(applied_rate, 50));
  }
  ::kill(pid, SIGTERM);
  int status = 0;
  ::waitpid(pid, &status, 0);
  std::error_code ec;
  fs::remove_all(root, ec);
  return rc;
}
