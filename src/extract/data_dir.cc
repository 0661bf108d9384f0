#include "extract/data_dir.h"

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <iterator>
#include <system_error>

namespace iocgrid::extract {
namespace {

namespace fs = std::filesystem;

bool IsDir(const fs::path& p) {
  std::error_code ec;
  return fs::is_directory(p, ec);
}

// The running executable's path (symlinks resolved by the kernel); empty when unknown.
fs::path SelfExe() {
  std::error_code ec;
  fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (ec) return {};
  return exe;
}

}  // namespace

std::string InstalledShareDir() {
  fs::path exe = SelfExe();
  if (exe.empty()) return {};
  return (exe.parent_path() / ".." / "share" / "iocgrid").lexically_normal().string();
}

bool RunningFromBuildTree() {
#ifdef IOCGRID_BUILD_DIR
  fs::path exe = SelfExe();
  if (exe.empty()) return false;
  std::error_code ec;
  fs::path build = fs::weakly_canonical(IOCGRID_BUILD_DIR, ec);
  if (ec || build.empty()) return false;
  fs::path dir = exe.parent_path().lexically_normal();
  // Component-wise prefix: /x/build-other is not inside /x/build.
  auto [b, d] = std::mismatch(build.begin(), build.end(), dir.begin(), dir.end());
  return b == build.end() || (b->empty() && std::next(b) == build.end());
#else
  return false;
#endif
}

Result<std::string> DataDir() {
  std::string tried;
  if (const char* env = std::getenv("IOCGRID_DATA_DIR"); env != nullptr && *env != '\0') {
    // An explicit setting wins, and a wrong one is an error rather than a silent fallback.
    if (IsDir(env)) return std::string(env);
    return NotFoundError(std::string("IOCGRID_DATA_DIR=") + env + " is not a directory");
  }
  if (std::string installed = InstalledShareDir(); !installed.empty()) {
    if (IsDir(installed)) return installed;
    tried += installed;
  }
#ifdef IOCGRID_SOURCE_DATA_DIR
  if (RunningFromBuildTree()) {
    if (IsDir(IOCGRID_SOURCE_DATA_DIR)) return std::string(IOCGRID_SOURCE_DATA_DIR);
    tried += std::string(tried.empty() ? "" : ", ") + IOCGRID_SOURCE_DATA_DIR;
  }
#endif
  if (tried.empty()) tried = "nothing (/proc/self/exe unreadable)";
  return NotFoundError("no bundled data directory (set IOCGRID_DATA_DIR); tried " + tried);
}

}  // namespace iocgrid::extract
