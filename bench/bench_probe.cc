// bench_probe: the HTTP and file-watching side of run_bench.sh, so the runner
// needs neither curl nor python.
//
//   bench_probe wait-ready --addr HOST:PORT [--timeout-s S]
//       polls /readyz until it answers 200 (exit 1 on timeout).
//   bench_probe scrape --addr HOST:PORT [--path /metrics] [--gzip]
//       one GET; prints "status=… bytes=… series=… ms=…".
//   bench_probe lag --addr HOST:PORT --append FILE --world FILE --count N
//                   [--tag T] [--start-unix S] [--gap-ms G] [--timeout-s S]
//                   [--poll-ms P]
//       N times: appends a node_heartbeat for a new node "<T>-<i>" to FILE,
//       then measures how long until that node shows on /metrics (a tight
//       loop of GETs) and in the world file (a tight loop of stat + read on
//       change), each from its own thread; both pause P ms (default 1)
//       between polls so the probe does not starve the daemon of a core. Prints one line per event and a
//       summary with median, p99 (nearest rank) and max in milliseconds.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "bench/workload.h"

namespace {

using Clock = std::chrono::steady_clock;

double MillisSince(Clock::time_point t0, Clock::time_point t1) {
  return std::chrono::duration<double, std::milli>(t1 - t0).count();
}

struct Response {
  int status = 0;  // 0: no connection or no valid answer
  std::string body;
};

// One HTTP/1.1 GET with "Connection: close", read to EOF.
Response Get(const std::string& addr, const std::string& path, bool gzip) {
  Response response;
  const auto colon = addr.rfind(':');
  if (colon == std::string::npos) return response;
  addrinfo hints{}, *found = nullptr;
  hints.ai_family = AF_INET;
  hints.ai_socktype = SOCK_STREAM;
  if (getaddrinfo(addr.substr(0, colon).c_str(), addr.substr(colon + 1).c_str(), &hints,
                  &found) != 0) {
    return response;
  }
  const int fd = socket(found->ai_family, found->ai_socktype, found->ai_protocol);
  const bool connected = fd >= 0 && connect(fd, found->ai_addr, found->ai_addrlen) == 0;
  freeaddrinfo(found);
  if (!connected) {
    if (fd >= 0) close(fd);
    return response;
  }
  std::string request = "GET " + path + " HTTP/1.1\r\nHost: " + addr +
                        "\r\nConnection: close\r\n" +
                        (gzip ? "Accept-Encoding: gzip\r\n" : "") + "\r\n";
  if (send(fd, request.data(), request.size(), MSG_NOSIGNAL) !=
      static_cast<ssize_t>(request.size())) {
    close(fd);
    return response;
  }
  std::string raw;
  char buf[1 << 16];
  for (ssize_t n; (n = recv(fd, buf, sizeof buf, 0)) > 0;) raw.append(buf, n);
  close(fd);
  const auto header_end = raw.find("\r\n\r\n");
  if (raw.compare(0, 9, "HTTP/1.1 ") != 0 || header_end == std::string::npos) return response;
  response.status = std::atoi(raw.c_str() + 9);
  response.body = raw.substr(header_end + 4);
  return response;
}

std::map<std::string, std::string> Flags(int argc, char** argv, int first) {
  std::map<std::string, std::string> flags;
  for (int i = first; i < argc; ++i) {
    std::string flag = argv[i];
    if (flag == "--gzip") {
      flags[flag] = "1";
    } else if (i + 1 < argc) {
      flags[flag] = argv[++i];
    } else {
      flags[flag] = "";
    }
  }
  return flags;
}

std::string Flag(const std::map<std::string, std::string>& f, const std::string& name,
                 const std::string& fallback) {
  const auto it = f.find(name);
  return it == f.end() ? fallback : it->second;
}

int WaitReady(const std::map<std::string, std::string>& f) {
  const std::string addr = Flag(f, "--addr", "");
  const double timeout_s = std::stod(Flag(f, "--timeout-s", "600"));
  const auto t0 = Clock::now();
  while (MillisSince(t0, Clock::now()) < timeout_s * 1000) {
    if (Get(addr, "/readyz", false).status == 200) return 0;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  std::cerr << "bench_probe: " << addr << "/readyz not 200 after " << timeout_s << " s\n";
  return 1;
}

int Scrape(const std::map<std::string, std::string>& f) {
  const auto t0 = Clock::now();
  const Response r = Get(Flag(f, "--addr", ""), Flag(f, "--path", "/metrics"), f.count("--gzip"));
  const double ms = MillisSince(t0, Clock::now());
  uint64_t series = 0;
  if (!f.count("--gzip")) {
    std::istringstream in(r.body);
    for (std::string line; std::getline(in, line);) {
      if (!line.empty() && line[0] != '#') ++series;
    }
  }
  std::printf("status=%d bytes=%zu series=%llu ms=%.1f\n", r.status, r.body.size(),
              static_cast<unsigned long long>(series), ms);
  return r.status == 200 ? 0 : 1;
}

bool AppendLine(const std::string& path, const std::string& line) {
  const int fd = open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT, 0644);
  if (fd < 0) return false;
  const bool ok = write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size());
  return close(fd) == 0 && ok;
}

