#include "observer/event_parser.h"

#include <algorithm>
#include <array>
#include <cstdio>
#include <cstring>
#include <exception>
#include <memory>
#include <optional>
#include <utility>

#include <nlohmann/json.hpp>
#include <simdjson.h>

#include "observer/json_writer.h"

namespace hlo {
namespace detail {
namespace {

using Json = nlohmann::json;

constexpr size_t kMaxRawBytes = 1024;
// Longest value excerpt and nlohmann message kept in a rejection's detail:
// a 1 MiB string must not turn into a 1 MiB detail.
constexpr size_t kMaxExcerptBytes = 64;
constexpr size_t kMaxDetailBytes = 320;
// For a too-large file only this much is kept as `raw`: SanitizeRaw never
// looks past its first 1024 + 3 input bytes, so copying 50 MB would buy nothing.
constexpr size_t kTooLargeRawBytes = 4096;
constexpr std::string_view kBom = "\xEF\xBB\xBF";

// ---------------------------------------------------------------- UTF-8 ----

// Length (1–4) of the well-formed character starting at p[0], or the negated
// length of its maximal ill-formed subpart (Unicode §3.9, "substitution of
// maximal subparts"), which SanitizeRaw turns into one U+FFFD.
inline int Utf8CharLength(const unsigned char* p, size_t avail) {
  const unsigned c = p[0];
  if (c < 0x80) return 1;
  int trail;
  unsigned lo = 0x80, hi = 0xBF;  // the range of the first trail byte
  if (c < 0xC2) {
    return -1;  // stray trail byte, or C0/C1 (always overlong)
  } else if (c < 0xE0) {
    trail = 1;
  } else if (c < 0xF0) {
    trail = 2;
    if (c == 0xE0) lo = 0xA0;       // overlong
    else if (c == 0xED) hi = 0x9F;  // UTF-16 surrogates
  } else if (c < 0xF5) {
    trail = 3;
    if (c == 0xF0) lo = 0x90;       // overlong
    else if (c == 0xF4) hi = 0x8F;  // above U+10FFFF
  } else {
    return -1;
  }
  if (avail < 2 || p[1] < lo || p[1] > hi) return -1;
  for (int k = 2; k <= trail; ++k) {
    if (static_cast<size_t>(k) >= avail || (p[k] & 0xC0) != 0x80) return -k;
  }
  return trail + 1;
}

// Offset of the first byte of the first ill-formed sequence, or npos.
size_t FindInvalidUtf8(std::string_view bytes) {
  const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
  const size_t n = bytes.size();
  constexpr uint64_t kHighBits = 0x8080808080808080ull;
  size_t i = 0;
  while (i < n) {
    // Event text is nearly all ASCII: skip it 16 bytes at a time.
    while (n - i >= 16) {
      uint64_t a, b;
      std::memcpy(&a, p + i, 8);
      std::memcpy(&b, p + i + 8, 8);
      if (((a | b) & kHighBits) != 0) break;
      i += 16;
    }
    if (i >= n) break;
    if (p[i] < 0x80) {
      ++i;
      continue;
    }
    const int len = Utf8CharLength(p + i, n - i);
    if (len < 0) return i;
    i += static_cast<size_t>(len);
  }
  return std::string_view::npos;
}

// Replaces ill-formed subsequences by U+FFFD and stops before the first
// character that would take the output past `limit` bytes.
std::string SanitizeCut(std::string_view bytes, size_t limit) {
  static constexpr std::string_view kReplacement = "\xEF\xBF\xBD";
  const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
  std::string out;
  out.reserve(std::min(bytes.size(), limit));
  size_t i = 0;
  while (i < bytes.size()) {
    const int len = Utf8CharLength(p + i, bytes.size() - i);
    const size_t out_len = len > 0 ? static_cast<size_t>(len) : kReplacement.size();
    if (out.size() + out_len > limit) break;
    if (len > 0) {
      out.append(bytes.data() + i, out_len);
      i += static_cast<size_t>(len);
    } else {
      out.append(kReplacement);
      i += static_cast<size_t>(-len);
    }
  }
  return out;
}

// ---------------------------------------------------------------- detail text

// A field value for a detail: quoted, control characters escaped, cut.
std::string Quote(std::string_view value) {
  std::string out = "'";
  const std::string cut = SanitizeCut(value, kMaxExcerptBytes);
  for (const char ch : cut) {
    const auto c = static_cast<unsigned char>(ch);
    if (c < 0x20 || c == 0x7F) {
      static constexpr char kHex[] = "0123456789abcdef";
      out += "\\u00";
      out += kHex[c >> 4];
      out += kHex[c & 0xF];
    } else {
      out += ch;
    }
  }
  if (cut.size() < value.size()) out += "…";
  out += '\'';
  return out;
}

// nlohmann's message without its "[json.exception.parse_error.101] " tag. It
// quotes the offending token, which may be long or end inside a character.
// Where the parse failed, said so that an operator finds it: the record
// (and validate's FILE:LINE) already names the line of a .jsonl file, so only
// the column is added ("parse error at column 72: …"); a .json document is
// one record at line 1 (or its element's index), so its position names the
// file's line ("parse error at line 3, column 66 of the file: …").
enum class Input { kLine, kDocument };

std::string JsonErrorDetail(std::string_view what, Input input) {
  if (what.starts_with("[json.exception.")) {
    const size_t end = what.find("] ");
    if (end != std::string_view::npos) what.remove_prefix(end + 2);
  }
  // nlohmann: "parse error at line L, column C: rest".
  constexpr std::string_view kAt = "parse error at line ";
  if (what.starts_with(kAt)) {
    const size_t comma = what.find(", column ");
    const size_t colon = what.find(':', kAt.size());
    if (comma != std::string_view::npos && colon != std::string_view::npos && comma < colon) {
      const std::string_view line = what.substr(kAt.size(), comma - kAt.size());
      const std::string_view column = what.substr(comma + 9, colon - comma - 9);
      std::string out = input == Input::kLine
                            ? "parse error at column " + std::string(column)
                            : "parse error at line " + std::string(line) + ", column " +
                                  std::string(column) + " of the file";
      out += what.substr(colon);
      return SanitizeCut(out, kMaxDetailBytes);
    }
  }
  return SanitizeCut(what, kMaxDetailBytes);
}

Rejection Reject(RejectReason reason, std::string detail) { return {reason, std::move(detail)}; }

// ---------------------------------------------------------------- fields ----

// What the event object held for a field. JSON null is kNull, as is absence.
enum class Kind : uint8_t { kNull, kString, kNumber, kBoolean, kArray, kObject };

std::string_view KindName(Kind kind) {
  switch (kind) {
    case Kind::kNull: return "null";
    case Kind::kString: return "a string";
    case Kind::kNumber: return "a number";
    case Kind::kBoolean: return "a boolean";
    case Kind::kArray: return "an array";
    case Kind::kObject: return "an object";
  }
  return "?";
}

Kind KindOf(const Json& j) {
  switch (j.type()) {
    case Json::value_t::string: return Kind::kString;
    case Json::value_t::boolean: return Kind::kBoolean;
    case Json::value_t::number_integer:
    case Json::value_t::number_unsigned:
    case Json::value_t::number_float: return Kind::kNumber;
    case Json::value_t::array: return Kind::kArray;
    case Json::value_t::object: return Kind::kObject;
    default: return Kind::kNull;
  }
}

struct RawValue {
  Kind kind = Kind::kNull;
  std::string text;  // only for kString

