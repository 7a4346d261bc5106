#include "tests/fuzz/fuzz_support.h"

#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <optional>
#include <utility>
#include <variant>

#include "observer/timestamp.h"

namespace hlo::fuzz {
namespace {

// A detail is free text for an operator; the parser cuts quoted values and
// library messages, so even a 1 MiB line gives a short one. Generous bound.
constexpr size_t kMaxDetailBytes = 2048;
constexpr size_t kMaxNameBytes = 253;

std::string& CurrentInput() {
  static std::string name;
  return name;
}

bool IsControl(unsigned char c) { return c < 0x20 || c == 0x7F; }

// What each type needs (CONTRACT §4's table), restated here rather than
// taken from the parser so that the two are compared.
struct Needs {
  bool node, service, correlation_id, stage;
};

Needs NeedsOf(EventType type) {
  switch (type) {
    case EventType::kNodeHeartbeat:
    case EventType::kNodeDown:
    case EventType::kMaintenanceStarted:  // CONTRACT §9: a node, the service optional
    case EventType::kMaintenanceEnded: return {true, false, false, false};
    case EventType::kHealthcheckPassed:
    case EventType::kHealthcheckFailed:
    case EventType::kServiceUnhealthy: return {true, true, false, false};
    case EventType::kServiceRecovered: return {false, true, false, false};
    case EventType::kDeploymentStage: return {false, false, true, true};
    case EventType::kDeploymentStarted:
    case EventType::kDeploymentSucceeded:
    case EventType::kDeploymentFailed: return {false, false, true, false};
    case EventType::kUnknown: return {false, false, false, false};
  }
  return {false, false, false, false};
}

void CheckAcceptedEvent(const Event& e) {
  const Needs needs = NeedsOf(e.type);
  HLO_FUZZ_CHECK(!needs.node || !e.node.empty(), EventTypeName(e.type));
  HLO_FUZZ_CHECK(!needs.service || !e.service.empty(), EventTypeName(e.type));
  HLO_FUZZ_CHECK(!needs.correlation_id || !e.correlation_id.empty(), EventTypeName(e.type));
  HLO_FUZZ_CHECK(!needs.stage || !e.stage.empty(), EventTypeName(e.type));
  HLO_FUZZ_CHECK(e.type == EventType::kDeploymentStage || e.stage.empty(), e.stage);
  HLO_FUZZ_CHECK(e.type == EventType::kDeploymentFailed || e.diagnostics.empty(),
                 EventTypeName(e.type));

  HLO_FUZZ_CHECK(IsAcceptableEventName(e.node), e.node);
  HLO_FUZZ_CHECK(IsAcceptableEventName(e.service), e.service);
  // Strict JSON (valid UTF-8 in, no lone surrogate escapes) can only decode
  // to valid UTF-8, which the world files and metrics rely on.
  for (const std::string* s : {&e.node, &e.service, &e.correlation_id, &e.message, &e.stage}) {
    HLO_FUZZ_CHECK(ReferenceIsValidUtf8(*s), *s);
  }
  for (const std::string& d : e.diagnostics) HLO_FUZZ_CHECK(ReferenceIsValidUtf8(d), d);

  HLO_FUZZ_CHECK(e.timestamp.nanos >= 0 && e.timestamp.nanos < 1'000'000'000,
                 std::to_string(e.timestamp.nanos));
  const std::string formatted = FormatTimestamp(e.timestamp);
  const std::optional<Timestamp> back = ParseTimestamp(formatted);
  HLO_FUZZ_CHECK(back && *back == e.timestamp, formatted);
}

}  // namespace

void Fail(const char* file, int line, std::string_view what, std::string_view detail) {
  std::fprintf(stderr, "\n%s:%d: fuzz invariant broken: %.*s\n", file, line,
               static_cast<int>(what.size()), what.data());
  std::fprintf(stderr, "  saw: %.*s\n", static_cast<int>(std::min<size_t>(detail.size(), 400)),
               detail.data());
  if (!CurrentInput().empty()) std::fprintf(stderr, "  input: %s\n", CurrentInput().c_str());
  std::fflush(stderr);
  std::abort();
}

void SetCurrentInput(std::string name) { CurrentInput() = std::move(name); }

const std::filesystem::path& ScratchDir() {
  struct Scratch {
    std::filesystem::path path;
    Scratch() {
      std::error_code ec;
      std::filesystem::path base = "/dev/shm";
      if (::access(base.c_str(), W_OK | X_OK) != 0) base = std::filesystem::temp_directory_path(ec);
      std::string pattern = (base / "hlo-fuzz-XXXXXX").string();
      if (::mkdtemp(pattern.data()) == nullptr) Fail(__FILE__, __LINE__, "mkdtemp", pattern);
      path = pattern;
    }
    ~Scratch() {
      std::error_code ec;
      std::filesystem::remove_all(path, ec);
    }
  };
  static const Scratch scratch;
  return scratch.path;
}

void WriteScratchFile(const std::filesystem::path& relative, std::string_view content,
                      bool append) {
  const std::filesystem::path file = ScratchDir() / relative;
  std::error_code ec;
  std::filesystem::create_directories(file.parent_path(), ec);
  std::ofstream out(file, std::ios::binary | (append ? std::ios::app : std::ios::trunc));
  out.write(content.data(), static_cast<std::streamsize>(content.size()));
  out.close();
  HLO_FUZZ_CHECK(out.good(), file.string());
}

bool ReferenceIsValidUtf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    size_t len;
    uint32_t cp;
    if (c < 0x80) {
      ++i;
      continue;
    } else if ((c & 0xE0) == 0xC0) {
      len = 2, cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      len = 3, cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      len = 4, cp = c & 0x07;
    } else {
      return false;
    }
    if (i + len > s.size()) return false;
    for (size_t k = 1; k < len; ++k) {
      const auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3F);
    }
    static constexpr uint32_t kMinForLength[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < kMinForLength[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += len;
  }
  return true;
}

