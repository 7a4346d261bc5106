#include "exporter/http_server.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <zlib.h>

#include <CivetServer.h>

#include "exporter/http_router.h"
#include "exporter/tls_acceptor.h"
#include "exporter/tls_context.h"

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <charconv>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <exception>
#include <limits>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <utility>
#include <vector>

namespace hlo {
namespace detail {
namespace {

// mg_check_feature() bit: civetweb was compiled with USE_IPV6.
constexpr unsigned kCivetFeatureIpv6 = 8;

bool CivetHasIpv6() { return mg_check_feature(kCivetFeatureIpv6) != 0; }

std::string_view Trim(std::string_view s) {
  const auto first = s.find_first_not_of(" \t");
  if (first == std::string_view::npos) return {};
  return s.substr(first, s.find_last_not_of(" \t") - first + 1);
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

// RFC 9110 qvalue: "0" ["." 0*3DIGIT] / "1" ["." 0*3"0"]. Anything else,
// including values above 1, yields nullopt.
std::optional<double> ParseQValue(std::string_view text) {
  if (text.empty() || text.size() > 5 || (text[0] != '0' && text[0] != '1')) return std::nullopt;
  if (text.size() > 1 && text[1] != '.') return std::nullopt;
  double q = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), q);
  if (ec != std::errc() || end != text.data() + text.size() || q > 1) return std::nullopt;
  return q;
}

// The q of one Accept-Encoding element's parameters ("; q=0.5"): 1 when
// absent, 0 when malformed.
double QOf(std::string_view params) {
  while (!params.empty()) {
    const auto semi = params.find(';');
    const std::string_view param = Trim(params.substr(0, semi));
    params = semi == std::string_view::npos ? std::string_view() : params.substr(semi + 1);
    const auto eq = param.find('=');
    if (eq != std::string_view::npos && EqualsIgnoreCase(Trim(param.substr(0, eq)), "q")) {
      return ParseQValue(Trim(param.substr(eq + 1))).value_or(0);
    }
  }
  return 1;
}

std::string NumericHost(const sockaddr* addr) {
  char text[INET6_ADDRSTRLEN] = {};
  if (addr->sa_family == AF_INET) {
    inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(addr)->sin_addr, text, sizeof text);
    return text;
  }
  inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6*>(addr)->sin6_addr, text, sizeof text);
  return "[" + std::string(text) + "]";
}

// civetweb 1.15 takes only numeric hosts (and "localhost"), so names are
// resolved here, once. IPv4 is preferred, as Go's exporters do.
std::optional<std::string> ResolveHost(const std::string& host, std::string* error) {
  addrinfo hints{};
  hints.ai_family = CivetHasIpv6() ? AF_UNSPEC : AF_INET;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  if (const int rc = getaddrinfo(host.c_str(), nullptr, &hints, &found); rc != 0) {
    *error = "cannot resolve " + host + ": " + gai_strerror(rc);
    return std::nullopt;
  }
  const addrinfo* pick = found;
  for (const addrinfo* a = found; a != nullptr; a = a->ai_next) {
    if (a->ai_family == AF_INET) {
      pick = a;
      break;
    }
  }
  std::string numeric = NumericHost(pick->ai_addr);
  freeaddrinfo(found);
  return numeric;
}

std::optional<std::string> CivetHost(std::string_view host, std::string* error) {
  const std::string text(host);
  in_addr v4{};
  in6_addr v6{};
  if (host.empty()) return CivetHasIpv6() ? "+" : "";  // "+": IPv4 and IPv6
  if (inet_pton(AF_INET, text.c_str(), &v4) == 1) return text + ":";
  if (host.front() == '[' && host.back() == ']' && host.size() > 2) {
    const std::string inner(host.substr(1, host.size() - 2));
    if (inet_pton(AF_INET6, inner.c_str(), &v6) != 1) {
      *error = "invalid IPv6 address " + text;
      return std::nullopt;
    }
    if (!CivetHasIpv6()) {
      *error = "IPv6 is not supported: civetweb was built without IPv6";
      return std::nullopt;
    }
    return text + ":";
  }
  if (host.find_first_of(":[]") != std::string_view::npos) {
    *error = "invalid host " + text + " (IPv6 addresses go in brackets: [::1]:9847)";
    return std::nullopt;
  }
  auto resolved = ResolveHost(text, error);
  if (!resolved) return std::nullopt;
  return *resolved + ":";
}

}  // namespace

