#include "extract/data_dir.h"

#include <cstdlib>
#include <filesystem>
#include <system_error>

namespace iocgrid::extract {
namespace {

bool IsDir(const std::filesystem::path& p) {
  std::error_code ec;
  return std::filesystem::is_directory(p, ec);
}

}  // namespace

Result<std::string> DataDir() {
  std::string tried;
  if (const char* env = std::getenv("IOCGRID_DATA_DIR"); env != nullptr && *env != '\0') {
    // An explicit setting wins, and a wrong one is an error rather than a silent fallback.
    if (IsDir(env)) return std::string(env);
    return NotFoundError(std::string("IOCGRID_DATA_DIR=") + env + " is not a directory");
  }
  std::error_code ec;
  std::filesystem::path exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    std::filesystem::path installed = exe.parent_path() / ".." / "share" / "iocgrid";
    if (IsDir(installed)) return installed.lexically_normal().string();
    tried += installed.lexically_normal().string() + ", ";
  }
#ifdef IOCGRID_SOURCE_DATA_DIR
  if (IsDir(IOCGRID_SOURCE_DATA_DIR)) return std::string(IOCGRID_SOURCE_DATA_DIR);
  tried += IOCGRID_SOURCE_DATA_DIR;
#endif
  return NotFoundError("no bundled data directory (set IOCGRID_DATA_DIR); tried " + tried);
}

}  // namespace iocgrid::extract
