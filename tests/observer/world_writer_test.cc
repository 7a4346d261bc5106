// WorldWriter: the five world files, all or none, and their digest; in `run`
// mode a history file whose part of the model did not change is left alone,
// unless it is not the file the writer left behind.
#include <sys/stat.h>

#include <filesystem>
#include <string>

#include <gtest/gtest.h>

#include "observer/apply.h"
#include "observer/atomic_file.h"
#include "observer/world_writer.h"
#include "tests/fakes/event_builder.h"
#include "tests/fakes/temp_dir.h"

namespace hlo {
namespace {

namespace fs = std::filesystem;

using fakes::Ev;

Ev Failure(const std::string& node, int64_t at) {
  Ev e("service_unhealthy");
  e.At(Timestamp{at, 0}).Node(node).Service("dns");
  return e;
}
Ev Heartbeat(const std::string& node, int64_t at) {
  Ev e("node_heartbeat");
  e.At(Timestamp{at, 0}).Node(node);
  return e;
}
Ev DeploymentStarted(const std::string& id, int64_t at) {
  Ev e("deployment_started");
  e.At(Timestamp{at, 0}).Corr(id).Node("venus").Service("dns");
  return e;
}

class WorldWriterTest : public ::testing::Test {
 protected:
  // Writes the world of model_ and checks the digest against the files.
  void Write(WorldWriter& writer, bool skip) {
    SnapshotInputs in;
    in.model = &model_;
    in.now = {1'800'000'000, 0};
    std::string error;
    ASSERT_TRUE(writer.Write(BuildSnapshot(in), model_, skip ? &index_.revisions() : nullptr,
                             &error))
        << error;
    std::vector<std::pair<std::string, std::string>> files;
    for (std::string_view name : kWorldFileNames) {
      files.emplace_back(std::string(name), ReadWholeFile(dir_.path() / name, nullptr).value());
    }
    EXPECT_EQ(writer.digest(), DigestWorldFiles(files));
    auto files_now = SerializeWorld(BuildSnapshot(in), model_);
    for (size_t i = 0; i < files.size(); ++i) EXPECT_EQ(files[i].second, files_now[i].content);
  }

  ino_t Inode(std::string_view name) const {
    struct stat st {};
    EXPECT_EQ(::stat((dir_.path() / name).c_str(), &st), 0);
    return st.st_ino;
  }

  void Apply(const Ev& e) { hlo::Apply(model_, e.event(), ApplyContext{}, {&index_, nullptr}); }

  TempDir dir_;
  Model model_;
  ModelIndex index_;
};

TEST_F(WorldWriterTest, LeavesUnchangedHistoryFilesAloneWhenAsked) {
  WorldWriter writer(dir_.path());
  Apply(Failure("venus", 100));
  Apply(DeploymentStarted("d-1", 101));
  Write(writer, /*skip=*/true);
  const ino_t incidents = Inode("incidents.json"), deployments = Inode("deployments.json");
  const ino_t nodes = Inode("nodes.json");

  Apply(Heartbeat("venus", 200));  // changes nodes only
  Write(writer, true);
  EXPECT_EQ(Inode("incidents.json"), incidents);
  EXPECT_EQ(Inode("deployments.json"), deployments);
  EXPECT_NE(Inode("nodes.json"), nodes);  // the present is always rewritten

  Apply(Failure("venus", 300));  // a new occurrence: incidents change
  Write(writer, true);
  EXPECT_NE(Inode("incidents.json"), incidents);
  EXPECT_EQ(Inode("deployments.json"), deployments);
}

TEST_F(WorldWriterTest, RewritesEveryFileWithoutSkipping) {
  WorldWriter writer(dir_.path());
  Apply(Failure("venus", 100));
  Write(writer, /*skip=*/false);
  const ino_t incidents = Inode("incidents.json");
  Write(writer, false);
  EXPECT_NE(Inode("incidents.json"), incidents);
}

TEST_F(WorldWriterTest, RewritesAHistoryFileThatIsNotTheOneItWrote) {
  WorldWriter writer(dir_.path());
  Apply(Failure("venus", 100));
  Write(writer, true);
  // Replaced behind its back (a hand edit, another program).
  fs::rename(dir_.path() / "incidents.json", dir_.path() / "incidents.json.old");
  dir_.Write("incidents.json", "{\"edited\": true}\n");
  Write(writer, true);  // checks the bytes on disk are the model's again

  fs::remove(dir_.path() / "deployments.json");
  Write(writer, true);
  EXPECT_TRUE(fs::exists(dir_.path() / "deployments.json"));
}

TEST_F(WorldWriterTest, ForgetsWhatItWroteAfterAReplay) {
  WorldWriter writer(dir_.path());
  Apply(Failure("venus", 100));
  Write(writer, true);
  const ino_t incidents = Inode("incidents.json");
  writer.Forget();
  Write(writer, true);
  EXPECT_NE(Inode("incidents.json"), incidents);
}

TEST_F(WorldWriterTest, AFreshModelIsNeverTakenForAnUnchangedOne) {
  WorldWriter writer(dir_.path());
  Apply(Failure("venus", 100));
  Write(writer, true);
  model_ = Model{};  // history gone, as after a replay, which resets the index
  index_.Reset(model_);
  Write(writer, true);
  EXPECT_EQ(ReadWholeFile(dir_.path() / "incidents.json", nullptr).value(), "{}\n");
}

}  // namespace
}  // namespace hlo
