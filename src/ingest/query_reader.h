// Reads an analyst's query file: one value per line (defanged values refanged, types guessed,
// '#' comments and blank lines skipped), or CSV/TSV with a header naming type and value columns
// (a type column with non-MISP aliases such as "ip-port" or "url-noscheme" is understood; an
// unknown type falls back to guessing from the value).
//
// Thread-safety: free functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "core/indicator.h"
#include "ingest/loader.h"

namespace iocgrid::ingest {

struct QueryItem {
  std::string raw;            // the value as written
  core::Indicator indicator;  // normalized
  uint32_t line = 0;          // 1-based
  std::string date;           // the indicator's own date when the file gives one (first_seen...)
};

struct QueryFile {
  std::vector<QueryItem> items;
  std::vector<LoadIssue> issues;  // lines that held no valid indicator
};

// Parses query text. `path` only names it in issues.
QueryFile ParseQueries(std::string_view path, std::string_view content);

// Reads and parses a query file ("-" = standard input).
// Errors: kNotFound / kPermissionDenied when unreadable.
Result<QueryFile> ReadQueryFile(const std::string& path);

}  // namespace iocgrid::ingest
