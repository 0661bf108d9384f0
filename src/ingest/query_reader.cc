#include "ingest/query_reader.h"

#include <optional>
#include <utility>

#include "core/fast_value.h"
#include "ingest/internal/file_io.h"
#include "ingest/internal/text_util.h"
#include "ingest/internal/values.h"

namespace iocgrid::ingest {
namespace {

// Where ForEachQuery sends what it finds.
struct QueryOut {
  std::string_view path;
  const QuerySink& on_query;
  const IssueSink& on_issue;

  void Issue(uint32_t line, std::string message) const {
    LoadIssue issue;
    issue.path = std::string(path);
    issue.line = line;
    issue.message = std::move(message);
    on_issue(issue);
  }
};

// The date of a CSV row: a first_seen or date column, else "first_seen=YYYY-MM-DD" inside any
// other cell (e.g. a free-form "context" column).
std::string RowDate(const internal::CsvColumns& columns, const std::vector<std::string>& fields) {
  for (int index : {columns.first_seen, columns.date}) {
    if (index < 0 || static_cast<size_t>(index) >= fields.size()) continue;
    if (std::optional<std::string> date = internal::ParseDate(fields[static_cast<size_t>(index)])) {
      return *std::move(date);
    }
  }
  constexpr std::string_view kKey = "first_seen=";
  for (size_t i = 0; i < fields.size(); ++i) {
    if (static_cast<int>(i) == columns.value) continue;
    const std::string& cell = fields[i];
    const size_t at = cell.find(kKey);
    if (at == std::string::npos) continue;
    std::string_view rest = std::string_view(cell).substr(at + kKey.size());
    const size_t end = rest.find_first_of(";,");
    if (end != std::string_view::npos) rest = rest.substr(0, end);
    if (std::optional<std::string> date = internal::ParseDate(rest)) return *std::move(date);
  }
  return {};
}

void ParseCsvQueries(std::string_view content, char delimiter, const QueryOut& out) {
  internal::CsvReader reader(content, delimiter);
  std::vector<std::string> fields;
  uint32_t line = 0;
  std::string error;
  if (!reader.Next(&fields, &line, &error)) return;
  internal::CsvColumns columns;
  if (!internal::ResolveCsvHeader(fields, &columns)) return;  // checked by the caller
  const size_t value_index = static_cast<size_t>(columns.value);
  while (reader.Next(&fields, &line, &error)) {
    if (!error.empty()) {
      out.Issue(line, error + "; rest of the file skipped");
      return;
    }
    bool blank = true;
    for (const std::string& field : fields) blank = blank && TrimAscii(field).empty();
    if (blank) continue;
    const std::string_view raw = value_index < fields.size() ? TrimAscii(fields[value_index]) : "";
    if (raw.empty()) {
      out.Issue(line, "no value in column '" + columns.names[value_index] + "'");
      continue;
    }
    const std::string_view type_cell =
        columns.type >= 0 && static_cast<size_t>(columns.type) < fields.size()
            ? std::string_view(fields[static_cast<size_t>(columns.type)])
            : std::string_view();
    Result<core::Indicator> indicator = internal::ParseCsvValue(columns, type_cell, raw);
    if (!indicator.ok()) {
      out.Issue(line, internal::SkipMessage(raw, indicator.status()));
      continue;
    }
    const std::string date = RowDate(columns, fields);
    out.on_query(QueryView{raw, *indicator, line, date});
  }
}

void ParsePlainQueries(std::string_view content, uint32_t first_line, const QueryOut& out) {
  internal::LineCursor cursor(content);
  std::string_view line;
  uint32_t local = 0;
  core::Indicator plain;
  while (cursor.Next(&line, &local)) {
    const uint32_t number = first_line - 1 + local;
    // A line that is nothing but a plain value (most lines of a long list) is its own token:
    // trimming, comment and token scans would find nothing to remove.
    if (core::GuessPlainIndicator(line, &plain)) {
      out.on_query(QueryView{line, plain, number, {}});
      continue;
    }
    std::string_view text = TrimAscii(line);
    if (text.empty() || internal::IsCommentLine(text)) continue;
    text = internal::StripTrailingComment(text);
    std::string_view token;
    std::string_view rest;
    internal::SplitFirstToken(text, &token, &rest);
    Result<core::Indicator> indicator = core::GuessIndicator(token);
    if (!indicator.ok()) {
      out.Issue(number, "no indicator in '" + internal::Abbreviate(text) +
                            "': " + internal::QuotedMessage(indicator.status()));
      continue;
    }
    out.on_query(QueryView{token, *indicator, number, {}});
  }
}

}  // namespace

bool IsCsvQueryText(std::string_view content) {
  return internal::CsvHeaderDelimiter(internal::StripBom(content)) != 0;
}

void ForEachPlainQuery(std::string_view path, std::string_view slice, uint32_t first_line,
                       const QuerySink& on_query, const IssueSink& on_issue) {
  if (first_line == 1) slice = internal::StripBom(slice);
  ParsePlainQueries(slice, first_line, QueryOut{path, on_query, on_issue});
}

void ForEachQuery(std::string_view path, std::string_view content, const QuerySink& on_query,
                  const IssueSink& on_issue) {
  const QueryOut out{path, on_query, on_issue};
  content = internal::StripBom(content);
  if (const char delimiter = internal::CsvHeaderDelimiter(content); delimiter != 0) {
    ParseCsvQueries(content, delimiter, out);
    return;
  }
  ParsePlainQueries(content, 1, out);
}

QueryFile ParseQueries(std::string_view path, std::string_view content) {
  QueryFile file;
  ForEachQuery(
      path, content,
      [&](const QueryView& query) {
        QueryItem item;
        item.raw = std::string(query.raw);
        item.indicator = query.indicator;
        item.line = query.line;
        item.date = std::string(query.date);
        file.items.push_back(std::move(item));
      },
      [&](const LoadIssue& issue) { file.issues.push_back(issue); });
  return file;
}

Result<std::string> ReadQueryText(const std::string& path) {
  IOCGRID_ASSIGN_OR_RETURN(std::string content, internal::ReadWholeFile(path, 0));
  if (internal::IsGzip(content)) {
    Result<std::string> text = internal::Gunzip(content, 0, /*truncate=*/false);
    if (!text.ok()) return text.status().WithContext(path);
    content = std::move(text).value();
  }
  return content;
}

Result<QueryFile> ReadQueryFile(const std::string& path) {
  IOCGRID_ASSIGN_OR_RETURN(std::string content, ReadQueryText(path));
  return ParseQueries(path, content);
}

}  // namespace iocgrid::ingest
