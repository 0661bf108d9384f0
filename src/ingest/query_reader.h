// Reads an analyst's query file: one value per line (defanged values refanged, types guessed,
// '#' comments and blank lines skipped), or CSV/TSV with a header naming type and value columns
// (a type column with non-MISP aliases such as "ip-port" or "url-noscheme" is understood; an
// unknown type falls back to guessing from the value).
//
// Thread-safety: free functions.
#pragma once

#include <cstdint>
#include <functional>
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

// One query as ForEachQuery streams it. The views are valid only during the call.
struct QueryView {
  std::string_view raw;              // the value as written
  const core::Indicator& indicator;  // normalized
  uint32_t line = 0;                 // 1-based
  std::string_view date;             // the indicator's own date, empty when the file has none
};

using QuerySink = std::function<void(const QueryView& query)>;

struct QueryFile {
  std::vector<QueryItem> items;
  std::vector<LoadIssue> issues;  // lines that held no valid indicator
};

// Parses query text, streaming each query to `on_query` and each line that holds no valid
// indicator to `on_issue`; holds none of them (a million-line file costs no more memory than its
// text). `path` only names it in issues.
void ForEachQuery(std::string_view path, std::string_view content, const QuerySink& on_query,
                  const IssueSink& on_issue);

// True when ForEachQuery reads `content` as CSV/TSV (its first non-comment line is a header
// naming the columns); otherwise it is a plain list, one value per line.
bool IsCsvQueryText(std::string_view content);

// ForEachQuery for a slice of a plain list (not CSV), its lines numbered from `first_line`: for
// reading one file's parts on several threads. A slice starting at line 1 may begin with a BOM.
void ForEachPlainQuery(std::string_view path, std::string_view slice, uint32_t first_line,
                       const QuerySink& on_query, const IssueSink& on_issue);

// Parses query text into a QueryFile (ForEachQuery, collected). `path` only names it in issues.
QueryFile ParseQueries(std::string_view path, std::string_view content);

// Reads a query file ("-" = standard input) into memory, gunzipped when it is gzip.
// Errors: kNotFound / kPermissionDenied when unreadable, kInvalidArgument for a broken gzip.
Result<std::string> ReadQueryText(const std::string& path);

// Reads and parses a query file ("-" = standard input).
// Errors: kNotFound / kPermissionDenied when unreadable.
Result<QueryFile> ReadQueryFile(const std::string& path);

}  // namespace iocgrid::ingest