  void Set(Kind k, std::string* s) {
    kind = k;
    if (s != nullptr) text = std::move(*s);
    else text.clear();
  }
  bool Empty() const { return kind == Kind::kNull || (kind == Kind::kString && text.empty()); }
};

// The top-level fields the contract types, in the order they are checked.
enum class TopKey : uint8_t {
  kTimestamp, kType, kNode, kService, kCorrelationId, kMessage, kId, kSeverity,  // strings
  kPayload,
  kOther,
};
constexpr size_t kStringKeys = static_cast<size_t>(TopKey::kSeverity) + 1;
constexpr std::array<std::string_view, kStringKeys> kTopKeyNames = {
    "timestamp", "type", "node", "service", "correlation_id", "message", "id", "severity"};

TopKey TopKeyFromName(std::string_view name) {
  for (size_t i = 0; i < kTopKeyNames.size(); ++i) {
    if (kTopKeyNames[i] == name) return static_cast<TopKey>(i);
  }
  return name == "payload" ? TopKey::kPayload : TopKey::kOther;
}

enum class PayloadKey : uint8_t { kStage, kDiagnostics, kOther };

PayloadKey PayloadKeyFromName(std::string_view name) {
  if (name == "stage") return PayloadKey::kStage;
  if (name == "diagnostics") return PayloadKey::kDiagnostics;
  return PayloadKey::kOther;
}

// The typed fields of one event object, before validation. Both the
// streaming line parser and the DOM document parser fill this, so the rules
// in Validate() are written once. Duplicate keys: the last one wins, as in
// nlohmann's DOM.
struct RawFields {
  std::array<RawValue, kStringKeys> strings;
  Kind payload = Kind::kNull;
  RawValue stage;
  Kind diagnostics = Kind::kNull;
  std::vector<std::string> diagnostic_strings;

