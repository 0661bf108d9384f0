// Hit output for the CLI: an aligned table for people, NDJSON and CSV for scripts.
// The NDJSON field names are a stable interface (README "iocgrid match").
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

#include "common/csv.h"

namespace iocgrid::app {

enum class OutputFormat { kTable, kJson, kCsv };

// "table", "json" (also "ndjson"), "csv".
bool ParseOutputFormat(std::string_view name, OutputFormat* out);

struct HitRow {
  std::string query;  // as the analyst wrote it
  std::string query_type;
  std::string query_normalized;
  uint32_t query_line = 0;
  std::string relation;
  std::string matched;
  std::string matched_type;
  std::string source;       // file path
  std::string source_name;  // list or event name
  uint32_t line = 0;        // line in the source file (0 = unknown)
  std::string comment;
};

// Writes rows as they come (json, csv) or at Finish() (table, which needs column widths).
// `out` must outlive the writer.
class HitWriter {
 public:
  // `header`: false for a writer whose rows continue another writer's output (no CSV header).
  HitWriter(OutputFormat format, std::FILE* out, bool header = true);
  void Write(const HitRow& row);
  // Writes the CSV header unless it was written (or not wanted); other formats have none. For
  // rows that another writer wrote without a header and that are appended to this output.
  void WriteHeader();
  // Adds the rows `other` (same format, table) kept, after this writer's own.
  void AppendTableRows(HitWriter&& other);
  void Finish();

 private:
  OutputFormat format_;
  std::FILE* out_;
  bool header_done_ = false;
  std::vector<HitRow> table_rows_;
};

}  // namespace iocgrid::app
