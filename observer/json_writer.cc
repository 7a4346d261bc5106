#include "observer/json_writer.h"

#include <algorithm>
#include <array>
#include <cassert>
#include <charconv>
#include <cmath>
#include <utility>

#include <nlohmann/json.hpp>

#include "observer/event_parser.h"

namespace hlo {
namespace detail {
namespace {

// What a string byte becomes: 0 copied as is, kHigh part of a multi-byte
// sequence (copied once the string is known to be valid UTF-8), 'u' a
// \u00xx escape, any other letter the two-character escape \<letter>.
constexpr char kHigh = 'H';

constexpr std::array<char, 256> MakeEscapeTable() {
  std::array<char, 256> table{};
  for (int c = 0; c < 0x20; ++c) table[c] = 'u';
  for (int c = 0x80; c < 0x100; ++c) table[c] = kHigh;
  table['\b'] = 'b';
  table['\t'] = 't';
  table['\n'] = 'n';
  table['\f'] = 'f';
  table['\r'] = 'r';
  table['"'] = '"';
  table['\\'] = '\\';
  return table;
}
constexpr std::array<char, 256> kEscape = MakeEscapeTable();

// nlohmann's replace handler resynchronises after an error in its own way
// (it re-reads the byte that broke a sequence, one U+FFFD per maximal bad
// prefix); rather than re-deriving that, let it escape the rare bad string.
std::string DumpWithReplacement(std::string_view s) {
  return nlohmann::json(std::string(s)).dump(-1, ' ', false,
                                             nlohmann::json::error_handler_t::replace);
}

}  // namespace
}  // namespace detail

JsonWriter::JsonWriter(Style style) : JsonWriter(style, nullptr, kDefaultFlushThreshold) {}

JsonWriter::JsonWriter(Style style, Sink sink, std::size_t flush_threshold)
    : pretty_(style == Style::kPretty), sink_(std::move(sink)), flush_threshold_(flush_threshold) {
  if (sink_) out_.reserve(std::min(flush_threshold_, kDefaultFlushThreshold) + 256);
}

void JsonWriter::BeginObject() { Open('{', true); }
void JsonWriter::EndObject() { Close('}', true); }
void JsonWriter::BeginArray() { Open('[', false); }
void JsonWriter::EndArray() { Close(']', false); }

void JsonWriter::Key(std::string_view key) {
  assert(!levels_.empty() && levels_.back().is_object && !after_key_ && "Key outside an object");
  Separate();
  AppendString(key);
  if (pretty_) {
    out_ += ": ";
  } else {
    out_ += ':';
  }
  after_key_ = true;
}

void JsonWriter::String(std::string_view value) {
  BeforeValue();
  AppendString(value);
  MaybeFlush();
}

void JsonWriter::Null() {
  BeforeValue();
  out_ += "null";
  MaybeFlush();
}

void JsonWriter::Bool(bool value) {
  BeforeValue();
  out_ += value ? std::string_view("true") : std::string_view("false");
  MaybeFlush();
}

void JsonWriter::Uint(uint64_t value) {
  BeforeValue();
  char buf[24];
  out_.append(buf, std::to_chars(buf, buf + sizeof buf, value).ptr);
  MaybeFlush();
}

void JsonWriter::Int(int64_t value) {
  BeforeValue();
  char buf[24];
  out_.append(buf, std::to_chars(buf, buf + sizeof buf, value).ptr);
  MaybeFlush();
}

void JsonWriter::Double(double value) {
  BeforeValue();
  // nlohmann's shortest round-trip form ("0.5", "1e-07", "2.0"); doubles are
  // rare in our files, so its formatter is cheap enough and exact by definition.
  if (std::isfinite(value)) {
    out_ += nlohmann::json(value).dump();
  } else {
    out_ += "null";
  }
  MaybeFlush();
}

bool JsonWriter::Finish(std::string_view trailer) {
  assert(levels_.empty() && !after_key_ && "Finish inside an open object or array");
  out_ += trailer;
  if (sink_) Flush();
  return !sink_failed_;
}

std::string JsonWriter::Take() {
  std::string text = std::move(out_);
  out_.clear();
  return text;
}

void JsonWriter::BeforeValue() {
  if (after_key_) {
    after_key_ = false;
    return;
  }
  if (levels_.empty()) {
    assert(!top_written_ && "a second top-level value");
    top_written_ = true;
    return;
  }
  assert(!levels_.back().is_object && "a value inside an object needs a Key first");
  Separate();
}

// nlohmann writes "{\n" + indent before the first member; writing the "\n"
// + indent lazily here is what lets an empty container stay "{}".
void JsonWriter::Separate() {
  Level& level = levels_.back();
  if (level.has_members) out_ += ',';
  level.has_members = true;
  if (pretty_) {
    out_ += '\n';
    out_.append(2 * levels_.size(), ' ');
  }
}

void JsonWriter::Open(char bracket, bool is_object) {
  BeforeValue();
  out_ += bracket;
  levels_.push_back({is_object, false});
}

void JsonWriter::Close(char bracket, [[maybe_unused]] bool is_object) {
  assert(!levels_.empty() && levels_.back().is_object == is_object && !after_key_ &&
         "unbalanced or mismatched End");
  const bool had_members = levels_.back().has_members;
  levels_.pop_back();
  if (pretty_ && had_members) {
    out_ += '\n';
    out_.append(2 * levels_.size(), ' ');
  }
  out_ += bracket;
  MaybeFlush();
}

void JsonWriter::AppendString(std::string_view s) {
  const std::size_t mark = out_.size();
  out_ += '"';
  const char* const data = s.data();
  std::size_t run = 0;  // start of the bytes not yet copied
  bool utf8_checked = false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char e = detail::kEscape[static_cast<unsigned char>(data[i])];
    if (e == 0) continue;
    if (e == detail::kHigh) {
      if (utf8_checked) continue;
      // Everything before i is ASCII, so checking from i decides the string.
      if (!IsValidUtf8(s.substr(i))) {
        out_.resize(mark);
        out_ += detail::DumpWithReplacement(s);
        return;
      }
      utf8_checked = true;
      continue;
    }
    out_.append(data + run, i - run);
    run = i + 1;
    if (e == 'u') {
      static constexpr char kHex[] = "0123456789abcdef";  // nlohmann prints %04x
      const auto c = static_cast<unsigned char>(data[i]);
      const char escape[6] = {'\\', 'u', '0', '0', kHex[c >> 4], kHex[c & 0xF]};
      out_.append(escape, sizeof escape);
    } else {
      const char escape[2] = {'\\', e};
      out_.append(escape, sizeof escape);
    }
  }
  out_.append(data + run, s.size() - run);
  out_ += '"';
}

void JsonWriter::Flush() {
  if (!sink_failed_ && !out_.empty()) {
    // A sink that throws counts as a failed one: the writer never lets it escape.
    try {
      sink_failed_ = !sink_(out_);
    } catch (...) {
      sink_failed_ = true;
    }
  }
  out_.clear();  // after a failure the rest is dropped, not hoarded
}

}  // namespace hlo