  RawValue& operator[](TopKey key) { return strings[static_cast<size_t>(key)]; }

  void SetPayload(Kind kind) {
    payload = kind;
    stage = RawValue{};
    SetDiagnostics(Kind::kNull);
  }
  void SetDiagnostics(Kind kind) {
    diagnostics = kind;
    diagnostic_strings.clear();
  }
};

// ------------------------------------------------------------ line parser --

// SAX handler for one JSONL line: extracts RawFields without building a DOM
// and aborts as soon as the nesting passes kMaxJsonDepth.
class EventSax {
 public:
  bool null() { return Value(Kind::kNull, nullptr); }
  bool boolean(bool) { return Value(Kind::kBoolean, nullptr); }
  bool number_integer(Json::number_integer_t) { return Value(Kind::kNumber, nullptr); }
  bool number_unsigned(Json::number_unsigned_t) { return Value(Kind::kNumber, nullptr); }
  bool number_float(Json::number_float_t, const Json::string_t&) {
    return Value(Kind::kNumber, nullptr);
  }
  // The lexer clears its buffer before each token, so the text may be taken.
  bool string(Json::string_t& s) { return Value(Kind::kString, &s); }
  bool binary(Json::binary_t&) { return Value(Kind::kNull, nullptr); }  // not in JSON text
  bool start_object(std::size_t) { return Open(Kind::kObject); }
  bool start_array(std::size_t) { return Open(Kind::kArray); }
  bool end_object() { return Close(); }
  bool end_array() { return Close(); }
  bool key(Json::string_t& name) {
    switch (roles_[depth_ - 1]) {
      case Role::kEvent: event_key_ = TopKeyFromName(name); break;
      case Role::kPayload: payload_key_ = PayloadKeyFromName(name); break;
      default: break;
    }
    return true;
  }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception& e) {
    error_ = JsonErrorDetail(e.what(), Input::kLine);
    return false;
  }

  // After a successful parse.
  Kind top() const { return top_; }
  RawFields& fields() { return fields_; }
  // After a failed one.
  const std::string& error() const { return error_; }

 private:
  // What the values directly inside an open container mean to us.
  enum class Role : uint8_t { kIgnored, kEvent, kPayload, kDiagnostics };

  bool Value(Kind kind, std::string* text) {
    Route(kind, text);
    return true;
  }
  bool Open(Kind kind) {
    if (depth_ == kMaxJsonDepth) {
      error_ = "nesting deeper than " + std::to_string(kMaxJsonDepth) + " levels";
      return false;
    }
    const Role role = Route(kind, nullptr);
    roles_[depth_++] = role;
    return true;
  }
  bool Close() {
    --depth_;
    return true;
  }

  // Stores a value where it belongs; returns the role of its contents.
  Role Route(Kind kind, std::string* text) {
    if (depth_ == 0) {
      top_ = kind;
      return kind == Kind::kObject ? Role::kEvent : Role::kIgnored;
    }
    switch (roles_[depth_ - 1]) {
      case Role::kEvent:
        if (event_key_ == TopKey::kPayload) {
          fields_.SetPayload(kind);
          return kind == Kind::kObject ? Role::kPayload : Role::kIgnored;
        }
        if (event_key_ != TopKey::kOther) fields_[event_key_].Set(kind, text);
        return Role::kIgnored;
      case Role::kPayload:
        if (payload_key_ == PayloadKey::kStage) fields_.stage.Set(kind, text);
        if (payload_key_ == PayloadKey::kDiagnostics) {
          fields_.SetDiagnostics(kind);
          if (kind == Kind::kArray) return Role::kDiagnostics;
        }
        return Role::kIgnored;
      case Role::kDiagnostics:
        if (kind == Kind::kString) fields_.diagnostic_strings.push_back(std::move(*text));
        return Role::kIgnored;
      case Role::kIgnored:
        return Role::kIgnored;
    }
    return Role::kIgnored;
  }

  std::array<Role, kMaxJsonDepth> roles_{};
  int depth_ = 0;
  Kind top_ = Kind::kNull;
  TopKey event_key_ = TopKey::kOther;
  PayloadKey payload_key_ = PayloadKey::kOther;
  RawFields fields_;
  std::string error_;
};

// -------------------------------------------------------- document parser --

// nlohmann's own DOM builder, refusing to nest deeper than kMaxJsonDepth so
// that a megabyte of '[' costs neither stack nor a million nodes.
class DepthLimitedDomSax {
 public:
  explicit DepthLimitedDomSax(Json& root) : dom_(root, /*allow_exceptions=*/false) {}

