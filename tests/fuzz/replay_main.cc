// fuzz_replay: runs every file of the given folders through the fuzz
// harnesses, without libFuzzer, as part of the normal test suite.
//
//   fuzz_replay <dir>...     each <dir>/<target>/<file> goes to <target>
//
// The folders are tests/fuzz/corpus (seeds) and tests/fuzz/regressions
// (every crashing input ever found). A broken invariant aborts, naming the
// file. Exits 1 on a folder that is missing or names no known target, and
// when a target got no input at all (a renamed folder would otherwise test
// nothing).
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <string>
#include <vector>

#include "tests/fuzz/fuzz_support.h"

namespace {

namespace fs = std::filesystem;
using Harness = int (*)(const uint8_t*, size_t);

// Folder name → harness; null when not built here (see tests/CMakeLists.txt).
const std::map<std::string, Harness>& Targets() {
  static const std::map<std::string, Harness> targets = {
      {"fuzz_event_line", hlo::fuzz::FuzzEventLine},
      {"fuzz_event_document", hlo::fuzz::FuzzEventDocument},
      {"fuzz_jsonl_reader", hlo::fuzz::FuzzJsonlReader},
      {"fuzz_inventory", hlo::fuzz::FuzzInventory},
      {"fuzz_timestamp", hlo::fuzz::FuzzTimestamp},
#ifdef HLO_FUZZ_WEB_CONFIG
      {"fuzz_web_config", hlo::fuzz::FuzzWebConfig},
#else
      {"fuzz_web_config", nullptr},
#endif
  };
  return targets;
}

std::vector<fs::path> SortedEntries(const fs::path& dir) {
  std::vector<fs::path> entries;
  for (const fs::directory_entry& e : fs::directory_iterator(dir)) entries.push_back(e.path());
  std::sort(entries.begin(), entries.end());
  return entries;
}

std::string ReadFile(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: fuzz_replay <dir>...\n");
    return 2;
  }
  std::map<std::string, size_t> replayed;
  for (const auto& [name, harness] : Targets()) {
    if (harness != nullptr) replayed[name] = 0;
  }
  bool ok = true;
  for (int i = 1; i < argc; ++i) {
    const fs::path root = argv[i];
    if (!fs::is_directory(root)) {
      std::fprintf(stderr, "fuzz_replay: %s is not a folder\n", root.c_str());
      return 1;
    }
    for (const fs::path& dir : SortedEntries(root)) {
      if (!fs::is_directory(dir)) continue;  // README.md and the like
      const std::string target = dir.filename().string();
      const auto it = Targets().find(target);
      if (it == Targets().end()) {
        std::fprintf(stderr, "fuzz_replay: %s names no fuzz target\n", dir.c_str());
        ok = false;
        continue;
      }
      if (it->second == nullptr) {
        std::printf("%s: not built here, skipped\n", dir.c_str());
        continue;
      }
      for (const fs::path& file : SortedEntries(dir)) {
        if (!fs::is_regular_file(file) || file.filename().string().starts_with(".")) continue;
        const std::string input = ReadFile(file);
        hlo::fuzz::SetCurrentInput(file.string());
        it->second(reinterpret_cast<const uint8_t*>(input.data()), input.size());
        ++replayed[target];
      }
    }
  }
  for (const auto& [target, count] : replayed) {
    std::printf("%-22s %zu inputs\n", target.c_str(), count);
    if (count == 0) {
      std::fprintf(stderr, "fuzz_replay: no input at all for %s\n", target.c_str());
      ok = false;
    }
  }
  return ok ? 0 : 1;
}
