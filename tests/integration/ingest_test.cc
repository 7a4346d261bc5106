// Push ingestion end to end (issue 11 §3): `send` processes posting to
// `run --web.enable-ingest` while the daemon is SIGKILLed and restarted, a
// spool that fills while the observer is down and drains once it is back,
// the body limit, and the refusal to ingest unauthenticated on a public
// address. "Exactly once" is checked the contract's way: the world files
// equal those of one `once` over the same events written to plain files.
#include <algorithm>
#include <gtest/gtest.h>

#include <crypt.h>
#include <sys/stat.h>

#include <random>

#include "exporter/http_client.h"
#include "tests/fakes/temp_dir.h"
#include "tests/integration/daemon_helpers.h"
#include "tests/integration/process_helpers.h"

namespace hlo {
namespace {

namespace fs = std::filesystem;
using testing::Millis;

// Every event of these tests lies far inside this window: senders that fall
// behind one another after a retry must not make the test about replays.
// (The window also keeps at most 20,000 events, observer/timeline.h: a
// sender far enough behind the others still sends late events, so the
// daemon replays for them at once, --events.replay-min-interval 0s, rather
// than up to 30 s later.)
constexpr char kLateness[] = "48h";

// `run --web.enable-ingest` on one fixed loopback port across restarts, so
// that the senders' URL stays valid.
class IngestDaemon {
 public:
  explicit IngestDaemon(fs::path root, std::vector<std::string> extra = {})
      : root_(std::move(root)), extra_(std::move(extra)), port_(testing::FreePort()) {}

  // How Start tells the daemon serves; by default a plain GET /healthz.
  std::function<bool(int port)> serving = [](int port) {
    const auto r = testing::Http(port, "GET", "/healthz", {}, Millis(500));
    return r && r->status == 200;
  };

