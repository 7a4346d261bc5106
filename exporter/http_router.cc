#include "exporter/http_router.h"

#include <algorithm>
#include <cctype>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include <sys/socket.h>
#include <unistd.h>

#include "exporter/basic_auth.h"
#include "exporter/web_assets.h"
#include "exporter/world_query.h"

namespace hlo {
namespace detail {
namespace {

constexpr std::string_view kApiPrefix = "/api/";
constexpr std::string_view kWorldPrefix = "/api/v1/world/";
constexpr std::string_view kEventsPath = "/api/v1/events";
constexpr std::string_view kStreamPath = "/api/v1/stream";

// For the status page: it loads only its own script, style and images,
// talks only to its own origin, and cannot be framed.
constexpr char kPageCsp[] =
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

std::string_view Trim(std::string_view s) {
  const auto first = s.find_first_not_of(" \t");
  if (first == std::string_view::npos) return {};
  return s.substr(first, s.find_last_not_of(" \t") - first + 1);
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool StartsWith(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

bool IsGetOrHead(std::string_view method) { return method == "GET" || method == "HEAD"; }

std::string HtmlEscape(std::string_view text) {
  std::string out;
  for (const char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

Response MethodNotAllowed(std::string_view allow, bool json) {
  Response response = json ? JsonError(405, "method not allowed (allowed: " + std::string(allow) + ")")
                           : Text(405, "405 method not allowed\n");
  response.headers.emplace_back("Allow", std::string(allow));
  return response;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::optional<std::string> FormDecode(std::string_view text) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '+') {
      out += ' ';
    } else if (text[i] != '%') {
      out += text[i];
    } else {
      if (i + 2 >= text.size()) return std::nullopt;
      const int high = HexValue(text[i + 1]);
      const int low = HexValue(text[i + 2]);
      if (high < 0 || low < 0) return std::nullopt;
      out += static_cast<char>(high * 16 + low);
      i += 2;
    }
  }
  return out;
}

// The opaque part of one entity tag at the front of *list (W/ and quotes
// dropped), consuming it; nullopt when the front is not an entity tag.
std::optional<std::string_view> NextEntityTag(std::string_view* list) {
  std::string_view rest = *list;
  if (StartsWith(rest, "W/")) rest.remove_prefix(2);
  if (rest.empty() || rest.front() != '"') return std::nullopt;
  const auto close = rest.find('"', 1);
  if (close == std::string_view::npos) return std::nullopt;
  *list = rest.substr(close + 1);
  return rest.substr(1, close - 1);
}

std::string_view Opaque(std::string_view etag) {
  if (StartsWith(etag, "W/")) etag.remove_prefix(2);
  if (etag.size() >= 2 && etag.front() == '"' && etag.back() == '"') {
    etag = etag.substr(1, etag.size() - 2);
  }
  return etag;
}

// A JSON document as the answer to GET: ETag, 304, gzip.
Response DocumentResponse(const std::shared_ptr<const JsonDocument>& doc, const Request& request) {
  Response response;
  response.content_type = "application/json";
  response.headers.emplace_back("ETag", doc->ETag());
  response.headers.emplace_back("Cache-Control", "no-cache");
  response.headers.emplace_back("Vary", "Accept-Encoding");
  if (IfNoneMatchMatches(request.if_none_match, doc->ETag())) {
    response.status = 304;
    return response;
  }
  // Aliasing pointers keep the document alive while it is sent.
  const std::string* compressed = AcceptsGzip(request.accept_encoding) ? doc->Gzip() : nullptr;
  if (compressed != nullptr) {
    response.shared_body = std::shared_ptr<const std::string>(doc, compressed);
    response.headers.emplace_back("Content-Encoding", "gzip");
  } else {
    response.shared_body = std::shared_ptr<const std::string>(doc, &doc->Text());
  }
  return response;
}

std::optional<size_t> WorldIndex(std::string_view name) {
  for (size_t i = 0; i < kApiWorldNames.size(); ++i) {
    if (kApiWorldNames[i] == name) return i;
  }
  return std::nullopt;
}

}  // namespace

Response Text(int status, std::string body) {
  Response response;
  response.status = status;
  response.body = std::move(body);
  return response;
}

Response JsonError(int status, std::string_view message, std::string_view parameter) {
  nlohmann::json body = {{"error", message}};
  if (!parameter.empty()) body["parameter"] = parameter;
  Response response;
  response.status = status;
  response.content_type = "application/json";
  // Messages may quote what the client sent: never let bad UTF-8 throw.
  response.body = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
  return response;
}

std::string SseEvent(std::string_view event, std::optional<uint64_t> id, std::string_view data) {
  std::string out;
  if (id) out += "id: " + std::to_string(*id) + "\n";
  out += "event: ";
  out += event;
  out += "\n";
  // A line break in the data would end the field; each line is its own.
  size_t start = 0;
  while (true) {
    const auto end = data.find_first_of("\r\n", start);
    out += "data: ";
    out += data.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start);
    out += "\n";
    if (end == std::string_view::npos) break;
    start = end + (data.compare(end, 2, "\r\n") == 0 ? 2 : 1);
  }
  out += "\n";
  return out;
}

std::string SseHello(uint64_t latest, bool with_id) {
  return "retry: 2000\n\n" + SseEvent("hello", with_id ? std::optional<uint64_t>(latest) : std::nullopt,
                                     "{\"sequence\": " + std::to_string(latest) + "}");
}

bool IfNoneMatchMatches(std::string_view if_none_match, std::string_view etag) {
  std::string_view list = Trim(if_none_match);
  if (list == "*") return true;
  const std::string_view want = Opaque(etag);
  while (true) {
    while (!list.empty() && (list.front() == ' ' || list.front() == '\t' || list.front() == ',')) {
      list.remove_prefix(1);
    }
    if (list.empty()) return false;
    const auto tag = NextEntityTag(&list);
    if (!tag) return false;
    if (*tag == want) return true;
  }
}

std::optional<std::vector<std::pair<std::string, std::string>>> ParseQueryString(
    std::string_view query, std::string* error, std::string* bad_name) {
  std::vector<std::pair<std::string, std::string>> params;
  while (!query.empty()) {
    const auto amp = query.find('&');
    const std::string_view piece = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    if (piece.empty()) continue;
    const auto eq = piece.find('=');
    auto name = FormDecode(piece.substr(0, eq));
    auto value = FormDecode(eq == std::string_view::npos ? std::string_view() : piece.substr(eq + 1));
    if (!name || !value) {
      *error = "malformed %-escape in \"" + std::string(piece) + "\"";
      if (bad_name != nullptr) *bad_name = std::string(piece.substr(0, eq));
      return std::nullopt;
    }
    params.emplace_back(std::move(*name), std::move(*value));
  }
  return params;
}

std::optional<IngestFormat> IngestFormatOf(std::string_view content_type) {
  const std::string type = Lower(Trim(content_type.substr(0, content_type.find(';'))));
  if (type == "application/json") return IngestFormat::kJson;
  for (const char* ndjson : {"application/x-ndjson", "application/ndjson", "application/jsonl",
                             "application/x-jsonlines"}) {
    if (type == ndjson) return IngestFormat::kNdjson;
  }
  return std::nullopt;
}

Router::Router(const HttpOptions& options, HttpHandlers handlers)
    : telemetry_path_(options.telemetry_path),
      handlers_(std::move(handlers)),
      policy_(std::make_shared<const WebPolicy>(options.web)),
      max_streams_(options.max_streams),
      heartbeat_(options.stream_heartbeat_ms),
      ingest_max_bytes_(options.ingest_max_bytes),
      request_timeout_(options.request_timeout_ms) {}

Router::~Router() = default;

Router::WebPolicy::WebPolicy(const WebConfig& web)
    : auth(web.basic_auth_users.empty() ? nullptr
                                        : std::make_unique<BasicAuth>(web.basic_auth_users)),
      headers(web.headers.begin(), web.headers.end()),
      ingest_users(web.ingest_users),
      csp_configured(web.headers.count("Content-Security-Policy") > 0),
      nosniff_configured(web.headers.count("X-Content-Type-Options") > 0) {}

std::shared_ptr<const Router::WebPolicy> Router::policy() const {
  std::lock_guard lock(policy_mu_);
  return policy_;
}

void Router::SetWebConfig(const WebConfig& web) {
  // Built outside the lock: BasicAuth draws its random salt.
  auto fresh = std::make_shared<const WebPolicy>(web);
  std::lock_guard lock(policy_mu_);
  policy_ = std::move(fresh);
}

Response Router::Route(const Request& request) const {
  const std::shared_ptr<const WebPolicy> policy = this->policy();
  Response response;
  if (policy->auth != nullptr && !policy->auth->Allows(request.authorization)) {
    response = Text(401, "401 unauthorized\n");
    response.headers.emplace_back("WWW-Authenticate", "Basic realm=\"homelab-observer\"");
  } else {
    response = Dispatch(request, *policy);
  }
  return WithHeaders(std::move(response), *policy);
}

Response Router::WithCommonHeaders(Response response) const {
  return WithHeaders(std::move(response), *policy());
}

Response Router::WithHeaders(Response response, const WebPolicy& policy) {
  response.headers.insert(response.headers.end(), policy.headers.begin(), policy.headers.end());
  return response;
}

std::unique_ptr<Router::StreamSlot> Router::TryStartStream() const {
  if (++streams_ > max_streams_) {
    --streams_;
    return nullptr;
  }
  return std::make_unique<StreamSlot>(this);
}

Router::StreamSocket::StreamSocket(const Router* router, std::optional<int> fd)
    : router_(router), fd_(fd) {
  if (!fd_) return;
  std::lock_guard lock(router_->sockets_mu_);
  router_->stream_sockets_.insert(*fd_);
}

Router::StreamSocket::~StreamSocket() {
  if (!fd_) return;
  std::lock_guard lock(router_->sockets_mu_);
  router_->stream_sockets_.erase(*fd_);
  CutConnection(*fd_);
}

void Router::Stop() {
  stopping_ = true;
  // Under the lock: a socket is registered only while its stream runs, and
  // civetweb closes it only after the stream has returned.
  std::lock_guard lock(sockets_mu_);
  for (const int fd : stream_sockets_) CutConnection(fd);
}

void CutConnection(int fd) {
  // shutdown wakes a write blocked in poll at once. A client that stopped
  // reading leaves unsent bytes, and civetweb's close would wait
  // linger_timeout_ms for them; so the connection is reset instead (linger
  // 0) and its descriptor replaced by a fresh, unconnected socket (the
  // number stays taken until civetweb closes it, so nothing else can
  // receive it meanwhile).
  const linger abort{1, 0};
  setsockopt(fd, SOL_SOCKET, SO_LINGER, &abort, sizeof abort);
  shutdown(fd, SHUT_RDWR);
  const int placeholder = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (placeholder < 0) return;
  dup2(placeholder, fd);
  close(placeholder);
}

Response Router::Dispatch(const Request& request, const WebPolicy& policy) const {
  const std::string_view path = request.path;
  const bool simple = path == telemetry_path_ || path == "/healthz" || path == "/readyz";
  if (simple && !IsGetOrHead(request.method)) return MethodNotAllowed("GET, HEAD", false);
  if (path == telemetry_path_) return Metrics(request.accept_encoding);
  if (path == "/healthz") return Text(200, "ok\n");
  if (path == "/readyz") return Ready();
  if (StartsWith(path, kApiPrefix)) return Api(request, policy);
  if (path == "/" || StartsWith(path, "/assets/")) return Page(request, policy);
  return Text(404, "404 page not found\n");
}

Response Router::Metrics(std::string_view accept_encoding) const {
  Response response;
  response.content_type = "text/plain; version=0.0.4; charset=utf-8";
  response.headers.emplace_back("Cache-Control", "no-store");
  response.headers.emplace_back("Vary", "Accept-Encoding");
  const bool gzip = AcceptsGzip(accept_encoding);
  // Should zlib fail, identity is still a correct answer.
  if (handlers_.metrics_body) {
    const std::shared_ptr<const MetricsBody> body = handlers_.metrics_body();
    if (body == nullptr) throw std::runtime_error("no metrics body");
    // Aliasing pointers: they keep the whole body alive while it is sent.
    const std::string* compressed = gzip ? body->Gzip() : nullptr;
    if (compressed != nullptr) {
      response.shared_body = std::shared_ptr<const std::string>(body, compressed);
      response.headers.emplace_back("Content-Encoding", "gzip");
    } else {
      response.shared_body = std::shared_ptr<const std::string>(body, &body->Text());
    }
    return response;
  }
  response.body = handlers_.metrics();
  if (gzip) {
    if (auto compressed = Gzip(response.body)) {
      response.body = std::move(*compressed);
      response.headers.emplace_back("Content-Encoding", "gzip");
    }
  }
  return response;
}

Response Router::Ready() const {
  Response response = handlers_.ready() ? Text(200, "ready\n")
                                        : Text(503, "not ready: initial replay in progress\n");
  response.headers.emplace_back("Cache-Control", "no-store");
  return response;
}

// The status page's files; the old link list when no page is embedded.
Response Router::Page(const Request& request, const WebPolicy& policy) const {
  const WebAsset* asset = FindWebAsset(request.path);
  if (asset == nullptr && request.path != "/") return Text(404, "404 page not found\n");
  if (!IsGetOrHead(request.method)) return MethodNotAllowed("GET, HEAD", false);
  Response response;
  if (asset != nullptr) {
    response.content_type = std::string(asset->content_type);
    response.static_body = asset->bytes;  // the program's own bytes: no copy
    response.headers.emplace_back("Cache-Control", "no-cache");
  } else {
    response = LandingPage();
  }
  // Configured headers come later (WithCommonHeaders): one CSP, theirs.
  if (!policy.csp_configured) response.headers.emplace_back("Content-Security-Policy", kPageCsp);
  if (!policy.nosniff_configured) response.headers.emplace_back("X-Content-Type-Options", "nosniff");
  response.headers.emplace_back("Referrer-Policy", "no-referrer");
  return response;
}

Response Router::LandingPage() const {
  const std::string metrics = HtmlEscape(telemetry_path_);
  Response response;
  response.content_type = "text/html; charset=utf-8";
  std::string& html = response.body;
  html += "<!DOCTYPE html>\n<html>\n";
  html += "<head><meta charset=\"utf-8\"><title>homelab-observer</title></head>\n";
  html += "<body>\n<h1>homelab-observer</h1>\n";
  html += "<p>Version " HLO_VERSION "</p>\n<ul>\n";
  html += "<li><a href=\"" + metrics + "\">" + metrics + "</a>: metrics</li>\n";
  html += "<li><a href=\"/healthz\">/healthz</a>: alive</li>\n";
  html += "<li><a href=\"/readyz\">/readyz</a>: ready (initial replay done)</li>\n";
  html += "</ul>\n</body>\n</html>\n";
  return response;
}

Response Router::Api(const Request& request, const WebPolicy& policy) const {
  const std::string_view path = request.path;
  if (path == kEventsPath && handlers_.ingest) {
    if (request.method != "POST") return MethodNotAllowed("POST", true);
    return StartIngest(request, policy);
  }
  const bool known =
      (handlers_.api && (path == "/api/v1/observer" || path == "/api/v1/incidents" ||
                         path == "/api/v1/deployments" ||
                         (StartsWith(path, kWorldPrefix) &&
                          WorldIndex(path.substr(kWorldPrefix.size()))))) ||
      (handlers_.changes != nullptr && path == kStreamPath);
  if (!known) return JsonError(404, "no such endpoint: " + std::string(path));
  if (!IsGetOrHead(request.method)) return MethodNotAllowed("GET, HEAD", true);
  if (path == kStreamPath) {
    Response response;
    response.content_type = "text/event-stream";
    response.headers.emplace_back("Cache-Control", "no-store");
    response.headers.emplace_back("X-Accel-Buffering", "no");
    response.then = Response::Then::kStream;
    return response;
  }
  return ApiGet(request);
}

Response Router::ApiGet(const Request& request) const {
  const std::string_view path = request.path;
  const std::shared_ptr<const ApiView> view = handlers_.api();
  const auto unavailable = [] {
    Response response = JsonError(503, "the world has not been published yet");
    response.headers.emplace_back("Retry-After", "1");
    return response;
  };
  if (view == nullptr) return unavailable();
  if (path == "/api/v1/observer") {
    return view->observer ? DocumentResponse(view->observer, request) : unavailable();
  }
  if (StartsWith(path, kWorldPrefix)) {
    const auto& doc = view->files[*WorldIndex(path.substr(kWorldPrefix.size()))];
    return doc ? DocumentResponse(doc, request) : unavailable();
  }
  const bool incidents = path == "/api/v1/incidents";
  const WorldList list = incidents ? WorldList::kIncidents : WorldList::kDeployments;
  std::string problem, parameter;
  const auto params = ParseQueryString(request.query, &problem, &parameter);
  if (!params) return JsonError(400, problem, parameter);
  ListQueryError error;
  const std::optional<ListQuery> query = ParseListQuery(list, *params, &error);
  if (!query) return JsonError(400, error.message, error.parameter);
  const auto& doc = view->files[*WorldIndex(incidents ? "incidents" : "deployments")];
  if (!doc) return unavailable();
  Response response;
  response.content_type = "application/json";
  response.headers.emplace_back("Cache-Control", "no-cache");
  response.headers.emplace_back("Vary", "Accept-Encoding");
  response.body = ListPageJson(RunListQuery(*query, doc->Parsed()), view->sequence);
  if (AcceptsGzip(request.accept_encoding)) {
    if (auto compressed = Gzip(response.body)) {
      response.body = std::move(*compressed);
      response.headers.emplace_back("Content-Encoding", "gzip");
    }
  }
  return response;
}

// Who may post, and in what: decided before a byte of the body is read.
Response Router::StartIngest(const Request& request, const WebPolicy& policy) const {
  std::string user;
  if (policy.auth != nullptr) {
    // Route checked the credentials already; only the name is wanted here.
    const auto credentials = ParseBasicCredentials(request.authorization);
    if (credentials) user = credentials->first;
    if (!policy.ingest_users.empty() && policy.ingest_users.count(user) == 0) {
      return JsonError(403, "user \"" + user + "\" may not post events (see ingest_users)");
    }
  }
  const std::optional<IngestFormat> format = IngestFormatOf(request.content_type);
  if (!format) {
    return JsonError(415, "Content-Type must be application/json or application/x-ndjson, not \"" +
                              std::string(request.content_type) + "\"");
  }
  Response response;
  response.then = Response::Then::kIngest;
  response.ingest_format = *format;
  response.user = std::move(user);
  return response;
}

Response Router::Ingest(std::string_view body, IngestFormat format, std::string_view user) const {
  const IngestReply reply = handlers_.ingest(body, format, user);
  Response response;
  response.status = reply.status;
  response.content_type = "application/json";
  response.body = reply.body;
  response.headers.emplace_back("Cache-Control", "no-store");
  return WithCommonHeaders(std::move(response));
}

}  // namespace detail
}  // namespace hlo
