#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "ingest/loader.h"
#include "tests/common/temp_dir.h"
#include "tests/ingest/test_util.h"

namespace iocgrid::ingest {
namespace {

namespace fs = std::filesystem;

class ExpandPathsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = test::MakeTempDir("iocgrid-expand");
    for (const char* file :
         {"b.txt", "a.csv", "sub/z.json", "sub/deeper/y.lst", ".hidden", "README.md", "readme.txt",
          "LICENSE", "notes.md", ".git/config", "sub/.cache/x.txt"}) {
      fs::create_directories((root_ / file).parent_path());
      std::ofstream(root_ / file) << "192.0.2.1\n";
    }
  }
  void TearDown() override { fs::remove_all(root_); }

  fs::path root_;
};

TEST_F(ExpandPathsTest, RecursesSortedAndSkipsHiddenAndDocs) {
  Result<std::vector<std::string>> files = ExpandPaths({root_.string()});
  ASSERT_TRUE(files.ok()) << files.status().ToString();
  const std::vector<std::string> expected = {(root_ / "a.csv").string(), (root_ / "b.txt").string(),
                                             (root_ / "sub/deeper/y.lst").string(),
                                             (root_ / "sub/z.json").string()};
  EXPECT_EQ(*files, expected);
}

TEST_F(ExpandPathsTest, ExplicitFilesAndStdinAreKeptInOrder) {
  Result<std::vector<std::string>> files =
      ExpandPaths({(root_ / "README.md").string(), "-", (root_ / "sub/deeper").string()});
  ASSERT_TRUE(files.ok()) << files.status().ToString();
  const std::vector<std::string> expected = {(root_ / "README.md").string(), "-",
                                             (root_ / "sub/deeper/y.lst").string()};
  EXPECT_EQ(*files, expected);
}

TEST_F(ExpandPathsTest, MissingPathIsNotFound) {
  Result<std::vector<std::string>> files = ExpandPaths({(root_ / "nope").string()});
  ASSERT_FALSE(files.ok());
  EXPECT_EQ(files.status().code(), StatusCode::kNotFound);
}

TEST(ExpandPathsSharedTest, WarninglistFolder) {
  Result<std::vector<std::string>> files =
      ExpandPaths({testing::SharedData("C_member_anonymity/misp-warninglists")});
  ASSERT_TRUE(files.ok());
  EXPECT_EQ(files->size(), 26u);
  EXPECT_TRUE(std::is_sorted(files->begin(), files->end()));
}

}  // namespace
}  // namespace iocgrid::ingest
