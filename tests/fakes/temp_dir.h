// A scratch folder for tests: created fresh under the system temp directory,
// removed with everything in it when the TempDir goes out of scope.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

namespace hlo {

class TempDir {
 public:
  // Creates a new, empty, uniquely named folder. Throws std::runtime_error
  // if it cannot (a test cannot go on without it).
  TempDir();
  // Removes the folder and its contents; errors are ignored.
  ~TempDir();

  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::filesystem::path& path() const { return path_; }

  // Writes `content` to path()/relative, creating parent folders and
  // replacing any existing file; returns the full path. Throws
  // std::runtime_error on failure.
  std::filesystem::path Write(const std::string& relative, std::string_view content) const;

 private:
  std::filesystem::path path_;
};

}  // namespace hlo
