// The HTTP server's API (docs/api.md) over real sockets on loopback: the
// world documents, the filtered lists, the event stream, push ingestion and
// the status page's headers. TLS with ingestion is at the end.
#include <arpa/inet.h>
#include <crypt.h>
#include <gtest/gtest.h>

#include "tests/fakes/gunzip.h"
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>
#include <zlib.h>

#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <tuple>
#include <vector>

#include "exporter/http_server.h"
#include "exporter/web_assets.h"
#include "exporter/world_query.h"

namespace hlo {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;
using nlohmann::json;

double SecondsSince(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

struct Reply {
  int status = 0;
  std::map<std::string, std::vector<std::string>> headers;  // names in lower case
  std::string body;

  std::optional<std::string> Header(const std::string& name) const {
    const auto it = headers.find(Lower(name));
    if (it == headers.end()) return std::nullopt;
    return it->second.front();
  }
  size_t Count(const std::string& name) const {
    const auto it = headers.find(Lower(name));
    return it == headers.end() ? 0 : it->second.size();
  }
  json Json() const { return json::parse(body); }
};

Reply ParseHead(const std::string& head) {
  Reply reply;
  if (head.rfind("HTTP/1.1 ", 0) != 0) throw std::runtime_error("bad status line: " + head);
  reply.status = std::stoi(head.substr(9, 3));
  size_t line_end = head.find("\r\n");
  while (line_end != std::string::npos) {
    const size_t start = line_end + 2;
    line_end = head.find("\r\n", start);
    const std::string line = head.substr(start, line_end - start);
    const size_t colon = line.find(':');
    if (colon == std::string::npos) continue;
    const size_t value = line.find_first_not_of(' ', colon + 1);
    reply.headers[Lower(line.substr(0, colon))].push_back(
        value == std::string::npos ? "" : line.substr(value));
  }
  return reply;
}

// A raw loopback connection speaking HTTP/1.1 by hand.
class Client {
 public:
  explicit Client(int port, int receive_buffer = 0) : fd_(socket(AF_INET, SOCK_STREAM, 0)) {
    if (receive_buffer > 0) {
      setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &receive_buffer, sizeof receive_buffer);
    }
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
      throw std::runtime_error("connect failed");
    }
  }
  ~Client() { close(fd_); }
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  bool Send(std::string_view raw) {
    while (!raw.empty()) {
      const ssize_t n = send(fd_, raw.data(), raw.size(), MSG_NOSIGNAL);
      if (n <= 0) return false;
      raw.remove_prefix(static_cast<size_t>(n));
    }
    return true;
  }

  // Reads until `marker` is in what was received (returns through it,
  // consuming it) or `timeout` passes / the server closes (nullopt).
  std::optional<std::string> ReadUntil(std::string_view marker, milliseconds timeout = milliseconds(5000)) {
    const auto deadline = Clock::now() + timeout;
    while (buffer_.find(marker) == std::string::npos) {
      if (!Fill(deadline)) return std::nullopt;
    }
    const size_t end = buffer_.find(marker) + marker.size();
    std::string out = buffer_.substr(0, end);
    buffer_.erase(0, end);
    return out;
  }

  // One response with a Content-Length body (or none: HEAD, 304).
  Reply Read(bool expect_body = true) {
    const auto head = ReadUntil("\r\n\r\n");
    if (!head) throw std::runtime_error("no response head; got: " + buffer_);
    Reply reply = ParseHead(*head);
    const auto length = reply.Header("Content-Length");
    if (expect_body && length) {
      const size_t want = std::stoul(*length);
      const auto deadline = Clock::now() + milliseconds(5000);
      while (buffer_.size() < want) {
        if (!Fill(deadline)) throw std::runtime_error("connection closed inside body");
      }
      reply.body = buffer_.substr(0, want);
      buffer_.erase(0, want);
    }
    return reply;
  }

  // Everything until the server closes, or nullopt if it does not within `timeout`.
  std::optional<std::string> ReadToClose(milliseconds timeout = milliseconds(5000)) {
    const auto deadline = Clock::now() + timeout;
    while (!closed_) {
      if (!Fill(deadline) && !closed_) return std::nullopt;
    }
    return std::exchange(buffer_, {});
  }

  int fd() const { return fd_; }

 private:
  bool Fill(Clock::time_point deadline) {
    if (closed_) return false;
    const auto left = std::chrono::duration_cast<milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) return false;
    pollfd p{fd_, POLLIN, 0};
    if (poll(&p, 1, static_cast<int>(left)) <= 0) return false;
    char chunk[65536];
    const ssize_t n = recv(fd_, chunk, sizeof chunk, 0);
    if (n <= 0) {
      closed_ = true;
      return false;
    }
    buffer_.append(chunk, static_cast<size_t>(n));
    return true;
  }

  int fd_;
  bool closed_ = false;
  std::string buffer_;
};

std::string Request(std::string_view method, std::string_view target,
                    std::string_view headers = "", bool close = true) {
  return std::string(method) + " " + std::string(target) + " HTTP/1.1\r\nHost: test\r\n" +
         std::string(headers) + (close ? "Connection: close\r\n" : "") + "\r\n";
}

Reply Fetch(int port, std::string_view method, std::string_view target,
            std::string_view headers = "") {
  Client client(port);
  client.Send(Request(method, target, headers));
  Reply reply = client.Read(method != "HEAD");
  const auto rest = client.ReadToClose();
  if (!rest) throw std::runtime_error("connection not closed");
  if (!rest->empty()) throw std::runtime_error("bytes after the response: " + *rest);
  return reply;
}

using fakes::Gunzip;

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

// "alice:wonderland", "bob:builder".
constexpr char kAlice[] = "Authorization: Basic YWxpY2U6d29uZGVybGFuZA==\r\n";
constexpr char kBob[] = "Authorization: Basic Ym9iOmJ1aWxkZXI=\r\n";

json IncidentsFile() {
  json file = json::object();
  for (int i = 0; i < 5; ++i) {
    const std::string id = "inc-17000000" + std::to_string(i) + "-nas-web";
    file[id] = {{"id", id},
                {"node", i % 2 == 0 ? "nas" : "pi"},
                {"service", "web"},
                {"status", i == 4 ? "active" : "resolved"},
                {"started_at", "2024-05-0" + std::to_string(i + 1) + "T00:00:00Z"},
                {"last_occurrence", "2024-05-0" + std::to_string(i + 1) + "T01:00:00Z"},
                {"resolved_at", i == 4 ? json(nullptr)
                                       : json("2024-05-0" + std::to_string(i + 1) + "T02:00:00Z")}};
  }
  return file;
}

