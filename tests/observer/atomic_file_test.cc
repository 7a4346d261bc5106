// WriteFilesAtomic: several files produced on two threads, then renamed into
// place; a failure anywhere replaces none of them and leaves no temporaries.
#include "observer/atomic_file.h"

#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <new>
#include <string>
#include <vector>

#include "tests/fakes/temp_dir.h"

namespace hlo {
namespace {

std::vector<std::string> Names(const std::filesystem::path& dir) {
  std::vector<std::string> out;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    out.push_back(entry.path().filename().string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::string Content(const std::filesystem::path& path) {
  std::string error;
  return ReadWholeFile(path, &error).value_or("<unreadable: " + error + ">");
}

class WriteFilesAtomicTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (int i = 0; i < 5; ++i) {
      paths_.push_back(dir_.Write("f" + std::to_string(i) + ".json", "old " + std::to_string(i)));
    }
  }
  // File i produced as "new i" in chunks, except where `produce` says otherwise.
  std::vector<FileToWrite> Files(
      const std::function<bool(size_t, const ByteWriter&)>& produce = nullptr) {
    std::vector<FileToWrite> files;
    for (size_t i = 0; i < paths_.size(); ++i) {
      files.push_back({paths_[i], {}, [i, produce](const ByteWriter& write) {
                         if (produce) return produce(i, write);
                         return write("new ") && write(std::to_string(i));
                       }});
    }
    return files;
  }

  TempDir dir_;
  std::vector<std::filesystem::path> paths_;
};

TEST_F(WriteFilesAtomicTest, EveryFileIsReplacedWithWhatItsProducerWrote) {
  std::string error;
  ASSERT_TRUE(WriteFilesAtomic(Files(), &error)) << error;
  for (size_t i = 0; i < paths_.size(); ++i) EXPECT_EQ(Content(paths_[i]), "new " + std::to_string(i));
  EXPECT_EQ(Names(dir_.path()),
            (std::vector<std::string>{"f0.json", "f1.json", "f2.json", "f3.json", "f4.json"}));
}

TEST_F(WriteFilesAtomicTest, OneProducerFailingReplacesNoneAndLeavesNoTemporaries) {
  for (size_t failing = 0; failing < paths_.size(); ++failing) {
    std::string error;
    EXPECT_FALSE(WriteFilesAtomic(Files([failing](size_t i, const ByteWriter& write) {
                                    return i != failing && write("new");
                                  }),
                                  &error));
    EXPECT_NE(error.find("f" + std::to_string(failing)), std::string::npos) << error;
    for (size_t i = 0; i < paths_.size(); ++i) EXPECT_EQ(Content(paths_[i]), "old " + std::to_string(i));
    EXPECT_EQ(Names(dir_.path()).size(), paths_.size()) << "a temporary was left behind";
  }
}

TEST_F(WriteFilesAtomicTest, AProducerThrowingReachesTheCallerAndLeavesNoTemporaries) {
  std::string error;
  EXPECT_THROW(WriteFilesAtomic(Files([](size_t i, const ByteWriter& write) {
                                  if (i == 3) throw std::bad_alloc();
                                  return write("new");
                                }),
                                &error),
               std::bad_alloc);
  for (size_t i = 0; i < paths_.size(); ++i) EXPECT_EQ(Content(paths_[i]), "old " + std::to_string(i));
  EXPECT_EQ(Names(dir_.path()).size(), paths_.size()) << "a temporary was left behind";
}

TEST_F(WriteFilesAtomicTest, TwoFilesAreProducedAtTheSameTime) {
  // Files 0 and 1 each wait for the other to have started: only two threads
  // producing at once get past it (one thread alone times out and fails).
  std::mutex mutex;
  std::condition_variable cv;
  int started = 0;
  bool together = true;
  std::string error;
  ASSERT_TRUE(WriteFilesAtomic(Files([&](size_t i, const ByteWriter& write) {
                                 if (i < 2) {
                                   std::unique_lock<std::mutex> lock(mutex);
                                   ++started;
                                   cv.notify_all();
                                   if (!cv.wait_for(lock, std::chrono::seconds(10),
                                                    [&] { return started >= 2; })) {
                                     together = false;
                                   }
                                 }
                                 return write("new " + std::to_string(i));
                               }),
                               &error))
      << error;
  EXPECT_TRUE(together) << "the files were produced one after the other";
}

}  // namespace
}  // namespace hlo
