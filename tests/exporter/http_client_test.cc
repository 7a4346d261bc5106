// The libcurl client against a scripted HTTP server on a loopback socket:
// what it sends, how it reads answers, how it classifies failures.
#include "exporter/http_client.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <deque>
#include <mutex>
#include <thread>

#include <gtest/gtest.h>

namespace hlo {
namespace {

using std::chrono::milliseconds;

// Serves one scripted raw answer per connection, in order, and records each
// request (head and body). An answer "" closes the connection without one;
// "hang" keeps it open until the server is destroyed.
class ScriptedServer {
 public:
  explicit ScriptedServer(std::deque<std::string> answers) : answers_(std::move(answers)) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(fd_, 8) != 0 ||
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
      throw std::runtime_error("cannot listen");
    }
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] { Serve(); });
  }
  ~ScriptedServer() {
    stop_ = true;
    ::shutdown(fd_, SHUT_RDWR);
    ::close(fd_);
    thread_.join();
  }

  std::string url(const std::string& path = "/api/v1/events") const {
    return "http://127.0.0.1:" + std::to_string(port_) + path;
  }
  std::vector<std::string> requests() {
    std::lock_guard<std::mutex> lock(mu_);
    return requests_;
  }

 private:
  void Serve() {
    while (!stop_) {
      const int c = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (c < 0) return;
      std::string request = ReadRequest(c);
      std::string answer;
      {
        std::lock_guard<std::mutex> lock(mu_);
        requests_.push_back(request);
        if (!answers_.empty()) {
          answer = answers_.front();
          answers_.pop_front();
        }
      }
      if (answer == "hang") {
        while (!stop_) std::this_thread::sleep_for(milliseconds(10));
      } else if (!answer.empty()) {
        (void)!::send(c, answer.data(), answer.size(), MSG_NOSIGNAL);
      }
      ::close(c);
    }
  }

  static std::string ReadRequest(int c) {
    std::string raw;
    char buf[65536];
    size_t need = std::string::npos;
    while (raw.size() < need) {
      const ssize_t n = ::recv(c, buf, sizeof buf, 0);
      if (n <= 0) break;
      raw.append(buf, static_cast<size_t>(n));
      const size_t end = raw.find("\r\n\r\n");
      if (end != std::string::npos && need == std::string::npos) {
        const size_t cl = raw.find("Content-Length: ");
        need = end + 4 + (cl != std::string::npos && cl < end ? std::stoul(raw.substr(cl + 16)) : 0);
      }
    }
    return raw;
  }

  int fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::mutex mu_;
  std::deque<std::string> answers_;
  std::vector<std::string> requests_;
  std::thread thread_;
};

std::string Answer(int status, const std::string& body, const std::string& headers = "") {
  return "HTTP/1.1 " + std::to_string(status) + " X\r\nContent-Length: " +
         std::to_string(body.size()) + "\r\nConnection: close\r\n" + headers + "\r\n" + body;
}

TEST(HttpClientTest, PostSendsBodyTypeAndBasicAuthAndReadsTheAnswer) {
  ScriptedServer server({Answer(202, R"({"accepted":1})")});
  HttpClientOptions options;
  options.user = "u";
  options.password = "p";
  const auto client = MakeCurlHttpClient(options);
  const HttpResult r = client->Post(server.url(), "application/x-ndjson", "{\"a\":1}\n");
  EXPECT_EQ(r.kind, HttpResult::Kind::kResponse) << r.error;
  EXPECT_EQ(r.status, 202);
  EXPECT_EQ(r.body, R"({"accepted":1})");
  EXPECT_FALSE(r.retry_after);
  ASSERT_EQ(server.requests().size(), 1u);
  const std::string req = server.requests()[0];
  EXPECT_EQ(req.rfind("POST /api/v1/events HTTP/1.1\r\n", 0), 0u) << req;
  EXPECT_NE(req.find("Content-Type: application/x-ndjson\r\n"), std::string::npos) << req;
  EXPECT_NE(req.find("Authorization: Basic dTpw\r\n"), std::string::npos) << req;
  EXPECT_EQ(req.find("Expect:"), std::string::npos) << req;
  EXPECT_EQ(req.substr(req.size() - 8), "{\"a\":1}\n");
}

