#include "exporter/http_server.h"
#include "exporter/web_assets.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>
#include <zlib.h>

#include <atomic>
#include <cctype>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

#include "tests/fakes/gunzip.h"

namespace hlo {
namespace {

constexpr std::string_view kExposition =
    "# HELP homelab_node_up 1 up, 0 otherwise\n"
    "# TYPE homelab_node_up gauge\n"
    "homelab_node_up{node=\"nas\"} 1\n"
    "homelab_node_up{node=\"pi\"} 0\n";

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

struct HttpReply {
  int status = 0;
  std::map<std::string, std::string> headers;  // names in lower case
  std::string body;

  std::optional<std::string> Header(const std::string& name) const {
    const auto it = headers.find(Lower(name));
    if (it == headers.end()) return std::nullopt;
    return it->second;
  }
};

// A plain TCP connection to the server under test, speaking raw HTTP/1.1.
class Client {
 public:
  explicit Client(int port) : fd_(socket(AF_INET, SOCK_STREAM, 0)) {
    if (fd_ < 0) throw std::runtime_error("socket failed");
    timeval timeout{5, 0};  // a broken server fails the test, never hangs it
    setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  }
  ~Client() { close(fd_); }
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  bool connected() const { return connected_; }

  void Send(std::string_view raw) {
    while (!raw.empty()) {
      const ssize_t n = send(fd_, raw.data(), raw.size(), MSG_NOSIGNAL);
      if (n <= 0) throw std::runtime_error("send failed");
      raw.remove_prefix(static_cast<size_t>(n));
    }
  }

  // One response: headers, then Content-Length bytes of body (none for a
  // HEAD request), or everything up to EOF when there is no Content-Length.
  HttpReply Read(bool head_request) {
    size_t end_of_headers;
    while ((end_of_headers = buffer_.find("\r\n\r\n")) == std::string::npos) {
      if (!Fill()) throw std::runtime_error("connection closed inside headers: " + buffer_);
    }
    HttpReply reply = ParseHead(buffer_.substr(0, end_of_headers));
    buffer_.erase(0, end_of_headers + 4);
    const auto length = reply.Header("Content-Length");
    if (head_request) return reply;
    if (length) {
      const size_t want = std::stoul(*length);
      while (buffer_.size() < want) {
        if (!Fill()) throw std::runtime_error("connection closed inside body");
      }
      reply.body = buffer_.substr(0, want);
      buffer_.erase(0, want);
    } else {
      while (Fill()) {
      }
      reply.body = std::move(buffer_);
      buffer_.clear();
    }
    return reply;
  }

  // Everything the server still sends until it closes the connection.
  std::string ReadToEnd() {
    while (Fill()) {
    }
    return std::exchange(buffer_, {});
  }

 private:
  bool Fill() {
    char chunk[4096];
    const ssize_t n = recv(fd_, chunk, sizeof chunk, 0);
    if (n <= 0) return false;
    buffer_.append(chunk, static_cast<size_t>(n));
    return true;
  }

  static HttpReply ParseHead(const std::string& head) {
    HttpReply reply;
    size_t line_end = head.find("\r\n");
    const std::string status_line = head.substr(0, line_end);
    if (status_line.rfind("HTTP/1.1 ", 0) != 0) throw std::runtime_error("bad status line");
    reply.status = std::stoi(status_line.substr(9, 3));
    while (line_end != std::string::npos) {
      const size_t start = line_end + 2;
      line_end = head.find("\r\n", start);
      const std::string line = head.substr(start, line_end - start);
      const size_t colon = line.find(':');
      if (colon == std::string::npos) continue;
      const size_t value = line.find_first_not_of(' ', colon + 1);
      reply.headers[Lower(line.substr(0, colon))] =
          value == std::string::npos ? "" : line.substr(value);
    }
    return reply;
  }