std::optional<std::string> CivetListeningPorts(std::string_view listen_address,
                                               std::string* error) {
  const auto colon = listen_address.rfind(':');
  if (colon == std::string_view::npos) {
    *error = "expected [host]:port";
    return std::nullopt;
  }
  const std::string_view port_text = listen_address.substr(colon + 1);
  int port = -1;
  const auto [end, ec] =
      std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (port_text.empty() || ec != std::errc() || end != port_text.data() + port_text.size() ||
      port < 0 || port > 65535 || port_text.front() == '+' || port_text.front() == '-') {
    *error = "invalid port \"" + std::string(port_text) + "\"";
    return std::nullopt;
  }
  auto host = CivetHost(listen_address.substr(0, colon), error);
  if (!host) return std::nullopt;
  return *host + std::to_string(port);
}

bool AcceptsGzip(std::string_view accept_encoding) {
  std::optional<double> gzip_q;
  std::optional<double> any_q;
  while (!accept_encoding.empty()) {
    const auto comma = accept_encoding.find(',');
    const std::string_view element = accept_encoding.substr(0, comma);
    accept_encoding =
        comma == std::string_view::npos ? std::string_view() : accept_encoding.substr(comma + 1);
    const auto semi = element.find(';');
    const std::string_view coding = Trim(element.substr(0, semi));
    const std::string_view params =
        semi == std::string_view::npos ? std::string_view() : element.substr(semi + 1);
    if (EqualsIgnoreCase(coding, "gzip") || EqualsIgnoreCase(coding, "x-gzip")) {
      if (!gzip_q) gzip_q = QOf(params);
    } else if (coding == "*") {
      if (!any_q) any_q = QOf(params);
    }
  }
  if (gzip_q) return *gzip_q > 0;
  return any_q.value_or(0) > 0;
}

std::optional<std::string> Gzip(std::string_view data) {
  if (data.size() > std::numeric_limits<uInt>::max()) return std::nullopt;
  z_stream stream{};
  // windowBits 15 + 16: a gzip header and trailer instead of zlib's.
  if (deflateInit2(&stream, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) !=
      Z_OK) {
    return std::nullopt;
  }
  // deflateBound leaves no room for the gzip wrapper; 18 bytes covers it.
  std::string out(deflateBound(&stream, static_cast<uLong>(data.size())) + 18, '\0');
  stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  stream.avail_in = static_cast<uInt>(data.size());
  stream.next_out = reinterpret_cast<Bytef*>(out.data());
  stream.avail_out = static_cast<uInt>(out.size());
  const int rc = deflate(&stream, Z_FINISH);
  out.resize(stream.total_out);
  deflateEnd(&stream);
  if (rc != Z_STREAM_END) return std::nullopt;
  return out;
}

}  // namespace detail

