#pragma once
// The one temporary directory of the tests and benchmarks (issue 15: one TempDir).
//   test::TempDir dir("iocgrid-store");   // fresh mkdtemp directory, removed with its contents
//   dir.Write("a.txt", "...")             // writes a file below it and returns the full path
//   test::MakeTempDir("iocgrid-portal")   // the same directory without the owner: the caller
//                                         // removes it (fixtures that keep only the path)
// A directory that cannot be made is a broken test machine, not a test result: it aborts with
// the reason.

#include <stdlib.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <system_error>

namespace iocgrid::test {

inline std::string MakeTempDir(std::string_view prefix = "iocgrid") {
  std::string tmpl =
      (std::filesystem::temp_directory_path() / (std::string(prefix) + "-XXXXXX")).string();
  if (mkdtemp(tmpl.data()) == nullptr) {
    std::fprintf(stderr, "MakeTempDir: mkdtemp %s: %s\n", tmpl.c_str(), std::strerror(errno));
    std::abort();
  }
  return tmpl;
}

class TempDir {
 public:
  explicit TempDir(std::string_view prefix = "iocgrid") : path_(MakeTempDir(prefix)) {}
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  // path()/name, without creating anything.
  std::string Path(std::string_view name) const { return path_ + "/" + std::string(name); }
  // Writes `content` to path()/name (creating parent directories) and returns the full path.
  std::string Write(std::string_view name, std::string_view content) const {
    std::string p = Path(name);
    std::filesystem::create_directories(std::filesystem::path(p).parent_path());
    std::ofstream(p, std::ios::binary)
        .write(content.data(), static_cast<std::streamsize>(content.size()));
    return p;
  }

 private:
  std::string path_;
};

}  // namespace iocgrid::test
