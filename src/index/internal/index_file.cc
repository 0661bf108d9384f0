#include "index/internal/index_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>

namespace iocgrid::index::internal {

namespace {

constexpr char kMagic[8] = {'I', 'O', 'C', 'G', 'I', 'D', 'X', '\n'};
constexpr uint64_t kByteOrder = 0x0102030405060708ull;
constexpr uint64_t kTrailer = 0x454E44494458ull;  // "XDIDNE"
constexpr uint64_t kMaxMetaBytes = 1 << 20;

struct FileCloser {
  void operator()(std::FILE* f) const {
    if (f != nullptr) std::fclose(f);
  }
};
using File = std::unique_ptr<std::FILE, FileCloser>;

std::string Errno(const std::string& what, const std::string& path) {
  return what + " " + path + ": " + std::strerror(errno);
}

}  // namespace

Status WriteIndexFile(const std::string& path, std::string_view meta,
                      std::span<const int64_t> record_map,
                      const std::function<void(BinaryWriter&)>& sections) {
  const std::string tmp = path + ".tmp";
  File f(std::fopen(tmp.c_str(), "wb"));
  if (!f) return UnavailableError(Errno("cannot create", tmp));
  BinaryWriter w(f.get());
  w.Bytes(kMagic, sizeof(kMagic));
  w.U64(kIndexFormatVersion);
  w.U64(kByteOrder);
  w.U64(meta.size());
  w.Bytes(meta.data(), meta.size());
  w.U64(record_map.size());
  w.Bytes(record_map.data(), record_map.size() * sizeof(int64_t));
  sections(w);
  const uint64_t sum = w.checksum();
  w.U64(kTrailer);
  w.U64(sum);
  if (!w.ok() || std::fflush(f.get()) != 0 || fsync(fileno(f.get())) != 0) {
    const std::string message = Errno("cannot write", tmp);
    f.reset();
    std::remove(tmp.c_str());
    return UnavailableError(message);
  }
  f.reset();
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    const std::string message = Errno("cannot rename into", path);
    std::remove(tmp.c_str());
    return UnavailableError(message);
  }
  return Status();
}

Status ReadIndexFile(const std::string& path, std::string* meta, std::vector<int64_t>* record_map,
                     const std::function<bool(BinaryReader&, size_t records)>& sections) {
  File f(std::fopen(path.c_str(), "rb"));
  if (!f) {
    if (errno == ENOENT) return NotFoundError("no persisted index at " + path);
    return DataLossError(Errno("cannot open", path));
  }
  struct stat st {};
  if (fstat(fileno(f.get()), &st) != 0 || !S_ISREG(st.st_mode)) {
    return DataLossError(path + " is not a regular file");
  }
  BinaryReader r(f.get(), static_cast<uint64_t>(st.st_size));
  char magic[sizeof(kMagic)];
  uint64_t version = 0;
  uint64_t order = 0;
  if (!r.Bytes(magic, sizeof(magic)) || std::memcmp(magic, kMagic, sizeof(kMagic)) != 0) {
    return DataLossError(path + " is not an iocgrid index file");
  }
  if (!r.U64(&version) || version != kIndexFormatVersion || !r.U64(&order) || order != kByteOrder) {
    return DataLossError(path + " was written by another iocgrid version or machine");
  }
  uint64_t meta_size = 0;
  if (!r.U64(&meta_size) || meta_size > kMaxMetaBytes) return DataLossError(path + ": bad header");
  meta->resize(static_cast<size_t>(meta_size));
  if (!r.Bytes(meta->data(), meta->size()) || !r.Array(record_map)) {
    return DataLossError(path + " is cut short");
  }
  if (!sections(r, record_map->size())) {
    return DataLossError(path + ": the index sections are cut short or out of shape");
  }
  const uint64_t sum = r.checksum();
  uint64_t trailer = 0;
  uint64_t stored = 0;
  if (!r.U64(&trailer) || trailer != kTrailer || !r.U64(&stored) || r.left() != 0) {
    return DataLossError(path + " is cut short or has bytes after its end");
  }
  if (stored != sum) return DataLossError(path + ": checksum mismatch (the file is damaged)");
  return Status();
}

}  // namespace iocgrid::index::internal
