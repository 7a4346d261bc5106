// state/rejected-events.jsonl (CONTRACT §3, §8): one line per rejected event
// of the current history, ordered by file name, then line. Events arrive in
// any order of files, so a batch's rejections are appended when they sort
// after the log's last line, and otherwise merged into a new log that
// replaces the old one atomically. What the log holds is described by a
// RejectedLogState, kept in the checkpoint: its size, an FNV-1a hash of
// those bytes and its last (file, line).
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "observer/checkpoint.h"
#include "observer/env.h"
#include "observer/event_parser.h"

namespace hlo {

// A rejected event as reported to the operator and to rejected-events.jsonl.
struct RejectedEvent {
  std::string file;  // name inside events/
  uint64_t line = 0;
  RejectReason reason = RejectReason::kBadJson;
  std::string detail;
  std::string raw;  // already sanitised and cut to 1 KiB
};

// FNV-1a of `bytes`, continued from `hash`: the log's hash grows with it.
uint64_t Fnv1a(std::string_view bytes, uint64_t hash = kFnvOffset);

// The log's line for one rejection, with its '\n'.
std::string RejectedLine(const RejectedEvent& rejected);

enum class RejectedLogCheck { kOk, kShorter, kOther };
// On open: whether the log at `path` starts with the bytes `state` describes;
// when it does, lines past them (written by a run killed before its
// checkpoint) are cut off. kShorter / kOther mean the world must be rebuilt.
// false (with *error) only when cutting fails.
bool CheckRejectedLog(Env& env, const std::filesystem::path& path, const RejectedLogState& state,
                      RejectedLogCheck* check, std::string* error);

// Writes `pending` (sorted here) into the log at `path` — the whole log when
// `rewrite` (after a replay), else among the lines `state` describes — and
// updates `state`. false (with *error) when a write fails; the log is then
// as `state` still describes it.
bool WriteRejectedLog(Env& env, const std::filesystem::path& path,
                      std::vector<RejectedEvent>& pending, bool rewrite, RejectedLogState& state,
                      std::string* error);

}  // namespace hlo
