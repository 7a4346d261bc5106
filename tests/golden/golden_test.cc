// Golden tests: the real program on a small homelab, its world files
// compared byte for byte with reviewed expectations.
//
// Each folder tests/golden/cases/<name>/ holds:
//   events/                      copied to <root>/events
//   state/stages/, logs/         optional; copied to <root>/state/stages, <root>/logs
//   inventory/ and/or hosts/     optional; the case folder is then --inventory
//   args                         optional; extra flags, whitespace-separated
//                                (a --now there replaces the default)
//   expected/<world file>.json   the five world files after `once`
//   expected/rejected-events.jsonl  optional; state/rejected-events.jsonl,
//                                compared without `detail` (free text, §8)
//
// The program runs on a temporary copy, never on the case folder itself.
//
// Regenerating after a deliberate change in behaviour:
//   HLO_UPDATE_GOLDEN=1 build/bin/observer_tests --gtest_filter='GoldenTest.*'
// rewrites every expected/ file from the current program. A golden file is a
// reviewed statement, not a recording: read each changed file against
// CONTRACT.md field by field (git diff tests/golden) before committing it.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <sstream>

#include "tests/fakes/temp_dir.h"
#include "tests/integration/process_helpers.h"

namespace hlo {
namespace {

namespace fs = std::filesystem;
using testing::FirstDifference;
using testing::ReadFile;

const fs::path kCasesDir = fs::path(HLO_SOURCE_DIR) / "tests" / "golden" / "cases";
constexpr char kRejectedLog[] = "rejected-events.jsonl";

std::vector<std::string> CaseNames() {
  std::vector<std::string> names;
  std::error_code ec;
  for (fs::directory_iterator it(kCasesDir, ec), end; !ec && it != end; it.increment(ec)) {
    if (it->is_directory()) names.push_back(it->path().filename().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

bool Updating() {
  const char* v = std::getenv("HLO_UPDATE_GOLDEN");
  return v != nullptr && std::string(v) == "1";
}

// The flags for the case: the args file's, then --inventory and a default
// --now where the case did not choose.
std::vector<std::string> CaseFlags(const fs::path& dir) {
  std::vector<std::string> flags;
  std::istringstream in(ReadFile(dir / "args").value_or(""));
  for (std::string word; in >> word;) flags.push_back(word);
  if (std::find(flags.begin(), flags.end(), "--now") == flags.end()) {
    flags.insert(flags.end(), {"--now", testing::kNow});
  }
  if (fs::exists(dir / "inventory") || fs::exists(dir / "hosts")) {
    flags.insert(flags.end(), {"--inventory", dir.string()});
  }
  return flags;
}

// A fresh root holding the case's inputs.
void CopyInputs(const fs::path& dir, const fs::path& root) {
  const auto options = fs::copy_options::recursive;
  fs::create_directories(root);
  fs::copy(dir / "events", root / "events", options);
  if (fs::exists(dir / "state" / "stages")) {
    fs::create_directories(root / "state");
    fs::copy(dir / "state" / "stages", root / "state" / "stages", options);
  }
  if (fs::exists(dir / "logs")) fs::copy(dir / "logs", root / "logs", options);
}

// rejected-events.jsonl with each line's free-text `detail` left out.
std::string WithoutDetail(const std::string& log) {
  std::string out;
  std::istringstream in(log);
  for (std::string line; std::getline(in, line);) {
    nlohmann::json j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (j.is_object()) j.erase("detail");
    out += (j.is_discarded() ? line : j.dump()) + "\n";
  }
  return out;
}

class GoldenTest : public ::testing::TestWithParam<std::string> {};

TEST_P(GoldenTest, WorldFilesMatchExpected) {
  const fs::path dir = kCasesDir / GetParam();
  TempDir tmp;
  const fs::path root = tmp.path() / "root";
  CopyInputs(dir, root);
  std::vector<std::string> args = {"once", "--root", root.string()};
  const std::vector<std::string> flags = CaseFlags(dir);
  args.insert(args.end(), flags.begin(), flags.end());

  const testing::ProcessResult run = testing::RunProgram(args);
  ASSERT_EQ(run.exit_code, 0) << run.err;
  const std::string rejected = ReadFile(root / "state" / kRejectedLog).value_or("");

  if (Updating()) {
    for (const auto& [name, content] : testing::WorldFiles(root)) {
      testing::WriteFile(dir / "expected" / name, content);
    }
    fs::remove(dir / "expected" / kRejectedLog);
    if (!rejected.empty()) testing::WriteFile(dir / "expected" / kRejectedLog, rejected);
    GTEST_SKIP() << "HLO_UPDATE_GOLDEN=1: rewrote " << (dir / "expected").string()
                 << "; review it before committing";
  }

  for (const auto& [name, content] : testing::WorldFiles(root)) {
    const std::optional<std::string> expected = ReadFile(dir / "expected" / name);
    ASSERT_TRUE(expected) << "missing " << (dir / "expected" / name).string();
    EXPECT_EQ(FirstDifference(*expected, content), "") << name;
  }
  const std::string expected_rejected = ReadFile(dir / "expected" / kRejectedLog).value_or("");
  EXPECT_EQ(FirstDifference(WithoutDetail(expected_rejected), WithoutDetail(rejected)), "")
      << kRejectedLog;

  // A second run over the same inputs changes nothing.
  const auto first = testing::WorldFiles(root);
  const testing::ProcessResult again = testing::RunProgram(args);
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_EQ(testing::WorldFiles(root), first);
  EXPECT_EQ(ReadFile(root / "state" / kRejectedLog).value_or(""), rejected);
}

INSTANTIATE_TEST_SUITE_P(Cases, GoldenTest, ::testing::ValuesIn(CaseNames()),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           return info.param;
                         });

}  // namespace
}  // namespace hlo