  // Starts it and waits until it answers /healthz; "" or what went wrong.
  std::string Start() {
    for (int attempt = 0; attempt < 50; ++attempt) {
      std::vector<std::string> argv = {HLO_BINARY, "run", "--root", root_.string(), "--now",
                                       testing::kNow, "--web.listen-address",
                                       "127.0.0.1:" + std::to_string(port_), "--web.enable-ingest",
                                       "--events.max-lateness", kLateness,
                                       "--events.replay-min-interval", "0s"};
      argv.insert(argv.end(), extra_.begin(), extra_.end());
      ++starts_;
      child_ = std::make_unique<testing::Child>(argv, logs_.path() / "out",
                                                logs_.path() / ("err-" + std::to_string(starts_)));
      const bool up = testing::WaitUntil(
          [&] {
            if (!child_->Running()) return true;
            return serving(port_);
          },
          Millis(20000), Millis(5));
      if (up && child_->Running()) return "";
      const std::string err = child_->Err();
      if (err.find("in use") == std::string::npos) return "the daemon did not start: " + err;
      std::this_thread::sleep_for(Millis(100));  // the port is still held: try again
    }
    return "the port stayed in use";
  }
  void Kill() { child_.reset(); }
  testing::ProcessResult Stop() {
    child_->Signal(SIGTERM);
    return child_->Wait(Millis(20000)).value_or(testing::ProcessResult{});
  }
  std::vector<testing::Sample> Metrics() const {
    const auto r = testing::Http(port_, "GET", "/metrics");
    return r && r->status == 200 ? testing::ParseExposition(r->body)
                                 : std::vector<testing::Sample>{};
  }
  // The summed homelab_observer_events_processed_total, -1 when unreadable.
  double Processed() const {
    return testing::Sum(Metrics(), "homelab_observer_events_processed_total").value_or(-1);
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  int port() const { return port_; }

 private:
  fs::path root_;
  std::vector<std::string> extra_;
  int port_;
  int starts_ = 0;
  TempDir logs_;
  std::unique_ptr<testing::Child> child_;
};

// Event i of sender `sender`: heartbeats, health checks, failures and
// recoveries, and deployments with stages, across nodes and services shared
// by all senders. Every other event carries an id of the test's; the rest
// get theirs from `send`. All are valid. Times are distinct per sender.
std::string EventLine(int sender, int i) {
  static constexpr const char* kNodes[] = {"atlas", "boreas", "ceres", "dione", "eos", "freya"};
  static constexpr const char* kServices[] = {"grafana", "nextcloud", "mosquitto", "restic", "caddy"};
  // From 08:00 on, 0.5 s apart: 10,000 events take 83 minutes.
  const int ms = i * 500 + sender * 125;
  const int second = 8 * 3600 + ms / 1000;
  char stamp[40];
  std::snprintf(stamp, sizeof stamp, "2026-05-12T%02d:%02d:%02d.%03dZ", second / 3600,
                second / 60 % 60, second % 60, ms % 1000);
  const std::string node = kNodes[(i * 7 + sender) % 6];
  const std::string service = kServices[(i / 3 + sender) % 5];
  const std::string dep = "\"correlation_id\":\"dep-" + std::to_string(sender) + "-" +
                          std::to_string(i / 20) + "\"";
  std::string line;
  switch (i % 20) {
    case 3: line = testing::Event(stamp, "healthcheck_failed", node, service, "\"severity\":\"warning\""); break;
    case 5: line = testing::Event(stamp, "service_unhealthy", node, service, "\"severity\":\"critical\""); break;
    case 9: line = testing::Event(stamp, "service_recovered", node, service); break;
    case 12: line = testing::Event(stamp, "deployment_started", node, service, dep); break;
    case 13: line = testing::Event(stamp, "deployment_stage", "", "", dep + ",\"payload\":{\"stage\":\"pull\"}"); break;
    case 15:
      line = i % 40 == 15 ? testing::Event(stamp, "deployment_succeeded", "", "", dep)
                          : testing::Event(stamp, "deployment_failed", "", "",
                                           dep + ",\"payload\":{\"diagnostics\":[\"deploy.log\"]}");
      break;
    case 1: case 7: case 17: line = testing::Event(stamp, "healthcheck_passed", node, service); break;
    default: line = testing::Event(stamp, "node_heartbeat", node); break;
  }
  if (i % 2 == 0) {
    line.insert(1, "\"id\":\"t-" + std::to_string(sender) + "-" + std::to_string(i) + "\",");
  }
  return line;
}

std::string SenderInput(int sender, int events) {
  std::string text;
  for (int i = 0; i < events; ++i) text += EventLine(sender, i);
  return text;
}

// The counts in send's summary line ("N read, A accepted, D duplicates, …").
struct Summary {
  long read = -1, accepted = -1, duplicates = -1, rejected = -1, left = -1;
};
Summary ParseSummary(const std::string& err) {
  Summary s;
  const size_t at = err.rfind("send: ");
  if (at == std::string::npos) return s;
  std::sscanf(err.c_str() + at, "send: %ld read, %ld accepted, %ld duplicates, %ld rejected, %ld",
              &s.read, &s.accepted, &s.duplicates, &s.rejected, &s.left);
  return s;
}

// The world files of `root` after a final `once` (the daemon stopped), less
// runtime-summary.json's `checkpoint` (it names the last file read, which
// is ingest-….jsonl on one side and a plain file on the other).
std::map<std::string, std::string> FinalWorld(const fs::path& root) {
  const testing::ProcessResult r =
      testing::RunProgram(testing::OnceArgs(root, {"--events.max-lateness", kLateness}));
  EXPECT_EQ(r.exit_code, 0) << r.err;
  auto files = testing::WorldFiles(root);
  nlohmann::json summary = nlohmann::json::parse(files["runtime-summary.json"], nullptr, false);
  if (summary.is_object()) summary.erase("checkpoint");
  files["runtime-summary.json"] = summary.dump(1);
  return files;
}

void ExpectSameWorld(const fs::path& expected, const fs::path& actual) {
  const auto want = FinalWorld(expected), got = FinalWorld(actual);
  for (const auto& [name, text] : want) {
    EXPECT_EQ(testing::FirstDifference(text, got.at(name)), "") << name;
  }
}

// Bytes in the daemon's ingest files (events/ingest-*.jsonl).
std::uintmax_t IngestBytes(const fs::path& root) {
  std::uintmax_t bytes = 0;
  std::error_code ec;
  for (fs::directory_iterator it(root / "events", ec), end; !ec && it != end; it.increment(ec)) {
    if (it->path().filename().string().rfind("ingest-", 0) == 0) bytes += it->file_size(ec);
  }
  return bytes;
}

// Lines (events) in the daemon's ingest files.
std::uintmax_t IngestLines(const fs::path& root) {
  std::uintmax_t lines = 0;
  for (const auto& entry : fs::directory_iterator(root / "events")) {
    if (entry.path().filename().string().rfind("ingest-", 0) != 0) continue;
    const std::string text = testing::ReadFile(entry.path()).value_or("");
    lines += static_cast<std::uintmax_t>(std::count(text.begin(), text.end(), '\n'));
  }
  return lines;
}

std::vector<std::string> SendArgs(const std::string& url, const std::vector<std::string>& extra) {
  std::vector<std::string> argv = {HLO_BINARY, "send", "--url", url};
  argv.insert(argv.end(), extra.begin(), extra.end());
  return argv;
}

TEST(IngestTest, FourSendersThroughThreeDaemonKillsApplyEveryEventExactlyOnce) {
  // A sanitizer build runs a quarter of the events: the kills and the
  // comparison are the same, only each event is slower.
  const bool sanitized =
      testing::ReadFile(HLO_BINARY).value_or("").find("__asan_init") != std::string::npos;
  constexpr int kSenders = 4;
  const int kEvents = sanitized ? 2500 : 10000;
  TempDir ingest_root, files_root, io;
  IngestDaemon daemon(ingest_root.path());
  ASSERT_EQ(daemon.Start(), "");

  std::vector<std::unique_ptr<testing::Child>> senders;
  for (int s = 0; s < kSenders; ++s) {
    const std::string input = SenderInput(s, kEvents);
    testing::WriteFile(files_root.path() / "events" / ("sender-" + std::to_string(s) + ".jsonl"), input);
    const fs::path file = io.Write("in-" + std::to_string(s) + ".jsonl", input);
    senders.push_back(std::make_unique<testing::Child>(
        SendArgs(daemon.url(), {"--retries", "40", "--timeout", "10s", "--batch.max-events", "250",
                                file.string()}),
        io.path() / ("out-" + std::to_string(s)), io.path() / ("err-" + std::to_string(s))));
  }
  // A fifth sender posts again, at the same time, the half of sender 0's
  // events that carry an id of their own: every one a duplicate of sender
  // 0's, whichever arrives first.
  std::string with_ids;
  for (int i = 0; i < kEvents; i += 2) with_ids += EventLine(0, i);
  senders.push_back(std::make_unique<testing::Child>(
      SendArgs(daemon.url(), {"--retries", "40", "--timeout", "10s", "--batch.max-events", "250",
                              io.Write("again-0.jsonl", with_ids).string()}),
      io.path() / "out-again", io.path() / "err-again"));
  // Three SIGKILLs while the senders post, each followed by a restart: when
  // the ingest file holds a fifth, two fifths and three fifths of the input.
  std::uintmax_t input_bytes = 0;
  for (const auto& entry : fs::directory_iterator(files_root.path() / "events")) {
    input_bytes += entry.file_size();
  }
  std::mt19937 rng(20261204);
  std::uniform_int_distribution<int> down(20, 200);
  for (int k = 1; k <= 3; ++k) {
    EXPECT_TRUE(testing::WaitUntil([&] { return IngestBytes(ingest_root.path()) >= input_bytes * k / 5; },
                                   Millis(30000), Millis(1)))
        << "the ingest file did not grow to " << k << " fifths";
    daemon.Kill();
    std::this_thread::sleep_for(Millis(down(rng)));
    ASSERT_EQ(daemon.Start(), "");
  }
  long duplicates = 0, retries = 0;
  for (int s = 0; s <= kSenders; ++s) {
    const std::optional<testing::ProcessResult> r = senders[s]->Wait(Millis(60000));
    ASSERT_TRUE(r) << "sender " << s << " did not finish";
    EXPECT_EQ(r->exit_code, 0) << r->err;
    const Summary summary = ParseSummary(r->err);
    EXPECT_EQ(summary.read, s < kSenders ? kEvents : kEvents / 2) << r->err;
    EXPECT_EQ(summary.rejected, 0) << r->err;
    EXPECT_EQ(summary.left, 0) << r->err;
    duplicates += std::max(0L, summary.duplicates);
    const size_t at = r->err.rfind(" batches, ");
    if (at != std::string::npos) retries += std::atol(r->err.c_str() + at + 10);
    std::printf("[ info ] sender %d: %s", s, r->err.substr(r->err.rfind("send: ")).c_str());
  }
  EXPECT_GT(retries, 0) << "no kill landed while a sender was posting";
  // Every event applied once: the daemon's own count, then the world. Each
  // line the ingest files hold is applied or counted as a duplicate; the
  // daemon is done when both counts add up to them: processed alone can
  // reach the total while duplicate lines are still unread (seen in CI: 500
  // of 5,000 counted when processed got there, after a replay).
  const double total = kSenders * kEvents;
  const double lines = static_cast<double>(IngestLines(ingest_root.path()));
  double duplicate_total = -1;
  EXPECT_TRUE(testing::WaitUntil(
      [&] {
        const auto metrics = daemon.Metrics();
        duplicate_total = testing::Sum(metrics, "homelab_observer_events_duplicate_total").value_or(-1);
        return testing::Sum(metrics, "homelab_observer_events_processed_total") == total &&
               duplicate_total == lines - total;
      },
      Millis(40000)))
      << "processed " << daemon.Processed() << " of " << total << ", duplicates "
      << duplicate_total << " of the " << lines - total << " lines beyond them";
  const auto metrics = daemon.Metrics();
  // Each of the fifth sender's events is a duplicate: answered as one when
  // the door knew the id at POST time (this process appended it), else
  // appended and counted when processed (two copies in flight at once, or a
  // restart in between). So are the batches a retry re-posted after a kill
  // took their answer.
  EXPECT_GE(duplicates + duplicate_total, kEvents / 2);
  std::printf("[ info ] duplicates: %ld reported to senders, %.0f counted by the last daemon; "
              "%.0f replays\n",
              duplicates, duplicate_total,
              testing::Sum(metrics, "homelab_observer_rebuilds_total").value_or(-1));
  ASSERT_EQ(daemon.Stop().exit_code, 0);
  ExpectSameWorld(files_root.path(), ingest_root.path());
}

TEST(IngestTest, SpoolFillsWhileTheObserverIsDownAndDrainsWhenItIsBack) {
  TempDir root, files_root, io;
  IngestDaemon daemon(root.path());  // not started yet: its port refuses
  const fs::path spool = io.path() / "spool";
  std::string all;
  for (int part = 0; part < 2; ++part) {
    const std::string input = SenderInput(part, 300);
    all += input;
    const fs::path file = io.Write("part-" + std::to_string(part), input);
    const testing::ProcessResult r = testing::RunTool(
        SendArgs(daemon.url(), {"--spool", spool.string(), "--retries", "1", file.string()}));
    EXPECT_EQ(r.exit_code, 1) << r.err;
    EXPECT_EQ(ParseSummary(r.err).left, 300L * (part + 1)) << r.err;
  }
  testing::WriteFile(files_root.path() / "events" / "all.jsonl", all);

  ASSERT_EQ(daemon.Start(), "");
  const testing::ProcessResult r = testing::RunTool(SendArgs(daemon.url(), {"--spool", spool.string()}));
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(ParseSummary(r.err).accepted, 600) << r.err;
  EXPECT_EQ(ParseSummary(r.err).left, 0) << r.err;
  size_t segments = 0;
  for (const auto& entry : fs::directory_iterator(spool)) {
    segments += entry.path().extension() == ".ndjson";
  }
  EXPECT_EQ(segments, 0u);
  EXPECT_TRUE(testing::WaitUntil([&] { return daemon.Processed() == 600; }, Millis(10000)));
  ASSERT_EQ(daemon.Stop().exit_code, 0);
  ExpectSameWorld(files_root.path(), root.path());
}

TEST(IngestTest, BodyOverTheLimitIs413AndSendSplitsItsBatchesBelowIt) {
  TempDir root, io;
  IngestDaemon daemon(root.path(), {"--web.ingest.max-bytes", "4KiB"});
  ASSERT_EQ(daemon.Start(), "");
  const std::string body = SenderInput(0, 100);  // about 9 KiB
  ASSERT_GT(body.size(), 4096u);
  const auto client = MakeCurlHttpClient({});
  const HttpResult raw = client->Post(daemon.url() + "/api/v1/events", "application/x-ndjson", body);
  EXPECT_EQ(raw.status, 413) << raw.error << raw.body;
  // Nothing of the refused body was applied. (Processed() is -1 while
  // /metrics does not answer yet: a sanitizer build in CI once read it then.)
  double processed = -1;
  EXPECT_TRUE(testing::WaitUntil([&] { return (processed = daemon.Processed()) >= 0; },
                                 Millis(10000)));
  EXPECT_EQ(processed, 0);

  const fs::path file = io.Write("in.jsonl", body);
  const testing::ProcessResult r = testing::RunTool(SendArgs(daemon.url(), {file.string()}));
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(ParseSummary(r.err).accepted, 100) << r.err;
  EXPECT_NE(r.err.find("413"), std::string::npos) << r.err;
  EXPECT_TRUE(testing::WaitUntil([&] { return daemon.Processed() == 100; }, Millis(10000)));
}

TEST(IngestTest, RejectedEventsAreReportedByInputLineAndExitOne) {
  TempDir root, io;
  IngestDaemon daemon(root.path());
  ASSERT_EQ(daemon.Start(), "");
  const std::string input = testing::Event("2026-05-12T10:00:00Z", "node_heartbeat", "atlas") +
                            testing::Event("yesterday", "node_heartbeat", "atlas") + "\n" +
                            testing::Event("2026-05-12T10:00:01Z", "node_heartbeat", "boreas");
  const fs::path file = io.Write("in.jsonl", input);
  const testing::ProcessResult r = testing::RunTool(SendArgs(daemon.url(), {file.string()}));
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find(file.string() + ":2: bad_timestamp"), std::string::npos) << r.err;
  const Summary s = ParseSummary(r.err);
  EXPECT_EQ(s.accepted, 2) << r.err;
  EXPECT_EQ(s.rejected, 1) << r.err;

