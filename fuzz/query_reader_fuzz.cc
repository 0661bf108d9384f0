// libFuzzer target for the analyst's query file reader (issue 8): ingest::ParseQueries on any
// bytes (one value per line, or CSV/TSV with type/value columns and type aliases).
// Properties: no crash, no hang; every item is normalized, has its raw text and a line number
// within the input.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fuzz/fuzz_checks.h"
#include "ingest/query_reader.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace iocgrid;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  // The CSV reader also ends a record at a lone CR (and counts it as a line), so the bound is
  // the count of both.
  const size_t lines = static_cast<size_t>(std::count(text.begin(), text.end(), '\n') +
                                           std::count(text.begin(), text.end(), '\r')) +
                       1;
  auto file = ingest::ParseQueries("queries.txt", text);
  for (const auto& item : file.items) {
    fuzz::CheckNormalized(item.indicator);
    if (item.line == 0 || item.line > lines) fuzz::Fail("query line out of range", item.raw);
    if (item.raw.empty()) fuzz::Fail("query item without raw text", item.indicator.value);
  }
  return 0;
}