namespace {

using Clock = std::chrono::steady_clock;
using detail::Response;

// How long a stream waits for changes before it looks at the stop flag and
// the heartbeat again: the server's destructor waits at most about this.
constexpr std::chrono::milliseconds kStreamSlice(100);

// All values of a request header, joined with ',' as RFC 9110 allows.
std::string JoinedHeader(const mg_request_info& request, std::string_view name) {
  std::string joined;
  for (int i = 0; i < request.num_headers; ++i) {
    const mg_header& header = request.http_headers[i];
    if (header.name == nullptr || header.value == nullptr) continue;
    if (!detail::EqualsIgnoreCase(header.name, name)) continue;
    if (!joined.empty()) joined += ',';
    joined += header.value;
  }
  return joined;
}

void SendHead(mg_connection* conn, const Response& response) {
  mg_response_header_start(conn, response.status);
  mg_response_header_add(conn, "Content-Type", response.content_type.c_str(), -1);
  if (response.HasContentLength()) {
    mg_response_header_add(conn, "Content-Length", std::to_string(response.Body().size()).c_str(),
                           -1);
  }
  for (const auto& [name, value] : response.headers) {
    mg_response_header_add(conn, name.c_str(), value.c_str(), -1);
  }
  mg_response_header_send(conn);
}

void Send(mg_connection* conn, const Response& response, bool with_body) {
  SendHead(conn, response);
  const std::string_view body = response.Body();
  if (with_body && !body.empty() && response.status != 304) {
    mg_write(conn, body.data(), body.size());
  }
}

bool WriteAll(mg_connection* conn, std::string_view text) {
  return mg_write(conn, text.data(), text.size()) == static_cast<int>(text.size());
}

// Send, for a connection that already had an interim "100 Continue"
// written: civetweb 1.15 then refuses its header functions (the response
// would go out headerless), so the head is written by hand, and the
// connection closed after it, since civetweb no longer knows what was sent.
void SendAfterContinue(mg_connection* conn, const Response& response, bool with_body) {
  mg_disable_connection_keep_alive(conn);
  const std::string_view body = response.Body();
  std::string head = "HTTP/1.1 " + std::to_string(response.status) + " " +
                     mg_get_response_code_text(conn, response.status) + "\r\n";
  head += "Content-Type: " + response.content_type + "\r\n";
  head += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  for (const auto& [name, value] : response.headers) head += name + ": " + value + "\r\n";
  head += "Connection: close\r\n\r\n";
  if (with_body) head += body;
  WriteAll(conn, head);
}

// As civetweb writes remote_addr: numeric, IPv6 without brackets.
std::string PeerAddress(const sockaddr_storage& addr) {
  char text[INET6_ADDRSTRLEN] = {};
  if (addr.ss_family == AF_INET) {
    inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in&>(addr).sin_addr, text, sizeof text);
  } else if (addr.ss_family == AF_INET6) {
    inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6&>(addr).sin6_addr, text, sizeof text);
  }
  return text;
}

bool SamePort(const sockaddr_storage& addr, int port) {
  if (addr.ss_family == AF_INET) {
    return ntohs(reinterpret_cast<const sockaddr_in&>(addr).sin_port) == port;
  }
  if (addr.ss_family == AF_INET6) {
    return ntohs(reinterpret_cast<const sockaddr_in6&>(addr).sin6_port) == port;
  }
  return false;
}

// The socket of the request's connection, found among the process's
// descriptors by its two ends. civetweb 1.15 does not hand it out, and the
// server needs it to cut a connection short from another thread: a read
// or write that civetweb would otherwise let wait for request_timeout_ms
// again and again (see BodyDeadline, RunStream).
std::optional<int> FindSocket(const mg_request_info& request) {
  DIR* dir = opendir("/proc/self/fd");
  if (dir == nullptr) return std::nullopt;
  std::optional<int> found;
  while (const dirent* entry = readdir(dir)) {
    int fd = -1;
    const std::string_view name = entry->d_name;
    if (std::from_chars(name.data(), name.data() + name.size(), fd).ec != std::errc()) continue;
    struct stat st {};
    if (fd == dirfd(dir) || fstat(fd, &st) != 0 || !S_ISSOCK(st.st_mode)) continue;
    sockaddr_storage local{}, peer{};
    socklen_t local_size = sizeof local, peer_size = sizeof peer;
    if (getsockname(fd, reinterpret_cast<sockaddr*>(&local), &local_size) != 0 ||
        getpeername(fd, reinterpret_cast<sockaddr*>(&peer), &peer_size) != 0) {
      continue;
    }
    if (SamePort(local, request.server_port) && SamePort(peer, request.remote_port) &&
        PeerAddress(peer) == request.remote_addr) {
      found = fd;
      break;
    }
  }
  closedir(dir);
  return found;
}