  int fd_;
  bool connected_ = false;
  std::string buffer_;
};

// One request on its own connection, closed by the server afterwards.
HttpReply Fetch(int port, const std::string& method, const std::string& path,
                const std::string& extra_headers = "") {
  Client client(port);
  if (!client.connected()) throw std::runtime_error("connect failed");
  client.Send(method + " " + path + " HTTP/1.1\r\nHost: localhost\r\n" + extra_headers +
              "Connection: close\r\n\r\n");
  HttpReply reply = client.Read(method == "HEAD");
  const std::string trailing = client.ReadToEnd();
  if (!trailing.empty()) throw std::runtime_error("bytes after the response: " + trailing);
  return reply;
}

using fakes::Gunzip;

HttpHandlers Handlers(std::atomic<bool>* ready = nullptr) {
  HttpHandlers handlers;
  handlers.metrics = [] { return std::string(kExposition); };
  handlers.ready = [ready] { return ready == nullptr || ready->load(); };
  return handlers;
}

HttpOptions LoopbackOptions() {
  HttpOptions options;
  options.listen_address = "127.0.0.1:0";
  options.num_threads = 2;
  return options;
}

std::unique_ptr<HttpServer> MustStart(const HttpOptions& options, HttpHandlers handlers) {
  std::string error;
  auto server = HttpServer::Start(options, std::move(handlers), &error);
  if (server == nullptr) throw std::runtime_error("Start failed: " + error);
  return server;
}

class HttpServerTest : public ::testing::Test {
 protected:
  void SetUp() override { server_ = MustStart(LoopbackOptions(), Handlers()); }
  int port() const { return server_->port(); }

