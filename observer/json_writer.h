// A DOM-free streaming JSON writer whose output is byte-identical to
// nlohmann::json's `dump(2, ' ', false, error_handler_t::replace)` (pretty) or
// `dump(-1, ' ', false, error_handler_t::replace)` (compact) of the same
// document, without building the document.
//
//   JsonWriter w(JsonWriter::Style::kPretty);
//   w.BeginObject();
//   w.Key("a"); w.Uint(1);
//   w.Key("b"); w.BeginArray(); w.String("x"); w.Null(); w.EndArray();
//   w.EndObject();
//   w.Finish("\n");
//   std::string text = w.Take();   // {\n  "a": 1,\n  "b": [\n    "x",\n    null\n  ]\n}\n
//
// What the caller must do for the bytes to match nlohmann:
// - Emit the keys of every object in ascending std::string byte order, each
//   key once: nlohmann's objects are std::maps, so that is the order (and the
//   uniqueness) its dump has. The writer does not sort or deduplicate.
// - Use the same number kind nlohmann would hold: a whole double prints as
//   "2.0" and -0.0 as "-0.0", while Int/Uint print "2" and "0".
// Strings may hold any bytes: invalid UTF-8 is replaced by U+FFFD exactly as
// error_handler_t::replace does; valid UTF-8 and 0x7f pass through unescaped.
//
// Misuse (a value without a key inside an object, a key outside one, an
// unbalanced or mismatched End, a second top-level value) trips an assert in
// Debug builds and is not checked in Release.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace hlo {

class JsonWriter {
 public:
  enum class Style { kPretty, kCompact };

  // Receives the text in order, in pieces; a piece is valid only during the
  // call. Returns false on failure (e.g. a failed write); the writer then
  // stops calling it, drops the rest, and Finish() reports it. A sink that
  // throws counts as failed.
  using Sink = std::function<bool(std::string_view)>;

  static constexpr std::size_t kDefaultFlushThreshold = std::size_t{1} << 20;

  // Without a sink: the whole text accumulates, for Take()/str().
  explicit JsonWriter(Style style = Style::kPretty);
  // With a sink: the buffer is handed to `sink` whenever a call leaves it at
  // `flush_threshold` bytes or more, and at Finish().
  JsonWriter(Style style, Sink sink, std::size_t flush_threshold = kDefaultFlushThreshold);

  void BeginObject();
  void EndObject();
  void BeginArray();
  void EndArray();
  void Key(std::string_view key);
  void String(std::string_view value);
  void Null();
  void Bool(bool value);
  void Uint(uint64_t value);
  void Int(int64_t value);
  void Double(double value);  // NaN and infinities print as null

  void KeyString(std::string_view key, std::string_view value) { Key(key); String(value); }
  void KeyUint(std::string_view key, uint64_t value) { Key(key); Uint(value); }
  void KeyNull(std::string_view key) { Key(key); Null(); }

  // Appends `trailer` verbatim (e.g. "\n"), then hands any buffered text to
  // the sink. True unless the sink failed, now or earlier. Call once, after
  // the top-level value is complete.
  bool Finish(std::string_view trailer = {});

  // The text written so far (without a sink: all of it; with one: what has
  // not been flushed yet). Take() moves it out and leaves the buffer empty.
  const std::string& str() const { return out_; }
  std::string Take();

 private:
  void BeforeValue();
  void Separate();  // the comma, newline and indent before a member
  void Open(char bracket, bool is_object);
  void Close(char bracket, bool is_object);
  void AppendString(std::string_view s);
  void MaybeFlush() {
    if (sink_ && out_.size() >= flush_threshold_) Flush();
  }
  void Flush();

  struct Level {
    bool is_object;
    bool has_members;
  };

  const bool pretty_;
  Sink sink_;
  const std::size_t flush_threshold_;
  std::string out_;
  std::vector<Level> levels_;
  bool after_key_ = false;  // a Key was written; its value comes next
  bool sink_failed_ = false;
  bool top_written_ = false;  // for the Debug check on a second top-level value
};

}  // namespace hlo
