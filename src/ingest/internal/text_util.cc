#include "ingest/internal/text_util.h"

#include <algorithm>
#include <array>
#include <charconv>

#include "common/utf8.h"

namespace iocgrid::ingest::internal {

std::string_view StripBom(std::string_view text) {
  if (text.size() >= 3 && text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);
  return text;
}

std::string Abbreviate(std::string_view text, size_t max_chars) {
  if (text.size() <= max_chars) return std::string(text);
  // Cut on a character boundary: a cut through a multi-byte character made the quoted input
  // invalid UTF-8 (Japanese reports, issue 8).
  std::string out(TruncateUtf8(text, max_chars));
  out += "...";
  return out;
}

std::string QuotedMessage(const Status& status) { return SanitizeUtf8(status.message()); }

void SplitFirstToken(std::string_view line, std::string_view* token, std::string_view* rest) {
  line = TrimAscii(line);
  size_t end = 0;
  while (end < line.size() && !IsAsciiSpace(line[end])) ++end;
  *token = line.substr(0, end);
  *rest = TrimAscii(line.substr(end));
}

std::string_view StripTrailingComment(std::string_view line) {
  for (size_t i = 1; i < line.size(); ++i) {
    if (line[i] == '#' && IsAsciiSpace(line[i - 1])) return TrimAscii(line.substr(0, i));
  }
  return line;
}

bool IsCommentLine(std::string_view trimmed_line) {
  return !trimmed_line.empty() && (trimmed_line.front() == '#' || trimmed_line.front() == ';' ||
                                   trimmed_line.substr(0, 2) == "//");
}

LineIndex::LineIndex(std::string_view text) {
  for (size_t pos = text.find('\n'); pos != std::string_view::npos;
       pos = text.find('\n', pos + 1)) {
    newlines_.push_back(pos);
  }
}

uint32_t LineIndex::LineOf(size_t offset) const {
  // The line number is one more than the count of newlines before `offset`.
  auto it = std::lower_bound(newlines_.begin(), newlines_.end(), offset);
  return static_cast<uint32_t>(it - newlines_.begin()) + 1;
}

bool CsvReader::Next(std::vector<std::string>* fields, uint32_t* line, std::string* error) {
  fields->clear();
  error->clear();
  // Skip blank and comment lines.
  while (pos_ < text_.size()) {
    size_t end = text_.find('\n', pos_);
    if (end == std::string_view::npos) end = text_.size();
    std::string_view raw = text_.substr(pos_, end - pos_);
    std::string_view trimmed = TrimAscii(raw);
    if (!trimmed.empty() && trimmed.front() != '#') break;
    pos_ = end + 1;
    ++line_;
  }
  if (pos_ >= text_.size()) return false;
  *line = line_;

  std::string field;
  bool quoted_field = false;  // the current field started with a quote
  while (true) {
    if (pos_ >= text_.size()) {
      fields->push_back(std::move(field));
      return true;
    }
    char c = text_[pos_];
    if (c == '"' && TrimAscii(field).empty() && !quoted_field) {
      // Opening quote (leading blanks before it are dropped).
      field.clear();
      quoted_field = true;
      ++pos_;
      bool closed = false;
      while (pos_ < text_.size()) {
        char q = text_[pos_++];
        if (q == '"') {
          if (pos_ < text_.size() && text_[pos_] == '"') {
            field += '"';
            ++pos_;
            continue;
          }
          closed = true;
          break;
        }
        if (q == '\n') ++line_;
        field += q;
      }
      if (!closed) {
        *error = "unterminated quoted field";
        fields->push_back(std::move(field));
        pos_ = text_.size();
        return true;
      }
      continue;  // text after the closing quote (lenient) is appended until the delimiter
    }
    if (c == delimiter_) {
      fields->push_back(std::move(field));
      field.clear();
      quoted_field = false;
      ++pos_;
      continue;
    }
    if (c == '\n' || c == '\r') {
      // End of record: CRLF or LF (a lone CR at the end of the text too).
      if (c == '\r' && pos_ + 1 < text_.size() && text_[pos_ + 1] == '\n') ++pos_;
      ++pos_;
      ++line_;
      fields->push_back(std::move(field));
      return true;
    }
    field += c;
    ++pos_;
  }
}

char DetectDelimiter(std::string_view header_line) {
  constexpr std::array<char, 3> kCandidates = {',', '\t', ';'};
  std::array<int, 3> counts{};
  bool in_quotes = false;
  for (char c : header_line) {
    if (c == '"') {
      in_quotes = !in_quotes;
      continue;
    }
    if (in_quotes) continue;
    for (size_t i = 0; i < kCandidates.size(); ++i) {
      if (c == kCandidates[i]) ++counts[i];
    }
  }
  char best = 0;
  int best_count = 0;
  for (size_t i = 0; i < kCandidates.size(); ++i) {
    if (counts[i] > best_count) {
      best = kCandidates[i];
      best_count = counts[i];
    }
  }
  return best;
}

std::vector<std::string> SplitCsvLine(std::string_view line, char delimiter) {
  CsvReader reader(line, delimiter);
  std::vector<std::string> fields;
  uint32_t number = 0;
  std::string error;
  if (!reader.Next(&fields, &number, &error)) fields.clear();
  return fields;
}

namespace {

// Value column names in the order the brief lists them.
constexpr std::array<std::string_view, 15> kValueColumnNames = {
    "value",    "indicator", "ioc", "ip",   "ip_address", "ipaddress", "address", "domain",
    "hostname", "url",       "md5", "sha1", "sha256",     "hash",      "email"};

// The type a value column's name implies when the file has no type column.
std::optional<core::IndicatorType> TypeOfValueColumn(std::string_view lower_name) {
  using core::IndicatorType;
  if (lower_name == "ip" || lower_name == "ip_address" || lower_name == "ipaddress") {
    return IndicatorType::kIpDst;
  }
  if (lower_name == "domain") return IndicatorType::kDomain;
  if (lower_name == "hostname") return IndicatorType::kHostname;
  if (lower_name == "url") return IndicatorType::kUrl;
  if (lower_name == "md5") return IndicatorType::kMd5;
  if (lower_name == "sha1") return IndicatorType::kSha1;
  if (lower_name == "sha256") return IndicatorType::kSha256;
  if (lower_name == "email") return IndicatorType::kEmailSrc;
  return std::nullopt;  // value, indicator, ioc, address, hash: guess per value
}

}  // namespace

bool IsValueColumnName(std::string_view name) {
  std::string lower = AsciiLower(TrimAscii(name));
  return std::find(kValueColumnNames.begin(), kValueColumnNames.end(), lower) !=
         kValueColumnNames.end();
}

bool ResolveCsvHeader(const std::vector<std::string>& header, CsvColumns* out) {
  *out = CsvColumns{};
  out->ignored.assign(header.size(), false);
  std::vector<std::string> lower(header.size());
  for (size_t i = 0; i < header.size(); ++i) {
    out->names.emplace_back(TrimAscii(StripBom(header[i])));
    lower[i] = AsciiLower(out->names.back());
  }
  auto find = [&lower](std::string_view name) -> int {
    for (size_t i = 0; i < lower.size(); ++i) {
      if (lower[i] == name) return static_cast<int>(i);
    }
    return -1;
  };
  out->value = find("value");
  if (out->value < 0) {
    // The first column (in header order) whose name is a value column name.
    for (size_t i = 0; i < lower.size() && out->value < 0; ++i) {
      if (IsValueColumnName(lower[i])) out->value = static_cast<int>(i);
    }
  }
  if (out->value < 0) return false;
  out->type = find("type");
  if (out->type < 0) out->type = find("ioc_type");
  if (out->type < 0) out->type = find("indicator_type");
  if (out->type < 0) out->value_column_type = TypeOfValueColumn(lower[out->value]);
  out->category = find("category");
  out->comment = find("comment");
  out->tags = find("tags");
  if (out->tags < 0) out->tags = find("attribute_tag");
  out->first_seen = find("first_seen");
  out->last_seen = find("last_seen");
  out->to_ids = find("to_ids");
  out->uuid = find("uuid");
  out->date = find("date");
  out->object_name = find("object_name");
  out->object_relation = find("object_relation");
  for (std::string_view bookkeeping : {"event_id", "object_uuid", "object_meta_category"}) {
    int index = find(bookkeeping);
    if (index >= 0) out->ignored[static_cast<size_t>(index)] = true;
  }
  return true;
}

bool LooksLikeCsvHeader(std::string_view line, char* delimiter) {
  line = TrimAscii(StripBom(line));
  if (line.empty()) return false;
  char found = DetectDelimiter(line);
  if (found == 0) {
    if (!IsValueColumnName(line)) return false;
    *delimiter = ',';
    return true;
  }
  CsvColumns columns;
  if (!ResolveCsvHeader(SplitCsvLine(line, found), &columns)) return false;
  *delimiter = found;
  return true;
}

char CsvHeaderDelimiter(std::string_view content) {
  LineCursor cursor(content);
  std::string_view line;
  uint32_t number = 0;
  while (cursor.Next(&line, &number)) {
    const std::string_view trimmed = TrimAscii(line);
    if (trimmed.empty() || trimmed.front() == '#') continue;
    char delimiter = 0;
    return LooksLikeCsvHeader(trimmed, &delimiter) ? delimiter : 0;
  }
  return 0;
}

namespace {

bool AllDigits(std::string_view text) {
  return !text.empty() &&
         std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

int ToInt(std::string_view digits) {
  int value = 0;
  std::from_chars(digits.data(), digits.data() + digits.size(), value);
  return value;
}

}  // namespace

std::optional<std::string> ParseDate(std::string_view text) {
  text = TrimAscii(text);
  std::string_view year;
  std::string_view month;
  std::string_view day;
  if (text.size() >= 10 && text[4] == '-' && text[7] == '-' &&
      (text.size() == 10 || text[10] == ' ' || text[10] == 'T')) {
    year = text.substr(0, 4);
    month = text.substr(5, 2);
    day = text.substr(8, 2);
  } else if (text.size() == 8) {
    year = text.substr(0, 4);
    month = text.substr(4, 2);
    day = text.substr(6, 2);
  } else {
    return std::nullopt;
  }
  if (!AllDigits(year) || !AllDigits(month) || !AllDigits(day)) return std::nullopt;
  int m = ToInt(month);
  int d = ToInt(day);
  if (m < 1 || m > 12 || d < 1 || d > 31) return std::nullopt;
  std::string out;
  out.reserve(10);
  out.append(year).append("-").append(month).append("-").append(day);
  return out;
}

int64_t DateToUnixSeconds(std::string_view date) {
  // Howard Hinnant's days_from_civil.
  int64_t y = ToInt(date.substr(0, 4));
  const int64_t m = ToInt(date.substr(5, 2));
  const int64_t d = ToInt(date.substr(8, 2));
  y -= m <= 2 ? 1 : 0;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const int64_t yoe = y - era * 400;
  const int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  const int64_t days = era * 146097 + doe - 719468;
  return days * 86400;
}

std::optional<bool> ParseBool(std::string_view text) {
  text = TrimAscii(text);
  if (text == "1" || EqualsIgnoreAsciiCase(text, "true") || EqualsIgnoreAsciiCase(text, "yes"))
    return true;
  if (text == "0" || EqualsIgnoreAsciiCase(text, "false") || EqualsIgnoreAsciiCase(text, "no")) {
    return false;
  }
  return std::nullopt;
}

std::vector<std::string> SplitTags(std::string_view cell) {
  cell = TrimAscii(cell);
  if (cell.size() >= 2 && cell.front() == '[' && cell.back() == ']') {
    cell = cell.substr(1, cell.size() - 2);
  }
  char separator = cell.find(';') != std::string_view::npos ? ';' : ',';
  std::vector<std::string> tags;
  size_t start = 0;
  while (start <= cell.size()) {
    size_t end = cell.find(separator, start);
    if (end == std::string_view::npos) end = cell.size();
    std::string_view tag = TrimAscii(cell.substr(start, end - start));
    if (tag.size() >= 2 && (tag.front() == '"' || tag.front() == '\'') &&
        tag.back() == tag.front()) {
      tag = TrimAscii(tag.substr(1, tag.size() - 2));
    }
    if (!tag.empty()) tags.emplace_back(tag);
    start = end + 1;
  }
  return tags;
}

std::string_view CanonicalCategory(std::string_view name) {
  static constexpr std::array<std::string_view, 16> kCategories = {"Internal reference",
                                                                   "Targeting data",
                                                                   "Antivirus detection",
                                                                   "Payload delivery",
                                                                   "Artifacts dropped",
                                                                   "Payload installation",
                                                                   "Persistence mechanism",
                                                                   "Network activity",
                                                                   "Payload type",
                                                                   "Attribution",
                                                                   "External analysis",
                                                                   "Financial fraud",
                                                                   "Support Tool",
                                                                   "Social network",
                                                                   "Person",
                                                                   "Other"};
  name = TrimAscii(name);
  for (std::string_view category : kCategories) {
    if (EqualsIgnoreAsciiCase(category, name)) return category;
  }
  return {};
}

}  // namespace iocgrid::ingest::internal