  // The same input again: the ids are new (send assigned them), so the
  // events are new too; an input with ids of its own would be duplicates.
  const std::string with_id = "{\"id\":\"fixed-1\"," + input.substr(1, input.find('\n'));
  const fs::path again = io.Write("again.jsonl", with_id);
  EXPECT_EQ(testing::RunTool(SendArgs(daemon.url(), {again.string()})).exit_code, 0);
  const testing::ProcessResult twice = testing::RunTool(SendArgs(daemon.url(), {again.string()}));
  EXPECT_EQ(twice.exit_code, 0) << twice.err;
  EXPECT_EQ(ParseSummary(twice.err).duplicates, 1) << twice.err;
}

// bcrypt of `password` ("$2b$…"), for basic_auth_users; "" if libcrypt cannot.
std::string Bcrypt(const std::string& password) {
  char setting[192];
  crypt_data data{};
  if (!crypt_gensalt_rn("$2b$", 5, nullptr, 0, setting, sizeof setting)) return "";
  const char* hash = crypt_r(password.c_str(), setting, &data);
  return hash != nullptr && hash[0] == '$' ? hash : "";
}

TEST(IngestTest, SendOverTlsWithBasicAuthVerifiesTheCertificateAndStopsOnA401) {
  TempDir root, io;
  const fs::path d = io.path();
  const testing::ProcessResult cert = testing::RunTool(
      {"openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout",
       (d / "key.pem").string(), "-out", (d / "cert.pem").string(), "-days", "1", "-subj",
       "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"});
  const std::string hash = Bcrypt("s3cret");
  if (cert.exit_code != 0 || hash.empty()) GTEST_SKIP() << "no openssl or bcrypt: " << cert.err;
  const fs::path config = io.Write("web.yml", "tls_server_config:\n  cert_file: cert.pem\n"
                                              "  key_file: key.pem\nbasic_auth_users:\n  pi: " +
                                                  hash + "\n");
  ::chmod(config.c_str(), 0600);
  const fs::path good = io.Write("good.pass", "s3cret\n");
  const fs::path bad = io.Write("bad.pass", "guess\n");
  IngestDaemon daemon(root.path(), {"--web.config.file", config.string()});
  const std::string ca = (d / "cert.pem").string();
  daemon.serving = [ca](int port) {
    HttpClientOptions options;
    options.ca_file = ca;
    return MakeCurlHttpClient(options)->Get("https://127.0.0.1:" + std::to_string(port) + "/healthz").kind ==
           HttpResult::Kind::kResponse;
  };
  ASSERT_EQ(daemon.Start(), "");
  const std::string url = "https://127.0.0.1:" + std::to_string(daemon.port());
  const fs::path file = io.Write("in.jsonl", SenderInput(0, 50));

  const testing::ProcessResult ok = testing::RunTool(SendArgs(
      url, {"--user", "pi", "--password-file", good.string(), "--ca-file", ca, file.string()}));
  EXPECT_EQ(ok.exit_code, 0) << ok.err;
  EXPECT_EQ(ParseSummary(ok.err).accepted, 50) << ok.err;

  // A wrong password and an unverifiable certificate are permanent: no retries.
  const testing::ProcessResult denied = testing::RunTool(SendArgs(
      url, {"--user", "pi", "--password-file", bad.string(), "--ca-file", ca, file.string()}));
  EXPECT_EQ(denied.exit_code, 1) << denied.err;
  EXPECT_NE(denied.err.find("HTTP 401"), std::string::npos) << denied.err;
  EXPECT_NE(denied.err.find("0 retries"), std::string::npos) << denied.err;
  const testing::ProcessResult untrusted = testing::RunTool(
      SendArgs(url, {"--user", "pi", "--password-file", good.string(), file.string()}));
  EXPECT_EQ(untrusted.exit_code, 1) << untrusted.err;
  EXPECT_NE(untrusted.err.find("certificate"), std::string::npos) << untrusted.err;
  EXPECT_NE(untrusted.err.find("0 retries"), std::string::npos) << untrusted.err;
}

TEST(IngestTest, UsageErrorsExitTwo) {
  const std::vector<std::vector<std::string>> cases = {
      {"send"},                                                // no --url
      {"send", "--url", "observer:9847"},                      // no scheme
      {"send", "--url", "http://h", "--password", "secret"},   // never a flag value
      {"send", "--url", "http://h", "--user", "u"},            // no --password-file
      {"send", "--url", "http://h", "--retries", "many"},
      {"send", "--url", "http://h", "--timeout", "soon"},
      {"send", "--url", "http://h", "--root", "/tmp"},         // not a send flag
      {"send", "--url", "http://h", "--drain-only"},           // without --spool
      {"send", "--url", "http://h", "a.jsonl", "b.jsonl"},
  };
  for (const auto& args : cases) {
    std::vector<std::string> argv = {HLO_BINARY};
    argv.insert(argv.end(), args.begin(), args.end());
    const testing::ProcessResult r = testing::RunTool(argv);
    EXPECT_EQ(r.exit_code, 2) << ::testing::PrintToString(args) << r.err;
    EXPECT_FALSE(r.err.empty());
  }
}

TEST(IngestTest, UnreachableObserverWithoutSpoolExitsOneNamingWhatWasNotDelivered) {
  TempDir io;
  const int port = testing::FreePort();
  const fs::path file = io.Write("in.jsonl", SenderInput(0, 5));
  const testing::ProcessResult r = testing::RunTool(
      SendArgs("http://127.0.0.1:" + std::to_string(port), {"--retries", "0", file.string()}));
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_EQ(ParseSummary(r.err).left, 5) << r.err;
  EXPECT_NE(r.err.find("gave up after 1 attempt at"), std::string::npos) << r.err;
}

TEST(IngestTest, IngestOnAPublicAddressWithoutAuthIsRefused) {
  TempDir root;
  const testing::ProcessResult r = testing::RunProgram(
      {"run", "--root", root.path().string(), "--web.enable-ingest", "--web.listen-address",
       "0.0.0.0:" + std::to_string(testing::FreePort())},
      testing::RunOptions{Millis(10000)});
  EXPECT_FALSE(r.timed_out) << "the daemon started serving";
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("ingest"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace hlo