  std::unique_ptr<HttpServer> server_;
};

TEST_F(HttpServerTest, PortZeroBindsARealPort) {
  EXPECT_GT(port(), 0);
  EXPECT_LE(port(), 65535);
  EXPECT_EQ(Fetch(port(), "GET", "/healthz").status, 200);
}

TEST_F(HttpServerTest, ServesMetricsAsPrometheusText) {
  const HttpReply reply = Fetch(port(), "GET", "/metrics");
  EXPECT_EQ(reply.status, 200);
  EXPECT_EQ(reply.Header("Content-Type"), "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_EQ(reply.Header("Content-Length"), std::to_string(kExposition.size()));
  EXPECT_EQ(reply.Header("Content-Encoding"), std::nullopt);
  EXPECT_EQ(reply.Header("Vary"), "Accept-Encoding");
  EXPECT_EQ(reply.Header("Cache-Control"), "no-store");
  EXPECT_EQ(reply.body, kExposition);
}

TEST_F(HttpServerTest, IgnoresQueryString) {
  EXPECT_EQ(Fetch(port(), "GET", "/metrics?name[]=homelab_node_up").body, kExposition);
}

TEST_F(HttpServerTest, GzipsMetricsWhenAccepted) {
  const HttpReply reply = Fetch(port(), "GET", "/metrics", "Accept-Encoding: gzip\r\n");
  EXPECT_EQ(reply.status, 200);
  EXPECT_EQ(reply.Header("Content-Encoding"), "gzip");
  EXPECT_EQ(reply.Header("Vary"), "Accept-Encoding");
  EXPECT_EQ(reply.Header("Content-Length"), std::to_string(reply.body.size()));
  EXPECT_EQ(Gunzip(reply.body), kExposition);
}

TEST_F(HttpServerTest, ChoosesEncodingFromAcceptEncoding) {
  struct Case {
    std::string headers;
    bool gzip;
  };
  const std::vector<Case> cases = {
      {"", false},
      {"Accept-Encoding: identity\r\n", false},
      {"Accept-Encoding: gzip;q=0\r\n", false},
      {"Accept-Encoding: deflate, GZIP ; q=0.5\r\n", true},
      {"Accept-Encoding: *;q=0\r\n", false},
      {"Accept-Encoding: br\r\nAccept-Encoding: gzip\r\n", true},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.headers);
    const HttpReply reply = Fetch(port(), "GET", "/metrics", c.headers);
    EXPECT_EQ(reply.status, 200);
    EXPECT_EQ(reply.Header("Content-Encoding").has_value(), c.gzip);
    EXPECT_EQ(c.gzip ? Gunzip(reply.body) : reply.body, kExposition);
  }
}

TEST_F(HttpServerTest, HeadSendsTheHeadersOfGetWithoutBody) {
  for (const std::string encoding : {"", "Accept-Encoding: gzip\r\n"}) {
    SCOPED_TRACE(encoding);
    const HttpReply get = Fetch(port(), "GET", "/metrics", encoding);
    const HttpReply head = Fetch(port(), "HEAD", "/metrics", encoding);  // throws on a body
    EXPECT_EQ(head.status, 200);
    EXPECT_EQ(head.Header("Content-Length"), get.Header("Content-Length"));
    EXPECT_EQ(head.Header("Content-Type"), get.Header("Content-Type"));
    EXPECT_EQ(head.Header("Content-Encoding"), get.Header("Content-Encoding"));
    EXPECT_TRUE(head.body.empty());
  }
  for (const std::string path : {"/", "/healthz", "/readyz"}) {
    SCOPED_TRACE(path);
    const HttpReply head = Fetch(port(), "HEAD", path);
    EXPECT_EQ(head.status, 200);
    EXPECT_EQ(head.Header("Content-Length"), Fetch(port(), "GET", path).Header("Content-Length"));
  }
}

TEST_F(HttpServerTest, HealthzSaysOk) {
  const HttpReply reply = Fetch(port(), "GET", "/healthz");
  EXPECT_EQ(reply.status, 200);
  EXPECT_EQ(reply.Header("Content-Type"), "text/plain; charset=utf-8");
  EXPECT_EQ(reply.body, "ok\n");
}

// The status page's own tests (headers, assets) are in http_api_test.cc.
TEST_F(HttpServerTest, RootServesTheEmbeddedStatusPage) {
  const WebAsset* index = FindWebAsset("/");
  ASSERT_NE(index, nullptr);
  const HttpReply reply = Fetch(port(), "GET", "/");
  EXPECT_EQ(reply.status, 200);
  EXPECT_EQ(reply.Header("Content-Type"), index->content_type);
  EXPECT_EQ(reply.body, index->bytes);
}

TEST_F(HttpServerTest, UnknownPathsAre404) {
  for (const std::string path : {"/nope", "/metrics/", "/metricsx", "/healthz/x", "/index.html"}) {
    SCOPED_TRACE(path);
    for (const std::string method : {"GET", "POST"}) {
      const HttpReply reply = Fetch(port(), method, path);
      EXPECT_EQ(reply.status, 404);
      EXPECT_EQ(reply.Header("Content-Type"), "text/plain; charset=utf-8");
      EXPECT_EQ(reply.body, "404 page not found\n");
    }
  }
}

TEST_F(HttpServerTest, OtherMethodsOnKnownPathsAre405WithAllow) {
  for (const std::string path : {"/metrics", "/healthz", "/readyz", "/"}) {
    for (const std::string method : {"POST", "PUT", "DELETE", "OPTIONS", "PATCH", "PROPFIND"}) {
      SCOPED_TRACE(method + " " + path);
      const HttpReply reply = Fetch(port(), method, path, "Content-Length: 0\r\n");
      EXPECT_EQ(reply.status, 405);
      EXPECT_EQ(reply.Header("Allow"), "GET, HEAD");
      EXPECT_EQ(reply.Header("Content-Length"), std::to_string(reply.body.size()));
    }
  }
}

TEST_F(HttpServerTest, KeepsTheConnectionOpenBetweenRequests) {
  Client client(port());
  ASSERT_TRUE(client.connected());
  // Without a body: one would close the connection (see
  // http_server_security_test.cc, RequestWithBody...).
  client.Send("POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n");
  EXPECT_EQ(client.Read(false).status, 405);
  client.Send("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(client.Read(false).body, kExposition);
  client.Send("HEAD /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(client.Read(true).status, 200);
  client.Send("GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(client.Read(false).body, "ok\n");
  EXPECT_EQ(client.ReadToEnd(), "");
}

TEST(HttpServerReadyTest, ReadyzFlipsFrom503To200) {
  std::atomic<bool> ready{false};
  const auto server = MustStart(LoopbackOptions(), Handlers(&ready));
  HttpReply reply = Fetch(server->port(), "GET", "/readyz");
  EXPECT_EQ(reply.status, 503);
  EXPECT_EQ(reply.body, "not ready: initial replay in progress\n");
  EXPECT_EQ(Fetch(server->port(), "GET", "/healthz").status, 200);  // alive all the same
  ready = true;
  reply = Fetch(server->port(), "GET", "/readyz");
  EXPECT_EQ(reply.status, 200);
  EXPECT_EQ(reply.body, "ready\n");
}

TEST(HttpServerPathTest, ServesMetricsOnTheConfiguredPath) {
  HttpOptions options = LoopbackOptions();
  options.telemetry_path = "/custom/metrics";
  const auto server = MustStart(options, Handlers());
  EXPECT_EQ(Fetch(server->port(), "GET", "/custom/metrics").body, kExposition);
  EXPECT_EQ(Fetch(server->port(), "GET", "/metrics").status, 404);
  EXPECT_EQ(Fetch(server->port(), "DELETE", "/custom/metrics").status, 405);
}

TEST(HttpServerPathTest, RejectsReservedOrRelativeTelemetryPaths) {
  for (const std::string path : {"/healthz", "/readyz", "metrics", ""}) {
    SCOPED_TRACE(path);
    HttpOptions options = LoopbackOptions();
    options.telemetry_path = path;
    std::string error;
    EXPECT_EQ(HttpServer::Start(options, Handlers(), &error), nullptr);
    EXPECT_NE(error.find("telemetry path"), std::string::npos) << error;
  }
}

TEST(HttpServerHandlerTest, ThrowingMetricsHandlerGives500) {
  HttpHandlers handlers = Handlers();
  handlers.metrics = []() -> std::string { throw std::runtime_error("snapshot unavailable"); };
  const auto server = MustStart(LoopbackOptions(), std::move(handlers));
  const HttpReply reply = Fetch(server->port(), "GET", "/metrics");
  EXPECT_EQ(reply.status, 500);
  EXPECT_EQ(reply.body, "500 internal error: snapshot unavailable\n");
  EXPECT_EQ(Fetch(server->port(), "GET", "/healthz").status, 200);
}

TEST(HttpServerHandlerTest, MissingHandlerIsAStartError) {
  HttpHandlers handlers = Handlers();
  handlers.ready = nullptr;
  std::string error;
  EXPECT_EQ(HttpServer::Start(LoopbackOptions(), std::move(handlers), &error), nullptr);
  EXPECT_NE(error.find("handlers"), std::string::npos) << error;
}

TEST(HttpServerListenTest, PortInUseFailsNamingTheAddress) {
  const auto first = MustStart(LoopbackOptions(), Handlers());
  HttpOptions options = LoopbackOptions();
  options.listen_address = "127.0.0.1:" + std::to_string(first->port());
  std::string error;
  EXPECT_EQ(HttpServer::Start(options, Handlers(), &error), nullptr);
  EXPECT_EQ(error, "cannot listen on " + options.listen_address + ": address already in use");
  EXPECT_EQ(Fetch(first->port(), "GET", "/healthz").status, 200);  // the first one is unharmed
}

TEST(HttpServerListenTest, StopsListeningWhenDestroyed) {
  auto server = MustStart(LoopbackOptions(), Handlers());
  const int port = server->port();
  server.reset();
  EXPECT_FALSE(Client(port).connected());
  // ...and the port is free again.
  HttpOptions options = LoopbackOptions();
  options.listen_address = "127.0.0.1:" + std::to_string(port);
  EXPECT_EQ(MustStart(options, Handlers())->port(), port);
}

TEST(HttpServerListenTest, AllInterfacesAndNamesWork) {
  for (const std::string address : {":0", "localhost:0"}) {
    SCOPED_TRACE(address);
    HttpOptions options = LoopbackOptions();
    options.listen_address = address;
    const auto server = MustStart(options, Handlers());
    EXPECT_EQ(Fetch(server->port(), "GET", "/healthz").body, "ok\n");
  }
}

TEST(HttpServerListenTest, RejectsMalformedAddresses) {
  for (const std::string address :
       {"9847", "127.0.0.1:", "127.0.0.1:65536", "127.0.0.1:-1", "127.0.0.1:+80", "127.0.0.1:8x",
        "::1:9847", "[::1:9847", "[not-v6]:9847", "no-such-host.invalid:0"}) {
    SCOPED_TRACE(address);
    HttpOptions options = LoopbackOptions();
    options.listen_address = address;
    std::string error;
    EXPECT_EQ(HttpServer::Start(options, Handlers(), &error), nullptr);
    EXPECT_EQ(error.rfind("cannot listen on " + address + ": ", 0), 0u) << error;
  }
}

TEST(HttpServerListenTest, Ipv6WorksOrIsReportedUnsupported) {
  HttpOptions options = LoopbackOptions();
  options.listen_address = "[::1]:0";
  std::string error;
  const auto server = HttpServer::Start(options, Handlers(), &error);
  if (server == nullptr) {
    // Debian 12's civetweb is built without USE_IPV6.
    EXPECT_EQ(error,
              "cannot listen on [::1]:0: IPv6 is not supported: civetweb was built without IPv6");
  } else {
    EXPECT_GT(server->port(), 0);
  }
}

TEST(HttpServerListenAddressTest, TranslatesToCivetSyntax) {
  std::string error;
  EXPECT_EQ(detail::CivetListeningPorts("127.0.0.1:9847", &error), "127.0.0.1:9847");
  EXPECT_EQ(detail::CivetListeningPorts("localhost:0", &error), "127.0.0.1:0");
  const auto any = detail::CivetListeningPorts(":9847", &error);
  EXPECT_TRUE(any == "9847" || any == "+9847") << any.value_or("nullopt");
  EXPECT_EQ(detail::CivetListeningPorts("9847", &error), std::nullopt);
  EXPECT_EQ(error, "expected [host]:port");
}

TEST(HttpServerAcceptsGzipTest, FollowsRfc9110) {
  struct Case {
    const char* header;
    bool gzip;
  };
  const Case cases[] = {
      {"", false},
      {"gzip", true},
      {"GZip", true},
      {"x-gzip", true},
      {"gzip, deflate, br", true},
      {"br;q=1.0, gzip;q=0.8, *;q=0.1", true},
      {"gzip;q=0", false},
      {"gzip;q=0.0", false},
      {"gzip;q=0.000", false},
      {"gzip ; Q=0", false},
      {"gzip;q=0.001", true},
      {"gzip;q=1", true},
      {"gzip;q=1.000", true},
      {"gzip;q=2", false},  // malformed q: not acceptable
      {"gzip;q=abc", false},
      {"gzip;level=1", true},  // other parameters do not matter
      {"*", true},
      {"*;q=0", false},
      {"*, gzip;q=0", false},  // the explicit gzip entry wins over *
      {"gzip;q=0, *", false},
      {"identity", false},
      {"deflate, br", false},
      {"gzipx, xgzip", false},
      {" , ,gzip", true},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(detail::AcceptsGzip(c.header), c.gzip) << "\"" << c.header << "\"";
  }
}

TEST(HttpServerGzipTest, RoundTrips) {
  std::string large;
  for (int i = 0; i < 20000; ++i) {
    large += "homelab_node_up{node=\"n" + std::to_string(i) + "\"} 1\n";
  }
  for (const std::string& text : {std::string(), std::string(kExposition), large}) {
    const auto compressed = detail::Gzip(text);
    ASSERT_TRUE(compressed);
    EXPECT_EQ(Gunzip(*compressed), text);
  }
  EXPECT_LT(detail::Gzip(large)->size(), large.size() / 4);
}

}  // namespace
}  // namespace hlo