json DeploymentsFile() {
  json file = json::object();
  file["d-1"] = {{"correlation_id", "d-1"}, {"node", "nas"}, {"service", "web"},
                 {"status", "failed"}, {"started_at", "2024-05-01T00:00:00Z"}};
  file["d-2"] = {{"correlation_id", "d-2"}, {"node", "pi"}, {"service", "dns"},
                 {"status", "succeeded"}, {"started_at", "2024-05-02T00:00:00Z"}};
  file["d-3"] = {{"correlation_id", "d-3"}, {"node", "a b"}, {"service", "web"},
                 {"status", "running"}, {"started_at", "2024-05-03T00:00:00Z"}};
  return file;
}

std::shared_ptr<const ApiView> MakeView(uint64_t sequence, const json& incidents,
                                        const json& deployments) {
  auto view = std::make_shared<ApiView>();
  view->sequence = sequence;
  for (size_t i = 0; i < kApiWorldNames.size(); ++i) {
    const std::string_view name = kApiWorldNames[i];
    std::string bytes;
    if (name == "incidents") {
      bytes = incidents.dump(2) + "\n";
    } else if (name == "deployments") {
      bytes = deployments.dump(2) + "\n";
    } else {
      bytes = json{{"file", std::string(name)}}.dump(2) + "\n";
    }
    view->files[i] = JsonDocument::Of(bytes);
  }
  view->observer = JsonDocument::Of("{\"ready\": true, \"version\": \"test\"}\n");
  return view;
}

// What the ingest handler saw, and what it answers.
struct IngestLog {
  std::mutex mu;
  std::vector<std::tuple<std::string, IngestFormat, std::string>> calls;
  IngestReply reply{202, "{\"accepted\": 1, \"duplicates\": 0, \"rejected\": []}"};
};

// A server with every API handler; the view can be swapped between requests.
class ApiServer {
 public:
  explicit ApiServer(HttpOptions options = Options(), size_t ring = 64) : feed_(ring) {
    SetView(MakeView(7, IncidentsFile(), DeploymentsFile()));
    HttpHandlers handlers;
    handlers.metrics = [] { return std::string("homelab_node_up{node=\"nas\"} 1\n"); };
    handlers.ready = [] { return true; };
    handlers.api = [this] {
      std::lock_guard lock(mu_);
      return view_;
    };
    handlers.changes = &feed_;
    handlers.ingest = [this](std::string_view body, IngestFormat format, std::string_view user) {
      std::lock_guard lock(ingest_.mu);
      ingest_.calls.emplace_back(std::string(body), format, std::string(user));
      return ingest_.reply;
    };
    std::string error;
    server_ = HttpServer::Start(options, std::move(handlers), &error);
    if (server_ == nullptr) throw std::runtime_error("Start failed: " + error);
  }

  static HttpOptions Options() {
    HttpOptions options;
    options.listen_address = "127.0.0.1:0";
    options.num_threads = 2;
    return options;
  }

  int port() const { return server_->port(); }
  void SetView(std::shared_ptr<const ApiView> view) {
    std::lock_guard lock(mu_);
    view_ = std::move(view);
  }
  std::shared_ptr<const ApiView> view() {
    std::lock_guard lock(mu_);
    return view_;
  }
  ChangeFeed& feed() { return feed_; }
  IngestLog& ingest() { return ingest_; }
  void Stop() { server_.reset(); }

 private:
  std::mutex mu_;
  std::shared_ptr<const ApiView> view_;
  ChangeFeed feed_;
  IngestLog ingest_;
  std::unique_ptr<HttpServer> server_;  // last: stopped before the rest goes
};

class HttpApiTest : public ::testing::Test {
 protected:
  int port() const { return server_.port(); }
  ApiServer server_;
};

// --- world documents ------------------------------------------------------

TEST_F(HttpApiTest, WorldFilesAreServedAsTheirBytesWithAnETag) {
  const auto view = server_.view();
  for (size_t i = 0; i < kApiWorldNames.size(); ++i) {
    const std::string path = "/api/v1/world/" + std::string(kApiWorldNames[i]);
    SCOPED_TRACE(path);
    const Reply reply = Fetch(port(), "GET", path);
    EXPECT_EQ(reply.status, 200);
    EXPECT_EQ(reply.body, view->files[i]->Text());
    EXPECT_EQ(reply.Header("Content-Type"), "application/json");
    EXPECT_EQ(reply.Header("ETag"), view->files[i]->ETag());
    EXPECT_EQ(reply.Header("Cache-Control"), "no-cache");
    EXPECT_EQ(reply.Header("Vary"), "Accept-Encoding");
    EXPECT_EQ(reply.Header("Content-Encoding"), std::nullopt);
  }
  const Reply observer = Fetch(port(), "GET", "/api/v1/observer");
  EXPECT_EQ(observer.status, 200);
  EXPECT_EQ(observer.body, view->observer->Text());
  EXPECT_EQ(observer.Header("ETag"), view->observer->ETag());
}

TEST_F(HttpApiTest, MatchingIfNoneMatchGives304WithoutBody) {
  const std::string etag = server_.view()->files[1]->ETag();  // incidents
  for (const std::string& header :
       {etag, "W/" + etag, "\"nope\", " + etag, "W/\"x\",W/" + etag, std::string("*")}) {
    SCOPED_TRACE(header);
    Client client(port());
    // Twice on one connection: a 304 must not leave a body behind.
    client.Send(Request("GET", "/api/v1/world/incidents", "If-None-Match: " + header + "\r\n",
                        false));
    const Reply first = client.Read(false);
    EXPECT_EQ(first.status, 304);
    EXPECT_EQ(first.Header("ETag"), etag);
    EXPECT_EQ(first.Header("Content-Length").value_or("0"), "0");
    client.Send(Request("GET", "/api/v1/world/incidents"));
    const Reply second = client.Read();
    EXPECT_EQ(second.status, 200);
    EXPECT_EQ(second.body, server_.view()->files[1]->Text());
  }
  for (const std::string& header : {std::string("\"nope\""), std::string("W/\"nope\""),
                                    etag.substr(1, etag.size() - 2), std::string("garbage")}) {
    SCOPED_TRACE(header);
    EXPECT_EQ(Fetch(port(), "GET", "/api/v1/world/incidents", "If-None-Match: " + header + "\r\n")
                  .status,
              200);
  }
}

TEST_F(HttpApiTest, ANewPublishChangesTheETag) {
  const Reply before = Fetch(port(), "GET", "/api/v1/world/incidents");
  json changed = IncidentsFile();
  changed.erase(changed.begin());
  server_.SetView(MakeView(8, changed, DeploymentsFile()));
  const Reply after = Fetch(port(), "GET", "/api/v1/world/incidents",
                            "If-None-Match: " + *before.Header("ETag") + "\r\n");
  EXPECT_EQ(after.status, 200);
  EXPECT_NE(after.Header("ETag"), before.Header("ETag"));
  EXPECT_EQ(json::parse(after.body), changed);
}