  bool null() { return dom_.null(); }
  bool boolean(bool v) { return dom_.boolean(v); }
  bool number_integer(Json::number_integer_t v) { return dom_.number_integer(v); }
  bool number_unsigned(Json::number_unsigned_t v) { return dom_.number_unsigned(v); }
  bool number_float(Json::number_float_t v, const Json::string_t& s) {
    return dom_.number_float(v, s);
  }
  bool string(Json::string_t& v) { return dom_.string(v); }
  bool binary(Json::binary_t& v) { return dom_.binary(v); }
  bool start_object(std::size_t n) { return Enter() && dom_.start_object(n); }
  bool start_array(std::size_t n) { return Enter() && dom_.start_array(n); }
  bool key(Json::string_t& v) { return dom_.key(v); }
  bool end_object() {
    --depth_;
    return dom_.end_object();
  }
  bool end_array() {
    --depth_;
    return dom_.end_array();
  }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception& e) {
    error_ = JsonErrorDetail(e.what(), Input::kDocument);
    return false;
  }

  const std::string& error() const { return error_; }

 private:
  bool Enter() {
    if (depth_ == kMaxJsonDepth) {
      error_ = "nesting deeper than " + std::to_string(kMaxJsonDepth) + " levels";
      return false;
    }
    ++depth_;
    return true;
  }

