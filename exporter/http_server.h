// The embedded HTTP server of `run` (CONTRACT §2), on civetweb's C++ API.
// prometheus-cpp's Exposer cannot serve paths besides the metrics, so we run
// our own CivetServer. civetweb stays out of this header.
//
// Routes (GET and HEAD unless said; any other method on a route is 405 with
// `Allow`; every other path is 404). docs/api.md has the details.
//   <telemetry_path>  the exposition text, gzip-compressed when the request's
//                     Accept-Encoding accepts gzip
//   /healthz          200 "ok\n" while the process serves at all
//   /readyz           200 "ready\n" or 503 "not ready: ...\n"
//   /, /assets/...    the embedded status page (FindWebAsset, web_assets.h),
//                     with a strict Content-Security-Policy; a plain landing
//                     page when no page is embedded. When telemetry_path is
//                     "/", the metrics win on "/".
//   /api/v1/world/{deployments,incidents,nodes,runtime-summary,services},
//   /api/v1/observer  one JsonDocument of the ApiView: ETag, If-None-Match →
//                     304, gzip (HttpHandlers::api)
//   /api/v1/incidents, /api/v1/deployments
//                     filtered, paginated lists (world_query.h)
//   /api/v1/stream    Server-Sent Events from HttpHandlers::changes
//   POST /api/v1/events   push ingestion (HttpHandlers::ingest)
// Under /api/, errors (400, 403, 404, 405, 408, 411, 413, 415, 503) have a
// JSON body {"error": "..."} (400s add "parameter"). Every response carries
// Content-Length, except a stream's; HEAD sends the headers GET would.
//
// With HttpOptions::web (run --web.config.file): TLS on the port, and/or
// basic authentication on every path (a 401 with WWW-Authenticate before
// any routing, so unauthenticated clients learn nothing, not even which
// paths exist), and extra headers on every response. See web_config.h.
//
// Threads: civetweb serves each connection on one worker thread for as long
// as it is open. A stream holds its thread for its whole life, so the pool
// has num_threads + max_streams threads (max_streams only when there is a
// change feed) and at most max_streams streams run at once (another gets
// 503 with Retry-After): streams can never take the threads that
// /metrics and the rest need.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "exporter/web_config.h"
#include "exporter/world_api.h"

class CivetServer;

