// `validate`: every event file checked from its first byte, nothing written.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace hlo {

struct Problem {
  std::string file;  // as shown: "events/<name>" or an inventory path
  uint64_t line = 0;
  std::string reason;  // a rejection reason, or "warning"/"error" for others
  std::string detail;
};

struct ValidationReport {
  uint64_t events = 0;   // every event found, valid or not
  uint64_t invalid = 0;  // those that would be rejected
  std::vector<Problem> problems;
  bool unreadable = false;  // events/ or a file in it could not be read
};

ValidationReport ValidateEventFiles(const std::filesystem::path& events_dir);

}  // namespace hlo