// Cuts the connection's reading side once `timeout` has passed, unless
// destroyed first: a body that has not arrived by then cannot hold the
// worker thread any longer, however slowly it trickles (civetweb itself
// bounds each read, not the body, and reads chunk sizes a byte at a time).
class BodyDeadline {
 public:
  BodyDeadline(std::optional<int> fd, std::chrono::milliseconds timeout)
      : deadline_(Clock::now() + timeout) {
    if (fd) watcher_ = std::thread([this, fd = *fd] { Watch(fd); });
  }
  ~BodyDeadline() {
    {
      std::lock_guard lock(mu_);
      done_ = true;
    }
    cv_.notify_all();
    if (watcher_.joinable()) watcher_.join();
  }
  BodyDeadline(const BodyDeadline&) = delete;
  BodyDeadline& operator=(const BodyDeadline&) = delete;

  bool Passed() const { return Clock::now() >= deadline_; }

 private:
  void Watch(int fd) {
    std::unique_lock lock(mu_);
    if (!cv_.wait_until(lock, deadline_, [this] { return done_; })) shutdown(fd, SHUT_RD);
  }

  const Clock::time_point deadline_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool done_ = false;
  std::thread watcher_;
};

enum class BodyStatus { kComplete, kTooLarge, kTimedOut, kBroken };

// Reads the request's body (civetweb undoes chunked coding) into *body.
BodyStatus ReadBody(mg_connection* conn, const mg_request_info& request, size_t max_bytes,
                    std::chrono::milliseconds timeout, std::string* body) {
  const BodyDeadline deadline(FindSocket(request), timeout);
  const long long length = request.content_length;  // -1: chunked
  char buffer[16384];
  while (length < 0 || body->size() < static_cast<unsigned long long>(length)) {
    if (deadline.Passed()) return BodyStatus::kTimedOut;
    const int n = mg_read(conn, buffer, sizeof buffer);
    if (n > 0) {
      if (body->size() + static_cast<size_t>(n) > max_bytes) return BodyStatus::kTooLarge;
      body->append(buffer, static_cast<size_t>(n));
      continue;
    }
    // 0 ends a chunked body; anything else short of the length is a read
    // that failed: timed out, cut by the deadline, or the client left.
    if (n == 0 && length < 0) return BodyStatus::kComplete;
    return deadline.Passed() ? BodyStatus::kTimedOut : BodyStatus::kBroken;
  }
  return BodyStatus::kComplete;
}

// POST /api/v1/events once the Router has let it through.
Response ServeIngest(mg_connection* conn, const detail::Router& router, const Response& start,
                     bool* body_read, bool* continued) {
  const mg_request_info& request = *mg_get_request_info(conn);
  const bool chunked = request.content_length < 0 && mg_get_header(conn, "Transfer-Encoding");
  const size_t max = router.ingest_max_bytes();
  if (request.content_length < 0 && !chunked) {
    return detail::JsonError(411, "a Content-Length or a chunked body is required");
  }
  const std::string limit = "the body is larger than " + std::to_string(max) + " bytes";
  if (request.content_length > 0 && static_cast<unsigned long long>(request.content_length) > max) {
    return detail::JsonError(413, limit);
  }
  // civetweb 1.15 answers "Expect: 100-continue" only for its own
  // handlers; without this a client (curl, for bodies over 1 MiB) would
  // wait a second before sending the body.
  const char* expect = mg_get_header(conn, "Expect");
  if (expect != nullptr && detail::EqualsIgnoreCase(expect, "100-continue") &&
      std::string_view(request.http_version ? request.http_version : "") == "1.1") {
    *continued = WriteAll(conn, "HTTP/1.1 100 Continue\r\n\r\n");
  }
  std::string body;
  switch (ReadBody(conn, request, max, router.request_timeout(), &body)) {
    case BodyStatus::kTooLarge:
      return detail::JsonError(413, limit);
    case BodyStatus::kTimedOut:
      return detail::JsonError(408, "the body did not arrive within " +
                                        std::to_string(router.request_timeout().count()) + " ms");
    case BodyStatus::kBroken:
      return detail::JsonError(400, "the body could not be read (connection closed, or bad "
                                    "chunked coding)");
    case BodyStatus::kComplete:
      break;
  }
  *body_read = true;
  return router.Ingest(body, start.ingest_format, start.user);
}