namespace hlo {

class TlsAcceptor;

struct HttpOptions {
  // [host]:port. An empty host means all IPv4 interfaces; a host may be an
  // IPv4 address, a bracketed IPv6 address ("[::1]:9847", only if civetweb
  // was built with IPv6: Debian 12's is not) or a name resolved once at
  // Start. Port 0 picks a free port; see HttpServer::port().
  std::string listen_address = ":9847";
  // Where the metrics are served; must start with '/' and must not be
  // /healthz or /readyz. "/" serves the metrics instead of the landing page.
  std::string telemetry_path = "/metrics";
  // Worker threads, hence the most connections served at once. civetweb
  // gives each connection a thread of its own from the TLS handshake until
  // it closes, so every client that is slow to handshake or to send its
  // request holds one for up to tls_handshake_timeout_ms or
  // request_timeout_ms. 128 leave scrapes a thread even while a hundred
  // such clients are connected (docs/security.md); idle threads touch
  // little memory beyond their stacks' first pages.
  int num_threads = 128;
  // With TLS: how long a client may take over its handshake, from the
  // moment a thread takes the connection, before the connection is cut.
  // A scraper on a LAN needs milliseconds; civetweb alone would wait up to
  // request_timeout_ms at every step of the handshake.
  int tls_handshake_timeout_ms = 5000;
  // How long civetweb waits for a request's data before giving up. It
  // bounds the whole request head, however slowly it trickles in, so a
  // client that sends nothing or a byte now and then (slowloris) holds its
  // worker thread for at most about this long; with TLS it also bounds the
  // handshake.
  int request_timeout_ms = 10000;
  // The most bytes of request line and headers; a larger request gets 400
  // and its connection is closed. exporter-toolkit (Go) allows 1 MiB; no
  // scraper sends more than a few hundred bytes.
  int max_request_size = 16384;
  // How long an idle keep-alive connection may keep its worker thread
  // waiting for the next request. Short: Prometheus scrapes every 15 s or
  // so and would not reuse the connection anyway, and every idle
  // connection takes a thread from other clients.
  int keep_alive_timeout_ms = 2000;
  // SO_LINGER on close: how long closing a connection may wait for unsent
  // response bytes before the connection is reset (civetweb rounds up to
  // whole seconds).
  int linger_timeout_ms = 1000;
  // POST /api/v1/events: the largest body accepted. A Content-Length above
  // it is refused with 413 before any of the body is read (and the
  // connection closed); a chunked body is read up to it, then refused.
  // The body is read within request_timeout_ms (408 otherwise; a client
  // that goes silent may take up to twice that, civetweb waiting that long
  // for each read), so a client trickling a body holds a thread no longer
  // than one trickling its headers.
  size_t ingest_max_bytes = 8 << 20;
  // /api/v1/stream: the most streams at once; each holds a worker thread of
  // its own (see the file comment). 0 refuses every stream with 503.
  int max_streams = 8;
  // /api/v1/stream: a ": ping" comment this often, so proxies and browsers
  // keep an idle stream open and a vanished client is noticed.
  int stream_heartbeat_ms = 15000;
  // TLS, basic authentication and extra headers (run --web.config.file).
  // The default serves plain HTTP to anyone, as without the flag. With
  // TLS, web.tls's PEM text must be filled in (LoadWebConfig does).
  WebConfig web;
};

// A metrics response body built once and shared, immutable, by every request
// that serves it (see HttpHandlers::metrics_body). A request keeps its body
// alive until the last byte is sent, so the text is never copied per
// request. Both functions are called from several threads at once.
class MetricsBody {
 public:
  virtual ~MetricsBody() = default;
  // The exposition text (Prometheus text format 0.0.4); the reference stays
  // valid as long as the body.
  virtual const std::string& Text() const = 0;
  // Text() as a gzip member (RFC 1952), valid as long as the body; null when
  // it cannot be had (identity is served then).
  virtual const std::string* Gzip() const = 0;
};

// Called on civetweb's worker threads, possibly several at once: all must be
// thread-safe. `ready` and one of `metrics_body` and `metrics` must be set.
// An exception thrown by any becomes a 500 response; it never reaches
// civetweb.
struct HttpHandlers {
  // The exposition as a shared body; used when set. Never null.
  std::function<std::shared_ptr<const MetricsBody>()> metrics_body;
  // Otherwise: the exposition text, made per request (and gzip-compressed
  // per request when asked).
  std::function<std::string()> metrics;
  // /readyz: 200 when true, 503 otherwise.
  std::function<bool()> ready;
  // /api/v1/world/*, /api/v1/observer, /api/v1/incidents and
  // /api/v1/deployments serve the view this returns (the latest publish).
  // Null: those paths are 404. A null view (nothing published yet) or a
  // null document in it is a 503.
  std::function<std::shared_ptr<const ApiView>()> api;
  // /api/v1/stream follows this feed; null: the path is 404. Not owned: it
  // must outlive the server. The server never calls ChangeFeed::Stop; it
  // ends its streams itself when destroyed.
  const ChangeFeed* changes = nullptr;
  // POST /api/v1/events hands the body here, with its format and the
  // basic-auth user ("" without authentication), and sends the reply's
  // status and JSON body as they are. Null: ingestion is off and the path
  // is 404 like any unknown one. Only called for users allowed to ingest
  // (WebConfig::ingest_users) and bodies within ingest_max_bytes.
  std::function<IngestReply(std::string_view body, IngestFormat format, std::string_view user)>
      ingest;
};

namespace detail {
class Router;
}  // namespace detail

class HttpServer {
 public:
  // Starts listening and serving before it returns. On failure returns
  // nullptr and sets *error (when error is not null) to one line naming the
  // address, e.g. "cannot listen on 127.0.0.1:9847: address already in use".
  static std::unique_ptr<HttpServer> Start(const HttpOptions& options, HttpHandlers handlers,
                                           std::string* error);