  nlohmann::detail::json_sax_dom_parser<Json> dom_;
  int depth_ = 0;
  std::string error_;
};

void SetFromJson(RawValue& target, const Json& value) {
  if (value.is_string()) {
    target.kind = Kind::kString;
    target.text = value.get_ref<const std::string&>();
  } else {
    target.Set(KindOf(value), nullptr);
  }
}

RawFields FieldsFromJson(const Json& object) {
  RawFields f;
  for (const auto& [name, value] : object.get_ref<const Json::object_t&>()) {
    const TopKey key = TopKeyFromName(name);
    if (key == TopKey::kOther) continue;
    if (key != TopKey::kPayload) {
      SetFromJson(f[key], value);
      continue;
    }
    f.SetPayload(KindOf(value));
    if (!value.is_object()) continue;
    for (const auto& [pname, pvalue] : value.get_ref<const Json::object_t&>()) {
      switch (PayloadKeyFromName(pname)) {
        case PayloadKey::kStage: SetFromJson(f.stage, pvalue); break;
        case PayloadKey::kDiagnostics:
          f.SetDiagnostics(KindOf(pvalue));
          if (!pvalue.is_array()) break;
          for (const Json& element : pvalue) {
            if (element.is_string()) f.diagnostic_strings.push_back(element.get<std::string>());
          }
          break;
        case PayloadKey::kOther: break;
      }
    }
  }
  return f;
}

// ------------------------------------------------------------ fast path ---

// simdjson validates everything nlohmann does (syntax, UTF-8, surrogates,
// numbers overflowing a double, depth) and is an order of magnitude faster;
// it is stricter still in places (integers beyond 64 bits). So it is used to
// accept: a line it takes is a line nlohmann takes, with the same fields
// (keys are walked in order, so the last duplicate wins as in nlohmann). Any
// line it refuses goes through the nlohmann path, which decides the reason
// and writes the detail — rejections read the same whichever path ran.
Kind KindOf(simdjson::dom::element_type type) {
  using T = simdjson::dom::element_type;
  switch (type) {
    case T::STRING: return Kind::kString;
    case T::BOOL: return Kind::kBoolean;
    case T::INT64:
    case T::UINT64:
    case T::DOUBLE: return Kind::kNumber;
    case T::ARRAY: return Kind::kArray;
    case T::OBJECT: return Kind::kObject;
    case T::NULL_VALUE: break;
  }
  return Kind::kNull;
}

void SetFromElement(RawValue& target, simdjson::dom::element value) {
  target.kind = KindOf(value.type());
  std::string_view text;
  if (target.kind == Kind::kString && value.get(text) == simdjson::SUCCESS) {
    target.text.assign(text);
  } else {
    target.text.clear();
  }
}

void PayloadFromElement(RawFields& f, simdjson::dom::object payload) {
  for (const simdjson::dom::key_value_pair field : payload) {
    switch (PayloadKeyFromName(field.key)) {
      case PayloadKey::kStage: SetFromElement(f.stage, field.value); break;
      case PayloadKey::kDiagnostics: {
        f.SetDiagnostics(KindOf(field.value.type()));
        simdjson::dom::array elements;
        if (field.value.get(elements) != simdjson::SUCCESS) break;
        for (const simdjson::dom::element element : elements) {
          std::string_view text;
          if (element.get(text) == simdjson::SUCCESS) f.diagnostic_strings.emplace_back(text);
        }
        break;
      }
      case PayloadKey::kOther: break;
    }
  }
}

// One parser per thread, sized for the largest accepted line and refusing
// to nest deeper than the contract allows.
simdjson::dom::parser* LineParser() {
  thread_local std::unique_ptr<simdjson::dom::parser> parser;
  thread_local bool tried = false;
  if (!tried) {
    tried = true;
    auto p = std::make_unique<simdjson::dom::parser>();
    if (p->allocate(kMaxEventBytes + 1, kMaxJsonDepth) == simdjson::SUCCESS) parser = std::move(p);
  }
  return parser.get();
}

RawFields FieldsFromObject(simdjson::dom::object object) {
  RawFields f;
  for (const simdjson::dom::key_value_pair field : object) {
    const TopKey key = TopKeyFromName(field.key);
    if (key == TopKey::kOther) continue;
    if (key != TopKey::kPayload) {
      SetFromElement(f[key], field.value);
      continue;
    }
    f.SetPayload(KindOf(field.value.type()));
    simdjson::dom::object payload;
    if (field.value.get(payload) == simdjson::SUCCESS) PayloadFromElement(f, payload);
  }
  return f;
}

// The fields of `line` when simdjson parses it as an object; nullopt sends
// the line down the nlohmann path.
std::optional<RawFields> FastFields(std::string_view line) {
  simdjson::dom::parser* parser = LineParser();
  if (parser == nullptr) return std::nullopt;
  simdjson::dom::element doc;
  simdjson::dom::object object;
  if (parser->parse(line.data(), line.size(), /*realloc_if_needed=*/true).get(doc) !=
          simdjson::SUCCESS ||
      doc.get(object) != simdjson::SUCCESS) {
    return std::nullopt;
  }
  return FieldsFromObject(object);
}

// ------------------------------------------------------------ validation ---

struct Needs {
  bool node = false;
  bool service = false;
  bool correlation_id = false;
};

Needs NeedsOf(EventType type) {
  switch (type) {
    case EventType::kNodeHeartbeat:
    case EventType::kNodeDown:
    case EventType::kMaintenanceStarted:
    case EventType::kMaintenanceEnded: return {.node = true};
    case EventType::kHealthcheckPassed:
    case EventType::kHealthcheckFailed:
    case EventType::kServiceUnhealthy: return {.node = true, .service = true};
    case EventType::kServiceRecovered: return {.service = true};
    case EventType::kDeploymentStarted:
    case EventType::kDeploymentStage:
    case EventType::kDeploymentSucceeded:
    case EventType::kDeploymentFailed: return {.correlation_id = true};
    case EventType::kUnknown: return {};
  }
  return {};
}

Rejection Mistyped(std::string_view field, std::string_view expected, Kind got) {
  return Reject(RejectReason::kMistypedField, "field '" + std::string(field) + "' must be " +
                                                  std::string(expected) + ", not " +
                                                  std::string(KindName(got)));
}

Rejection Missing(std::string_view field, const RawValue& value, std::string_view type) {
  std::string detail = "missing field '" + std::string(field) + "'";
  std::string why;
  if (!type.empty()) why = "required for " + std::string(type);
  if (value.kind == Kind::kString) why += std::string(why.empty() ? "" : "; ") + "empty counts as absent";
  if (!why.empty()) detail += " (" + why + ")";
  return Reject(RejectReason::kMissingField, std::move(detail));
}

std::optional<Rejection> CheckName(std::string_view field, std::string_view name) {
  if (name.size() > kMaxNameBytes) {
    return Reject(RejectReason::kBadName, "field '" + std::string(field) + "' is " +
                                              std::to_string(name.size()) + " bytes, limit " +
                                              std::to_string(kMaxNameBytes));
  }
  if (const size_t at = ForbiddenNameByte(name); at != std::string_view::npos) {
    const auto c = static_cast<unsigned char>(name[at]);
    char what[32];
    if (c == '/') std::snprintf(what, sizeof what, "'/'");
    else std::snprintf(what, sizeof what, "control character U+%04X", c);
    return Reject(RejectReason::kBadName,
                  std::string(field) + " " + Quote(name) + " contains " + what);
  }
  return std::nullopt;
}

// An id is remembered for good (duplicates are found by it, and it is kept
// in state/event-ids.log, one per line), so it is held to a name's length and
// may hold no control character; '/' is fine ("web-1/2026-05-12/42").
std::optional<Rejection> CheckId(std::string_view id) {
  if (id.size() > kMaxNameBytes) {
    return Reject(RejectReason::kBadName, "field 'id' is " + std::to_string(id.size()) +
                                              " bytes, limit " + std::to_string(kMaxNameBytes));
  }
  for (const char ch : id) {
    const auto c = static_cast<unsigned char>(ch);
    if (c < 0x20 || c == 0x7F) {
      char what[48];
      std::snprintf(what, sizeof what, "id contains control character U+%04X", c);
      return Reject(RejectReason::kBadName, what);
    }
  }
  return std::nullopt;
}

ParseResult Validate(RawFields&& f) {
  for (size_t i = 0; i < kStringKeys; ++i) {
    const Kind kind = f.strings[i].kind;
    if (kind == Kind::kNull || kind == Kind::kString) continue;
    if (static_cast<TopKey>(i) == TopKey::kSeverity) continue;  // bad_severity, below
    return Mistyped(kTopKeyNames[i], "a string", kind);
  }
  if (f.payload != Kind::kNull && f.payload != Kind::kObject) {
    return Mistyped("payload", "an object", f.payload);
  }

  const RawValue& timestamp = f[TopKey::kTimestamp];
  const RawValue& type_name = f[TopKey::kType];
  if (timestamp.kind == Kind::kNull) return Missing("timestamp", timestamp, "");
  if (type_name.Empty()) return Missing("type", type_name, "");

  const std::optional<Timestamp> ts = ParseTimestamp(timestamp.text);
  if (!ts) {
    return Reject(RejectReason::kBadTimestamp,
                  "timestamp " + Quote(timestamp.text) +
                      " is not RFC 3339 (YYYY-MM-DDTHH:MM:SS[.frac] then Z or ±HH:MM)");
  }

  std::optional<Severity> severity;
  const RawValue& sev = f[TopKey::kSeverity];
  if (sev.kind != Kind::kNull) {
    if (sev.kind == Kind::kString) severity = SeverityFromName(sev.text);
    if (!severity) {
      const std::string got =
          sev.kind == Kind::kString ? Quote(sev.text) : std::string(KindName(sev.kind));
      return Reject(RejectReason::kBadSeverity,
                    "severity must be one of info, warning, error, critical, not " + got);
    }
  }

  const EventType type = EventTypeFromName(type_name.text);
  const std::string_view type_label = EventTypeName(type);
  const Needs needs = NeedsOf(type);
  RawValue& node = f[TopKey::kNode];
  RawValue& service = f[TopKey::kService];
  RawValue& correlation_id = f[TopKey::kCorrelationId];
  if (needs.node && node.Empty()) return Missing("node", node, type_label);
  if (needs.service && service.Empty()) return Missing("service", service, type_label);
  if (needs.correlation_id && correlation_id.Empty()) {
    return Missing("correlation_id", correlation_id, type_label);
  }

  if (auto bad = CheckName("node", node.text)) return *std::move(bad);
  if (auto bad = CheckName("service", service.text)) return *std::move(bad);
  if (auto bad = CheckId(f[TopKey::kId].text)) return *std::move(bad);

  Event event;
  if (type == EventType::kDeploymentStage) {
    if (f.stage.kind != Kind::kNull && f.stage.kind != Kind::kString) {
      return Mistyped("payload.stage", "a string", f.stage.kind);
    }
    if (f.stage.Empty()) return Missing("payload.stage", f.stage, type_label);
    event.stage = std::move(f.stage.text);
  }
  if (type == EventType::kDeploymentFailed) {
    if (f.diagnostics != Kind::kNull && f.diagnostics != Kind::kArray) {
      return Mistyped("payload.diagnostics", "an array", f.diagnostics);
    }
    event.diagnostics = std::move(f.diagnostic_strings);
  }

  event.timestamp = *ts;
  event.type = type;
  event.node = std::move(node.text);
  event.service = std::move(service.text);
  event.correlation_id = std::move(correlation_id.text);
  event.severity = severity;
  event.message = std::move(f[TopKey::kMessage].text);
  event.id = std::move(f[TopKey::kId].text);
  return event;
}

bool IsJsonWhitespace(std::string_view s) {
  return s.find_first_not_of(" \t\r\n") == std::string_view::npos;
}

std::string ByteCount(size_t n) { return std::to_string(n) + " bytes, limit " + std::to_string(kMaxEventBytes); }

std::string InvalidUtf8Detail(size_t offset) {
  return "invalid UTF-8 at byte offset " + std::to_string(offset);
}

const char* const kBomDetail =
    "byte order mark (U+FEFF) where a JSON value should start; only one, at the very start of a "
    "file, is skipped";

ParseResult ParseLine(std::string_view line) {
  if (line.size() > kMaxEventBytes) {
    return Reject(RejectReason::kTooLarge, "line is " + ByteCount(line.size()));
  }
  if (std::optional<RawFields> fields = FastFields(line)) return Validate(std::move(*fields));
  if (const size_t bad = FindInvalidUtf8(line); bad != std::string_view::npos) {
    return Reject(RejectReason::kBadEncoding, InvalidUtf8Detail(bad));
  }
  // nlohmann would silently skip a BOM here; in the middle of a file it is
  // not JSON.
  if (line.starts_with(kBom)) return Reject(RejectReason::kBadJson, kBomDetail);

  EventSax sax;
  if (!Json::sax_parse(line.data(), line.data() + line.size(), &sax)) {
    return Reject(RejectReason::kBadJson, sax.error());
  }
  if (sax.top() != Kind::kObject) {
    return Reject(RejectReason::kNotObject,
                  "line holds " + std::string(KindName(sax.top())) + ", not an object");
  }
  return Validate(std::move(sax.fields()));
}

// `value` as nlohmann's dump(-1, ' ', false, replace) writes the same JSON:
// members sorted by key, the last of equal keys winning (nlohmann's objects
// are std::maps, filled in document order). Numbers keep their kind: simdjson
// and nlohmann both read an integer that fits 64 bits as one (a non-negative
// one prints the same signed or not, "-0" is 0 for both) and anything else as
// the same, correctly rounded double.
void WriteAsNlohmann(JsonWriter& out, simdjson::dom::element value) {
  using T = simdjson::dom::element_type;
  switch (value.type()) {
    case T::OBJECT: {
      std::vector<std::pair<std::string_view, simdjson::dom::element>> members;
      for (const simdjson::dom::key_value_pair field : simdjson::dom::object(value)) {
        members.emplace_back(field.key, field.value);
      }
      std::stable_sort(members.begin(), members.end(),
                       [](const auto& a, const auto& b) { return a.first < b.first; });
      out.BeginObject();
      for (size_t i = 0; i < members.size(); ++i) {
        if (i + 1 < members.size() && members[i + 1].first == members[i].first) continue;
        out.Key(members[i].first);
        WriteAsNlohmann(out, members[i].second);
      }
      out.EndObject();
      return;
    }
    case T::ARRAY:
      out.BeginArray();
      for (const simdjson::dom::element element : simdjson::dom::array(value)) {
        WriteAsNlohmann(out, element);
      }
      out.EndArray();
      return;
    case T::STRING: out.String(std::string_view(value)); return;
    case T::INT64: out.Int(int64_t(value)); return;
    case T::UINT64: out.Uint(uint64_t(value)); return;
    case T::DOUBLE: out.Double(double(value)); return;
    case T::BOOL: out.Bool(bool(value)); return;
    case T::NULL_VALUE: out.Null(); return;
  }
}

// The items of a document that simdjson parses as one object, or as an array
// of objects that are all events; nullopt sends it down the nlohmann path.
// So a rejection — its detail, and an array element's `raw` — always comes
// from nlohmann, as on the line path; what passes here is what nlohmann
// would accept, with the same fields (see FastFields).
std::optional<std::vector<DocumentItem>> FastDocument(std::string_view body) {
  simdjson::dom::parser* parser = LineParser();
  if (parser == nullptr) return std::nullopt;
  simdjson::dom::element doc;
  if (parser->parse(body.data(), body.size(), /*realloc_if_needed=*/true).get(doc) !=
      simdjson::SUCCESS) {
    return std::nullopt;
  }
  std::vector<DocumentItem> items;
  simdjson::dom::object object;
  if (doc.get(object) == simdjson::SUCCESS) {
    items.push_back({1, Validate(FieldsFromObject(object)), std::string(body)});
    return items;
  }
  simdjson::dom::array array;
  if (doc.get(array) != simdjson::SUCCESS) return std::nullopt;
  uint64_t line = 0;
  for (const simdjson::dom::element element : array) {
    ++line;
    if (element.get(object) != simdjson::SUCCESS) return std::nullopt;
    ParseResult result = Validate(FieldsFromObject(object));
    if (std::holds_alternative<Rejection>(result)) return std::nullopt;
    JsonWriter raw(JsonWriter::Style::kCompact);
    WriteAsNlohmann(raw, element);
    items.push_back({line, std::move(result), raw.Take()});
  }
  return items;
}

std::vector<DocumentItem> ParseDocument(std::string_view content) {
  std::vector<DocumentItem> items;
  auto whole = [&items](RejectReason reason, std::string detail, std::string_view raw) {
    items.push_back({1, Reject(reason, std::move(detail)), std::string(raw)});
    return std::move(items);
  };

  // The contract measures a .json by its file size, BOM included.
  if (content.size() > kMaxEventBytes) {
    return whole(RejectReason::kTooLarge, "file is " + ByteCount(content.size()),
                 content.substr(0, kTooLargeRawBytes));
  }
  std::string_view body = content;
  if (body.starts_with(kBom)) body.remove_prefix(kBom.size());
  // What the checks below reject (bad UTF-8, nothing but whitespace)
  // simdjson refuses too, so they may come after it; a second BOM is kept
  // from it, for nlohmann's path to word the rejection.
  if (!body.starts_with(kBom)) {
    if (std::optional<std::vector<DocumentItem>> fast = FastDocument(body)) return *std::move(fast);
  }
  if (const size_t bad = FindInvalidUtf8(body); bad != std::string_view::npos) {
    return whole(RejectReason::kBadEncoding,
                 InvalidUtf8Detail(bad + content.size() - body.size()), body);
  }
  if (IsJsonWhitespace(body)) return whole(RejectReason::kBadJson, "file is empty", body);
  if (body.starts_with(kBom)) return whole(RejectReason::kBadJson, kBomDetail, body);

  Json doc;
  DepthLimitedDomSax sax(doc);
  if (!Json::sax_parse(body.data(), body.data() + body.size(), &sax)) {
    return whole(RejectReason::kBadJson, sax.error(), body);
  }
  if (doc.is_object()) {
    items.push_back({1, Validate(FieldsFromJson(doc)), std::string(body)});
    return items;
  }
  if (!doc.is_array()) {
    return whole(RejectReason::kNotObject,
                 "file holds " + std::string(KindName(KindOf(doc))) +
                     ", not an object or an array of objects",
                 body);
  }
  items.reserve(doc.size());
  uint64_t line = 0;
  for (const Json& element : doc) {
    ++line;
    std::string raw = element.dump(-1, ' ', false, Json::error_handler_t::replace);
    if (!element.is_object()) {
      items.push_back({line,
                       Reject(RejectReason::kNotObject,
                              "array element " + std::to_string(line) + " is " +
                                  std::string(KindName(KindOf(element))) + ", not an object"),
                       std::move(raw)});
      continue;
    }
    items.push_back({line, Validate(FieldsFromJson(element)), std::move(raw)});
  }
  return items;
}

}  // namespace
}  // namespace detail

