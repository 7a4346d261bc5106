// --history.retention (issue 14) through the program: `run` daemons fed in
// pieces and SIGKILLed at random moments, then started again, end with the
// world files and world/archive/ of one `once` over the same events, byte for
// byte; and /metrics counts the archived history as a run without retention
// does.
#include <gtest/gtest.h>

#include <map>
#include <nlohmann/json.hpp>
#include <random>
#include <thread>

#include "tests/fakes/temp_dir.h"
#include "tests/integration/daemon_helpers.h"
#include "tests/integration/process_helpers.h"

namespace hlo {
namespace {

namespace fs = std::filesystem;
using testing::DaemonProcess;
using testing::Millis;
using testing::ProcessResult;

constexpr char kRetentionNow[] = "2026-02-01T00:00:00Z";

// 24 days of a small homelab, one line every ~4 minutes, in one file per
// day; deployment ids come back after days (the touch rule); each line ends
// with a newline.
std::vector<std::pair<std::string, std::string>> Lines() {
  std::mt19937_64 rng(20261206);
  auto pick = [&rng](int n) { return static_cast<int>(rng() % static_cast<uint64_t>(n)); };
  const char* nodes[] = {"jupiter", "saturn", "mars"};
  const char* services[] = {"nextcloud", "grafana"};
  std::vector<std::pair<std::string, std::string>> out;
  int64_t seconds = 1767225600;  // 2026-01-01T00:00:00Z
  for (int i = 0; i < 8000; ++i) {
    seconds += 120 + pick(240);
    char time[32];
    const time_t t = static_cast<time_t>(seconds);
    std::tm tm{};
    gmtime_r(&t, &tm);
    std::strftime(time, sizeof time, "%Y-%m-%dT%H:%M:%SZ", &tm);
    const std::string node = nodes[pick(3)], service = services[pick(2)];
    std::string line = std::string(R"({"timestamp":")") + time + R"(","node":")" + node + "\"";
    const int kind = pick(10);
    if (kind < 4) line += R"(,"type":"node_heartbeat"})";
    else if (kind < 6) line += R"(,"type":"healthcheck_failed","service":")" + service + "\"}";
    else if (kind < 8) line += R"(,"type":"service_recovered","service":")" + service + "\"}";
    else {
      const char* types[] = {"deployment_started", "deployment_succeeded", "deployment_failed"};
      line += std::string(R"(,"type":")") + types[pick(3)] + R"(","service":")" + service +
              R"(","correlation_id":"dep-)" + service + "-" + std::to_string(pick(3) + (tm.tm_mday % 5 == 0 ? 10 : 0)) + "\"}";
    }
    out.emplace_back(std::string(time).substr(0, 10) + ".jsonl", line + "\n");
  }
  return out;
}

std::map<std::string, std::string> Tree(const fs::path& dir) {
  std::map<std::string, std::string> out;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    if (e.is_regular_file()) out[fs::relative(e.path(), dir).string()] = *testing::ReadFile(e.path());
  }
  return out;
}

std::map<std::string, std::string> ColdWorld(const std::vector<std::pair<std::string, std::string>>& lines,
                                             const std::vector<std::string>& flags) {
  TempDir root;
  fs::create_directories(root.path() / "events");
  for (const auto& [file, line] : lines) testing::AppendFile(root.path() / "events" / file, line);
  const ProcessResult r = testing::RunProgram(testing::OnceArgs(root.path(), flags, kRetentionNow));
  EXPECT_EQ(r.exit_code, 0) << r.err;
  return Tree(root.path() / "world");
}

uint64_t Processed(const fs::path& root) {
  const auto text = testing::ReadFile(root / "world" / "runtime-summary.json");
  if (!text) return 0;
  const auto j = nlohmann::json::parse(*text, nullptr, false);
  return j.is_discarded() ? 0 : j["events"]["processed"].get<uint64_t>();
}

TEST(HistoryRetentionDaemonTest, KilledDaemonsEndWithTheBytesOfOneOnce) {
  const auto lines = Lines();
  const std::vector<std::string> flags = {"--history.retention", "2d"};
  const auto cold = ColdWorld(lines, flags);
  ASSERT_TRUE(cold.count("archive/incidents-2026-01.jsonl")) << "nothing archived";
  const uint64_t total = nlohmann::json::parse(cold.at("runtime-summary.json"))["events"]["processed"];

  TempDir root;
  fs::create_directories(root.path() / "events");
  std::mt19937_64 rng(7);
  size_t next = 0;
  auto feed = [&](size_t n) {
    for (size_t end = std::min(lines.size(), next + n); next < end; ++next) {
      testing::AppendFile(root.path() / "events" / lines[next].first, lines[next].second);
    }
  };
  feed(lines.size() / 3);
  DaemonProcess daemon(root.path(), flags, kRetentionNow);
  for (int round = 0; round < 6; ++round) {
    ASSERT_EQ(daemon.Start(), "");
    for (int piece = 0; piece < 4; ++piece) {
      feed(100 + rng() % 600);
      std::this_thread::sleep_for(Millis(static_cast<int>(rng() % 40)));
    }
    daemon.Signal(SIGKILL);
    daemon.Stop(SIGKILL);
  }
  feed(lines.size());
  ASSERT_EQ(daemon.Start(), "");
  EXPECT_TRUE(testing::WaitUntil([&] { return Processed(root.path()) == total; }, Millis(20000)))
      << Processed(root.path()) << " of " << total;
  // The archived history still counts on /metrics, as without retention.
  const auto without = ColdWorld(lines, {});
  const uint64_t resolved =
      nlohmann::json::parse(without.at("runtime-summary.json"))["incidents"]["resolved"];
  EXPECT_TRUE(daemon.WaitForMetrics([&](const std::vector<testing::Sample>& m) {
    return testing::Value(m, "homelab_incidents_resolved_total", {}) == static_cast<double>(resolved);
  })) << resolved;
  EXPECT_EQ(daemon.Stop().exit_code, 0);
  EXPECT_EQ(Tree(root.path() / "world").at("archive/incidents-2026-01.jsonl"),
            cold.at("archive/incidents-2026-01.jsonl"));
  // Same flags and --now: `once` rewrites the world of the daemon's history.
  const ProcessResult r = testing::RunProgram(testing::OnceArgs(root.path(), flags, kRetentionNow));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(Tree(root.path() / "world"), cold);
}

}  // namespace
}  // namespace hlo
