// Shared by the fuzz harnesses (tests/fuzz/fuzz_*.cc).
//
// Each harness is a plain function `int hlo::fuzz::FuzzXxx(const uint8_t*,
// size_t)` so that two programs can drive it: the libFuzzer target built by
// tests/fuzz/CMakeLists.txt (with HLO_LIBFUZZER defined, where
// HLO_FUZZ_ENTRY_POINT adds `LLVMFuzzerTestOneInput`), and `fuzz_replay`
// in the normal build, which feeds it every seed and every past crash.
//
// An invariant that does not hold is reported by HLO_FUZZ_CHECK and ends the
// process with abort(): libFuzzer saves the input as a crash, the replay test
// fails naming the input file.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

#include "observer/event.h"
#include "observer/event_parser.h"

namespace hlo::fuzz {

// The harnesses, one per target (see replay_main.cc for the table).
int FuzzEventLine(const uint8_t* data, size_t size);
int FuzzEventDocument(const uint8_t* data, size_t size);
int FuzzJsonlReader(const uint8_t* data, size_t size);
int FuzzInventory(const uint8_t* data, size_t size);
int FuzzTimestamp(const uint8_t* data, size_t size);
int FuzzWebConfig(const uint8_t* data, size_t size);

// Reports a broken invariant (with the replayed file, when there is one) and
// aborts. `what` is the failed condition, `detail` what the harness saw.
[[noreturn]] void Fail(const char* file, int line, std::string_view what, std::string_view detail);

// Set by fuzz_replay before each input so that Fail can name it.
void SetCurrentInput(std::string name);

// A folder of this process, removed at exit, for harnesses that must go
// through files. On tmpfs (/dev/shm) when there is one: on ext4, rewriting a
// file by truncation forces a writeback when it is closed, which turns
// thousands of runs a second into a hundred.
const std::filesystem::path& ScratchDir();

// Replaces `relative` under ScratchDir() (creating folders) or appends to it.
void WriteScratchFile(const std::filesystem::path& relative, std::string_view content,
                      bool append = false);

inline std::string_view AsText(const uint8_t* data, size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

// A straightforward UTF-8 decoder, written independently of the parser's
// optimised one so the two can be compared.
bool ReferenceIsValidUtf8(std::string_view bytes);

// Node and service names of an accepted event (CONTRACT §8): no '/', no
// control character, at most 253 bytes. "" (absent) passes.
bool IsAcceptableEventName(std::string_view name);

// The nine reason names of CONTRACT §8.
bool IsContractReasonName(std::string_view name);

// Field-by-field equality of accepted events (Event has no operator==).
bool SameEvent(const Event& a, const Event& b);

// Same acceptance, and then the same event or the same reason and detail.
bool SameResult(const ParseResult& a, const ParseResult& b);

// "accepted" or "<reason>: <detail>", for failure messages.
std::string Describe(const ParseResult& result);

// Checks what CONTRACT §4/§8 promise of any parse result: a rejection has one
// of the nine reasons and a bounded, valid UTF-8 detail; an accepted event has
// the fields its type needs, acceptable names, valid UTF-8 strings and a
// timestamp that formats and parses back to itself.
void CheckParseResult(const ParseResult& result);

}  // namespace hlo::fuzz

#define HLO_FUZZ_CHECK(condition, detail)                                          \
  do {                                                                             \
    if (!(condition)) ::hlo::fuzz::Fail(__FILE__, __LINE__, #condition, (detail)); \
  } while (false)

#ifdef HLO_LIBFUZZER
#define HLO_FUZZ_ENTRY_POINT(harness)                                       \
  extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) { \
    return ::hlo::fuzz::harness(data, size);                                \
  }
#else
#define HLO_FUZZ_ENTRY_POINT(harness)
#endif
