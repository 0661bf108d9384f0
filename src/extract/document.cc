// LoadDocument / DecodeDocument: report files to UTF-8 plain text (see extractor.h). The formats
// are converted in internal/encoding.cc, internal/html_text.cc and internal/pdf_text.cc.
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <string_view>

#include "extract/extractor.h"
#include "extract/internal/document_text.h"

namespace iocgrid::extract {
namespace {

using internal::FdCloser;
using internal::kMaxDocumentBytes;

Result<std::string> ReadAll(int fd, const std::string& what) {
  std::string out;
  char buf[65536];
  while (true) {
    ssize_t got = ::read(fd, buf, sizeof(buf));
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) return InvalidArgumentError(what + ": " + std::strerror(errno));
    if (got == 0) break;
    out.append(buf, static_cast<size_t>(got));
    if (out.size() > kMaxDocumentBytes) {
      return ResourceExhaustedError(what + ": larger than 64 MiB");
    }
  }
  return out;
}

}  // namespace

Result<std::string> DecodeDocument(std::string bytes, std::string_view name) {
  if (internal::IsPdf(bytes)) {
    // pdftotext wants a file: spill the bytes to a private temporary one.
    const char* tmpdir = std::getenv("TMPDIR");
    std::string tmpl =
        std::string(tmpdir != nullptr && *tmpdir ? tmpdir : "/tmp") + "/iocgrid-pdf-XXXXXX";
    int fd = ::mkstemp(tmpl.data());
    if (fd < 0) return InternalError(std::string("mkstemp: ") + std::strerror(errno));
    FdCloser closer{fd};
    size_t off = 0;
    while (off < bytes.size()) {
      ssize_t w = ::write(fd, bytes.data() + off, bytes.size() - off);
      if (w < 0 && errno == EINTR) continue;
      if (w <= 0) {
        ::unlink(tmpl.c_str());
        return InternalError(std::string("write: ") + std::strerror(errno));
      }
      off += static_cast<size_t>(w);
    }
    auto text = internal::PdfToText(tmpl);
    ::unlink(tmpl.c_str());
    if (!text.ok()) return text.status();
    return internal::ToUtf8(std::move(*text));
  }
  std::string text = internal::ToUtf8(std::move(bytes));
  if (internal::LooksLikeHtml(text, name)) return internal::HtmlToText(text);
  return text;
}

Result<std::string> LoadDocument(const std::string& path) {
  if (path == "-") {
    IOCGRID_ASSIGN_OR_RETURN(std::string bytes, ReadAll(0, "standard input"));
    return DecodeDocument(std::move(bytes), "");
  }
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    int err = errno;
    if (err == ENOENT) return NotFoundError(path + ": no such file");
    if (err == EACCES) return PermissionDeniedError(path + ": permission denied");
    return InvalidArgumentError(path + ": " + std::strerror(err));
  }
  FdCloser closer{fd};
  struct stat st;
  if (::fstat(fd, &st) == 0) {
    if (S_ISDIR(st.st_mode)) return InvalidArgumentError(path + ": is a directory");
    if (S_ISREG(st.st_mode) && static_cast<size_t>(st.st_size) > kMaxDocumentBytes) {
      return ResourceExhaustedError(path + ": larger than 64 MiB");
    }
  }
  IOCGRID_ASSIGN_OR_RETURN(std::string bytes, ReadAll(fd, path));
  if (internal::IsPdf(bytes)) {
    auto text = internal::PdfToText(path);
    if (!text.ok()) return text.status().WithContext(path);
    return internal::ToUtf8(std::move(*text));
  }
  return DecodeDocument(std::move(bytes), path);
}

}  // namespace iocgrid::extract