// Where a stream starts: its opening text and the sequence after which it
// follows the feed. Last-Event-ID resumes when what followed it is still
// in the ring; else (too old, not a number, or from before a restart: above
// the latest) the client is told to reset.
std::pair<std::string, uint64_t> StreamStart(const ChangeFeed& feed, std::string_view last_id) {
  const uint64_t latest = feed.latest();
  if (last_id.empty()) return {detail::SseHello(latest, true), latest};
  std::string text = detail::SseHello(latest, false);
  uint64_t resume = 0;
  const auto [end, ec] = std::from_chars(last_id.data(), last_id.data() + last_id.size(), resume);
  const bool parsed = ec == std::errc() && end == last_id.data() + last_id.size();
  if (parsed && resume <= latest) {
    const ChangeFeed::Batch missed = feed.WaitAfter(resume, std::chrono::milliseconds(0));
    if (!missed.lost) {
      uint64_t after = resume;
      for (const auto& [sequence, data] : missed.changes) {
        text += detail::SseEvent("world", sequence, *data);
        after = sequence;
      }
      return {text, after};
    }
  }
  text += detail::SseEvent("reset", latest, "{\"sequence\": " + std::to_string(latest) + "}");
  return {text, latest};
}

// Follows the feed until the client goes, falls behind the ring, or the
// server stops. Writes happen outside the feed's lock (WaitAfter copies),
// so a client that stops reading never holds up Publish; its writes fail
// after civetweb's request_timeout_ms without progress, which ends it.
void RunStream(mg_connection* conn, const detail::Router& router, std::string_view last_id) {
  const ChangeFeed& feed = *router.changes();
  auto [text, after] = StreamStart(feed, last_id);
  if (!WriteAll(conn, text)) return;
  auto next_ping = Clock::now() + router.heartbeat();
  while (!router.stopping()) {
    const auto now = Clock::now();
    const auto wait = std::clamp(std::chrono::duration_cast<std::chrono::milliseconds>(next_ping - now),
                                 std::chrono::milliseconds(0), kStreamSlice);
    const ChangeFeed::Batch batch = feed.WaitAfter(after, wait);
    if (batch.stopped || batch.lost) return;  // lost: it resumes, then gets a reset
    text.clear();
    for (const auto& [sequence, data] : batch.changes) {
      text += detail::SseEvent("world", sequence, *data);
      after = sequence;
    }
    if (Clock::now() >= next_ping) {
      text += ": ping\n\n";
      next_ping = Clock::now() + router.heartbeat();
    }
    if (!text.empty() && !WriteAll(conn, text)) return;
  }
}

// /api/v1/stream once the Router has let it through.
int ServeStream(mg_connection* conn, const detail::Router& router, const Response& head,
                bool with_body) {
  // A stream ends only by closing: nothing could follow it on the connection.
  mg_disable_connection_keep_alive(conn);
  if (!with_body) {
    SendHead(conn, head);
    return head.status;
  }
  const auto slot = router.TryStartStream();
  if (slot == nullptr) {
    Response busy = router.WithCommonHeaders(detail::JsonError(
        503, "too many streams (" + std::to_string(router.max_streams()) + "); retry later"));
    busy.headers.emplace_back("Retry-After", "5");
    Send(conn, busy, true);
    return busy.status;
  }
  const detail::Router::StreamSocket socket(&router, FindSocket(*mg_get_request_info(conn)));
  SendHead(conn, head);
  RunStream(conn, router, JoinedHeader(*mg_get_request_info(conn), "Last-Event-ID"));
  return head.status;
}

