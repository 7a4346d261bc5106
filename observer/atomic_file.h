// Small file helpers for the I/O edge: atomic replacement and whole reads.
#pragma once

#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace hlo {

// Writes `content` to a temporary file in the same folder, fsyncs it, renames
// it over `path` and fsyncs the folder: a reader sees the old or the new file,
// never a part. On failure the old file is untouched, the temporary removed,
// and *error says what failed (with errno text).
bool WriteFileAtomic(const std::filesystem::path& path, std::string_view content,
                     std::string* error);

// WriteFileAtomic for several files in one folder, all or nothing as far as
// writing goes: every temporary file is written and fsynced before the first
// rename, so a full disk, a read-only folder or any other write error leaves
// every old file in place (and no temporary behind). Only a rename failing
// half-way (which needs no space) could leave some files new.
//
// A file's bytes are `content`, or — when `produce` is set — whatever
// `produce` passes to the `write` it is given, in order: a big file then
// never has to be held in memory whole. `write` returns false once writing
// failed; `produce` returns false to give up (and should after a failed
// write).
using ByteWriter = std::function<bool(std::string_view bytes)>;
struct FileToWrite {
  std::filesystem::path path;
  std::string_view content;
  std::function<bool(const ByteWriter& write)> produce;
};
bool WriteFilesAtomic(const std::vector<FileToWrite>& files, std::string* error);

// Removes the temporary files that WriteFileAtomic(path, …) calls killed
// before their rename left next to `path`. Only for a path with no other
// writer running (the observer owns its state/ and world/ files).
void RemoveLeftoverTemporaries(const std::filesystem::path& path);

// The whole file, or nullopt (with *error) when it cannot be read.
std::optional<std::string> ReadWholeFile(const std::filesystem::path& path, std::string* error);

// Appends and fsyncs; creates the file when absent.
bool AppendAndSync(const std::filesystem::path& path, std::string_view content,
                   std::string* error);

// Truncates to `size` bytes (no-op when already that size). Missing file and
// size 0 is fine.
bool TruncateTo(const std::filesystem::path& path, uint64_t size, std::string* error);

}  // namespace hlo
