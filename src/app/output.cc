#include "app/output.h"

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string>

#include "common/json_writer.h"

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

namespace {

constexpr size_t kFlushBytes = size_t{64} << 10;
constexpr size_t kSpillBytes = size_t{8} << 20;

}  // namespace

void HitWriter::WriteHeader() {
  if (format_ != OutputFormat::kCsv || header_done_) return;
  buffer_ +=
      "query,query_type,relation,matched,matched_type,source,source_name,line,"
      "comment\n";
  header_done_ = true;
}

Status HitWriter::AppendRows(HitWriter& other) {
  for (TableRow& row : other.table_rows_) table_rows_.push_back(std::move(row));
  other.table_rows_.clear();
  IOCGRID_RETURN_IF_ERROR(other.spill_error_);
  if (other.spill_ != nullptr) {
    std::FILE* file = other.spill_.get();
    if (std::fflush(file) != 0 || std::fseek(file, 0, SEEK_SET) != 0) {
      return DataLossError(std::string("temporary file of hits: ") + std::strerror(errno));
    }
    WriteHeader();
    char chunk[1 << 16];
    for (size_t n; (n = std::fread(chunk, 1, sizeof chunk, file)) > 0;) {
      buffer_.append(chunk, n);
      if (buffer_.size() >= kFlushBytes) Flush();
    }
    if (std::ferror(file)) return DataLossError("temporary file of hits: read error");
    other.spill_.reset();
  }
  if (other.buffer_.empty()) return Status::Ok();
  WriteHeader();
  buffer_ += other.buffer_;
  other.buffer_.clear();
  if (buffer_.size() >= kFlushBytes) Flush();
  return Status::Ok();
}

void HitWriter::Spill() {
  if (spill_ == nullptr && !no_spill_) {
    spill_.reset(std::tmpfile());
    no_spill_ = spill_ == nullptr;  // not tried again for every row
  }
  if (spill_ == nullptr || !spill_error_.ok()) return;
  if (std::fwrite(buffer_.data(), 1, buffer_.size(), spill_.get()) != buffer_.size()) {
    spill_error_ = DataLossError(std::string("temporary file of hits: ") + std::strerror(errno));
    return;
  }
  buffer_.clear();
}

void HitWriter::Flush() {
  if (buffer_.empty() || out_ == nullptr) return;
  std::fwrite(buffer_.data(), 1, buffer_.size(), out_);
  buffer_.clear();
}

void HitWriter::Write(const HitRow& row) {
  switch (format_) {
    case OutputFormat::kJson: {
      // Invalid UTF-8 (data files are not always clean) becomes U+FFFD.
      JsonWriter j(&buffer_);
      j.BeginObject();
      j.Field("query", row.query);
      j.Field("query_type", row.query_type);
      j.Field("query_normalized", row.query_normalized);
      j.Key("query_line");
      j.Int(row.query_line);
      j.Field("relation", row.relation);
      j.Field("matched", row.matched);
      j.Field("matched_type", row.matched_type);
      j.Field("source", row.source);
      j.Field("source_name", row.source_name);
      j.Key("line");
      j.Int(row.line);
      if (!row.comment.empty()) j.Field("comment", row.comment);
      j.EndObject();
      buffer_ += '\n';
      break;
    }
    case OutputFormat::kCsv:
      WriteHeader();
      for (std::string_view field : {row.query, row.query_type, row.relation, row.matched,
                                     row.matched_type, row.source, row.source_name}) {
        AppendCsvField(field, &buffer_);
        buffer_ += ',';
      }
      buffer_ += std::to_string(row.line);
      buffer_ += ',';
      AppendCsvField(row.comment, &buffer_);
      buffer_ += '\n';
      break;
    case OutputFormat::kTable:
      table_rows_.push_back(TableRow{
          std::string(row.query), std::string(row.query_type), row.query_line,
          std::string(row.relation), std::string(row.matched), std::string(row.matched_type),
          std::string(row.source), std::string(row.source_name), row.line});
      return;
  }
  if (out_ == nullptr) {
    if (buffer_.size() >= kSpillBytes) Spill();
  } else if (buffer_.size() >= kFlushBytes) {
    Flush();
  }
}

void HitWriter::Finish() {
  Flush();
  if (format_ != OutputFormat::kTable || table_rows_.empty()) return;
  // Hits of one query are printed together; the query is named on its first row only.
  std::stable_sort(
      table_rows_.begin(), table_rows_.end(),
      [](const TableRow& a, const TableRow& b) { return a.query_line < b.query_line; });
  auto where = [](const TableRow& r) {
    return r.line > 0 ? fmt::format("{}:{}", r.source, r.line) : r.source;
  };
  constexpr size_t kCap = 48;  // wider values are printed whole, they just stop aligning
  size_t wq = 5, wt = 4, wr = 8, wm = 7, ws = 6;
  for (const TableRow& r : table_rows_) {
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
  for (const TableRow& r : table_rows_) {
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
