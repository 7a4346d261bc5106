// The embedded HTTP server of `run` (CONTRACT §2), on civetweb's C++ API.
// prometheus-cpp's Exposer cannot serve paths besides the metrics, so we run
// our own CivetServer. civetweb stays out of this header.
//
// Routes (GET and HEAD; any other method on these paths is 405 with
// `Allow: GET, HEAD`; every other path is 404):
//   <telemetry_path>  the exposition text, gzip-compressed when the request's
//                     Accept-Encoding accepts gzip
//   /healthz          200 "ok\n" while the process serves at all
//   /readyz           200 "ready\n" or 503 "not ready: ...\n"
//   /                 an HTML landing page linking the above
// Every response carries Content-Length; HEAD sends the headers GET would.
//
// With HttpOptions::web (run --web.config.file): TLS on the port, and/or
// basic authentication on every path (a 401 with WWW-Authenticate before
// any routing, so unauthenticated clients learn nothing, not even which
// paths exist), and extra headers on every response. See web_config.h.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "exporter/web_config.h"

class CivetServer;

namespace hlo {

struct HttpOptions {
  // [host]:port. An empty host means all IPv4 interfaces; a host may be an
  // IPv4 address, a bracketed IPv6 address ("[::1]:9847", only if civetweb
  // was built with IPv6: Debian 12's is not) or a name resolved once at
  // Start. Port 0 picks a free port; see HttpServer::port().
  std::string listen_address = ":9847";
  // Where the metrics are served; must start with '/' and must not be
  // /healthz or /readyz. "/" serves the metrics instead of the landing page.
  std::string telemetry_path = "/metrics";
  // Worker threads, hence the most requests served at once.
  int num_threads = 4;
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

  // Stops accepting, waits for requests in flight, joins civetweb's threads;
  // the handlers are not called after it returns.
  ~HttpServer();

  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // The bound port: the one asked for, or the one picked for port 0.
  int port() const { return port_; }

 private:
  HttpServer(std::unique_ptr<detail::Router> router, std::unique_ptr<CivetServer> civet,
             std::string host, int port);

  // Declared before civet_: civet_ is destroyed (and its threads joined)
  // first, so no request can reach a destroyed router.
  std::unique_ptr<detail::Router> router_;
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

}  // namespace detail
}  // namespace hlo