TEST_F(HttpApiTest, WorldFilesAreGzippedWhenAccepted) {
  const Reply reply = Fetch(port(), "GET", "/api/v1/world/deployments", "Accept-Encoding: gzip\r\n");
  EXPECT_EQ(reply.status, 200);
  EXPECT_EQ(reply.Header("Content-Encoding"), "gzip");
  EXPECT_EQ(Gunzip(reply.body), server_.view()->files[0]->Text());
  EXPECT_EQ(reply.Header("ETag"), server_.view()->files[0]->ETag());
}

TEST_F(HttpApiTest, HeadSendsTheHeadersOfGet) {
  for (const char* path : {"/api/v1/world/nodes", "/api/v1/incidents?limit=2", "/api/v1/observer"}) {
    SCOPED_TRACE(path);
    const Reply get = Fetch(port(), "GET", path);
    const Reply head = Fetch(port(), "HEAD", path);  // throws on a body
    EXPECT_EQ(head.status, 200);
    EXPECT_EQ(head.Header("Content-Length"), get.Header("Content-Length"));
    EXPECT_EQ(head.Header("ETag"), get.Header("ETag"));
  }
}

TEST(HttpApiNotReadyTest, NothingPublishedYetIs503) {
  HttpHandlers handlers;
  handlers.metrics = [] { return std::string(); };
  handlers.ready = [] { return false; };
  handlers.api = [] { return std::shared_ptr<const ApiView>(); };
  std::string error;
  const auto server = HttpServer::Start(ApiServer::Options(), std::move(handlers), &error);
  ASSERT_NE(server, nullptr) << error;
  for (const char* path : {"/api/v1/world/nodes", "/api/v1/observer", "/api/v1/incidents"}) {
    const Reply reply = Fetch(server->port(), "GET", path);
    EXPECT_EQ(reply.status, 503) << path;
    EXPECT_TRUE(reply.Json().contains("error"));
  }
}

// --- errors ------------------------------------------------------------------

TEST_F(HttpApiTest, UnknownApiPathsAre404WithAJsonError) {
  for (const char* path : {"/api/v1/world/nope", "/api/v1/world/", "/api/v1/world/nodes/x",
                           "/api/v2/world/nodes", "/api/", "/api/v1/incidentsx"}) {
    SCOPED_TRACE(path);
    const Reply reply = Fetch(port(), "GET", path);
    EXPECT_EQ(reply.status, 404);
    EXPECT_EQ(reply.Header("Content-Type"), "application/json");
    EXPECT_TRUE(reply.Json()["error"].is_string());
  }
  EXPECT_EQ(Fetch(port(), "GET", "/nope").Header("Content-Type"), "text/plain; charset=utf-8");
}

TEST_F(HttpApiTest, OtherMethodsAre405WithAllowAndAJsonError) {
  for (const char* path : {"/api/v1/world/nodes", "/api/v1/incidents", "/api/v1/deployments",
                           "/api/v1/observer", "/api/v1/stream"}) {
    for (const char* method : {"POST", "PUT", "DELETE", "PATCH"}) {
      SCOPED_TRACE(std::string(method) + " " + path);
      const Reply reply = Fetch(port(), method, path, "Content-Length: 0\r\n");
      EXPECT_EQ(reply.status, 405);
      EXPECT_EQ(reply.Header("Allow"), "GET, HEAD");
      EXPECT_EQ(reply.Header("Content-Type"), "application/json");
      EXPECT_TRUE(reply.Json()["error"].is_string());
    }
  }
  const Reply get_events = Fetch(port(), "GET", "/api/v1/events");
  EXPECT_EQ(get_events.status, 405);
  EXPECT_EQ(get_events.Header("Allow"), "POST");
}

TEST(HttpApiRoutesTest, WithoutHandlersTheApiPathsDoNotExist) {
  HttpHandlers handlers;
  handlers.metrics = [] { return std::string(); };
  handlers.ready = [] { return true; };
  std::string error;
  const auto server = HttpServer::Start(ApiServer::Options(), std::move(handlers), &error);
  ASSERT_NE(server, nullptr) << error;
  for (const char* path : {"/api/v1/world/nodes", "/api/v1/incidents", "/api/v1/stream",
                           "/api/v1/events", "/api/v1/observer"}) {
    EXPECT_EQ(Fetch(server->port(), "GET", path).status, 404) << path;
  }
  EXPECT_EQ(Fetch(server->port(), "POST", "/api/v1/events",
                  "Content-Type: application/json\r\nContent-Length: 0\r\n")
                .status,
            404);
}

// --- filtered lists ----------------------------------------------------------

std::vector<std::string> ItemIds(const json& answer, const char* key) {
  std::vector<std::string> ids;
  for (const json& item : answer["items"]) ids.push_back(item[key]);
  return ids;
}

TEST_F(HttpApiTest, IncidentsAreFilteredNewestFirst) {
  const Reply all = Fetch(port(), "GET", "/api/v1/incidents");
  ASSERT_EQ(all.status, 200) << all.body;
  EXPECT_EQ(all.Header("Content-Type"), "application/json");
  const json answer = all.Json();
  EXPECT_EQ(ItemIds(answer, "id"),
            (std::vector<std::string>{"inc-170000004-nas-web", "inc-170000003-nas-web",
                                      "inc-170000002-nas-web", "inc-170000001-nas-web",
                                      "inc-170000000-nas-web"}));
  EXPECT_TRUE(answer["next"].is_null());
  EXPECT_EQ(answer["sequence"], 7);
  EXPECT_EQ(answer["items"][0], IncidentsFile()["inc-170000004-nas-web"]);  // as in the file

  const json pi = Fetch(port(), "GET", "/api/v1/incidents?node=pi&status=resolved").Json();
  EXPECT_EQ(ItemIds(pi, "id"),
            (std::vector<std::string>{"inc-170000003-nas-web", "inc-170000001-nas-web"}));
  const json since =
      Fetch(port(), "GET", "/api/v1/incidents?since=2024-05-04T02%3A00%3A00%2B00%3A00").Json();
  EXPECT_EQ(ItemIds(since, "id"),
            (std::vector<std::string>{"inc-170000004-nas-web", "inc-170000003-nas-web"}));
}