// civetweb's begin_request callback: every request that civetweb parsed,
// whatever its method, comes here. CivetHandler would only see the seven
// methods CivetServer dispatches (a PROPFIND would fall through to
// civetweb's own 404) and would prefix-match paths ("/metrics" would also
// take "/metricsfoo"). Returns the status for civetweb's bookkeeping.
int BeginRequest(mg_connection* conn) {
  const mg_request_info* request = mg_get_request_info(conn);
  const auto* civet = static_cast<const CivetServer*>(mg_get_user_data(mg_get_context(conn)));
  const auto* router = static_cast<const detail::Router*>(civet->getUserContext());
  const std::string_view method = request->request_method ? request->request_method : "";
  const bool with_body = method != "HEAD";
  bool body_read = false;
  bool continued = false;  // an interim 100 went out already
  Response response;
  try {
    const std::string accept_encoding = JoinedHeader(*request, "Accept-Encoding");
    const std::string if_none_match = JoinedHeader(*request, "If-None-Match");
    const char* authorization = mg_get_header(conn, "Authorization");
    const char* content_type = mg_get_header(conn, "Content-Type");
    response = router->Route({method, request->local_uri ? request->local_uri : "",
                              request->query_string ? request->query_string : "", accept_encoding,
                              authorization ? authorization : "", if_none_match,
                              content_type ? content_type : ""});
    if (response.then == Response::Then::kStream) {
      return ServeStream(conn, *router, response, with_body);
    }
    if (response.then == Response::Then::kIngest) {
      response = ServeIngest(conn, *router, response, &body_read, &continued);
    }
  } catch (const std::exception& e) {
    response = detail::Text(500, std::string("500 internal error: ") + e.what() + "\n");
  } catch (...) {
    response = detail::Text(500, "500 internal error\n");
  }
  // A body nobody read: to keep the connection, civetweb 1.15 would read
  // and discard it with no overall deadline (only one per read), so a
  // client sending a byte now and then could hold the worker thread for
  // ever. The connection is closed instead.
  const bool has_body =
      request->content_length > 0 || mg_get_header(conn, "Transfer-Encoding") != nullptr;
  if (has_body && !body_read) mg_disable_connection_keep_alive(conn);
  if (continued) {
    SendAfterContinue(conn, response, with_body);
  } else {
    Send(conn, response, with_body);
  }
  return response.status;
}

// civetweb reports bind failures only through log_message (the CivetServer
// constructor just throws "null context ..."), so Start collects the
// messages of its own thread here. Everything else civetweb would print is
// dropped: it writes to stderr, which belongs to the program.
thread_local std::vector<std::string>* t_start_messages = nullptr;

int LogMessage(const mg_connection*, const char* message) {
  if (t_start_messages != nullptr && message != nullptr) t_start_messages->emplace_back(message);
  return 1;
}

// The reason in civetweb's "cannot bind to 127.0.0.1:9847: 98 (Address
// already in use)", as strerror's text in lower case; else its last message.
std::string StartFailureReason(const std::vector<std::string>& messages) {
  for (const std::string& message : messages) {
    if (message.rfind("cannot bind to ", 0) != 0) continue;
    const auto open = message.rfind(" (");
    const auto colon = message.rfind(": ", open);
    int code = 0;
    if (open == std::string::npos || colon == std::string::npos) continue;
    const char* first = message.data() + colon + 2;
    const auto [end, ec] = std::from_chars(first, message.data() + open, code);
    if (ec != std::errc() || end != message.data() + open) continue;
    std::string reason = std::strerror(code);
    if (!reason.empty()) {
      reason[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(reason[0])));
    }
    return reason;
  }
  return messages.empty() ? "civetweb failed to start" : messages.back();
}

// The TLS context Start prepared, for civetweb to take while Start's
// thread constructs the server (mg_start asks on the calling thread).
thread_local SslCtxPtr* t_start_ssl_ctx = nullptr;

// civetweb's external_ssl_ctx callback: at creation (*ssl_ctx null) hands
// over our context whole, so civetweb applies none of its own ssl_*
// settings; at shutdown returns 0, and civetweb frees it.
int ExternalSslCtx(void** ssl_ctx, void*) {
  if (*ssl_ctx != nullptr) return 0;
  if (t_start_ssl_ctx == nullptr || *t_start_ssl_ctx == nullptr) return -1;
  *ssl_ctx = t_start_ssl_ctx->release();
  return 1;
}

