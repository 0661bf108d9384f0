// FileLock: one holder at a time, also within one process; released with the object (and by
// the kernel when a process dies, which NodeCliTest.AKilledNodeRestartsFromItsKeptIndex shows);
// an unusable path is an error, not a lock.
#include "common/file_lock.h"

#include <gtest/gtest.h>

#include <string>
#include <utility>

#include "tests/common/temp_dir.h"

namespace iocgrid {
namespace {

TEST(FileLockTest, OneHolderAtATime) {
  test::TempDir dir;
  const std::string path = dir.path() + "/serve.lock";
  auto first = FileLock::Acquire(path);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  auto second = FileLock::Acquire(path);
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), StatusCode::kAlreadyExists);
  EXPECT_NE(second.status().message().find(path), std::string::npos);
  // Moved, still held; released with its last owner.
  FileLock moved = std::move(*first);
  EXPECT_FALSE(FileLock::Acquire(path).ok());
  { FileLock gone = std::move(moved); }
  EXPECT_TRUE(FileLock::Acquire(path).ok());
}

TEST(FileLockTest, AnUnusablePathIsAnError) {
  test::TempDir dir;
  auto missing = FileLock::Acquire(dir.path() + "/no/such/dir/serve.lock");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), StatusCode::kUnavailable);
  auto directory = FileLock::Acquire(dir.path());
  EXPECT_FALSE(directory.ok());
}

}  // namespace
}  // namespace iocgrid
