// HttpServer with HttpOptions::web (basic auth, extra headers) and its
// limits (slow clients, oversized requests, bodies, idle keep-alive), over
// plain HTTP on loopback. TLS is in tls_context_test.cc.
#include <arpa/inet.h>
#include <crypt.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "exporter/http_server.h"

namespace hlo {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

double SecondsSince(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

std::string Bcrypt(const std::string& password) {
  char setting[CRYPT_GENSALT_OUTPUT_SIZE];
  crypt_data data{};
  if (crypt_gensalt_rn("$2b$", 4, nullptr, 0, setting, sizeof setting) == nullptr) {
    throw std::runtime_error("crypt_gensalt_rn failed");
  }
  const char* hash = crypt_rn(password.c_str(), setting, &data, sizeof data);
  if (hash == nullptr) throw std::runtime_error("crypt_rn failed");
  return hash;
}

// A raw loopback connection: send bytes, read what comes until EOF.
class Connection {
 public:
  explicit Connection(int port) : fd_(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) {
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd_ < 0 || connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
      throw std::runtime_error("cannot connect");
    }
  }
  ~Connection() { close(fd_); }
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // False once the server has closed (or reset) the connection.
  bool Send(std::string_view data) {
    while (!data.empty()) {
      const ssize_t n = send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
      if (n <= 0) return false;
      data.remove_prefix(static_cast<size_t>(n));
    }
    return true;
  }

  // Everything received until the server closes, or nullopt if it has not
  // closed within `timeout`.
  std::optional<std::string> ReadUntilClosed(milliseconds timeout) {
    const auto deadline = Clock::now() + timeout;
    std::string received;
    char buf[4096];
    while (Clock::now() < deadline) {
      pollfd p{fd_, POLLIN, 0};
      const auto left = std::chrono::duration_cast<milliseconds>(deadline - Clock::now());
      if (poll(&p, 1, static_cast<int>(std::max<long>(left.count(), 1))) <= 0) continue;
      const ssize_t n = recv(fd_, buf, sizeof buf, 0);
      if (n <= 0) return received;  // EOF or reset: closed
      received.append(buf, static_cast<size_t>(n));
    }
    return std::nullopt;
  }

  // One response's status line and headers (enough to see the status).
  std::string ReadHead(milliseconds timeout) {
    const auto deadline = Clock::now() + timeout;
    std::string received;
    char c;
    while (received.find("\r\n\r\n") == std::string::npos && Clock::now() < deadline) {
      pollfd p{fd_, POLLIN, 0};
      if (poll(&p, 1, 50) <= 0) continue;
      if (recv(fd_, &c, 1, 0) != 1) break;
      received += c;
    }
    return received;
  }

 private:
  int fd_;
};

std::string Request(std::string_view method, std::string_view path, std::string_view headers = "") {
  return std::string(method) + " " + std::string(path) + " HTTP/1.1\r\nHost: test\r\n" +
         std::string(headers) + "Connection: close\r\n\r\n";
}

int StatusOf(const std::string& response) {
  if (response.rfind("HTTP/1.", 0) != 0 || response.size() < 12) return 0;
  return std::stoi(response.substr(9, 3));
}

bool HasHeader(const std::string& response, const std::string& line) {
  const auto end = response.find("\r\n\r\n");
  return response.substr(0, end).find("\r\n" + line + "\r\n") != std::string::npos;
}

HttpHandlers Handlers() {
  HttpHandlers handlers;
  handlers.metrics = [] { return std::string("homelab_node_up{node=\"nas\"} 1\n"); };
  handlers.ready = [] { return true; };
  return handlers;
}

std::unique_ptr<HttpServer> MustStart(const HttpOptions& options) {
  std::string error;
  auto server = HttpServer::Start(options, Handlers(), &error);
  if (server == nullptr) throw std::runtime_error("Start failed: " + error);
  return server;
}

HttpOptions Loopback() {
  HttpOptions options;
  options.listen_address = "127.0.0.1:0";
  options.num_threads = 2;
  return options;
}

std::string Exchange(int port, const std::string& request) {
  Connection c(port);
  c.Send(request);
  return c.ReadUntilClosed(milliseconds(5000)).value_or("<no close>");
}

// "alice:wonderland" and "alice:wrong".
constexpr char kRightAuth[] = "Authorization: Basic YWxpY2U6d29uZGVybGFuZA==\r\n";
constexpr char kWrongAuth[] = "Authorization: Basic YWxpY2U6d3Jvbmc=\r\n";

class HttpServerAuthTest : public ::testing::Test {
 protected:
  void SetUp() override {
    HttpOptions options = Loopback();
    options.web.basic_auth_users = {{"alice", Bcrypt("wonderland")}};
    options.web.headers = {{"X-Frame-Options", "deny"}, {"X-Content-Type-Options", "nosniff"}};
    server_ = MustStart(options);
  }
  int port() const { return server_->port(); }
  std::unique_ptr<HttpServer> server_;
};

TEST_F(HttpServerAuthTest, EveryPathNeedsCredentials) {
  for (const char* path : {"/metrics", "/healthz", "/readyz", "/", "/nope"}) {
    for (const char* auth : {"", kWrongAuth, "Authorization: Bearer abc\r\n"}) {
      const std::string response = Exchange(port(), Request("GET", path, auth));
      EXPECT_EQ(StatusOf(response), 401) << path << " " << auth;
      EXPECT_TRUE(HasHeader(response, "WWW-Authenticate: Basic realm=\"homelab-observer\""))
          << response;
      EXPECT_EQ(response.find("homelab_node_up"), std::string::npos);
    }
  }
  // Unauthenticated, an unknown method on an unknown path is still just 401.
  EXPECT_EQ(StatusOf(Exchange(port(), Request("DELETE", "/x"))), 401);
}

TEST_F(HttpServerAuthTest, RightCredentialsGetTheUsualAnswers) {
  const std::string metrics = Exchange(port(), Request("GET", "/metrics", kRightAuth));
  EXPECT_EQ(StatusOf(metrics), 200);
  EXPECT_NE(metrics.find("homelab_node_up{node=\"nas\"} 1"), std::string::npos);
  EXPECT_EQ(StatusOf(Exchange(port(), Request("GET", "/healthz", kRightAuth))), 200);
  EXPECT_EQ(StatusOf(Exchange(port(), Request("GET", "/nope", kRightAuth))), 404);
  EXPECT_EQ(StatusOf(Exchange(port(), Request("POST", "/metrics", kRightAuth))), 405);
}

TEST_F(HttpServerAuthTest, HeadGets401WithoutBody) {
  const std::string response = Exchange(port(), Request("HEAD", "/metrics"));
  EXPECT_EQ(StatusOf(response), 401);
  EXPECT_EQ(response.substr(response.find("\r\n\r\n") + 4), "");
}

TEST_F(HttpServerAuthTest, ConfiguredHeadersAreOnEveryResponse) {
  for (const std::string& request :
       {Request("GET", "/metrics", kRightAuth), Request("GET", "/nope", kRightAuth),
        Request("GET", "/metrics")}) {
    const std::string response = Exchange(port(), request);
    EXPECT_TRUE(HasHeader(response, "X-Frame-Options: deny")) << response;
    EXPECT_TRUE(HasHeader(response, "X-Content-Type-Options: nosniff")) << response;
  }
}

// Slow clients (slowloris): a partial request, then nothing. Each holds a
// worker thread until request_timeout_ms, then is dropped; others are
// served meanwhile by the free threads, or once the slow ones are gone.
TEST(HttpServerLimitsTest, SlowClientsAreDroppedWithinTheRequestTimeout) {
  HttpOptions options = Loopback();
  options.num_threads = 3;
  options.request_timeout_ms = 2000;
  const auto server = MustStart(options);
  std::vector<std::unique_ptr<Connection>> slow;
  for (int i = 0; i < 2; ++i) {
    slow.push_back(std::make_unique<Connection>(server->port()));
    ASSERT_TRUE(slow.back()->Send("GET /metrics HTTP/1.1\r\nHo"));
  }
  std::this_thread::sleep_for(milliseconds(50));
  // A third thread is free: served at once, not after the timeout.
  auto start = Clock::now();
  EXPECT_EQ(StatusOf(Exchange(server->port(), Request("GET", "/healthz"))), 200);
  EXPECT_LT(SecondsSince(start), 1.0);
  for (auto& c : slow) {
    const auto rest = c->ReadUntilClosed(milliseconds(6000));
    EXPECT_TRUE(rest.has_value()) << "slow client not dropped";
  }
  EXPECT_GT(SecondsSince(start), 1.5);
  EXPECT_LT(SecondsSince(start), 5.0);
}

TEST(HttpServerLimitsTest, SlowClientsOnEveryThreadDelayOthersOnlyUntilTheTimeout) {
  HttpOptions options = Loopback();
  options.num_threads = 2;
  options.request_timeout_ms = 500;
  const auto server = MustStart(options);
  Connection slow1(server->port()), slow2(server->port());
  ASSERT_TRUE(slow1.Send("GET /metrics HTTP/1.1\r\nHo"));
  ASSERT_TRUE(slow2.Send("GET /metr"));
  std::this_thread::sleep_for(milliseconds(50));
  const auto start = Clock::now();
  EXPECT_EQ(StatusOf(Exchange(server->port(), Request("GET", "/healthz"))), 200);
  EXPECT_LT(SecondsSince(start), 2.5);
}

TEST(HttpServerLimitsTest, HeadersSentByteByByteAreCutOffAtTheRequestTimeout) {
  HttpOptions options = Loopback();
  options.request_timeout_ms = 500;
  const auto server = MustStart(options);
  Connection trickle(server->port());
  const std::string request = "GET /metrics HTTP/1.1\r\nX-Padding: " + std::string(200, 'a');
  const auto start = Clock::now();
  bool dropped = false;
  for (const char c : request) {
    if (!trickle.Send(std::string(1, c))) {
      dropped = true;
      break;
    }
    if (trickle.ReadUntilClosed(milliseconds(50))) {
      dropped = true;
      break;
    }
  }
  EXPECT_TRUE(dropped);
  EXPECT_LT(SecondsSince(start), 3.0);
}

TEST(HttpServerLimitsTest, OversizedRequestHeadIsRefused) {
  HttpOptions options = Loopback();
  options.max_request_size = 4096;
  const auto server = MustStart(options);
  Connection c(server->port());
  c.Send("GET /metrics HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(8000, 'a') + "\r\n\r\n");
  const auto response = c.ReadUntilClosed(milliseconds(3000));
  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(StatusOf(*response), 400) << response->substr(0, 200);
  // Just under the limit is fine.
  EXPECT_EQ(
      StatusOf(Exchange(server->port(),
                        Request("GET", "/healthz", "X-Pad: " + std::string(3000, 'a') + "\r\n"))),
      200);
}

// However small, a body that is still arriving could be dripped a byte at
// a time: civetweb would discard it with no overall deadline.
TEST(HttpServerLimitsTest, RequestWithBodyIsAnsweredAndClosedWithoutReadingIt) {
  const auto server = MustStart(Loopback());
  for (const char* framing : {"Content-Length: 100000000\r\n", "Content-Length: 10\r\n",
                              "Transfer-Encoding: chunked\r\n"}) {
    Connection c(server->port());
    c.Send(std::string("GET /healthz HTTP/1.1\r\nHost: x\r\n") + framing + "\r\nxxxx");
    const auto start = Clock::now();
    const auto response = c.ReadUntilClosed(milliseconds(3000));
    ASSERT_TRUE(response.has_value()) << "connection kept open for the body: " << framing;
    EXPECT_EQ(StatusOf(*response), 200) << framing;
    EXPECT_LT(SecondsSince(start), 1.0) << framing;
  }
}

TEST(HttpServerLimitsTest, IdleKeepAliveConnectionIsClosedAfterItsTimeout) {
  HttpOptions options = Loopback();
  options.keep_alive_timeout_ms = 300;
  const auto server = MustStart(options);
  Connection c(server->port());
  c.Send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(StatusOf(c.ReadHead(milliseconds(3000))), 200);
  const auto start = Clock::now();
  EXPECT_TRUE(c.ReadUntilClosed(milliseconds(3000)).has_value());
  EXPECT_GT(SecondsSince(start), 0.2);
  EXPECT_LT(SecondsSince(start), 2.0);
}

TEST(HttpServerLimitsTest, RejectsNonsenseLimits) {
  for (auto change : {+[](HttpOptions& o) { o.max_request_size = 10; },
                      +[](HttpOptions& o) { o.keep_alive_timeout_ms = -1; },
                      +[](HttpOptions& o) { o.linger_timeout_ms = -5; }}) {
    HttpOptions options = Loopback();
    change(options);
    std::string error;
    EXPECT_EQ(HttpServer::Start(options, Handlers(), &error), nullptr);
    EXPECT_NE(error.find("cannot listen on 127.0.0.1:0: "), std::string::npos) << error;
  }
}

}  // namespace
}  // namespace hlo