  // Ends the streams (each notices within about 100 ms), stops accepting,
  // waits for requests in flight, joins civetweb's threads; the handlers are
  // not called after it returns.
  ~HttpServer();

  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // The bound port: the one asked for, or the one picked for port 0.
  int port() const { return port_; }

  // Puts a new web config in use (SIGHUP): basic-auth users, ingest users
  // and headers for every request routed from now on; with TLS, the new
  // certificate, key, versions and client-certificate policy for every
  // handshake from now on (connections already open keep theirs). All or
  // nothing: false and *error (one line) when the certificate and key are
  // unusable, or when the config would turn TLS on or off (that needs a
  // restart, the port being opened as TLS or not); nothing changes then.
  // Thread-safe with respect to the requests being served; not to be
  // called from two threads at once.
  bool Reconfigure(const WebConfig& web, std::string* error);

  // TLS handshakes cut by tls_handshake_timeout_ms so far (0 without TLS).
  uint64_t handshakes_cut() const;

 private:
  HttpServer(std::unique_ptr<detail::Router> router, std::unique_ptr<TlsAcceptor> tls,
             std::unique_ptr<CivetServer> civet, std::string host, int port);

  // Declared before civet_: civet_ is destroyed (and its threads joined)
  // first, so no request can reach a destroyed router, and no handshake a
  // destroyed acceptor.
  std::unique_ptr<detail::Router> router_;
  std::unique_ptr<TlsAcceptor> tls_;  // null without TLS
  std::unique_ptr<CivetServer> civet_;
  std::string host_;  // numeric, for connecting to ourselves; see ~HttpServer
  int port_ = 0;
};

// Pieces of the server that are worth testing on their own.
namespace detail {

// Translates a listen address into civetweb's `listening_ports` syntax
// (":9847" → "9847", "localhost:0" → "127.0.0.1:0"); nullopt and *error
// (the reason alone, without the address) when it is malformed, its name
// does not resolve, or it is IPv6 and civetweb lacks IPv6.
std::optional<std::string> CivetListeningPorts(std::string_view listen_address,
                                               std::string* error);

// Whether an Accept-Encoding header value (RFC 9110 §12.5.3) accepts gzip:
// "gzip" or "x-gzip", else "*", with a q-value above 0. Case-insensitive;
// a malformed q-value counts as 0, since identity is always acceptable.
bool AcceptsGzip(std::string_view accept_encoding);

// `data` as a gzip member (RFC 1952); nullopt if zlib fails.
std::optional<std::string> Gzip(std::string_view data);

// Whether an If-None-Match header value (RFC 9110 §13.1.2: "*" or a list of
// entity tags, strong or W/) matches `etag` by weak comparison. A malformed
// list matches nothing from the fault on.
bool IfNoneMatchMatches(std::string_view if_none_match, std::string_view etag);

// A query string's name=value pairs in order, %-escapes and '+' decoded
// (application/x-www-form-urlencoded); empty pieces ("a=1&&b=2") skipped;
// a piece without '=' has an empty value. nullopt on a malformed %-escape,
// with *error (quoting the piece) and *name (the piece's raw name).
std::optional<std::vector<std::pair<std::string, std::string>>> ParseQueryString(
    std::string_view query, std::string* error, std::string* name = nullptr);

// The ingest format a Content-Type value names, parameters allowed
// ("application/x-ndjson; charset=utf-8"); nullopt for any other type.
std::optional<IngestFormat> IngestFormatOf(std::string_view content_type);

}  // namespace detail
}  // namespace hlo