// civetweb 1.15 calls OpenSSL through function pointers it fills at run
// time with dlopen("libssl.so") (which finds this program itself, see
// tls_context.cc) and dlopen("libcrypto.so") (the symlink libssl-dev
// installs). With our own SSL_CTX (external_ssl_ctx) it never fills them
// itself and would call through null pointers, so they are loaded here,
// once per process (a function-local static: concurrent Starts wait for
// it, as mg_init_library is not thread-safe); they stay loaded until exit.
bool CivetTlsLoaded() {
  static const bool loaded = (mg_init_library(MG_FEATURES_TLS) & MG_FEATURES_TLS) != 0;
  return loaded;
}

// Where a client reaches a listener given in civetweb's syntax: "9847" and
// "+9847" (all interfaces) → 127.0.0.1, "[::1]:9847" → ::1.
std::string ReachableHost(const std::string& civet_ports) {
  const auto colon = civet_ports.rfind(':');
  if (colon == std::string::npos) return "127.0.0.1";
  const std::string host = civet_ports.substr(0, colon);
  if (host.size() > 2 && host.front() == '[') return host.substr(1, host.size() - 2);
  return host;
}

// Opens and at once closes a connection to host:port, ignoring failures.
void Poke(const std::string& host, int port) {
  addrinfo hints{};
  hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  if (getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &found) != 0) return;
  const int fd = socket(found->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd >= 0) {
    connect(fd, found->ai_addr, found->ai_addrlen);
    close(fd);
  }
  freeaddrinfo(found);
}

std::optional<std::string> CheckOptions(const HttpOptions& options, const HttpHandlers& handlers) {
  const std::string& path = options.telemetry_path;
  if (path.empty() || path.front() != '/') return "telemetry path must start with '/'";
  if (path == "/healthz" || path == "/readyz") return "telemetry path " + path + " is reserved";
  if (options.num_threads < 1) return "num_threads must be at least 1";
  if (options.request_timeout_ms < 1) return "request_timeout_ms must be at least 1";
  if (options.tls_handshake_timeout_ms < 1) return "tls_handshake_timeout_ms must be at least 1";
  if (options.max_request_size < 1024) return "max_request_size must be at least 1024";
  if (options.keep_alive_timeout_ms < 0) return "keep_alive_timeout_ms must not be negative";
  if (options.linger_timeout_ms < 0) return "linger_timeout_ms must not be negative";
  if (options.max_streams < 0) return "max_streams must not be negative";
  if (options.stream_heartbeat_ms < 1) return "stream_heartbeat_ms must be at least 1";
  if (options.ingest_max_bytes < 1) return "ingest_max_bytes must be at least 1";
  if ((!handlers.metrics_body && !handlers.metrics) || !handlers.ready) {
    return "both HTTP handlers (metrics and ready) must be set";
  }
  return std::nullopt;
}

}  // namespace