TEST_F(HttpApiTest, DeploymentsAreFilteredWithDecodedValues) {
  EXPECT_EQ(ItemIds(Fetch(port(), "GET", "/api/v1/deployments").Json(), "correlation_id"),
            (std::vector<std::string>{"d-3", "d-2", "d-1"}));
  EXPECT_EQ(ItemIds(Fetch(port(), "GET", "/api/v1/deployments?status=failed").Json(),
                    "correlation_id"),
            std::vector<std::string>{"d-1"});
  // '+' and %20 are both a space.
  for (const char* query : {"node=a+b", "node=a%20b", "n%6Fde=a+b"}) {
    EXPECT_EQ(ItemIds(Fetch(port(), "GET", std::string("/api/v1/deployments?") + query).Json(),
                      "correlation_id"),
              std::vector<std::string>{"d-3"})
        << query;
  }
}

TEST_F(HttpApiTest, PagesFollowTheirCursorAcrossAPublish) {
  const json first = Fetch(port(), "GET", "/api/v1/incidents?limit=2").Json();
  ASSERT_EQ(first["items"].size(), 2u);
  ASSERT_TRUE(first["next"].is_string());
  // A new incident opens and the newest shown one vanishes before page 2.
  json changed = IncidentsFile();
  changed.erase("inc-170000004-nas-web");
  changed["inc-9-new"] = {{"id", "inc-9-new"}, {"node", "nas"}, {"service", "web"},
                          {"status", "active"}, {"started_at", "2024-06-01T00:00:00Z"},
                          {"last_occurrence", "2024-06-01T00:00:00Z"}, {"resolved_at", nullptr}};
  server_.SetView(MakeView(9, changed, DeploymentsFile()));
  std::vector<std::string> rest;
  std::string cursor = first["next"];
  for (int page = 0; page < 5 && !cursor.empty(); ++page) {
    const Reply reply =
        Fetch(port(), "GET", "/api/v1/incidents?limit=2&cursor=" + cursor);
    ASSERT_EQ(reply.status, 200) << reply.body;
    const json answer = reply.Json();
    EXPECT_EQ(answer["sequence"], 9);
    for (const std::string& id : ItemIds(answer, "id")) rest.push_back(id);
    cursor = answer["next"].is_null() ? "" : answer["next"].get<std::string>();
  }
  EXPECT_EQ(rest, (std::vector<std::string>{"inc-170000002-nas-web", "inc-170000001-nas-web",
                                            "inc-170000000-nas-web"}));
}

TEST_F(HttpApiTest, ListsAreGzippedWhenAccepted) {
  const Reply reply = Fetch(port(), "GET", "/api/v1/incidents", "Accept-Encoding: gzip\r\n");
  EXPECT_EQ(reply.Header("Content-Encoding"), "gzip");
  EXPECT_EQ(json::parse(Gunzip(reply.body))["items"].size(), 5u);
}

TEST_F(HttpApiTest, BadParametersAre400NamingTheParameter) {
  const struct {
    const char* target;
    const char* parameter;
  } cases[] = {
      {"/api/v1/incidents?color=red", "color"},
      {"/api/v1/incidents?status=open", "status"},
      {"/api/v1/incidents?limit=0", "limit"},
      {"/api/v1/incidents?limit=1001", "limit"},
      {"/api/v1/incidents?limit=ten", "limit"},
      {"/api/v1/incidents?node=a&node=b", "node"},
      {"/api/v1/incidents?since=2024-05-01T00:00:00+02:00", "since"},  // '+' is a space
      {"/api/v1/incidents?cursor=%%%", "cursor"},
      {"/api/v1/incidents?cursor=bm9wZQ", "cursor"},
      {"/api/v1/deployments?since=2024-05-01T00:00:00Z", "since"},
      {"/api/v1/deployments?status=active", "status"},
      {"/api/v1/deployments?node=", "node"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.target);
    const Reply reply = Fetch(port(), "GET", c.target);
    EXPECT_EQ(reply.status, 400);
    EXPECT_EQ(reply.Header("Content-Type"), "application/json");
    const json error = reply.Json();
    EXPECT_EQ(error["parameter"], c.parameter);
    EXPECT_NE(error["error"].get<std::string>().find(c.parameter), std::string::npos)
        << error.dump();
  }
}

// --- the stream ----------------------------------------------------------------

// Opens /api/v1/stream and reads through the hello event.
std::unique_ptr<Client> OpenStream(int port, const std::string& headers = "",
                                   std::string* opening = nullptr) {
  auto client = std::make_unique<Client>(port);
  client->Send(Request("GET", "/api/v1/stream", headers, false));
  const auto head = client->ReadUntil("\r\n\r\n");
  if (!head) throw std::runtime_error("no stream head");
  const Reply reply = ParseHead(*head);
  if (reply.status != 200) throw std::runtime_error("stream status " + std::to_string(reply.status));
  const auto hello = client->ReadUntil("event: hello\n");
  if (!hello) throw std::runtime_error("no hello");
  const auto data = client->ReadUntil("\n\n");
  if (opening != nullptr) *opening = *head + *hello + *data;
  return client;
}

TEST_F(HttpApiTest, StreamSaysHelloThenEachChangeInOrder) {
  server_.feed().Publish("{\"n\": 0}");
  Client client(port());
  client.Send(Request("GET", "/api/v1/stream", "", false));
  const Reply head = ParseHead(*client.ReadUntil("\r\n\r\n"));
  EXPECT_EQ(head.status, 200);
  EXPECT_EQ(head.Header("Content-Type"), "text/event-stream");
  EXPECT_EQ(head.Header("Cache-Control"), "no-store");
  EXPECT_EQ(head.Header("X-Accel-Buffering"), "no");
  EXPECT_EQ(head.Header("Content-Length"), std::nullopt);
  EXPECT_EQ(Lower(head.Header("Connection").value_or("close")), "close");
  EXPECT_EQ(client.ReadUntil("data: {\"sequence\": 1}\n\n"),
            "retry: 2000\n\nid: 1\nevent: hello\ndata: {\"sequence\": 1}\n\n");
  for (int i = 1; i <= 3; ++i) server_.feed().Publish("{\"n\": " + std::to_string(i) + "}");
  for (int i = 1; i <= 3; ++i) {
    const auto event = client.ReadUntil("\n\n");
    ASSERT_TRUE(event) << i;
    EXPECT_EQ(*event, "id: " + std::to_string(i + 1) + "\nevent: world\ndata: {\"n\": " +
                          std::to_string(i) + "}\n\n");
  }
}

