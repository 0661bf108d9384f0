#include "app/output.h"

#include <fmt/format.h>

#include <algorithm>
#include <nlohmann/json.hpp>

namespace iocgrid::app {

bool ParseOutputFormat(std::string_view name, OutputFormat* out) {
  if (name == "table")
    *out = OutputFormat::kTable;
  else if (name == "json" || name == "ndjson")
    *out = OutputFormat::kJson;
  else if (name == "csv")
    *out = OutputFormat::kCsv;
  else
    return false;
  return true;
}

HitWriter::HitWriter(OutputFormat format, std::FILE* out, bool header)
    : format_(format), out_(out), header_done_(!header) {}

void HitWriter::WriteHeader() {
  if (format_ != OutputFormat::kCsv || header_done_) return;
  std::fprintf(out_,
               "query,query_type,relation,matched,matched_type,source,source_name,line,"
               "comment\n");
  header_done_ = true;
}

void HitWriter::AppendTableRows(HitWriter&& other) {
  for (HitRow& row : other.table_rows_) table_rows_.push_back(std::move(row));
  other.table_rows_.clear();
}

void HitWriter::Write(const HitRow& row) {
  switch (format_) {
    case OutputFormat::kJson: {
      nlohmann::ordered_json j;
      j["query"] = row.query;
      j["query_type"] = row.query_type;
      j["query_normalized"] = row.query_normalized;
      j["query_line"] = row.query_line;
      j["relation"] = row.relation;
      j["matched"] = row.matched;
      j["matched_type"] = row.matched_type;
      j["source"] = row.source;
      j["source_name"] = row.source_name;
      j["line"] = row.line;
      if (!row.comment.empty()) j["comment"] = row.comment;
      // Replace invalid UTF-8 rather than throwing: data files are not always clean.
      std::string text = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
      std::fprintf(out_, "%s\n", text.c_str());
      return;
    }
    case OutputFormat::kCsv:
      WriteHeader();
      std::fprintf(
          out_, "%s\n",
          fmt::format("{},{},{},{},{},{},{},{},{}", CsvField(row.query), CsvField(row.query_type),
                      CsvField(row.relation), CsvField(row.matched), CsvField(row.matched_type),
                      CsvField(row.source), CsvField(row.source_name), row.line,
                      CsvField(row.comment))
              .c_str());
      return;
    case OutputFormat::kTable:
      table_rows_.push_back(row);
      return;
  }
}

void HitWriter::Finish() {
  if (format_ != OutputFormat::kTable || table_rows_.empty()) return;
  // Hits of one query are printed together; the query is named on its first row only.
  std::stable_sort(table_rows_.begin(), table_rows_.end(),
                   [](const HitRow& a, const HitRow& b) { return a.query_line < b.query_line; });
  auto where = [](const HitRow& r) {
    return r.line > 0 ? fmt::format("{}:{}", r.source, r.line) : r.source;
  };
  constexpr size_t kCap = 48;  // wider values are printed whole, they just stop aligning
  size_t wq = 5, wt = 4, wr = 8, wm = 7, ws = 6;
  for (const HitRow& r : table_rows_) {
    ws = std::max(ws, std::min(kCap * 2, where(r).size()));
    wq = std::max(wq, std::min(kCap, r.query.size()));
    wt = std::max(wt, r.query_type.size());
    wr = std::max(wr, r.relation.size());
    wm = std::max(wm, std::min(kCap, r.matched.size() + r.matched_type.size() + 3));
  }
  std::fprintf(out_, "%s\n",
               fmt::format("{:<{}}  {:<{}}  {:<{}}  {:<{}}  {:<{}}  {}", "QUERY", wq, "TYPE", wt,
                           "RELATION", wr, "MATCHED", wm, "SOURCE", ws, "LIST / EVENT")
                   .c_str());
  const std::string* last_query = nullptr;
  uint32_t last_line = 0;
  for (const HitRow& r : table_rows_) {
    bool same = last_query && *last_query == r.query && last_line == r.query_line;
    std::string matched = fmt::format("{} ({})", r.matched, r.matched_type);
    std::fprintf(out_, "%s\n",
                 fmt::format("{:<{}}  {:<{}}  {:<{}}  {:<{}}  {:<{}}  {}", same ? "" : r.query, wq,
                             same ? "" : r.query_type, wt, r.relation, wr, matched, wm, where(r),
                             ws, r.source_name)
                     .c_str());
    last_query = &r.query;
    last_line = r.query_line;
  }
}

}  // namespace iocgrid::app