std::unique_ptr<HttpServer> HttpServer::Start(const HttpOptions& options, HttpHandlers handlers,
                                              std::string* error) {
  std::string scratch;
  if (error == nullptr) error = &scratch;
  const std::string prefix = "cannot listen on " + options.listen_address + ": ";
  if (auto problem = CheckOptions(options, handlers)) {
    *error = prefix + *problem;
    return nullptr;
  }
  std::string reason;
  const auto ports = detail::CivetListeningPorts(options.listen_address, &reason);
  if (!ports) {
    *error = prefix + reason;
    return nullptr;
  }
  SslCtxPtr ssl_ctx;
  std::unique_ptr<TlsAcceptor> tls;
  if (options.web.tls) {
    if (!CivetTlsLoaded()) {
      *error = prefix + "TLS: civetweb cannot load OpenSSL (it opens libcrypto.so at run time: "
                        "on Debian, install libssl-dev)";
      return nullptr;
    }
    ssl_ctx = NewServerTlsContext(*options.web.tls, &reason);
    if (!ssl_ctx) {
      *error = prefix + "TLS: " + reason;
      return nullptr;
    }
    tls = std::make_unique<TlsAcceptor>(std::chrono::milliseconds(options.tls_handshake_timeout_ms));
    ssl_ctx = tls->Adopt(std::move(ssl_ctx));
  }
  // Streams get threads of their own (see the header): they can never take
  // the num_threads that everything else is served by.
  const int threads = options.num_threads + (handlers.changes != nullptr ? options.max_streams : 0);
  auto router = std::make_unique<detail::Router>(options, std::move(handlers));
  // No document_root: civetweb never serves files. An 's' after the port
  // makes it a TLS port.
  const std::vector<std::string> civet_options = {
      "listening_ports", *ports + (ssl_ctx ? "s" : ""),
      "num_threads", std::to_string(threads),
      "request_timeout_ms", std::to_string(options.request_timeout_ms),
      "max_request_size", std::to_string(options.max_request_size),
      "enable_keep_alive", "yes",
      "keep_alive_timeout_ms", std::to_string(options.keep_alive_timeout_ms),
      "linger_timeout_ms", std::to_string(options.linger_timeout_ms),
      // civetweb sends the headers and the body in separate writes; with
      // Nagle's algorithm the body then waits for the client's delayed ACK,
      // about 40 ms on every keep-alive request.
      "tcp_nodelay", "1",
  };
  CivetCallbacks callbacks;
  callbacks.begin_request = BeginRequest;
  callbacks.log_message = LogMessage;
  callbacks.external_ssl_ctx = ExternalSslCtx;
  std::vector<std::string> messages;
  t_start_messages = &messages;
  t_start_ssl_ctx = &ssl_ctx;
  std::unique_ptr<CivetServer> civet;
  try {
    civet = std::make_unique<CivetServer>(civet_options, &callbacks, router.get());
  } catch (const std::exception&) {
    // CivetException says only "null context"; the log has the reason.
  }
  t_start_messages = nullptr;
  t_start_ssl_ctx = nullptr;
  if (civet == nullptr || civet->getContext() == nullptr) {
    *error = prefix + StartFailureReason(messages);
    return nullptr;
  }
  const std::vector<int> bound = civet->getListeningPorts();
  const int port = bound.empty() ? 0 : bound.front();
  return std::unique_ptr<HttpServer>(new HttpServer(std::move(router), std::move(tls),
                                                    std::move(civet), ReachableHost(*ports), port));
}

HttpServer::HttpServer(std::unique_ptr<detail::Router> router, std::unique_ptr<TlsAcceptor> tls,
                       std::unique_ptr<CivetServer> civet, std::string host, int port)
    : router_(std::move(router)),
      tls_(std::move(tls)),
      civet_(std::move(civet)),
      host_(std::move(host)),
      port_(port) {}

bool HttpServer::Reconfigure(const WebConfig& web, std::string* error) {
  std::string scratch;
  if (error == nullptr) error = &scratch;
  if (web.tls.has_value() != (tls_ != nullptr)) {
    *error = std::string("turning TLS ") + (web.tls ? "on" : "off") +
             " needs a restart (the port is opened as TLS or not at start)";
    return false;
  }
  SslCtxPtr ctx;
  if (web.tls) {
    std::string reason;
    ctx = NewServerTlsContext(*web.tls, &reason);
    if (!ctx) {
      *error = "TLS: " + reason;
      return false;
    }
  }
  // Both checked, both swapped: a request may see the new users a moment
  // before a handshake sees the new certificate, never a half of either.
  router_->SetWebConfig(web);
  if (ctx) tls_->Adopt(std::move(ctx));
  return true;
}

uint64_t HttpServer::handshakes_cut() const { return tls_ ? tls_->handshakes_cut() : 0; }

HttpServer::~HttpServer() {
  // mg_stop waits for civetweb's master thread, which in 1.15 notices the
  // stop only between polls of its listening sockets, each up to 2 s long.
  // A connection ends the poll at once. One that lands before the stop is
  // accepted, but it is already closed, so its worker just reads EOF.
  router_->Stop();  // streams end at their next look, blocked writes at once
  std::atomic<bool> stopped{false};
  std::thread waker([this, &stopped] {
    while (!stopped.load()) {
      Poke(host_, port_);
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  });
  civet_.reset();  // joins civetweb's threads while router_ still exists
  stopped = true;
  waker.join();
}

}  // namespace hlo
