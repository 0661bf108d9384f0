// Hit output for the CLI: an aligned table for people, NDJSON and CSV for scripts.
// The NDJSON field names are a stable interface (README "iocgrid match").
#pragma once

#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/csv.h"
#include "common/status.h"

namespace iocgrid::app {

enum class OutputFormat { kTable, kJson, kCsv };

// "table", "json" (also "ndjson"), "csv".
bool ParseOutputFormat(std::string_view name, OutputFormat* out);

// One hit as written. The views need only outlive the Write call (the table copies them).
struct HitRow {
  std::string_view query;  // as the analyst wrote it
  std::string_view query_type;
  std::string_view query_normalized;
  uint32_t query_line = 0;
  std::string_view relation;
  std::string_view matched;
  std::string_view matched_type;
  std::string_view source;       // file path
  std::string_view source_name;  // list or event name
  uint32_t line = 0;             // line in the source file (0 = unknown)
  std::string_view comment;
};

// Writes rows as they come (json, csv: through a buffer of 64 KiB, so a million-hit output
// costs no formatting temporaries) or at Finish() (table, which needs column widths).
// `out` must outlive the writer. A writer without `out` keeps its rows until another writer
// takes them (AppendRows): a part of the output made out of order. It keeps them in memory up
// to 8 MiB and in a temporary file beyond (a list whose queries each hit thousands of stored
// values must not hold its output in memory; the table, which sorts every row, always does).
class HitWriter {
 public:
  // `header`: false for a writer whose rows continue another writer's output (no CSV header).
  HitWriter(OutputFormat format, std::FILE* out, bool header = true);
  HitWriter(const HitWriter&) = delete;
  HitWriter& operator=(const HitWriter&) = delete;
  ~HitWriter() { Flush(); }

  void Write(const HitRow& row);
  // Writes the CSV header unless it was written (or not wanted); other formats have none. For
  // rows that another writer wrote without a header and that are appended to this output.
  void WriteHeader();
  // Adds the rows `other` (same format, made without `out`) kept, after this writer's own;
  // `other` is left empty. Errors: kDataLoss when its temporary file could not be written or
  // read back (the output is then incomplete).
  Status AppendRows(HitWriter& other);
  // Hands the buffered rows to `out` (not fflush: that stays the caller's); none without one.
  void Flush();
  // The table, or the rest of the buffer.
  void Finish();

 private:
  // A table row keeps its own copies.
  struct TableRow {
    std::string query;
    std::string query_type;
    uint32_t query_line = 0;
    std::string relation;
    std::string matched;
    std::string matched_type;
    std::string source;
    std::string source_name;
    uint32_t line = 0;
  };

  // Moves the buffer to the temporary file (made on first use; while none can be made, the
  // rows stay in memory).
  void Spill();

  OutputFormat format_;
  std::FILE* out_;
  bool header_done_ = false;
  std::string buffer_;
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> spill_{nullptr, &std::fclose};
  bool no_spill_ = false;  // no temporary file could be made: the rows stay in memory
  Status spill_error_;
  std::vector<TableRow> table_rows_;
};

}  // namespace iocgrid::app