TEST_F(HttpApiTest, StreamResumesAfterLastEventId) {
  for (int i = 1; i <= 5; ++i) server_.feed().Publish("{\"n\": " + std::to_string(i) + "}");
  std::string opening;
  auto client = OpenStream(port(), "Last-Event-ID: 3\r\n", &opening);
  EXPECT_NE(opening.find("data: {\"sequence\": 5}"), std::string::npos) << opening;
  EXPECT_EQ(opening.find("id: "), std::string::npos) << "hello moved the client's last id";
  EXPECT_EQ(client->ReadUntil("\n\n"), "id: 4\nevent: world\ndata: {\"n\": 4}\n\n");
  EXPECT_EQ(client->ReadUntil("\n\n"), "id: 5\nevent: world\ndata: {\"n\": 5}\n\n");
  server_.feed().Publish("{\"n\": 6}");
  EXPECT_EQ(client->ReadUntil("\n\n"), "id: 6\nevent: world\ndata: {\"n\": 6}\n\n");
  // Up to date already: nothing missed, no reset.
  auto current = OpenStream(port(), "Last-Event-ID: 6\r\n");
  EXPECT_EQ(current->ReadUntil("event: reset", milliseconds(300)), std::nullopt);
}

TEST(HttpApiStreamTest, StreamResetsWhenLastEventIdLeftTheRingOrIsUnknown) {
  ApiServer server(ApiServer::Options(), /*ring=*/4);
  for (int i = 1; i <= 10; ++i) server.feed().Publish("{}");
  for (const char* last : {"2", "99", "abc", "-1"}) {
    SCOPED_TRACE(last);
    const std::string latest = std::to_string(server.feed().latest());
    auto client = OpenStream(server.port(), std::string("Last-Event-ID: ") + last + "\r\n");
    EXPECT_EQ(client->ReadUntil("\n\n"),
              "id: " + latest + "\nevent: reset\ndata: {\"sequence\": " + latest + "}\n\n");
    server.feed().Publish("{\"after\": true}");
    const auto next = client->ReadUntil("\n\n");
    ASSERT_TRUE(next);
    EXPECT_NE(next->find("event: world\ndata: {\"after\": true}"), std::string::npos) << *next;
  }
}

TEST(HttpApiStreamTest, IdleStreamsGetHeartbeats) {
  HttpOptions options = ApiServer::Options();
  options.stream_heartbeat_ms = 200;
  ApiServer server(options);
  auto client = OpenStream(server.port());
  const auto start = Clock::now();
  EXPECT_TRUE(client->ReadUntil(": ping\n\n", milliseconds(2000)));
  EXPECT_TRUE(client->ReadUntil(": ping\n\n", milliseconds(2000)));
  EXPECT_LT(SecondsSince(start), 1.5);
}

TEST(HttpApiStreamTest, StreamsOverTheCapGet503WhileOthersAreServed) {
  HttpOptions options = ApiServer::Options();
  options.num_threads = 1;
  options.max_streams = 2;
  ApiServer server(options);
  auto a = OpenStream(server.port());
  auto b = OpenStream(server.port());
  const Reply third = Fetch(server.port(), "GET", "/api/v1/stream");
  EXPECT_EQ(third.status, 503);
  EXPECT_EQ(third.Header("Retry-After"), "5");
  EXPECT_TRUE(third.Json()["error"].is_string());
  // The streams hold threads of their own: the one request thread is free.
  for (int i = 0; i < 3; ++i) {
    const auto start = Clock::now();
    EXPECT_EQ(Fetch(server.port(), "GET", "/metrics").status, 200);
    EXPECT_LT(SecondsSince(start), 1.0);
  }
  // A stream that ends frees its place.
  a.reset();
  const auto start = Clock::now();
  std::unique_ptr<Client> c;
  while (c == nullptr && SecondsSince(start) < 5) {
    server.feed().Publish("{}");  // the server notices a's end when it writes
    try {
      c = OpenStream(server.port());
    } catch (const std::exception&) {
      std::this_thread::sleep_for(milliseconds(50));
    }
  }
  EXPECT_NE(c, nullptr);
}

TEST(HttpApiStreamTest, AStalledReaderIsDroppedAndNeverBlocksPublish) {
  HttpOptions options = ApiServer::Options();
  options.max_streams = 1;
  options.request_timeout_ms = 500;
  ApiServer server(options, /*ring=*/16);
  Client stalled(server.port(), /*receive_buffer=*/4096);
  stalled.Send(Request("GET", "/api/v1/stream", "", false));
  std::this_thread::sleep_for(milliseconds(100));
  // Far more than the socket buffers hold; the reader reads nothing.
  const std::string big(64 * 1024, 'x');
  const auto start = Clock::now();
  double slowest = 0;
  for (int i = 0; i < 200; ++i) {
    const auto before = Clock::now();
    server.feed().Publish("\"" + big + "\"");
    slowest = std::max(slowest, SecondsSince(before));
    std::this_thread::sleep_for(milliseconds(5));
  }
  EXPECT_LT(slowest, 0.05);
  EXPECT_LT(SecondsSince(start), 3.0);
  // Its place is given back: a new stream gets in within a few seconds.
  std::unique_ptr<Client> next;
  while (next == nullptr && SecondsSince(start) < 8) {
    try {
      next = OpenStream(server.port());
    } catch (const std::exception&) {
      std::this_thread::sleep_for(milliseconds(100));
    }
  }
  EXPECT_NE(next, nullptr) << "the stalled stream still holds its place";
  // ...and the stalled one was closed: reading it now ends at EOF.
  EXPECT_TRUE(stalled.ReadToClose(milliseconds(5000)).has_value());
}

TEST(HttpApiStreamTest, DestroyingTheServerEndsStreamsFast) {
  auto server = std::make_unique<ApiServer>();
  auto reading = OpenStream(server->port());
  Client stalled(server->port(), 4096);
  stalled.Send(Request("GET", "/api/v1/stream", "", false));
  std::this_thread::sleep_for(milliseconds(100));
  for (int i = 0; i < 100; ++i) server->feed().Publish("\"" + std::string(64 * 1024, 'y') + "\"");
  std::this_thread::sleep_for(milliseconds(200));  // the stalled one is blocked writing now
  const auto start = Clock::now();
  server->Stop();
  EXPECT_LT(SecondsSince(start), 1.0);
  EXPECT_TRUE(reading->ReadToClose(milliseconds(1000)).has_value());
}

// --- ingestion ----------------------------------------------------------------

std::string PostRequest(std::string_view content_type, std::string_view body,
                        std::string_view extra = "") {
  return "POST /api/v1/events HTTP/1.1\r\nHost: test\r\nContent-Type: " + std::string(content_type) +
         "\r\nContent-Length: " + std::to_string(body.size()) + "\r\n" + std::string(extra) +
         "Connection: close\r\n\r\n" + std::string(body);
}

Reply Exchange(int port, const std::string& raw) {
  Client client(port);
  client.Send(raw);
  return client.Read();
}

