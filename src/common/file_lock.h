// FileLock: an exclusive advisory lock on a file (flock), held while the object lives, so that
// two processes that must not share a data directory (two `node serve`, two mirror sweeps)
// refuse instead of corrupting each other's work. The kernel releases it when the process
// exits or is killed, so a crash leaves no stale lock to clean up.
//
// Thread-safety: an object is used by one thread; the lock is per open file, so a second
// Acquire of the same path in the same process also fails.
#pragma once

#include <string>

#include "common/result.h"

namespace iocgrid {

class FileLock {
 public:
  // Creates `path` if missing (mode 0600) and locks it without waiting. Errors:
  // kAlreadyExists when another holder has it, kUnavailable when it cannot be opened.
  static Result<FileLock> Acquire(const std::string& path);

  FileLock(FileLock&& other) noexcept;
  FileLock& operator=(FileLock&& other) noexcept;
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;
  ~FileLock();

 private:
  explicit FileLock(int fd) : fd_(fd) {}
  int fd_ = -1;
};

}  // namespace iocgrid
