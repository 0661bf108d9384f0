#include "net/static_files.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <filesystem>
#include <utility>

#include "net/http_error.h"

namespace iocgrid::net {
namespace {

namespace fs = std::filesystem;

struct MimeType {
  std::string_view extension;
  std::string_view type;
};

constexpr std::array<MimeType, 12> kMimeTypes = {{
    {".html", "text/html; charset=UTF-8"},
    {".js", "text/javascript; charset=UTF-8"},
    {".mjs", "text/javascript; charset=UTF-8"},
    {".css", "text/css; charset=UTF-8"},
    {".json", "application/json"},
    {".svg", "image/svg+xml"},
    {".png", "image/png"},
    {".ico", "image/x-icon"},
    {".txt", "text/plain; charset=UTF-8"},
    {".woff2", "font/woff2"},
    {".map", "application/json"},
    {".webmanifest", "application/manifest+json"},
}};

bool UnderRoot(const std::string& root, const std::string& path) {
  return path.size() > root.size() && path.compare(0, root.size(), root) == 0 &&
         path[root.size()] == '/';
}

// Reads a regular file opened without following a final symlink (the canonical path has none).
Result<std::string> ReadRegularFile(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
  if (fd < 0) return NotFoundError("cannot open");
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) ||
      static_cast<size_t>(st.st_size) > StaticFiles::kMaxFileBytes) {
    ::close(fd);
    return NotFoundError("not a servable file");
  }
  std::string out(static_cast<size_t>(st.st_size), '\0');
  size_t got = 0;
  while (got < out.size()) {
    ssize_t n = ::read(fd, out.data() + got, out.size() - got);
    if (n <= 0) break;
    got += static_cast<size_t>(n);
  }
  ::close(fd);
  out.resize(got);
  return out;
}

}  // namespace

std::string_view StaticContentType(std::string_view file_name) {
  for (const MimeType& m : kMimeTypes) {
    if (file_name.size() > m.extension.size() &&
        file_name.substr(file_name.size() - m.extension.size()) == m.extension) {
      return m.type;
    }
  }
  return {};
}

Result<StaticFiles> StaticFiles::Open(const std::string& root) {
  std::error_code ec;
  fs::path canonical = fs::canonical(root, ec);
  if (ec) return NotFoundError("web directory " + root + ": " + ec.message());
  if (!fs::is_directory(canonical, ec)) {
    return InvalidArgumentError("web directory " + root + " is not a directory");
  }
  std::string r = canonical.string();
  while (r.size() > 1 && r.back() == '/') r.pop_back();
  return StaticFiles(std::move(r));
}

Result<std::string> StaticFiles::Resolve(std::string_view path) const {
  // Exactly one leading slash: "//etc/passwd" names an absolute path once the slash goes.
  if (path.empty() || path[0] != '/') return NotFoundError("not a path");
  std::string_view rel = path.substr(1);
  if (rel.empty()) rel = "index.html";
  if (rel[0] == '/') return NotFoundError("absolute path");
  for (char c : rel) {
    auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f || c == '\\') return NotFoundError("forbidden character");
  }
  // Component by component: no "..", no "." games, no empty components.
  std::string joined = root_;
  size_t start = 0;
  while (start <= rel.size()) {
    size_t slash = rel.find('/', start);
    std::string_view part =
        rel.substr(start, slash == std::string_view::npos ? rel.npos : slash - start);
    if (part.empty() || part == "." || part == "..") return NotFoundError("bad component");
    joined += '/';
    joined += part;
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  std::error_code ec;
  fs::path canonical = fs::canonical(joined, ec);
  if (ec) return NotFoundError("no such file");
  std::string c = canonical.string();
  if (!UnderRoot(root_, c)) return NotFoundError("outside the web root");
  if (!fs::is_regular_file(canonical, ec)) return NotFoundError("not a regular file");
  if (StaticContentType(c).empty()) return NotFoundError("type not served");
  return c;
}

Response StaticFiles::Serve(const Request& request) const {
  auto file = Resolve(request.path);
  if (!file.ok()) return ErrorResponse(404, "Not Found", request.path);
  auto body = ReadRegularFile(*file);
  if (!body.ok()) return ErrorResponse(404, "Not Found", request.path);
  Response r;
  r.content_type = std::string(StaticContentType(*file));
  r.body = std::move(*body);
  r.headers.emplace_back("Cache-Control", "no-cache");
  r.headers.emplace_back("X-Content-Type-Options", "nosniff");
  r.headers.emplace_back("X-Frame-Options", "DENY");
  r.headers.emplace_back("Referrer-Policy", "no-referrer");
  r.headers.emplace_back("Content-Security-Policy",
                         "default-src 'self'; style-src 'self'; img-src 'self' data:; "
                         "frame-ancestors 'none'; base-uri 'none'; form-action 'self'");
  return r;
}

}  // namespace iocgrid::net
