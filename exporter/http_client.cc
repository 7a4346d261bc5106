#include "exporter/http_client.h"

#include <curl/curl.h>

#include <cctype>
#include <cstdlib>
#include <mutex>

namespace hlo {
namespace detail {
namespace {

size_t AppendBody(char* data, size_t size, size_t count, void* sink) {
  static_cast<std::string*>(sink)->append(data, size * count);
  return size * count;
}

// Keeps the last Retry-After of the answer (a redirect's headers come first
// and are overwritten by the final answer's).
size_t ReadHeader(char* data, size_t size, size_t count, void* sink) {
  const std::string line(data, size * count);
  auto* retry_after = static_cast<std::string*>(sink);
  if (line.rfind("HTTP/", 0) == 0) retry_after->clear();  // a new answer begins
  constexpr std::string_view kName = "retry-after:";
  if (line.size() > kName.size()) {
    bool match = true;
    for (size_t i = 0; i < kName.size() && match; ++i) {
      match = std::tolower(static_cast<unsigned char>(line[i])) == kName[i];
    }
    if (match) {
      size_t b = kName.size(), e = line.size();
      while (b < e && std::isspace(static_cast<unsigned char>(line[b]))) ++b;
      while (e > b && std::isspace(static_cast<unsigned char>(line[e - 1]))) --e;
      *retry_after = line.substr(b, e - b);
    }
  }
  return size * count;
}

HttpResult::Kind Classify(CURLcode code) {
  switch (code) {
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_COULDNT_CONNECT:
      return HttpResult::Kind::kConnectError;
    case CURLE_OPERATION_TIMEDOUT:
      return HttpResult::Kind::kTimeout;
    // Retrying cannot fix a wrong URL, a certificate that does not verify or
    // a CA file that does not load; the operator must.
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_URL_MALFORMAT:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_TOO_MANY_REDIRECTS:
    case CURLE_LOGIN_DENIED:
      return HttpResult::Kind::kPermanent;
    default:
      return HttpResult::Kind::kSendError;
  }
}

class CurlHttpClient : public HttpClient {
 public:
  explicit CurlHttpClient(const HttpClientOptions& options) : options_(options) {
    static std::once_flag once;
    std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
    curl_ = curl_easy_init();
  }
  ~CurlHttpClient() override {
    if (curl_) curl_easy_cleanup(curl_);
  }
  CurlHttpClient(const CurlHttpClient&) = delete;
  CurlHttpClient& operator=(const CurlHttpClient&) = delete;

  HttpResult Post(const std::string& url, const std::string& content_type,
                  const std::string& body) override {
    return Perform(url, &content_type, &body);
  }
  HttpResult Get(const std::string& url) override { return Perform(url, nullptr, nullptr); }

 private:
  HttpResult Perform(const std::string& url, const std::string* content_type,
                     const std::string* body) {
    HttpResult result;
    if (!curl_) {
      result.kind = HttpResult::Kind::kPermanent;
      result.error = "curl_easy_init failed";
      return result;
    }
    curl_easy_reset(curl_);  // keeps the connection cache
    std::string retry_after;
    char error[CURL_ERROR_SIZE] = {0};
    curl_slist* headers = nullptr;
    curl_easy_setopt(curl_, CURLOPT_URL, url.c_str());
    curl_easy_setopt(curl_, CURLOPT_ERRORBUFFER, error);
    curl_easy_setopt(curl_, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl_, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(curl_, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    // A redirect keeps the POST (and its body); credentials are not sent to
    // another host (CURLOPT_UNRESTRICTED_AUTH stays off).
    curl_easy_setopt(curl_, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(curl_, CURLOPT_MAXREDIRS, 5L);
    curl_easy_setopt(curl_, CURLOPT_POSTREDIR, static_cast<long>(CURL_REDIR_POST_ALL));
    curl_easy_setopt(curl_, CURLOPT_CONNECTTIMEOUT_MS,
                     static_cast<long>(options_.connect_timeout.count()));
    curl_easy_setopt(curl_, CURLOPT_TIMEOUT_MS, static_cast<long>(options_.timeout.count()));
    curl_easy_setopt(curl_, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(curl_, CURLOPT_SSL_VERIFYHOST, 2L);
    if (!options_.ca_file.empty()) curl_easy_setopt(curl_, CURLOPT_CAINFO, options_.ca_file.c_str());
    if (!options_.user.empty()) {
      curl_easy_setopt(curl_, CURLOPT_HTTPAUTH, static_cast<long>(CURLAUTH_BASIC));
      curl_easy_setopt(curl_, CURLOPT_USERNAME, options_.user.c_str());
      curl_easy_setopt(curl_, CURLOPT_PASSWORD, options_.password.c_str());
    }
    curl_easy_setopt(curl_, CURLOPT_USERAGENT, "homelab-observer-send/" HLO_VERSION);
    curl_easy_setopt(curl_, CURLOPT_WRITEFUNCTION, AppendBody);
    curl_easy_setopt(curl_, CURLOPT_WRITEDATA, &result.body);
    curl_easy_setopt(curl_, CURLOPT_HEADERFUNCTION, ReadHeader);
    curl_easy_setopt(curl_, CURLOPT_HEADERDATA, &retry_after);
    if (body) {
      headers = curl_slist_append(headers, ("Content-Type: " + *content_type).c_str());
      // No "Expect: 100-continue" round trip before large bodies.
      headers = curl_slist_append(headers, "Expect:");
      curl_easy_setopt(curl_, CURLOPT_HTTPHEADER, headers);
      curl_easy_setopt(curl_, CURLOPT_POST, 1L);
      curl_easy_setopt(curl_, CURLOPT_POSTFIELDS, body->data());
      curl_easy_setopt(curl_, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body->size()));
    }
    const CURLcode code = curl_easy_perform(curl_);
    curl_slist_free_all(headers);
    if (code != CURLE_OK) {
      result.kind = Classify(code);
      result.error = error[0] ? error : curl_easy_strerror(code);
      result.body.clear();
      return result;
    }
    long status = 0;
    curl_easy_getinfo(curl_, CURLINFO_RESPONSE_CODE, &status);
    result.status = static_cast<int>(status);
    if (!retry_after.empty()) {
      result.retry_after = ParseRetryAfter(retry_after, std::chrono::system_clock::now());
    }
    return result;
  }

  HttpClientOptions options_;
  CURL* curl_ = nullptr;
};

}  // namespace
}  // namespace detail

std::unique_ptr<HttpClient> MakeCurlHttpClient(const HttpClientOptions& options) {
  return std::make_unique<detail::CurlHttpClient>(options);
}

std::optional<std::chrono::milliseconds> ParseRetryAfter(
    const std::string& value, std::chrono::system_clock::time_point now) {
  if (value.empty()) return std::nullopt;
  bool digits = true;
  for (char c : value) digits = digits && std::isdigit(static_cast<unsigned char>(c));
  if (digits) {
    if (value.size() > 9) return std::chrono::milliseconds(999'999'999LL * 1000);
    return std::chrono::milliseconds(std::atoll(value.c_str()) * 1000);
  }
  const time_t at = curl_getdate(value.c_str(), nullptr);
  if (at < 0) return std::nullopt;
  const auto delay = std::chrono::system_clock::from_time_t(at) - now;
  if (delay.count() <= 0) return std::chrono::milliseconds(0);
  return std::chrono::duration_cast<std::chrono::milliseconds>(delay);
}

}  // namespace hlo
