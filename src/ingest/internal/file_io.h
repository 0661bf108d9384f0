// Reading whole input files ("-" = standard input) under a size cap, and gzip decompression
// (when the build has zlib: IOCGRID_HAVE_ZLIB).
//
// Thread-safety: free functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/result.h"

namespace iocgrid::ingest::internal {

// Reads `path` ("-" reads standard input). `max_bytes` 0 means no cap.
// Errors: kNotFound, kPermissionDenied, kInvalidArgument (a directory), kResourceExhausted
// (larger than max_bytes), kUnavailable (a read error).
Result<std::string> ReadWholeFile(const std::string& path, uint64_t max_bytes);

// True when `content` starts with the gzip magic bytes.
bool IsGzip(std::string_view content);

// Decompresses gzip `content` (concatenated members too). `max_bytes` 0 means no cap; with
// `truncate` the output stops at max_bytes instead of failing (for format detection).
// Errors: kInvalidArgument for corrupt data or a build without zlib ("gzip-compressed:
// decompress first"), kResourceExhausted over the cap.
Result<std::string> Gunzip(std::string_view content, uint64_t max_bytes, bool truncate);

}  // namespace iocgrid::ingest::internal