TEST_F(HttpApiTest, IngestHandsTheBodyOverAndPassesTheReplyThrough) {
  server_.ingest().reply = {207, "{\"accepted\": 1, \"duplicates\": 0, \"rejected\": [{\"line\": 2}]}"};
  const std::string body = "{\"type\":\"node_heartbeat\"}\n{\"bad\"\n";
  const Reply reply = Exchange(port(), PostRequest("application/x-ndjson; charset=utf-8", body));
  EXPECT_EQ(reply.status, 207);
  EXPECT_EQ(reply.Header("Content-Type"), "application/json");
  EXPECT_EQ(reply.body, server_.ingest().reply.body);
  ASSERT_EQ(server_.ingest().calls.size(), 1u);
  EXPECT_EQ(std::get<0>(server_.ingest().calls[0]), body);
  EXPECT_EQ(std::get<1>(server_.ingest().calls[0]), IngestFormat::kNdjson);
  EXPECT_EQ(std::get<2>(server_.ingest().calls[0]), "");  // no auth: no user
}

TEST_F(HttpApiTest, IngestFormatComesFromTheContentType) {
  const struct {
    const char* type;
    std::optional<IngestFormat> format;
  } cases[] = {
      {"application/json", IngestFormat::kJson},
      {"Application/JSON; charset=utf-8", IngestFormat::kJson},
      {"application/x-ndjson", IngestFormat::kNdjson},
      {"application/ndjson", IngestFormat::kNdjson},
      {"application/jsonl", IngestFormat::kNdjson},
      {"application/x-jsonlines ; charset=UTF-8", IngestFormat::kNdjson},
      {"text/plain", std::nullopt},
      {"application/json-seq", std::nullopt},
      {"", std::nullopt},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.type);
    server_.ingest().calls.clear();
    const Reply reply = Exchange(port(), PostRequest(c.type, "{}"));
    if (c.format) {
      EXPECT_EQ(reply.status, 202);
      ASSERT_EQ(server_.ingest().calls.size(), 1u);
      EXPECT_EQ(std::get<1>(server_.ingest().calls[0]), *c.format);
    } else {
      EXPECT_EQ(reply.status, 415);
      EXPECT_TRUE(reply.Json()["error"].is_string());
      EXPECT_TRUE(server_.ingest().calls.empty());
    }
  }
  // No Content-Type at all.
  const Reply missing = Exchange(
      port(), "POST /api/v1/events HTTP/1.1\r\nHost: t\r\nContent-Length: 2\r\n\r\n{}");
  EXPECT_EQ(missing.status, 415);
}

// curl sends "Expect: 100-continue" for bodies over 1 MiB and waits up to
// a second for the interim answer before sending the body anyway.
TEST_F(HttpApiTest, ExpectContinueGetsAnInterim100ThenTheAnswer) {
  Client client(port());
  const std::string body = "{\"type\": \"node_heartbeat\"}";
  client.Send("POST /api/v1/events HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
              "Expect: 100-continue\r\nContent-Length: " +
              std::to_string(body.size()) + "\r\n\r\n");
  const auto interim = client.ReadUntil("\r\n\r\n", milliseconds(500));
  ASSERT_TRUE(interim) << "no 100 Continue";
  EXPECT_EQ(*interim, "HTTP/1.1 100 Continue\r\n\r\n");
  client.Send(body);
  const Reply reply = client.Read();
  EXPECT_EQ(reply.status, 202);
  EXPECT_EQ(reply.Header("Content-Type"), "application/json");
  EXPECT_EQ(reply.body, server_.ingest().reply.body);
  ASSERT_EQ(server_.ingest().calls.size(), 1u);
  EXPECT_EQ(std::get<0>(server_.ingest().calls[0]), body);
  // Too large: refused at once, without the interim answer.
  Client big(port());
  big.Send("POST /api/v1/events HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
           "Expect: 100-continue\r\nContent-Length: 999999999\r\n\r\n");
  EXPECT_EQ(big.Read().status, 413);
}

TEST(HttpApiIngestTest, TooLargeByContentLengthIs413WithoutReadingTheBody) {
  HttpOptions options = ApiServer::Options();
  options.ingest_max_bytes = 1000;
  ApiServer server(options);
  // Exactly the limit is fine.
  EXPECT_EQ(Exchange(server.port(), PostRequest("application/json", std::string(1000, ' '))).status,
            202);
  Client client(server.port());
  client.Send("POST /api/v1/events HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
              "Content-Length: 1001\r\n\r\n");  // and no body ever
  const auto start = Clock::now();
  const Reply reply = client.Read();
  EXPECT_EQ(reply.status, 413);
  EXPECT_LT(SecondsSince(start), 1.0);
  EXPECT_TRUE(reply.Json()["error"].is_string());
  EXPECT_TRUE(client.ReadToClose(milliseconds(3000)).has_value()) << "connection kept";
  EXPECT_EQ(server.ingest().calls.size(), 1u);
}

std::string Chunked(const std::string& body, size_t piece) {
  std::string out;
  for (size_t i = 0; i < body.size(); i += piece) {
    const std::string part = body.substr(i, piece);
    char size[32];
    std::snprintf(size, sizeof size, "%zx\r\n", part.size());
    out += size + part + "\r\n";
  }
  return out + "0\r\n\r\n";
}

TEST(HttpApiIngestTest, ChunkedBodiesAreReadUpToTheLimit) {
  HttpOptions options = ApiServer::Options();
  options.ingest_max_bytes = 1000;
  ApiServer server(options);
  const std::string head =
      "POST /api/v1/events HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
      "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n";
  const std::string fits = "[" + std::string(998, ' ') + "]";
  EXPECT_EQ(Exchange(server.port(), head + Chunked(fits, 100)).status, 202);
  ASSERT_EQ(server.ingest().calls.size(), 1u);
  EXPECT_EQ(std::get<0>(server.ingest().calls[0]), fits);
  const Reply over = Exchange(server.port(), head + Chunked(std::string(1001, ' '), 100));
  EXPECT_EQ(over.status, 413);
  EXPECT_EQ(server.ingest().calls.size(), 1u);
}

