// StaticFiles: the one static-file server of the project (the portal's web UI today). It maps a
// request path onto files under one root directory and nothing else:
//   - the path is percent-decoded once, by the server (Request::path); it is never decoded again,
//     so "%252e%252e" stays the literal name "%2e%2e";
//   - absolute paths ("//etc/passwd", "/%2Fetc"), NULs, backslashes, control characters and any
//     ".." component are refused before the file system is touched;
//   - the joined path is canonicalised (symlinks resolved) and must still lie under the
//     canonical root, and be a regular file;
//   - only a fixed set of extensions is served, each with a fixed MIME type, with
//     `X-Content-Type-Options: nosniff` and a strict Content-Security-Policy.
// Everything refused answers 404 with MISP's error body, so a probe learns nothing about the
// file system.
//
// Thread-safety: Serve is const and may be called concurrently.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "common/result.h"
#include "net/http.h"

namespace iocgrid::net {

class StaticFiles {
 public:
  // `root` must be an existing directory. Errors: kNotFound / kInvalidArgument naming it.
  static Result<StaticFiles> Open(const std::string& root);

  // Answers a GET or HEAD for request.path ("/" serves index.html).
  Response Serve(const Request& request) const;

  // The canonical file for a decoded request path, or kNotFound (also for every refused path).
  Result<std::string> Resolve(std::string_view path) const;

  const std::string& root() const { return root_; }

  // Files larger than this are refused (the UI's assets are small).
  static constexpr size_t kMaxFileBytes = 16 * 1024 * 1024;

 private:
  explicit StaticFiles(std::string root) : root_(std::move(root)) {}
  std::string root_;  // canonical, without a trailing slash
};

// The MIME type served for a file name, or empty when its extension is not served.
std::string_view StaticContentType(std::string_view file_name);

}  // namespace iocgrid::net
