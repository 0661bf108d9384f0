#include "ingest/internal/file_io.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <limits>
#include <memory>
#include <system_error>

#include "common/huge_pages.h"

#ifdef IOCGRID_HAVE_ZLIB
#include <zlib.h>
#endif

namespace iocgrid::ingest::internal {
namespace {

struct FileCloser {
  void operator()(std::FILE* file) const { std::fclose(file); }
};
using FilePtr = std::unique_ptr<std::FILE, FileCloser>;

Status ErrnoStatus(int error, const std::string& path) {
  const std::string message = path + ": " + std::strerror(error);
  switch (error) {
    case ENOENT:
    case ENOTDIR:
      return NotFoundError(message);
    case EACCES:
    case EPERM:
      return PermissionDeniedError(message);
    case EISDIR:
      return InvalidArgumentError(message);
    default:
      return UnavailableError(message);
  }
}

Status ReadStream(std::FILE* file, const std::string& path, uint64_t max_bytes, std::string* out) {
  char buffer[1 << 16];
  while (true) {
    const size_t n = std::fread(buffer, 1, sizeof(buffer), file);
    if (n > 0) {
      if (max_bytes != 0 && out->size() + n > max_bytes) {
        return ResourceExhaustedError(path + ": larger than the " + std::to_string(max_bytes) +
                                      "-byte limit");
      }
      out->append(buffer, n);
    }
    if (n < sizeof(buffer)) {
      if (std::ferror(file)) return ErrnoStatus(errno, path);
      return Status::Ok();
    }
  }
}

}  // namespace

Result<std::string> ReadWholeFile(const std::string& path, uint64_t max_bytes) {
  std::string content;
  if (path == "-") {
    IOCGRID_RETURN_IF_ERROR(ReadStream(stdin, "standard input", max_bytes, &content));
    return content;
  }
  std::error_code ec;
  const std::filesystem::file_status status = std::filesystem::status(path, ec);
  if (ec) {
    if (ec == std::errc::permission_denied)
      return PermissionDeniedError(path + ": " + ec.message());
    return NotFoundError(path + ": " + ec.message());
  }
  if (!std::filesystem::exists(status)) return NotFoundError(path + ": no such file");
  if (std::filesystem::is_directory(status)) return InvalidArgumentError(path + ": is a directory");
  if (std::filesystem::is_regular_file(status)) {
    const uintmax_t size = std::filesystem::file_size(path, ec);
    if (!ec && max_bytes != 0 && size > max_bytes) {
      return ResourceExhaustedError(path + ": " + std::to_string(size) + " bytes, over the " +
                                    std::to_string(max_bytes) + "-byte limit");
    }
    if (!ec) {
      content.reserve(static_cast<size_t>(size));  // one allocation, no regrowth copies
      AdviseHugePages(content.data(), content.capacity());
    }
  }
  errno = 0;
  FilePtr file(std::fopen(path.c_str(), "rb"));
  if (!file) return ErrnoStatus(errno, path);
  IOCGRID_RETURN_IF_ERROR(ReadStream(file.get(), path, max_bytes, &content));
  return content;
}

bool IsGzip(std::string_view content) {
  return content.size() >= 2 && static_cast<unsigned char>(content[0]) == 0x1f &&
         static_cast<unsigned char>(content[1]) == 0x8b;
}

#ifdef IOCGRID_HAVE_ZLIB

namespace {

struct InflateEnder {
  void operator()(z_stream* stream) const { inflateEnd(stream); }
};

}  // namespace

Result<std::string> Gunzip(std::string_view content, uint64_t max_bytes, bool truncate) {
  if (content.size() > std::numeric_limits<uInt>::max()) {
    return ResourceExhaustedError("gzip input larger than 4 GiB");
  }
  z_stream stream{};
  if (inflateInit2(&stream, 16 + MAX_WBITS) != Z_OK) return InternalError("zlib: inflateInit2");
  const std::unique_ptr<z_stream, InflateEnder> guard(&stream);
  // zlib's API takes a non-const pointer but does not write through next_in.
  stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(content.data()));
  stream.avail_in = static_cast<uInt>(content.size());
  std::string out;
  char buffer[1 << 16];
  while (true) {
    stream.next_out = reinterpret_cast<Bytef*>(buffer);
    stream.avail_out = sizeof(buffer);
    const int rc = inflate(&stream, Z_NO_FLUSH);
    if (rc != Z_OK && rc != Z_STREAM_END && rc != Z_BUF_ERROR) {
      return InvalidArgumentError(std::string("corrupt gzip data: ") +
                                  (stream.msg != nullptr ? stream.msg : "inflate failed"));
    }
    const size_t produced = sizeof(buffer) - stream.avail_out;
    if (max_bytes != 0 && out.size() + produced > max_bytes) {
      if (truncate) {
        out.append(buffer, static_cast<size_t>(max_bytes - out.size()));
        return out;
      }
      return ResourceExhaustedError("decompressed data larger than the " +
                                    std::to_string(max_bytes) + "-byte limit");
    }
    out.append(buffer, produced);
    if (rc == Z_STREAM_END) {
      if (stream.avail_in == 0) return out;
      if (inflateReset(&stream) != Z_OK) return InternalError("zlib: inflateReset");
      continue;  // another gzip member follows
    }
    if (rc == Z_BUF_ERROR && produced == 0) {
      if (truncate) return out;
      return InvalidArgumentError("truncated gzip data");
    }
  }
}

#else

Result<std::string> Gunzip(std::string_view /*content*/, uint64_t /*max_bytes*/,
                           bool /*truncate*/) {
  return InvalidArgumentError("gzip-compressed: decompress first (built without zlib)");
}

#endif

}  // namespace iocgrid::ingest::internal
