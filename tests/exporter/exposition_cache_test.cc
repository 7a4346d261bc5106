// The exposition cache (CachedExposition behind WorldCollector): one
// rendering and one compression per published state, shared by every scrape
// until the next publish, and never a torn body, also over HTTP while the
// daemon keeps publishing.
#include "exporter/world_collector.h"

#include <gtest/gtest.h>

#include "tests/fakes/gunzip.h"
#include <zlib.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <set>
#include <stdexcept>
#include <thread>
#include <vector>

#include "exporter/http_server.h"
#include "exporter/metrics_table.h"

namespace hlo {
namespace {

// A small world whose exposition tells `n` apart (node names, counts).
std::shared_ptr<const WorldSnapshot> World(int n) {
  auto world = std::make_shared<WorldSnapshot>();
  for (int i = 0; i <= n % 7; ++i) {
    NodeView node;
    node.name = "node-" + std::to_string(n) + "-" + std::to_string(i);
    node.status = NodeStatus::kUp;
    node.roles = {"storage"};
    world->nodes.push_back(node);
  }
  world->summary.incidents_resolved = static_cast<uint64_t>(n);
  return world;
}

std::shared_ptr<const ExportState> State(std::shared_ptr<const WorldSnapshot> world,
                                         uint64_t batches = 0) {
  auto state = std::make_shared<ExportState>();
  state->world = std::move(world);
  state->daemon.present = true;
  state->daemon.watch_mode = "inotify";
  for (uint64_t i = 0; i < batches; ++i) state->daemon.RecordBatch(0.02);
  return state;
}

using fakes::Gunzip;

TEST(ExpositionCacheTest, EmptyUntilTheFirstPublish) {
  WorldCollector collector;
  EXPECT_EQ(collector.CurrentExposition()->Text(), "");
  EXPECT_EQ(collector.Current(), nullptr);
  EXPECT_TRUE(collector.Collect().empty());
  EXPECT_EQ(collector.counters().renders.load(), 0u);
}

TEST(ExpositionCacheTest, SecondScrapeOfTheSameStateServesTheSameBytesWithoutRerendering) {
  WorldCollector collector;
  const auto state = State(World(1), 2);
  collector.Publish(state);
  const auto first = collector.CurrentExposition();
  const std::string& text = first->Text();
  EXPECT_EQ(text, RenderExposition(*state));
  const auto second = collector.CurrentExposition();
  EXPECT_EQ(&second->Text(), &text);  // the very same bytes
  EXPECT_EQ(collector.Exposition(), text);
  EXPECT_EQ(collector.counters().world_renders.load(), 1u);
  EXPECT_EQ(collector.counters().renders.load(), 1u);
}

TEST(ExpositionCacheTest, PublishInvalidatesTheCache) {
  WorldCollector collector;
  collector.Publish(State(World(1)));
  const auto before = collector.CurrentExposition();
  const std::string old_text = before->Text();
  const auto next = State(World(2));
  collector.Publish(next);
  const std::string& text = collector.CurrentExposition()->Text();
  EXPECT_NE(text, old_text);
  EXPECT_EQ(text, RenderExposition(*next));
  EXPECT_EQ(collector.counters().world_renders.load(), 2u);
  // A scrape still holding the old exposition keeps its bytes intact.
  EXPECT_EQ(before->Text(), old_text);
}

TEST(ExpositionCacheTest, NewDaemonFiguresOnTheSameSnapshotReuseTheWorldPart) {
  WorldCollector collector;
  const auto world = World(3);
  collector.Publish(State(world, 1));  // before the daemon's commit
  collector.CurrentExposition()->Text();  // a scrape
  const auto after_commit = State(world, 2);
  collector.Publish(after_commit);
  const std::string& text = collector.CurrentExposition()->Text();
  EXPECT_EQ(text, RenderExposition(*after_commit));
  EXPECT_NE(text.find("homelab_observer_batch_duration_seconds_count 2\n"), std::string::npos);
  EXPECT_EQ(collector.counters().world_renders.load(), 1u);
  EXPECT_EQ(collector.counters().renders.load(), 2u);

  // Other observer figures (a rebuild) are another world part.
  auto rebuilt = std::make_shared<ExportState>(*after_commit);
  rebuilt->observer.rebuilds_by_reason["late_event"] = 1;
  collector.Publish(rebuilt);
  EXPECT_EQ(collector.CurrentExposition()->Text(), RenderExposition(*rebuilt));
  EXPECT_EQ(collector.counters().world_renders.load(), 2u);
}

TEST(ExpositionCacheTest, GzipBodyDecompressesToTheIdentityBodyAndIsCompressedOnce) {
  WorldCollector collector;
  collector.Publish(State(World(4), 3));
  const auto exposition = collector.CurrentExposition();
  const std::string* gzip = exposition->Gzip();
  ASSERT_NE(gzip, nullptr);
  EXPECT_EQ(Gunzip(*gzip), exposition->Text());
  EXPECT_EQ(collector.CurrentExposition()->Gzip(), gzip);
  EXPECT_EQ(collector.counters().gzips.load(), 1u);
  EXPECT_EQ(collector.counters().renders.load(), 1u);
}

TEST(ExpositionCacheTest, ConcurrentFirstScrapesRenderAndCompressOnce) {
  WorldCollector collector;
  // Big enough that the threads really overlap in the rendering.
  auto world = std::make_shared<WorldSnapshot>(*World(5));
  for (int i = 0; i < 20000; ++i) {
    ServiceView service;
    service.node = "n" + std::to_string(i / 10);
    service.service = "s" + std::to_string(i);
    world->services.push_back(service);
  }
  collector.Publish(State(world));
  std::atomic<bool> go{false};
  std::vector<const std::string*> texts(8), gzips(8);
  std::vector<std::thread> threads;
  for (size_t t = 0; t < texts.size(); ++t) {
    threads.emplace_back([&, t] {
      while (!go.load()) std::this_thread::yield();
      const auto exposition = collector.CurrentExposition();
      gzips[t] = exposition->Gzip();
      texts[t] = &exposition->Text();
    });
  }
  go = true;
  for (auto& thread : threads) thread.join();
  for (size_t t = 1; t < texts.size(); ++t) {
    EXPECT_EQ(texts[t], texts[0]);
    EXPECT_EQ(gzips[t], gzips[0]);
  }
  EXPECT_EQ(collector.counters().world_renders.load(), 1u);
  EXPECT_EQ(collector.counters().renders.load(), 1u);
  EXPECT_EQ(collector.counters().gzips.load(), 1u);
}

// ------------------------------------------------------------- over HTTP ----

struct Reply {
  bool gzip = false;
  std::string body;
};

// One GET over a fresh connection, read to EOF (Connection: close).
Reply Get(int port, bool gzip) {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (fd < 0 || connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    if (fd >= 0) close(fd);
    throw std::runtime_error("cannot connect");
  }
  const std::string request = std::string("GET /metrics HTTP/1.1\r\nHost: x\r\n") +
                              (gzip ? "Accept-Encoding: gzip\r\n" : "") +
                              "Connection: close\r\n\r\n";
  if (send(fd, request.data(), request.size(), MSG_NOSIGNAL) !=
      static_cast<ssize_t>(request.size())) {
    close(fd);
    throw std::runtime_error("cannot send");
  }
  std::string raw;
  char buffer[65536];
  for (ssize_t n; (n = read(fd, buffer, sizeof buffer)) > 0;) raw.append(buffer, n);
  close(fd);
  const auto end = raw.find("\r\n\r\n");
  if (raw.rfind("HTTP/1.1 200", 0) != 0 || end == std::string::npos) {
    throw std::runtime_error("bad response: " + raw.substr(0, 100));
  }
  const std::string head = raw.substr(0, end);
  Reply reply;
  reply.gzip = head.find("Content-Encoding: gzip") != std::string::npos;
  reply.body = raw.substr(end + 4);
  const auto length_at = head.find("Content-Length: ");
  if (length_at == std::string::npos ||
      std::stoul(head.substr(length_at + 16)) != reply.body.size()) {
    throw std::runtime_error("body length differs from Content-Length");
  }
  return reply;
}

TEST(ExpositionCacheTest, ConcurrentScrapesDuringPublishesNeverSeeATornBody) {
  // States whose texts are all known; the publisher cycles through them.
  std::vector<std::shared_ptr<const ExportState>> states;
  std::set<std::string> expected;
  for (int i = 0; i < 6; ++i) {
    states.push_back(State(World(i), static_cast<uint64_t>(i % 3)));
    expected.insert(RenderExposition(*states.back()));
  }
  WorldCollector collector;
  collector.Publish(states[0]);
  HttpOptions options;
  options.listen_address = "127.0.0.1:0";
  options.num_threads = 4;
  HttpHandlers handlers;
  handlers.metrics_body = [&collector] { return collector.CurrentExposition(); };
  handlers.ready = [] { return true; };
  std::string error;
  const auto server = HttpServer::Start(options, std::move(handlers), &error);
  ASSERT_NE(server, nullptr) << error;

  std::atomic<bool> stop{false};
  std::thread publisher([&] {
    for (size_t i = 1; !stop.load(); ++i) {
      collector.Publish(states[i % states.size()]);
      if (i % 3 == 0) collector.CurrentExposition()->Text();
      std::this_thread::yield();
    }
  });
  std::atomic<int> torn{0}, scrapes{0};
  std::vector<std::thread> scrapers;
  for (int t = 0; t < 4; ++t) {
    scrapers.emplace_back([&, t] {
      for (int i = 0; i < 40; ++i) {
        try {
          const bool gzip = (i + t) % 2 == 0;
          const Reply reply = Get(server->port(), gzip);
          const std::string text = reply.gzip ? Gunzip(reply.body) : reply.body;
          if (reply.gzip != gzip || expected.count(text) == 0) ++torn;
          // In process as well: whatever is current is whole.
          const auto exposition = collector.CurrentExposition();
          if (expected.count(exposition->Text()) == 0) ++torn;
        } catch (const std::exception&) {
          ++torn;  // a short or malformed response is a torn one too
        }
        ++scrapes;
      }
    });
  }
  for (auto& scraper : scrapers) scraper.join();
  stop = true;
  publisher.join();
  EXPECT_EQ(scrapes.load(), 160);
  EXPECT_EQ(torn.load(), 0);
}

}  // namespace
}  // namespace hlo
