// An HttpClient that answers from a script and records every request, for
// tests of the sender's logic (exporter/event_sender.h) without sockets.
#pragma once

#include <deque>
#include <functional>
#include <string>
#include <vector>

#include "exporter/http_client.h"

namespace hlo {

class FakeHttpClient : public HttpClient {
 public:
  struct Request {
    std::string method, url, content_type, body;
  };

  // The next answers, in order; when the script runs out, `otherwise` answers
  // (by default a 202 accepting every line of the body).
  std::deque<HttpResult> script;
  std::function<HttpResult(const Request&)> otherwise = [](const Request& r) {
    size_t lines = 0;
    for (char c : r.body) lines += c == '\n';
    return Answer(202, "{\"accepted\":" + std::to_string(lines) +
                           ",\"duplicates\":0,\"rejected\":[]}");
  };
  std::vector<Request> requests;

  static HttpResult Answer(int status, std::string body = "") {
    HttpResult r;
    r.status = status;
    r.body = std::move(body);
    return r;
  }
  static HttpResult Failure(HttpResult::Kind kind, std::string error = "fake failure") {
    HttpResult r;
    r.kind = kind;
    r.error = std::move(error);
    return r;
  }

  HttpResult Post(const std::string& url, const std::string& content_type,
                  const std::string& body) override {
    return Next({"POST", url, content_type, body});
  }
  HttpResult Get(const std::string& url) override { return Next({"GET", url, "", ""}); }

 private:
  HttpResult Next(Request request) {
    requests.push_back(request);
    if (script.empty()) return otherwise(requests.back());
    HttpResult r = std::move(script.front());
    script.pop_front();
    return r;
  }
};

}  // namespace hlo
