// Internal to the HTTP server (http_server.cc): what each request gets,
// decided without civetweb, so that routing, the API's answers and the
// stream's text are plain functions of the request. The parts that need the
// connection (a stream's writes, an ingest body's reads) stay in
// http_server.cc; the Router tells it when to take over.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "exporter/http_server.h"

namespace hlo {

class BasicAuth;

namespace detail {

// The parts of a request the Router looks at; header values are "" when
// absent (repeated headers joined with ',').
struct Request {
  std::string_view method;
  std::string_view path;   // decoded, without the query
  std::string_view query;  // raw, without '?'
  std::string_view accept_encoding;
  std::string_view authorization;
  std::string_view if_none_match;
  std::string_view content_type;
};

struct Response {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
  // When set, the body instead of `body`: shared with other requests.
  std::shared_ptr<const std::string> shared_body;
  // Else, when set: bytes that live as long as the program (web assets).
  std::optional<std::string_view> static_body;
  std::vector<std::pair<std::string, std::string>> headers;
  // The connection's part still to do once these headers are decided.
  enum class Then {
    kNothing,  // send this response
    kStream,   // send these headers (no Content-Length), then the stream
    kIngest,   // read the body, then send Router::Ingest's answer
  } then = Then::kNothing;
  IngestFormat ingest_format = IngestFormat::kJson;  // kIngest: the body's
  std::string user;                                  // kIngest: who posts

  std::string_view Body() const {
    if (shared_body) return *shared_body;
    return static_body ? *static_body : std::string_view(body);
  }
  // 304 and streams carry no Content-Length.
  bool HasContentLength() const { return status != 304 && then != Then::kStream; }
};

// Ends a connection at once from any thread, whatever a worker is doing on
// it: reset, unsent bytes dropped; the descriptor stays open (on a fresh,
// unconnected socket) for its owner to close.
void CutConnection(int fd);

Response Text(int status, std::string body);
// {"error": message} (and "parameter" when given), application/json.
Response JsonError(int status, std::string_view message, std::string_view parameter = {});

// Server-Sent Events text (https://html.spec.whatwg.org/#server-sent-events).
std::string SseEvent(std::string_view event, std::optional<uint64_t> id, std::string_view data);
// "retry: 2000" and the hello event; its id (when with_id) moves the
// client's Last-Event-ID to `latest`, so it is left out when the client
// resumes: were the connection to break before what follows the hello,
// the client must not believe it has seen it.
std::string SseHello(uint64_t latest, bool with_id);

// Decides each request's response; owns the handlers. Shared by civetweb's
// worker threads: all that changes is the stream count and the stop flag.
class Router {
 public:
  // `options.web`: its basic_auth_users and headers apply to every response.
  Router(const HttpOptions& options, HttpHandlers handlers);
  ~Router();

  Response Route(const Request& request) const;

  // The configured extra headers, added to a response made outside Route.
  Response WithCommonHeaders(Response response) const;

  // From now on, requests are judged by `web`'s basic_auth_users,
  // ingest_users and headers (its TLS part is not the Router's). Requests
  // already routed keep the old ones. Thread-safe.
  void SetWebConfig(const WebConfig& web);

  // POST /api/v1/events once the body is read.
  Response Ingest(std::string_view body, IngestFormat format, std::string_view user) const;

  // A place among the max_streams; released when destroyed.
  class StreamSlot {
   public:
    explicit StreamSlot(const Router* router) : router_(router) {}
    ~StreamSlot() { --router_->streams_; }
    StreamSlot(const StreamSlot&) = delete;
    StreamSlot& operator=(const StreamSlot&) = delete;

   private:
    const Router* router_;
  };
  // Null when max_streams streams are running already.
  std::unique_ptr<StreamSlot> TryStartStream() const;

  // While it lives, a stream's socket is known to Stop(), which cuts it
  // (CutConnection): a write blocked on a client that stopped reading fails
  // at once instead of at civetweb's next look at its own stop flag (up to
  // 2 s). When it goes, the stream has ended and the connection is cut
  // too: a stream only ends by dropping its client (or at shutdown), and
  // civetweb's close would otherwise wait linger_timeout_ms for bytes a
  // stalled client will never take, holding the worker thread.
  // Without a socket (nullopt) it does nothing.
  class StreamSocket {
   public:
    StreamSocket(const Router* router, std::optional<int> fd);
    ~StreamSocket();
    StreamSocket(const StreamSocket&) = delete;
    StreamSocket& operator=(const StreamSocket&) = delete;

   private:
    const Router* router_;
    std::optional<int> fd_;
  };

  const ChangeFeed* changes() const { return handlers_.changes; }
  int max_streams() const { return max_streams_; }
  std::chrono::milliseconds heartbeat() const { return heartbeat_; }
  size_t ingest_max_bytes() const { return ingest_max_bytes_; }
  std::chrono::milliseconds request_timeout() const { return request_timeout_; }

  // Set by ~HttpServer before it stops civetweb: streams end at their next
  // look (they wait for changes in short slices).
  void Stop();
  bool stopping() const { return stopping_; }

 private:
  Response Metrics(std::string_view accept_encoding) const;
  Response Ready() const;
  Response LandingPage() const;
  Response ApiGet(const Request& request) const;

  // The parts of the web config a request is judged by, replaced whole by
  // SetWebConfig; each request keeps the one it started with.
  struct WebPolicy {
    explicit WebPolicy(const WebConfig& web);
    std::unique_ptr<const BasicAuth> auth;  // null: no authentication
    std::vector<std::pair<std::string, std::string>> headers;
    std::set<std::string> ingest_users;  // empty: every user
    bool csp_configured;                 // the web config sets the CSP itself
    bool nosniff_configured;
  };
  std::shared_ptr<const WebPolicy> policy() const;

  Response Dispatch(const Request& request, const WebPolicy& policy) const;
  Response Page(const Request& request, const WebPolicy& policy) const;
  Response Api(const Request& request, const WebPolicy& policy) const;
  Response StartIngest(const Request& request, const WebPolicy& policy) const;
  static Response WithHeaders(Response response, const WebPolicy& policy);

  const std::string telemetry_path_;
  const HttpHandlers handlers_;
  mutable std::mutex policy_mu_;
  std::shared_ptr<const WebPolicy> policy_;  // never null; guarded by policy_mu_
  const int max_streams_;
  const std::chrono::milliseconds heartbeat_;
  const size_t ingest_max_bytes_;
  const std::chrono::milliseconds request_timeout_;
  mutable std::atomic<int> streams_{0};
  std::atomic<bool> stopping_{false};
  mutable std::mutex sockets_mu_;
  mutable std::set<int> stream_sockets_;  // of the running streams
};

}  // namespace detail
}  // namespace hlo
