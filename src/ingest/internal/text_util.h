// Text helpers shared by the ingest loaders and the query reader (ASCII trimming and case
// folding are common/ascii.h's): line numbers from byte offsets, an RFC 4180 CSV record reader, and
// the mapping of a CSV header onto the columns the importers understand.
//
// Thread-safety: pure functions and single-owner values.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/ascii.h"  // trimming and case folding (TrimAscii, AsciiLower, ...)
#include "common/status.h"
#include "core/indicator_type.h"

namespace iocgrid::ingest::internal {

// Removes a leading UTF-8 byte order mark.
std::string_view StripBom(std::string_view text);

// `text` cut to `max_chars` bytes with "..." appended when longer (for issue messages).
std::string Abbreviate(std::string_view text, size_t max_chars = 80);
// A status message that may quote input cut by bytes elsewhere (core quotes the first 80
// bytes of a value), as valid UTF-8: a cut character becomes U+FFFD.
std::string QuotedMessage(const Status& status);

// Splits `line` at its first run of whitespace: the value before it and the trimmed rest.
void SplitFirstToken(std::string_view line, std::string_view* token, std::string_view* rest);

// Removes a trailing comment: a '#' preceded by whitespace, and everything after it.
std::string_view StripTrailingComment(std::string_view line);

// True for a line that is a whole-line comment in list formats ('#', ';' or "//").
bool IsCommentLine(std::string_view trimmed_line);

// Iterates the lines of a text (LF or CRLF; a final line without newline included).
class LineCursor {
 public:
  explicit LineCursor(std::string_view text) : text_(text) {}

  // Sets *line to the next line without its terminator and *number to its 1-based number.
  // Inline: every list, query and log line passes here.
  bool Next(std::string_view* line, uint32_t* number) {
    if (pos_ >= text_.size()) return false;
    const char* begin = text_.data() + pos_;
    const size_t left = text_.size() - pos_;
    const void* newline = std::memchr(begin, '\n', left);
    size_t length =
        newline == nullptr ? left : static_cast<size_t>(static_cast<const char*>(newline) - begin);
    pos_ += length + 1;
    if (length > 0 && begin[length - 1] == '\r') --length;
    *line = std::string_view(begin, length);
    *number = ++number_;
    return true;
  }

 private:
  std::string_view text_;
  size_t pos_ = 0;
  uint32_t number_ = 0;
};

// Maps byte offsets of a text to 1-based line numbers.
class LineIndex {
 public:
  explicit LineIndex(std::string_view text);

  uint32_t LineOf(size_t offset) const;

 private:
  std::vector<size_t> newlines_;  // offsets of every '\n', ascending
};

// Reads RFC 4180 records: fields separated by `delimiter`, optionally double-quoted, with ""
// inside quotes for a quote; quoted fields may span lines. Lines whose first character is '#'
// are comments and skipped; so are blank lines.
class CsvReader {
 public:
  CsvReader(std::string_view text, char delimiter) : text_(text), delimiter_(delimiter) {}

  // Reads the next record into *fields and its first line into *line. Returns false at the end
  // of the text. An unterminated quoted field ends the text: *error is set, and the record is
  // returned as far as it was read.
  bool Next(std::vector<std::string>* fields, uint32_t* line, std::string* error);

 private:
  std::string_view text_;
  char delimiter_;
  size_t pos_ = 0;
  uint32_t line_ = 1;
};

// The delimiter of a header line: the most frequent of ',', '\t' and ';' outside quotes, or 0
// when the line holds none of them.
char DetectDelimiter(std::string_view header_line);

// Splits one line with CsvReader semantics (used for headers).
std::vector<std::string> SplitCsvLine(std::string_view line, char delimiter);

// Where the understood columns of a CSV header are. Indexes are -1 when absent.
struct CsvColumns {
  int value = -1;
  int type = -1;
  // With no type column: the type the value column's name implies ("ip" -> ip-dst), or nullopt
  // to guess per value.
  std::optional<core::IndicatorType> value_column_type;
  int category = -1;
  int comment = -1;
  int tags = -1;
  int first_seen = -1;
  int last_seen = -1;
  int to_ids = -1;
  int uuid = -1;
  int date = -1;
  int object_name = -1;
  int object_relation = -1;
  // Columns of MISP's CSV export that only hold MISP bookkeeping (event_id, object_uuid,
  // object_meta_category): neither mapped nor copied into the comment.
  std::vector<bool> ignored;
  std::vector<std::string> names;  // header names as written (trimmed)
};

// True when `name` (any case) names a value column: "value", or one of indicator, ioc, ip,
// ip_address, ipaddress, address, domain, hostname, url, md5, sha1, sha256, hash, email.
bool IsValueColumnName(std::string_view name);

// Maps header names onto columns. Returns false when no column names a value column.
bool ResolveCsvHeader(const std::vector<std::string>& header, CsvColumns* out);

// If `line` is the header of a CSV/TSV file (a delimiter and a value column name, or a single
// value column name), sets *delimiter (',' for a single column) and returns true.
bool LooksLikeCsvHeader(std::string_view line, char* delimiter);

// The delimiter of `content` (BOM stripped) when its first line that is neither blank nor a '#'
// comment looks like a CSV/TSV header (LooksLikeCsvHeader), else 0.
char CsvHeaderDelimiter(std::string_view content);

// Parses "YYYY-MM-DD" (optionally followed by a time) or "YYYYMMDD" into "YYYY-MM-DD".
std::optional<std::string> ParseDate(std::string_view text);

// Unix seconds at midnight UTC of a "YYYY-MM-DD" date. REQUIRES: the date came from ParseDate.
int64_t DateToUnixSeconds(std::string_view date);

// "1"/"0", "true"/"false", "yes"/"no" (any case); nullopt otherwise.
std::optional<bool> ParseBool(std::string_view text);

// Splits a tag cell: "[a, b]", "a;b" or "a,b"; empty parts dropped, each trimmed.
std::vector<std::string> SplitTags(std::string_view cell);

// The 16 MISP categories, matched case-insensitively; returns the canonical spelling or empty.
std::string_view CanonicalCategory(std::string_view name);

}  // namespace iocgrid::ingest::internal
