#include "common/key_file.h"

#include <filesystem>
#include <fstream>
#include <string_view>

#include "common/ascii.h"

namespace iocgrid {

Result<std::string> ReadKeyFile(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) {
    return InvalidArgumentError("key_file " + path + " is not a regular file");
  }
  std::ifstream in(path);
  if (!in) return InvalidArgumentError("cannot read key_file " + path);
  std::string key(4096, '\0');
  in.read(key.data(), static_cast<std::streamsize>(key.size()));
  key.resize(static_cast<size_t>(in.gcount()));
  if (key.size() == 4096) {
    return InvalidArgumentError("key_file " + path + " is too long for a key");
  }
  return std::string(TrimAscii(std::string_view(key).substr(0, key.find('\n'))));
}

}  // namespace iocgrid
