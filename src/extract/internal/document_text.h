// Report files to text: the parts that DecodeDocument and LoadDocument (document.cc) are made
// of, one file per format: encoding.cc (to UTF-8), html_text.cc, pdf_text.cc.
//
// Thread-safety: pure functions; PdfToText runs a child process per call.
#pragma once

#include <unistd.h>

#include <cstddef>
#include <string>
#include <string_view>

#include "common/result.h"

namespace iocgrid::extract::internal {

// Inputs (and pdftotext outputs) larger than this are refused.
inline constexpr size_t kMaxDocumentBytes = 64u << 20;

// Closes a file descriptor at the end of its scope.
struct FdCloser {
  int fd = -1;
  ~FdCloser() {
    if (fd >= 0) ::close(fd);
  }
};

// Bytes to UTF-8: a BOM (UTF-8, UTF-16) decides; else valid UTF-8 stays; else Shift_JIS or
// EUC-JP by a byte-pair score; else Windows-1252 (ISO-8859-1 as the total fallback).
std::string ToUtf8(std::string bytes);

// Whether a text is HTML, by the file name's extension or by its start.
bool LooksLikeHtml(std::string_view s, std::string_view name);
// HTML to text: tags stripped, script/style/comments dropped, entities decoded, href/src values
// kept, block tags as line breaks and table cells as tabs.
std::string HtmlToText(std::string_view html);

// Whether the bytes are a PDF ("%PDF-" in the first KiB).
bool IsPdf(std::string_view bytes);
// Runs `pdftotext -enc UTF-8 -layout FILE -` with a deadline and an output cap. Errors:
// kUnavailable without pdftotext, kDataLoss when it fails or overruns, kInternal.
Result<std::string> PdfToText(const std::string& file);

}  // namespace iocgrid::extract::internal