std::string ReadWhole(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

struct Percentiles {
  double median = NAN, p99 = NAN, max = NAN;
};

Percentiles Summarise(std::vector<double> v) {
  Percentiles p;
  if (v.empty()) return p;
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  p.median = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
  p.p99 = v[static_cast<size_t>(std::ceil(0.99 * n)) - 1];
  p.max = v.back();
  return p;
}

// Polls until `found()` or the deadline; the time it was first seen, if ever.
template <typename Found>
std::optional<Clock::time_point> PollUntil(Clock::time_point deadline, int poll_ms, Found found) {
  while (Clock::now() < deadline) {
    if (found()) return Clock::now();
    std::this_thread::sleep_for(std::chrono::milliseconds(poll_ms));
  }
  return std::nullopt;
}

int Lag(const std::map<std::string, std::string>& f) {
  const std::string addr = Flag(f, "--addr", "");
  const std::string append = Flag(f, "--append", "");
  const std::string world = Flag(f, "--world", "");
  const int count = std::stoi(Flag(f, "--count", "50"));
  const std::string tag = Flag(f, "--tag", "lagprobe");
  const int64_t start_unix = std::stoll(Flag(f, "--start-unix", "1767225600"));
  const int gap_ms = std::stoi(Flag(f, "--gap-ms", "100"));
  const double timeout_s = std::stod(Flag(f, "--timeout-s", "30"));
  const int poll_ms = std::stoi(Flag(f, "--poll-ms", "1"));
  if (addr.empty() || append.empty() || world.empty()) {
    std::cerr << "bench_probe lag: --addr, --append and --world are required\n";
    return 2;
  }
  std::vector<double> metrics_ms, world_ms;
  int timeouts = 0;
  for (int i = 0; i < count; ++i) {
    const std::string node = tag + "-" + std::to_string(i);
    const std::string line = "{\"timestamp\": \"" +
                             hlo::bench::FormatMillis(start_unix + i, 0) +
                             "\", \"type\": \"node_heartbeat\", \"node\": \"" + node +
                             "\", \"message\": \"lag probe\"}\n";
    const std::string in_metrics = "node=\"" + node + "\"";
    const std::string in_world = "\"" + node + "\"";
    if (!AppendLine(append, line)) {
      std::cerr << "bench_probe lag: cannot append to " << append << "\n";
      return 1;
    }
    const auto t0 = Clock::now();
    const auto deadline = t0 + std::chrono::milliseconds(static_cast<int64_t>(timeout_s * 1000));
    std::optional<Clock::time_point> seen_metrics, seen_world;
    std::thread scraper([&] {
      seen_metrics = PollUntil(deadline, poll_ms, [&] {
        return Get(addr, "/metrics", false).body.find(in_metrics) != std::string::npos;
      });
    });
    std::thread watcher([&] {
      struct stat last {};
      stat(world.c_str(), &last);
      seen_world = PollUntil(deadline, poll_ms, [&] {
        struct stat now {};
        if (stat(world.c_str(), &now) != 0) return false;
        if (now.st_ino == last.st_ino && now.st_mtim.tv_nsec == last.st_mtim.tv_nsec &&
            now.st_mtim.tv_sec == last.st_mtim.tv_sec && now.st_size == last.st_size) {
          return false;
        }
        last = now;
        return ReadWhole(world).find(in_world) != std::string::npos;
      });
    });
    scraper.join();
    watcher.join();
    const double m = seen_metrics ? MillisSince(t0, *seen_metrics) : NAN;
    const double w = seen_world ? MillisSince(t0, *seen_world) : NAN;
    if (seen_metrics) metrics_ms.push_back(m);
    if (seen_world) world_ms.push_back(w);
    if (!seen_metrics || !seen_world) ++timeouts;
    std::printf("event %d: metrics %.1f ms, world %.1f ms\n", i, m, w);
    std::fflush(stdout);
    std::this_thread::sleep_for(std::chrono::milliseconds(gap_ms));
  }
  const Percentiles pm = Summarise(metrics_ms), pw = Summarise(world_ms);
  std::printf("metrics_median_ms=%.1f metrics_p99_ms=%.1f metrics_max_ms=%.1f "
              "world_median_ms=%.1f world_p99_ms=%.1f world_max_ms=%.1f samples=%d timeouts=%d\n",
              pm.median, pm.p99, pm.max, pw.median, pw.p99, pw.max, count, timeouts);
  return timeouts == 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string command = argc > 1 ? argv[1] : "";
  const auto flags = Flags(argc, argv, 2);
  if (command == "wait-ready") return WaitReady(flags);
  if (command == "scrape") return Scrape(flags);
  if (command == "lag") return Lag(flags);
  std::cerr << "usage: bench_probe wait-ready|scrape|lag --addr HOST:PORT [...]\n";
  return 2;
}