std::string_view RejectReasonName(RejectReason reason) {
  switch (reason) {
    case RejectReason::kBadJson: return "bad_json";
    case RejectReason::kBadEncoding: return "bad_encoding";
    case RejectReason::kNotObject: return "not_object";
    case RejectReason::kMissingField: return "missing_field";
    case RejectReason::kMistypedField: return "mistyped_field";
    case RejectReason::kBadTimestamp: return "bad_timestamp";
    case RejectReason::kBadSeverity: return "bad_severity";
    case RejectReason::kBadName: return "bad_name";
    case RejectReason::kTooLarge: return "too_large";
  }
  return "bad_json";
}

ParseResult ParseEventLine(std::string_view line) {
  try {
    return detail::ParseLine(line);
  } catch (const std::exception& e) {  // allocation failure; nlohmann is not asked to throw
    return detail::Reject(RejectReason::kBadJson, std::string("cannot parse: ") + e.what());
  }
}

std::vector<DocumentItem> ParseEventDocument(std::string_view content) {
  try {
    return detail::ParseDocument(content);
  } catch (const std::exception& e) {
    std::vector<DocumentItem> items;
    items.push_back({1, detail::Reject(RejectReason::kBadJson, std::string("cannot parse: ") + e.what()),
                     std::string(content.substr(0, detail::kTooLargeRawBytes))});
    return items;
  }
}

std::string SanitizeRaw(std::string_view bytes) {
  return detail::SanitizeCut(bytes, detail::kMaxRawBytes);
}

bool IsValidUtf8(std::string_view bytes) {
  return detail::FindInvalidUtf8(bytes) == std::string_view::npos;
}

size_t ForbiddenNameByte(std::string_view name) {
  for (size_t i = 0; i < name.size(); ++i) {
    const auto c = static_cast<unsigned char>(name[i]);
    if (c == '/' || c < 0x20 || c == 0x7F) return i;
  }
  return std::string_view::npos;
}

}  // namespace hlo
