// The world digest that ties the checkpoint to the world files it was
// written with: the same bytes give the same digest however they arrive, and
// any change to a name or a byte gives another.
#include <random>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "observer/observer.h"

namespace hlo {
namespace {

using Files = std::vector<std::pair<std::string, std::string>>;

Files Sample() {
  std::mt19937 rng(7);
  Files files;
  for (const char* name : {"deployments.json", "incidents.json", "nodes.json"}) {
    std::string content;
    for (size_t i = 0, n = rng() % 5000; i < n; ++i) content += static_cast<char>(rng());
    files.emplace_back(name, std::move(content));
  }
  files.emplace_back("empty.json", "");
  return files;
}

TEST(WorldDigestTest, DoesNotDependOnHowBytesArriveInPieces) {
  const Files files = Sample();
  const std::string whole = DigestWorldFiles(files);
  std::mt19937 rng(11);
  for (int round = 0; round < 50; ++round) {
    WorldDigest digest;
    for (const auto& [name, content] : files) {
      digest.BeginFile(name);
      for (size_t at = 0; at < content.size();) {
        const size_t piece = std::min<size_t>(content.size() - at, rng() % 20);
        digest.Add(std::string_view(content).substr(at, piece));
        at += piece;
      }
      digest.EndFile();
    }
    EXPECT_EQ(digest.Hex(), whole) << round;
  }
  EXPECT_EQ(whole.size(), 16u);
}

TEST(WorldDigestTest, AnyChangedByteNameOrBoundaryChangesIt) {
  const Files files = Sample();
  const std::string original = DigestWorldFiles(files);
  for (size_t i = 0; i < files[1].second.size(); i += 97) {
    Files changed = files;
    changed[1].second[i] = static_cast<char>(changed[1].second[i] ^ 1);
    EXPECT_NE(DigestWorldFiles(changed), original) << i;
  }
  Files renamed = files;
  renamed[0].first = "deployments.jsoN";
  EXPECT_NE(DigestWorldFiles(renamed), original);
  // The same bytes split differently between two files.
  Files moved = files;
  moved[1].second.insert(0, 1, moved[0].second.back());
  moved[0].second.pop_back();
  EXPECT_NE(DigestWorldFiles(moved), original);
  Files grown = files;
  grown[3].second = std::string(1, '\0');  // a zero byte is not nothing
  EXPECT_NE(DigestWorldFiles(grown), original);
}

}  // namespace
}  // namespace hlo
