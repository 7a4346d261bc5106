// JsonWriter against its reference: for every document here, walking the
// nlohmann DOM into the writer must give exactly the bytes of
// dump(2, ' ', false, replace) and dump(-1, ' ', false, replace).
#include "observer/json_writer.h"

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <limits>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace hlo {
namespace {

using nlohmann::json;

// Objects iterate in std::map key order: the order the writer's callers owe it.
void Walk(const json& j, JsonWriter& w) {
  switch (j.type()) {
    case json::value_t::object:
      w.BeginObject();
      for (auto it = j.begin(); it != j.end(); ++it) {
        w.Key(it.key());
        Walk(it.value(), w);
      }
      w.EndObject();
      break;
    case json::value_t::array:
      w.BeginArray();
      for (const json& v : j) Walk(v, w);
      w.EndArray();
      break;
    case json::value_t::string: w.String(j.get_ref<const std::string&>()); break;
    case json::value_t::boolean: w.Bool(j.get<bool>()); break;
    case json::value_t::number_integer: w.Int(j.get<int64_t>()); break;
    case json::value_t::number_unsigned: w.Uint(j.get<uint64_t>()); break;
    case json::value_t::number_float: w.Double(j.get<double>()); break;
    default: w.Null(); break;
  }
}

std::string Write(const json& j, JsonWriter::Style style) {
  JsonWriter w(style);
  Walk(j, w);
  EXPECT_TRUE(w.Finish());
  return w.Take();
}

std::string Dump(const json& j, int indent) {
  return j.dump(indent, ' ', false, json::error_handler_t::replace);
}

// The bytes of `s` as readable ASCII, for failure messages.
std::string Shown(const std::string& s) {
  std::string out;
  for (const char c : s) {
    char buf[5];
    std::snprintf(buf, sizeof buf, "\\x%02x", static_cast<unsigned char>(c));
    out += buf;
  }
  return out;
}

// Empty when both styles match nlohmann, else what differed (for ASSERT_EQ
// inside big loops, which then stop at the first difference).
std::string Mismatch(const json& j) {
  for (const auto& [style, indent] : {std::pair{JsonWriter::Style::kPretty, 2},
                                      std::pair{JsonWriter::Style::kCompact, -1}}) {
    const std::string want = Dump(j, indent);
    const std::string got = Write(j, style);
    if (got != want) {
      return "indent " + std::to_string(indent) + "\n want: " + json(want).dump() +
             "\n  got: " + json(got).dump();
    }
  }
  return "";
}

// As a value and as a key, alone and between ASCII neighbours.
std::string StringMismatch(const std::string& s) {
  for (const json& j : {json(s), json({{s, s}}), json::array({"a" + s + "z", s + "\n"}),
                        json({{"k", "x" + s}, {"k" + s, 1}})}) {
    if (std::string m = Mismatch(j); !m.empty()) return m;
  }
  return "";
}

TEST(JsonWriterTest, EveryByteValueInAStringMatchesNlohmann) {
  for (int b = 0; b < 256; ++b) {
    ASSERT_EQ(StringMismatch(std::string(1, static_cast<char>(b))), "") << "byte " << b;
  }
}

TEST(JsonWriterTest, EveryTwoByteStringMatchesNlohmann) {
  for (int a = 0; a < 256; ++a) {
    for (int b = 0; b < 256; ++b) {
      const std::string s{static_cast<char>(a), static_cast<char>(b)};
      ASSERT_EQ(Mismatch(json(s)), "") << "bytes " << a << " " << b;
    }
  }
}

// Every 4-byte string over the bytes where UTF-8 validity changes.
TEST(JsonWriterTest, BoundaryByteSequencesMatchNlohmann) {
  const std::vector<unsigned char> edges = {0x00, 0x22, 0x41, 0x5c, 0x7f, 0x80, 0x8f, 0x90, 0x9f,
                                            0xa0, 0xbf, 0xc0, 0xc1, 0xc2, 0xdf, 0xe0, 0xed, 0xef,
                                            0xf0, 0xf4, 0xf5, 0xff};
  std::string s(4, '\0');
  for (unsigned char a : edges) {
    for (unsigned char b : edges) {
      for (unsigned char c : edges) {
        for (unsigned char d : edges) {
          s = {static_cast<char>(a), static_cast<char>(b), static_cast<char>(c),
               static_cast<char>(d)};
          ASSERT_EQ(Mismatch(json(s)), "") << Shown(s);
        }
      }
    }
  }
}

TEST(JsonWriterTest, InvalidUtf8IsReplacedExactlyAsNlohmannDoes) {
  const std::vector<std::string> cases = {
      "\x80", "a\x80z", "\xbf\xbf", "\x80\x80\x80\x80",            // lone continuation bytes
      "\xc3", "\xe2\x82", "\xf0\x9f\x98",                          // truncated at the end
      "\xc3z", "a\xe2\x82z", "a\xf0\x9f\x98z", "\xe2\x82\xe2\x82\xac",  // truncated mid-string
      "\xf0\x9f\x98\"", "\xe2\x82\n",                              // truncated before an escape
      "\xc0\x80", "\xc1\xbf", "\xe0\x80\xaf", "\xe0\x9f\xbf",      // overlong
      "\xf0\x80\x80\xaf", "\xf0\x8f\xbf\xbf",
      "\xed\xa0\x80", "\xed\xbf\xbf", "\xed\xa0\xbd\xed\xb8\x80",  // UTF-16 surrogates
      "\xf5", "\xf8\x88\x80\x80\x80", "\xfc\x84\x80\x80\x80\x80", "\xfe", "\xff", "\xff\xfe",
      "\xf4\x90\x80\x80", "\xf7\xbf\xbf\xbf",                      // beyond U+10FFFF
      "ok \xe2\x82\xac then \xff then \xc3\xa9", std::string(600, '\x80'),
      // past nlohmann's 512-byte string buffer
      std::string(300, 'a') + "\xe2\x82" + std::string(300, '\n'),
  };
  for (const std::string& s : cases) EXPECT_EQ(StringMismatch(s), "") << Shown(s);
}

TEST(JsonWriterTest, ValidMultiByteUtf8PassesThroughUnchanged) {
  const std::vector<std::string> cases = {
      "\xc2\x80", "\xc3\xa9t\xc3\xa9", "\xe2\x82\xac", "\xed\x9f\xbf", "\xee\x80\x80",
      "\xef\xbf\xbf", "\xf0\x90\x80\x80", "\xf0\x9f\x98\x80", "\xf4\x8f\xbf\xbf",
      "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e",
      "tab\t\xc3\xa9\"quote\"\\ \x01\x7f", "\xef\xbb\xbf" "bom",
      // longer than nlohmann's 512-byte string buffer
      [] {
        std::string s;
        for (int i = 0; i < 100; ++i) s += "line \xe2\x82\xac\t\"q\"\n";
        return s;
      }(),
  };
  for (const std::string& s : cases) {
    EXPECT_EQ(StringMismatch(s), "") << s;
    JsonWriter w(JsonWriter::Style::kCompact);
    w.String(s);
    EXPECT_EQ(w.str().find("\xef\xbf\xbd"), std::string::npos) << s;  // no U+FFFD
  }
}

TEST(JsonWriterTest, ControlBytesUseShortEscapesOrLowercaseHex) {
  JsonWriter w(JsonWriter::Style::kCompact);
  w.String(std::string("\b\f\n\r\t\"\\\x00\x1f\x1b\x7f/", 12));
  EXPECT_EQ(w.str(), "\"\\b\\f\\n\\r\\t\\\"\\\\\\u0000\\u001f\\u001b\x7f/\"");
}

TEST(JsonWriterTest, EmptyContainersStayOnOneLineAtEveryDepth) {
  json nested = json::object();
  for (int depth = 0; depth < 6; ++depth) {
    nested = {{"a", json::array()}, {"o", json::object()}, {"n", nested},
              {"l", json::array({json::array(), json::object(), nested})}};
    ASSERT_EQ(Mismatch(nested), "") << "depth " << depth;
  }
  for (const json& j :
       {json::object(), json::array(), json::array({json::array()}),
        json::array({json::object(), json::object()}), json({{"x", json::object()}})}) {
    EXPECT_EQ(Mismatch(j), "") << j.dump();
  }
  JsonWriter w;
  w.BeginObject();
  w.Key("e");
  w.BeginArray();
  w.EndArray();
  w.EndObject();
  EXPECT_EQ(w.Take(), "{\n  \"e\": []\n}");
}

TEST(JsonWriterTest, PrettyAndCompactLayoutsAreNlohmanns) {
  const json j = {{"a", 1}, {"b", json::array({1, "x", nullptr, true})}, {"c", {{"d", false}}}};
  EXPECT_EQ(Write(j, JsonWriter::Style::kCompact),
            R"({"a":1,"b":[1,"x",null,true],"c":{"d":false}})");
  EXPECT_EQ(Write(j, JsonWriter::Style::kPretty),
            "{\n  \"a\": 1,\n  \"b\": [\n    1,\n    \"x\",\n    null,\n    true\n  ],\n"
            "  \"c\": {\n    \"d\": false\n  }\n}");
  EXPECT_EQ(Mismatch(j), "");
}

TEST(JsonWriterTest, TopLevelScalarsMatchNlohmann) {
  for (const json& j :
       {json(nullptr), json(true), json(false), json("s"), json(7), json(-7), json(0.25)}) {
    EXPECT_EQ(Mismatch(j), "") << j.dump();
  }
}

TEST(JsonWriterTest, IntegersMatchNlohmann) {
  using I = std::numeric_limits<int64_t>;
  using U = std::numeric_limits<uint64_t>;
  const json j =
      json::array({0, 1, -1, 9, 10, 99, 100, -100, 1234567890, -987654321, I::max(), I::min(),
                   I::min() + 1, U::max(), U::max() - 1, uint64_t{0}, uint64_t{1}});
  EXPECT_EQ(Mismatch(j), "");
  JsonWriter w(JsonWriter::Style::kCompact);
  w.BeginArray();
  w.Uint(U::max());
  w.Int(I::min());
  w.Int(0);
  w.EndArray();
  EXPECT_EQ(w.Take(), "[18446744073709551615,-9223372036854775808,0]");
}

TEST(JsonWriterTest, DoublesMatchNlohmannAndNonFiniteIsNull) {
  const double inf = std::numeric_limits<double>::infinity();
  const std::vector<double> values = {
      0.5, 1.25, 1e-7, 1e20, 123.456, -0.0, 0.0, 1.0 / 3, 2.0, -1.5, 1e15,
      1e16, 1e300, 4.9e-324, std::numeric_limits<double>::max(), std::nan(""), inf, -inf};
  for (double d : values) {
    EXPECT_EQ(Mismatch(json(d)), "") << d;
    EXPECT_EQ(Mismatch(json({{"d", d}})), "") << d;
  }
  JsonWriter w(JsonWriter::Style::kCompact);
  w.BeginArray();
  w.Double(std::nan(""));
  w.Double(inf);
  w.Double(-0.0);
  w.Double(2.0);
  w.EndArray();
  EXPECT_EQ(w.Take(), "[null,null,-0.0,2.0]");
}

// splitmix64 draws: <random>'s distributions differ between standard
// libraries, the raw generator does not.
class Rng {
 public:
  explicit Rng(uint64_t seed) : state_(seed) {}
  uint64_t Next() {
    uint64_t z = (state_ += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }
  uint64_t Below(uint64_t n) { return Next() % n; }

 private:
  uint64_t state_;
};

std::string RandomString(Rng& rng) {
  static const std::vector<std::string> pieces = {
      "a", "node", "-", "2026-05-12T12:05:00Z", "\"", "\\", "\n", "\t", "\x01", "\x7f", " ",
      "\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x98\x80", "\x80", "\xc3", "\xe2\x82", "\xed\xa0\x80",
      "\xff", "/", "\x1f"};
  std::string s;
  const uint64_t n = rng.Below(6);
  for (uint64_t i = 0; i < n; ++i) {
    // Mostly clean text, so that both the fast path and the fallback get exercised.
    s += rng.Below(4) == 0 ? pieces[rng.Below(pieces.size())] : pieces[rng.Below(4)];
  }
  return s;
}

json RandomValue(Rng& rng, int depth) {
  const uint64_t kind = rng.Below(depth >= 5 ? 7 : 9);
  switch (kind) {
    case 0: return nullptr;
    case 1: return rng.Below(2) == 1;
    case 2: return static_cast<int64_t>(rng.Next());
    case 3: return rng.Next() >> rng.Below(64);
    case 4: {
      const uint64_t bits = rng.Next();
      double d;
      std::memcpy(&d, &bits, sizeof d);
      return rng.Below(2) == 0 ? d : static_cast<double>(rng.Below(100000)) / 64.0;
    }
    case 5:
    case 6: return RandomString(rng);
    case 7: {
      json a = json::array();
      for (uint64_t n = rng.Below(5); n > 0; --n) a.push_back(RandomValue(rng, depth + 1));
      return a;
    }
    default: {
      json o = json::object();
      for (uint64_t n = rng.Below(6); n > 0; --n) {
        o[RandomString(rng)] = RandomValue(rng, depth + 1);
      }
      return o;
    }
  }
}

TEST(JsonWriterTest, RandomDocumentsMatchNlohmann) {
  Rng rng(20260512);
  for (int i = 0; i < 4000; ++i) {
    const json j = RandomValue(rng, 0);
    ASSERT_EQ(Mismatch(j), "") << "case " << i;
  }
}

json WorldLike() {
  json out = json::object();
  for (int i = 0; i < 200; ++i) {
    const std::string id = "inc-" + std::to_string(1735689600 + i) + "-node-" + std::to_string(i);
    json events = json::array();
    for (int e = 0; e < i % 7; ++e) {
      events.push_back("2026-05-12T12:0" + std::to_string(e) + ":00Z");
    }
    out[id] = {{"id", id}, {"node", "node-" + std::to_string(i)}, {"occurrence_count", i},
               {"events", events}, {"resolved_at", nullptr}, {"diagnostics", json::array()}};
  }
  return out;
}

TEST(JsonWriterTest, TinyFlushThresholdGivesTheSameConcatenatedBytes) {
  const json j = WorldLike();
  for (const auto& [style, indent] : {std::pair{JsonWriter::Style::kPretty, 2},
                                      std::pair{JsonWriter::Style::kCompact, -1}}) {
    for (std::size_t threshold : {std::size_t{1}, std::size_t{7}, std::size_t{4096}}) {
      std::string streamed;
      int calls = 0;
      JsonWriter w(style, [&](std::string_view piece) {
        streamed += piece;
        ++calls;
        return true;
      }, threshold);
      Walk(j, w);
      EXPECT_TRUE(w.Finish("\n"));
      EXPECT_EQ(streamed, Dump(j, indent) + "\n") << "threshold " << threshold;
      EXPECT_GT(calls, 1);
      EXPECT_TRUE(w.str().empty());
    }
  }
}

TEST(JsonWriterTest, WithoutSinkFinishAppendsTheTrailerAndTakeReturnsEverything) {
  JsonWriter w;
  w.BeginObject();
  w.KeyString("a", "b");
  w.KeyUint("n", 3);
  w.KeyNull("z");
  w.EndObject();
  EXPECT_TRUE(w.Finish("\n"));
  EXPECT_EQ(w.Take(), "{\n  \"a\": \"b\",\n  \"n\": 3,\n  \"z\": null\n}\n");
  EXPECT_TRUE(w.str().empty());
}

TEST(JsonWriterTest, FailingSinkMakesFinishReportFailureAndIsNotCalledAgain) {
  int calls = 0;
  JsonWriter w(JsonWriter::Style::kPretty, [&](std::string_view) {
    ++calls;
    return false;
  }, 16);
  Walk(WorldLike(), w);
  EXPECT_FALSE(w.Finish("\n"));
  EXPECT_EQ(calls, 1);
  EXPECT_TRUE(w.str().empty());
}

TEST(JsonWriterTest, SinkFailingOnlyAtFinishIsReported) {
  JsonWriter w(JsonWriter::Style::kCompact, [](std::string_view) { return false; });
  w.BeginArray();
  w.EndArray();
  EXPECT_FALSE(w.Finish());
}

TEST(JsonWriterTest, ThrowingSinkCountsAsFailed) {
  auto sink = [](std::string_view) -> bool { throw std::runtime_error("disk full"); };
  JsonWriter w(JsonWriter::Style::kCompact, sink, 1);
  w.BeginArray();
  w.String("x");
  w.EndArray();
  EXPECT_FALSE(w.Finish());
}

#ifndef NDEBUG
TEST(JsonWriterDeathTest, MisuseTripsAssertionsInDebugBuilds) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH({ JsonWriter w; w.BeginObject(); w.Uint(1); }, "Key");
  EXPECT_DEATH({ JsonWriter w; w.BeginArray(); w.Key("k"); }, "Key outside");
  EXPECT_DEATH({ JsonWriter w; w.BeginArray(); w.EndObject(); }, "mismatched");
  EXPECT_DEATH({ JsonWriter w; w.EndArray(); }, "unbalanced");
  EXPECT_DEATH({ JsonWriter w; w.Null(); w.Null(); }, "second top-level");
  EXPECT_DEATH({ JsonWriter w; w.BeginObject(); w.Finish(); }, "Finish inside");
}
#endif

}  // namespace
}  // namespace hlo