TEST(HttpClientTest, RetryAfterSecondsAreRead) {
  ScriptedServer server({Answer(503, "busy", "Retry-After: 3\r\n")});
  const HttpResult r = MakeCurlHttpClient({})->Post(server.url(), "application/json", "{}");
  EXPECT_EQ(r.status, 503);
  ASSERT_TRUE(r.retry_after);
  EXPECT_EQ(*r.retry_after, milliseconds(3000));
}

TEST(HttpClientTest, RedirectKeepsThePostAndItsBody) {
  ScriptedServer target({Answer(202, "{}")});
  ScriptedServer redirect({Answer(301, "", "Location: " + target.url() + "\r\n")});
  const HttpResult r = MakeCurlHttpClient({})->Post(redirect.url(), "application/json", "{\"x\":2}");
  EXPECT_EQ(r.status, 202) << r.error;
  ASSERT_EQ(target.requests().size(), 1u);
  EXPECT_EQ(target.requests()[0].rfind("POST ", 0), 0u);
  EXPECT_NE(target.requests()[0].find("{\"x\":2}"), std::string::npos);
}

TEST(HttpClientTest, RefusedConnectionIsAConnectError) {
  int port;
  {
    ScriptedServer gone({});
    port = std::stoi(gone.url("").substr(17));
  }
  const HttpResult r = MakeCurlHttpClient({})->Post(
      "http://127.0.0.1:" + std::to_string(port) + "/api/v1/events", "application/json", "{}");
  EXPECT_EQ(r.kind, HttpResult::Kind::kConnectError) << r.error;
  EXPECT_FALSE(r.error.empty());
}

TEST(HttpClientTest, SilentServerTimesOut) {
  ScriptedServer server({"hang"});
  HttpClientOptions options;
  options.timeout = milliseconds(300);
  const auto start = std::chrono::steady_clock::now();
  const HttpResult r = MakeCurlHttpClient(options)->Post(server.url(), "application/json", "{}");
  EXPECT_EQ(r.kind, HttpResult::Kind::kTimeout) << r.error;
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(3));
}

TEST(HttpClientTest, ConnectionClosedWithoutAnswerIsRetryableSendError) {
  ScriptedServer server({""});
  const HttpResult r = MakeCurlHttpClient({})->Post(server.url(), "application/json", "{}");
  EXPECT_EQ(r.kind, HttpResult::Kind::kSendError) << r.error;
}

TEST(HttpClientTest, UnsupportedSchemeAndMissingCaFileArePermanent) {
  EXPECT_EQ(MakeCurlHttpClient({})->Post("ftp://127.0.0.1/x", "a/b", "").kind,
            HttpResult::Kind::kPermanent);
  HttpClientOptions options;
  options.ca_file = "/nonexistent/ca.pem";
  ScriptedServer server({""});
  const std::string https = "https" + server.url().substr(4);
  const HttpResult r = MakeCurlHttpClient(options)->Post(https, "application/json", "{}");
  EXPECT_EQ(r.kind, HttpResult::Kind::kPermanent) << r.error;
}

TEST(HttpClientTest, GetReadsTheBody) {
  ScriptedServer server({Answer(200, "metrics here")});
  const HttpResult r = MakeCurlHttpClient({})->Get(server.url("/metrics"));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "metrics here");
  EXPECT_EQ(server.requests()[0].rfind("GET /metrics ", 0), 0u);
}

TEST(RetryAfterTest, SecondsDatesAndGarbage) {
  const auto now = std::chrono::system_clock::from_time_t(1'700'000'000);  // 2023-11-14T22:13:20Z
  EXPECT_EQ(ParseRetryAfter("0", now), milliseconds(0));
  EXPECT_EQ(ParseRetryAfter("120", now), milliseconds(120000));
  EXPECT_EQ(ParseRetryAfter("Tue, 14 Nov 2023 22:13:50 GMT", now), milliseconds(30000));
  EXPECT_EQ(ParseRetryAfter("Tue, 14 Nov 2023 22:00:00 GMT", now), milliseconds(0));
  EXPECT_EQ(ParseRetryAfter("soon", now), std::nullopt);
  EXPECT_EQ(ParseRetryAfter("", now), std::nullopt);
}

}  // namespace
}  // namespace hlo