TEST(HttpApiIngestTest, ABodyWithoutLengthIs411) {
  ApiServer server;
  const Reply reply = Exchange(server.port(),
                               "POST /api/v1/events HTTP/1.1\r\nHost: t\r\nContent-Type: "
                               "application/json\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(reply.status, 411);
}

// A body sent a byte at a time never completes within the request timeout.
TEST(HttpApiIngestTest, ATricklingBodyIs408AndFreesTheThread) {
  HttpOptions options = ApiServer::Options();
  options.request_timeout_ms = 500;
  options.num_threads = 1;
  ApiServer server(options);
  for (const bool chunked : {false, true}) {
    SCOPED_TRACE(chunked ? "chunked" : "Content-Length");
    Client client(server.port());
    client.Send(std::string("POST /api/v1/events HTTP/1.1\r\nHost: t\r\n"
                            "Content-Type: application/json\r\n") +
                (chunked ? "Transfer-Encoding: chunked\r\n" : "Content-Length: 100000\r\n") + "\r\n");
    const auto start = Clock::now();
    std::optional<std::string> head;
    while (!head && SecondsSince(start) < 5) {
      if (!client.Send(chunked ? "1\r\nx\r\n" : "x")) break;
      head = client.ReadUntil("\r\n\r\n", milliseconds(50));
    }
    ASSERT_TRUE(head) << "no answer";
    EXPECT_EQ(ParseHead(*head).status, 408);
    EXPECT_LT(SecondsSince(start), 2.0);
    // It keeps dripping, as a hostile client would; the one worker thread
    // serves others all the same.
    std::atomic<bool> done{false};
    std::thread drip([&] {
      while (!done && client.Send("x")) std::this_thread::sleep_for(milliseconds(50));
    });
    std::this_thread::sleep_for(milliseconds(200));
    const auto probe = Clock::now();
    EXPECT_EQ(Fetch(server.port(), "GET", "/healthz").status, 200);
    EXPECT_LT(SecondsSince(probe), 1.5);
    done = true;
    drip.join();
  }
  EXPECT_TRUE(server.ingest().calls.empty());
}

class HttpApiAuthTest : public ::testing::Test {
 protected:
  static HttpOptions AuthOptions(std::set<std::string> ingest_users) {
    HttpOptions options = ApiServer::Options();
    options.web.basic_auth_users = {{"alice", Bcrypt("wonderland")}, {"bob", Bcrypt("builder")}};
    options.web.ingest_users = std::move(ingest_users);
    return options;
  }
};

TEST_F(HttpApiAuthTest, OnlyIngestUsersMayPost) {
  ApiServer server(AuthOptions({"alice"}));
  EXPECT_EQ(Exchange(server.port(), PostRequest("application/json", "{}")).status, 401);
  const Reply bob = Exchange(server.port(), PostRequest("application/json", "{}", kBob));
  EXPECT_EQ(bob.status, 403);
  EXPECT_TRUE(bob.Json()["error"].is_string());
  EXPECT_TRUE(server.ingest().calls.empty());
  EXPECT_EQ(Exchange(server.port(), PostRequest("application/json", "{}", kAlice)).status, 202);
  ASSERT_EQ(server.ingest().calls.size(), 1u);
  EXPECT_EQ(std::get<2>(server.ingest().calls[0]), "alice");
  // Bob may still read.
  EXPECT_EQ(Fetch(server.port(), "GET", "/api/v1/world/nodes", kBob).status, 200);
}

TEST_F(HttpApiAuthTest, WithoutIngestUsersEveryUserMayPost) {
  ApiServer server(AuthOptions({}));
  EXPECT_EQ(Exchange(server.port(), PostRequest("application/json", "{}", kBob)).status, 202);
  EXPECT_EQ(Exchange(server.port(), PostRequest("application/json", "{}", kAlice)).status, 202);
  ASSERT_EQ(server.ingest().calls.size(), 2u);
  EXPECT_EQ(std::get<2>(server.ingest().calls[0]), "bob");
}

TEST_F(HttpApiAuthTest, ApiAndStreamNeedCredentials) {
  ApiServer server(AuthOptions({}));
  for (const char* path : {"/api/v1/world/nodes", "/api/v1/stream", "/api/v1/nope", "/"}) {
    EXPECT_EQ(Fetch(server.port(), "GET", path).status, 401) << path;
  }
  auto stream = OpenStream(server.port(), kAlice);
  EXPECT_NE(stream, nullptr);
}

// --- over TLS ----------------------------------------------------------------

struct Pki {
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key{EVP_EC_gen("P-256"), EVP_PKEY_free};
  std::unique_ptr<X509, decltype(&X509_free)> cert{X509_new(), X509_free};

  Pki() {
    X509_set_version(cert.get(), 2);
    ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), 1);
    X509_gmtime_adj(X509_getm_notBefore(cert.get()), -60);
    X509_gmtime_adj(X509_getm_notAfter(cert.get()), 3600);
    X509_set_pubkey(cert.get(), key.get());
    X509_NAME* name = X509_get_subject_name(cert.get());
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                               reinterpret_cast<const unsigned char*>("127.0.0.1"), -1, -1, 0);
    X509_set_issuer_name(cert.get(), name);
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, cert.get(), cert.get(), nullptr, nullptr, 0);
    X509_EXTENSION* san = X509V3_EXT_conf_nid(nullptr, &ctx, NID_subject_alt_name, "IP:127.0.0.1");
    X509_add_ext(cert.get(), san, -1);
    X509_EXTENSION_free(san);
    if (X509_sign(cert.get(), key.get(), EVP_sha256()) == 0) throw std::runtime_error("sign");
  }

  TlsServerConfig ServerConfig() const {
    TlsServerConfig tls;
    tls.cert_pem = Pem([&](BIO* b) { PEM_write_bio_X509(b, cert.get()); });
    tls.key_pem = Pem([&](BIO* b) {
      PEM_write_bio_PrivateKey(b, key.get(), nullptr, nullptr, 0, nullptr, nullptr);
    });
    return tls;
  }

  template <typename Write>
  static std::string Pem(Write write) {
    BIO* bio = BIO_new(BIO_s_mem());
    write(bio);
    char* data = nullptr;
    const long n = BIO_get_mem_data(bio, &data);
    std::string pem(data, static_cast<size_t>(n));
    BIO_free(bio);
    return pem;
  }
};

// One raw request over TLS, verifying the server against `trust`; the whole
// response up to the server's close, or "" when the exchange fails.
std::string TlsExchange(int port, X509* trust, const std::string& request) {
  std::unique_ptr<SSL_CTX, decltype(&SSL_CTX_free)> ctx(SSL_CTX_new(TLS_client_method()),
                                                        SSL_CTX_free);
  X509_STORE_add_cert(SSL_CTX_get_cert_store(ctx.get()), trust);
  SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_PEER, nullptr);
  Client tcp(port);
  timeval timeout{5, 0};
  setsockopt(tcp.fd(), SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  std::unique_ptr<SSL, decltype(&SSL_free)> ssl(SSL_new(ctx.get()), SSL_free);
  std::string response;
  if (SSL_set_fd(ssl.get(), tcp.fd()) == 1 && SSL_connect(ssl.get()) == 1 &&
      SSL_write(ssl.get(), request.data(), static_cast<int>(request.size())) > 0) {
    char buf[4096];
    int n;
    while ((n = SSL_read(ssl.get(), buf, sizeof buf)) > 0) response.append(buf, static_cast<size_t>(n));
  }
  ERR_clear_error();
  return response;
}

