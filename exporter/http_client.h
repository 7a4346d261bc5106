// The HTTP client of `homelab-observer send` (docs/operations.md), behind a
// small interface so that the sender's logic (batching, ids, backoff, the
// spool) is tested with a fake. The real one is libcurl's easy interface:
// TLS verified against the system's or a given CA bundle, basic auth, HTTP
// proxies from the environment, connect and overall timeouts. See
// docs/architecture.md ("Dependencies") for why libcurl rather than
// civetweb's client.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>

namespace hlo {

struct HttpClientOptions {
  // Basic auth when user is not empty.
  std::string user;
  std::string password;
  // A PEM bundle to verify the server's certificate with; the system's
  // bundle when empty. Verification is never turned off.
  std::string ca_file;
  // Connecting (TCP and TLS handshake) must finish within this.
  std::chrono::milliseconds connect_timeout{5000};
  // The whole request, connect to the last byte of the answer.
  std::chrono::milliseconds timeout{30000};
};

struct HttpResult {
  enum class Kind {
    kResponse,      // an HTTP answer: status and body are set
    kConnectError,  // refused, unreachable, DNS: nothing reached the server
    kTimeout,       // connect or overall timeout: the request may have been applied
    kSendError,     // the connection broke mid-request or mid-answer: may have been applied
    kPermanent,     // no retry can help: bad URL, TLS verification failed, bad CA file
  };
  Kind kind = Kind::kResponse;
  int status = 0;
  std::string body;
  // The Retry-After header as a delay (delta-seconds or an HTTP date), when
  // the answer had one that parsed.
  std::optional<std::chrono::milliseconds> retry_after;
  // What went wrong, for messages; empty for a response.
  std::string error;
};

// Thread-compatible: one request at a time per client.
class HttpClient {
 public:
  virtual ~HttpClient() = default;
  virtual HttpResult Post(const std::string& url, const std::string& content_type,
                          const std::string& body) = 0;
  virtual HttpResult Get(const std::string& url) = 0;
};

// The libcurl client. Keeps one connection alive across requests.
std::unique_ptr<HttpClient> MakeCurlHttpClient(const HttpClientOptions& options);

// A Retry-After value (RFC 9110 §10.2.3: delta-seconds or an HTTP-date) as a
// delay from `now`; nullopt when it does not parse. A date in the past is 0.
std::optional<std::chrono::milliseconds> ParseRetryAfter(
    const std::string& value, std::chrono::system_clock::time_point now);

}  // namespace hlo