bool IsAcceptableEventName(std::string_view name) {
  if (name.size() > kMaxNameBytes) return false;
  for (const char ch : name) {
    if (ch == '/' || IsControl(static_cast<unsigned char>(ch))) return false;
  }
  return true;
}

bool IsContractReasonName(std::string_view name) {
  for (const std::string_view known :
       {"bad_json", "bad_encoding", "not_object", "missing_field", "mistyped_field",
        "bad_timestamp", "bad_severity", "bad_name", "too_large"}) {
    if (name == known) return true;
  }
  return false;
}

bool SameEvent(const Event& a, const Event& b) {
  return a.timestamp == b.timestamp && a.type == b.type && a.node == b.node &&
         a.service == b.service && a.correlation_id == b.correlation_id &&
         a.severity == b.severity && a.message == b.message && a.stage == b.stage &&
         a.diagnostics == b.diagnostics;
}

bool SameResult(const ParseResult& a, const ParseResult& b) {
  if (a.index() != b.index()) return false;
  if (const auto* ea = std::get_if<Event>(&a)) return SameEvent(*ea, std::get<Event>(b));
  const auto& ra = std::get<Rejection>(a);
  const auto& rb = std::get<Rejection>(b);
  return ra.reason == rb.reason && ra.detail == rb.detail;
}

std::string Describe(const ParseResult& result) {
  if (const auto* r = std::get_if<Rejection>(&result)) {
    return std::string(RejectReasonName(r->reason)) + ": " + r->detail;
  }
  return "accepted";
}

void CheckParseResult(const ParseResult& result) {
  if (const auto* event = std::get_if<Event>(&result)) {
    CheckAcceptedEvent(*event);
    return;
  }
  const auto& rejection = std::get<Rejection>(result);
  const auto reason = static_cast<size_t>(rejection.reason);
  HLO_FUZZ_CHECK(reason < std::size(kAllRejectReasons) &&
                     IsContractReasonName(RejectReasonName(rejection.reason)),
                 std::to_string(reason));
  // The detail is written as a JSON string to rejected-events.jsonl: invalid
  // UTF-8 there would make the writer throw.
  HLO_FUZZ_CHECK(ReferenceIsValidUtf8(rejection.detail), rejection.detail);
  HLO_FUZZ_CHECK(rejection.detail.size() <= kMaxDetailBytes, rejection.detail);
}

}  // namespace hlo::fuzz