TEST(HttpApiTlsTest, IngestAndApiWorkWithBasicAuthOverTls) {
  const Pki pki;
  HttpOptions options = ApiServer::Options();
  options.web.tls = pki.ServerConfig();
  options.web.basic_auth_users = {{"alice", Bcrypt("wonderland")}, {"bob", Bcrypt("builder")}};
  options.web.ingest_users = {"alice"};
  ApiServer server(options);
  const std::string body = "{\"type\": \"node_heartbeat\"}";
  const auto post = [&](const std::string& auth) {
    const std::string response = TlsExchange(server.port(), pki.cert.get(), PostRequest("application/json", body, auth));
    return response.empty() ? Reply{} : ParseHead(response.substr(0, response.find("\r\n\r\n") + 2));
  };
  EXPECT_EQ(post("").status, 401);
  EXPECT_EQ(post(kBob).status, 403);
  EXPECT_EQ(post(kAlice).status, 202);
  ASSERT_EQ(server.ingest().calls.size(), 1u);
  EXPECT_EQ(std::get<0>(server.ingest().calls[0]), body);
  EXPECT_EQ(std::get<2>(server.ingest().calls[0]), "alice");
  const std::string world =
      TlsExchange(server.port(), pki.cert.get(), Request("GET", "/api/v1/world/nodes", kBob));
  EXPECT_EQ(world.rfind("HTTP/1.1 200", 0), 0u) << world.substr(0, 200);
  EXPECT_NE(world.find(server.view()->files[2]->Text()), std::string::npos);
  const std::string stream_head =
      TlsExchange(server.port(), pki.cert.get(), Request("HEAD", "/api/v1/stream", kBob));
  EXPECT_EQ(stream_head.rfind("HTTP/1.1 200", 0), 0u) << stream_head;
}

// --- the status page -----------------------------------------------------------

TEST_F(HttpApiTest, StatusPageHasAStrictContentSecurityPolicy) {
  const WebAsset* index = FindWebAsset("/");
  ASSERT_NE(index, nullptr);
  const Reply reply = Fetch(port(), "GET", "/");
  EXPECT_EQ(reply.status, 200);
  EXPECT_EQ(reply.body, index->bytes);
  EXPECT_EQ(reply.Header("Content-Type"), index->content_type);
  EXPECT_EQ(reply.Header("Content-Security-Policy"),
            "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
            "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'");
  EXPECT_EQ(reply.Header("X-Content-Type-Options"), "nosniff");
  EXPECT_EQ(reply.Header("Referrer-Policy"), "no-referrer");
  for (const char* asset : {"/assets/status.js", "/assets/status.css"}) {
    const WebAsset* found = FindWebAsset(asset);
    if (found == nullptr) continue;  // the page's files are another part's to name
    const Reply a = Fetch(port(), "GET", asset);
    EXPECT_EQ(a.status, 200) << asset;
    EXPECT_EQ(a.body, found->bytes);
    EXPECT_EQ(a.Count("Content-Security-Policy"), 1u);
  }
  EXPECT_EQ(Fetch(port(), "GET", "/assets/nope.js").status, 404);
  EXPECT_EQ(Fetch(port(), "GET", "/assets/").status, 404);
}

TEST(HttpApiPageTest, AConfiguredPolicyWinsOnce) {
  HttpOptions options = ApiServer::Options();
  options.web.headers = {{"Content-Security-Policy", "default-src 'self'"},
                         {"X-Content-Type-Options", "nosniff"}};
  ApiServer server(options);
  const Reply reply = Fetch(server.port(), "GET", "/");
  EXPECT_EQ(reply.Count("Content-Security-Policy"), 1u);
  EXPECT_EQ(reply.Header("Content-Security-Policy"), "default-src 'self'");
  EXPECT_EQ(reply.Count("X-Content-Type-Options"), 1u);
}

TEST(HttpApiPageTest, MetricsOnSlashWin) {
  HttpOptions options = ApiServer::Options();
  options.telemetry_path = "/";
  ApiServer server(options);
  EXPECT_EQ(Fetch(server.port(), "GET", "/").body, "homelab_node_up{node=\"nas\"} 1\n");
}

// --- pieces ---------------------------------------------------------------------

TEST(HttpApiPiecesTest, IfNoneMatchFollowsRfc9110) {
  const std::string etag = "\"abc\"";
  EXPECT_TRUE(detail::IfNoneMatchMatches("\"abc\"", etag));
  EXPECT_TRUE(detail::IfNoneMatchMatches("W/\"abc\"", etag));
  EXPECT_TRUE(detail::IfNoneMatchMatches(" * ", etag));
  EXPECT_TRUE(detail::IfNoneMatchMatches("\"x\", \"y\",W/\"abc\"", etag));
  EXPECT_TRUE(detail::IfNoneMatchMatches("\"a,b\", \"abc\"", etag));  // commas inside tags
  EXPECT_FALSE(detail::IfNoneMatchMatches("", etag));
  EXPECT_FALSE(detail::IfNoneMatchMatches("abc", etag));
  EXPECT_FALSE(detail::IfNoneMatchMatches("\"ab\"", etag));
  EXPECT_FALSE(detail::IfNoneMatchMatches("w/\"abc\"", etag));  // W is case-sensitive
  EXPECT_FALSE(detail::IfNoneMatchMatches("\"abc", etag));
  EXPECT_FALSE(detail::IfNoneMatchMatches("*, \"abc\"", etag));  // "*" only alone
}

TEST(HttpApiPiecesTest, QueryStringsDecodeLikeForms) {
  std::string error;
  using Pairs = std::vector<std::pair<std::string, std::string>>;
  EXPECT_EQ(detail::ParseQueryString("a=1&b=x+y&c=%41%2b%26&&d&e=", &error),
            (Pairs{{"a", "1"}, {"b", "x y"}, {"c", "A+&"}, {"d", ""}, {"e", ""}}));
  EXPECT_EQ(detail::ParseQueryString("", &error), Pairs{});
  EXPECT_EQ(detail::ParseQueryString("a=b=c", &error), (Pairs{{"a", "b=c"}}));
  for (const char* bad : {"a=%", "a=%4", "a=%zz", "%g1=2"}) {
    EXPECT_EQ(detail::ParseQueryString(bad, &error), std::nullopt) << bad;
    EXPECT_NE(error.find(bad), std::string::npos) << error;
  }
}

}  // namespace
}  // namespace hlo
