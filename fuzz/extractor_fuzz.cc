// libFuzzer target for the extractor (issue 5): any bytes, as report text and as a document.
// Properties: no crash, no hang, bounded memory; every indicator has a position in the input.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>

#include "extract/extractor.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::unique_ptr<iocgrid::extract::Extractor> extractor = [] {
    iocgrid::extract::ExtractOptions options;
    options.keep_benign = true;  // exercise every filter path
    auto e = iocgrid::extract::Extractor::Create(options);
    if (!e.ok()) std::abort();
    return std::move(*e);
  }();
  std::string_view text(reinterpret_cast<const char*>(data), size);
  for (const auto& x : extractor->Extract(text)) {
    if (x.line == 0 || x.column == 0 || x.indicator.value.empty()) std::abort();
  }
  // Documents: HTML and encodings (PDF bytes are skipped: they would start pdftotext).
  if (text.find("%PDF-") == std::string_view::npos) {
    auto doc = iocgrid::extract::DecodeDocument(std::string(text), "fuzz.html");
    if (doc.ok()) extractor->Extract(*doc);
  }
  return 0;
}
