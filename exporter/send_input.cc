#include "exporter/send_input.h"

#include <sys/random.h>
#include <unistd.h>

#include <array>
#include <nlohmann/json.hpp>
#include <random>

namespace hlo {
namespace detail {
namespace {

// CONTRACT §8: a line over 1 MiB is rejected as too_large by the observer;
// such an event is not sent, so every batch stays far below the body limit.
constexpr size_t kMaxEventBytes = 1 << 20;

bool Blank(std::string_view s) {
  return s.find_first_not_of(" \t\r\n") == std::string_view::npos;
}

SendInputProblem ParseProblem(uint64_t line, const nlohmann::json::exception& e) {
  const std::string what = e.what();
  const bool encoding = what.find("UTF-8") != std::string::npos;
  return {line, encoding ? "bad_encoding" : "bad_json", what};
}

// Gives `object` an id when it has none, then adds it to `out` as one line.
void AddEvent(nlohmann::json object, uint64_t line, const std::function<std::string()>& new_id,
              SendInput& out) {
  if (!object.is_object()) {
    out.problems.push_back({line, "not_object", "an event must be a JSON object"});
    return;
  }
  const auto id = object.find("id");
  if (id == object.end() || id->is_null() || (id->is_string() && id->get_ref<const std::string&>().empty())) {
    object["id"] = new_id();
  }
  std::string json;
  try {
    json = object.dump(-1, ' ', false, nlohmann::json::error_handler_t::strict);
  } catch (const nlohmann::json::exception& e) {
    out.problems.push_back(ParseProblem(line, e));
    return;
  }
  if (json.size() > kMaxEventBytes) {
    out.problems.push_back({line, "too_large", std::to_string(json.size()) + " bytes, over 1 MiB"});
    return;
  }
  out.events.push_back({line, std::move(json)});
}

void ParseNdjson(std::string_view text, const std::function<std::string()>& new_id,
                 SendInput& out) {
  out.format = "ndjson";
  uint64_t line = 0;
  while (!text.empty()) {
    ++line;
    const size_t end = text.find('\n');
    const std::string_view row = text.substr(0, end);
    text.remove_prefix(end == std::string_view::npos ? text.size() : end + 1);
    if (Blank(row)) continue;
    try {
      AddEvent(nlohmann::json::parse(row), line, new_id, out);
    } catch (const nlohmann::json::exception& e) {
      out.problems.push_back(ParseProblem(line, e));
    }
  }
}

}  // namespace
}  // namespace detail

SendInput ParseSendInput(std::string_view text, const std::function<std::string()>& new_id) {
  SendInput out;
  if (text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);  // a BOM, as in events/
  const size_t first = text.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos) {
    out.format = "ndjson";
    return out;
  }
  if (text[first] == '[') {
    out.format = "array";
    nlohmann::json array;
    try {
      array = nlohmann::json::parse(text);
    } catch (const nlohmann::json::exception& e) {
      out.problems.push_back(detail::ParseProblem(1, e));
      return out;
    }
    uint64_t index = 0;
    for (nlohmann::json& element : array) detail::AddEvent(std::move(element), ++index, new_id, out);
    return out;
  }
  if (text[first] == '{') {
    // One object, possibly pretty-printed over many lines; NDJSON otherwise.
    nlohmann::json whole = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
    if (whole.is_object()) {
      out.format = "json";
      detail::AddEvent(std::move(whole), 1, new_id, out);
      return out;
    }
  }
  detail::ParseNdjson(text, new_id, out);
  return out;
}

std::string RandomEventId() {
  std::array<unsigned char, 16> bytes{};
  if (::getrandom(bytes.data(), bytes.size(), 0) != static_cast<ssize_t>(bytes.size())) {
    std::random_device rd;  // getrandom cannot fail for 16 bytes after boot; belt and braces
    for (unsigned char& b : bytes) b = static_cast<unsigned char>(rd());
  }
  static const std::string host = [] {
    char name[256] = {0};
    if (::gethostname(name, sizeof name - 1) != 0 || name[0] == '\0') return std::string("host");
    return std::string(name);
  }();
  std::string id = host;
  id += '-';
  static constexpr char kHex[] = "0123456789abcdef";
  for (unsigned char b : bytes) {
    id += kHex[b >> 4];
    id += kHex[b & 15];
  }
  return id;
}

}  // namespace hlo
