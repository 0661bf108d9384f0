// CSV/TSV with a header, plain one-value-per-line lists and IPsum "ip<TAB>count" lists, plus
// the LoadContext every loader reports through.
#include <charconv>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/ascii.h"
#include "common/utf8.h"
#include "core/fast_value.h"
#include "core/indicator.h"
#include "core/indicator_type.h"
#include "ingest/internal/formats.h"
#include "ingest/internal/text_util.h"
#include "ingest/internal/values.h"

namespace iocgrid::ingest::internal {

std::string LoadContext::FileName() const {
  const size_t slash = path_.find_last_of('/');
  return std::string(slash == std::string_view::npos ? path_ : path_.substr(slash + 1));
}

void LoadContext::Note(uint32_t line, std::string message) const {
  if (!on_issue_) return;
  LoadIssue issue;
  issue.path = std::string(path_);
  issue.line = line;
  issue.message = std::move(message);
  on_issue_(issue);
}

void LoadContext::Skip(uint32_t line, std::string message) const {
  ++stats_->skipped;
  Note(line, std::move(message));
}

void LoadContext::SkipMany(uint64_t count, uint32_t line, std::string message) const {
  stats_->skipped += count;
  Note(line, std::move(message));
}

void LoadContext::Add(Event* event, Attribute&& attribute) const {
  event->attributes.push_back(std::move(attribute));
  Added(event);
}

void LoadContext::Added(Event* event) const {
  if (max_part_ == 0 || event->attributes.size() < max_part_) return;
  Event part;
  part.uuid = event->uuid;
  part.info = event->info;
  part.date = event->date;
  part.org = event->org;
  part.tags = event->tags;
  part.timestamp = event->timestamp;
  part.threat_level_id = event->threat_level_id;
  part.analysis = event->analysis;
  part.distribution = event->distribution;
  part.published = event->published;
  part.source = event->source;
  part.attributes = std::move(event->attributes);
  Hand(part);
  part_emitted_ = true;
  // The next part reuses this part's array unless the receiver took it: a fresh one of 4,096
  // attributes (1.6 MB) per part meant fresh pages for the kernel to zero each time (a third of
  // the system time `iocgrid match` spent loading a list of 2·10^5 addresses).
  event->attributes = std::move(part.attributes);
  event->attributes.clear();
  event->attributes.reserve(max_part_);  // no regrowth copies of the next part
}

void LoadContext::Hand(Event& event) const {
  const bool later_part = part_emitted_;
  part_emitted_ = false;
  if (later_part && event.attributes.empty()) return;  // the parts held every attribute
  // JSON \u escapes can still decode to lone surrogates after the file-level repair.
  size_t replaced = 0;
  auto repair = [&replaced](std::string& s) {
    if (!s.empty() && !IsValidUtf8(s)) s = SanitizeUtf8(s, &replaced);
  };
  for (std::string* s : {&event.uuid, &event.info, &event.date, &event.org}) repair(*s);
  for (std::string& t : event.tags) repair(t);
  for (Attribute& a : event.attributes) {
    for (std::string* s : {&a.indicator.value, &a.category, &a.uuid, &a.comment, &a.first_seen,
                           &a.last_seen, &a.object_name, &a.object_relation}) {
      repair(*s);
    }
    for (std::string& t : a.tags) repair(t);
  }
  stats_->invalid_utf8 += replaced;
  if (!later_part) ++stats_->events;
  stats_->attributes += event.attributes.size();
  if (on_event_) on_event_(std::move(event));
}

namespace {

Event FileEvent(const LoadContext& context) {
  Event event;
  event.info = context.FileName();
  event.source = std::string(context.path());
  return event;
}

// The first line that is neither blank nor a '#' comment, and its number (0 when none).
std::string_view FirstContentLine(std::string_view content, uint32_t* number) {
  LineCursor cursor(content);
  std::string_view line;
  while (cursor.Next(&line, number)) {
    const std::string_view trimmed = TrimAscii(line);
    if (!trimmed.empty() && trimmed.front() != '#') return line;
  }
  *number = 0;
  return {};
}

void AppendPart(std::string* out, std::string_view part) {
  if (part.empty()) return;
  if (!out->empty()) out->append("; ");
  out->append(part);
}

// Fills the context fields of `attribute` from a CSV row.
void ApplyCsvContext(const CsvColumns& columns, const std::vector<std::string>& fields,
                     Attribute* attribute) {
  auto cell = [&fields](int index) -> std::string_view {
    return index >= 0 && static_cast<size_t>(index) < fields.size()
               ? TrimAscii(fields[static_cast<size_t>(index)])
               : std::string_view();
  };
  std::string comment(cell(columns.comment));
  const std::string_view category = cell(columns.category);
  if (!category.empty()) {
    const std::string_view canonical = CanonicalCategory(category);
    if (!canonical.empty()) {
      attribute->category = std::string(canonical);
    } else {
      // Feeds use "category" for their own classes ("botnet node"): kept as a comment.
      AppendPart(&comment, "category=" + std::string(category));
    }
  }
  if (!cell(columns.tags).empty()) attribute->tags = SplitTags(cell(columns.tags));
  attribute->first_seen = std::string(cell(columns.first_seen));
  attribute->last_seen = std::string(cell(columns.last_seen));
  attribute->uuid = std::string(cell(columns.uuid));
  attribute->object_name = std::string(cell(columns.object_name));
  attribute->object_relation = std::string(cell(columns.object_relation));
  attribute->to_ids =
      ParseBool(cell(columns.to_ids)).value_or(core::DefaultToIds(attribute->indicator.type));
  if (std::optional<std::string> date = ParseDate(cell(columns.date))) {
    attribute->timestamp = DateToUnixSeconds(*date);
  }
  const int mapped[] = {columns.value,     columns.type,        columns.category,
                        columns.comment,   columns.tags,        columns.first_seen,
                        columns.last_seen, columns.to_ids,      columns.uuid,
                        columns.date,      columns.object_name, columns.object_relation};
  for (size_t i = 0; i < fields.size() && i < columns.names.size(); ++i) {
    bool skip = columns.ignored[i];
    for (int index : mapped) skip = skip || index == static_cast<int>(i);
    const std::string_view value = TrimAscii(fields[i]);
    if (skip || value.empty()) continue;
    AppendPart(&comment, columns.names[i] + "=" + std::string(value));
  }
  attribute->comment = std::move(comment);
}

bool IsHex(std::string_view text) {
  for (char c : text) {
    if (!IsAsciiHex(c)) {
      return false;
    }
  }
  return true;
}

bool IsFeedHashLine(std::string_view line) {
  line = TrimAscii(line);
  const size_t comma = line.find(',');
  if (comma != 32 || !IsHex(line.substr(0, 32))) return false;
  const std::string_view uuid = line.substr(33);
  if (uuid.size() != 36) return false;
  for (char c : uuid) {
    if (c != '-' && !IsHex(std::string_view(&c, 1))) return false;
  }
  return true;
}

std::optional<uint32_t> ParseCount(std::string_view text) {
  uint32_t count = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), count);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return count;
}

}  // namespace

Status LoadCsv(const LoadContext& context, std::string_view content) {
  content = StripBom(content);
  uint32_t header_number = 0;
  const std::string_view header_line = FirstContentLine(content, &header_number);
  char delimiter = 0;
  if (header_number == 0) return Status::Ok();  // nothing but comments and blank lines
  if (!LooksLikeCsvHeader(header_line, &delimiter)) {
    return InvalidArgumentError(
        "not CSV/TSV with a header naming a value column (value, indicator, ioc, ip, domain, "
        "url, md5, ...): line " +
        std::to_string(header_number) + " is '" + Abbreviate(TrimAscii(header_line)) + "'");
  }
  CsvReader reader(content, delimiter);
  std::vector<std::string> fields;
  uint32_t line = 0;
  std::string error;
  if (!reader.Next(&fields, &line, &error)) return Status::Ok();
  CsvColumns columns;
  ResolveCsvHeader(fields, &columns);

  Event event = FileEvent(context);
  while (reader.Next(&fields, &line, &error)) {
    if (!error.empty()) {
      context.Skip(line, error + "; rest of the file skipped");
      break;
    }
    bool blank = true;
    for (const std::string& field : fields) blank = blank && TrimAscii(field).empty();
    if (blank) continue;
    if (static_cast<size_t>(columns.value) >= fields.size()) {
      context.Skip(line, "skipped row: " + std::to_string(fields.size()) + " field(s), no '" +
                             columns.names[static_cast<size_t>(columns.value)] + "' column");
      continue;
    }
    const std::string_view value = TrimAscii(fields[static_cast<size_t>(columns.value)]);
    if (value.empty()) {
      context.Skip(
          line, "skipped row: empty '" + columns.names[static_cast<size_t>(columns.value)] + "'");
      continue;
    }
    const std::string_view type_cell =
        columns.type >= 0 && static_cast<size_t>(columns.type) < fields.size()
            ? std::string_view(fields[static_cast<size_t>(columns.type)])
            : std::string_view();
    Result<core::Indicator> indicator = ParseCsvValue(columns, type_cell, value);
    if (!indicator.ok()) {
      context.Skip(line, SkipMessage(value, indicator.status()));
      continue;
    }
    Attribute attribute;
    attribute.indicator = std::move(indicator).value();
    attribute.line = line;
    ApplyCsvContext(columns, fields, &attribute);
    context.Add(&event, std::move(attribute));
  }
  context.Emit(std::move(event));
  return Status::Ok();
}

namespace {

// The line-list formats: one event for the file, and for each non-blank line (trimmed)
// `read(text, &attribute)`, which fills the attribute (whose line is set) and returns true, or
// reports the line as skipped itself and returns false.
template <typename ReadLine>
Status LoadLines(const LoadContext& context, std::string_view content, ReadLine read) {
  Event event = FileEvent(context);
  LineCursor cursor(StripBom(content));
  std::string_view line;
  uint32_t number = 0;
  while (cursor.Next(&line, &number)) {
    const std::string_view text = TrimAscii(line);
    if (text.empty()) continue;
    // Read in place: an Attribute is some 400 bytes, which a local and a move into the event
    // copied once more per line.
    Attribute& attribute = event.attributes.emplace_back();
    attribute.line = number;
    if (read(text, &attribute)) {
      context.Added(&event);
    } else {
      event.attributes.pop_back();
    }
  }
  context.Emit(std::move(event));
  return Status::Ok();
}

}  // namespace

Status LoadPlain(const LoadContext& context, std::string_view content) {
  return LoadLines(context, content, [&context](std::string_view text, Attribute* attribute) {
    // A line that is nothing but a plain value (most lines of a list) is its own token.
    if (core::GuessPlainIndicator(text, &attribute->indicator)) {
      attribute->to_ids = core::DefaultToIds(attribute->indicator.type);
      return true;
    }
    if (IsCommentLine(text)) return false;
    text = StripTrailingComment(text);
    std::string_view token;
    std::string_view rest;
    SplitFirstToken(text, &token, &rest);
    Result<core::Indicator> indicator = core::GuessIndicator(token);
    if (!indicator.ok()) {
      context.Skip(attribute->line, "skipped line '" + Abbreviate(text) +
                                        "': " + std::string(indicator.status().message()));
      return false;
    }
    attribute->indicator = std::move(indicator).value();
    attribute->to_ids = core::DefaultToIds(attribute->indicator.type);
    attribute->comment = std::string(rest);
    return true;
  });
}

Status LoadIpsum(const LoadContext& context, std::string_view content) {
  return LoadLines(context, content, [&context](std::string_view text, Attribute* attribute) {
    if (text.front() == '#') return false;
    std::string_view address;
    std::string_view rest;
    SplitFirstToken(text, &address, &rest);
    Result<core::Indicator> indicator = ParseAsType(core::IndicatorType::kIpDst, address);
    if (!indicator.ok()) {
      context.Skip(attribute->line, SkipMessage(address, indicator.status()));
      return false;
    }
    attribute->indicator = std::move(indicator).value();
    attribute->to_ids = true;
    if (!rest.empty()) {
      const std::optional<uint32_t> count = ParseCount(rest);
      if (!count.has_value()) {
        context.Skip(attribute->line, "skipped line '" + Abbreviate(text) +
                                          "': the blacklist count is not a number");
        return false;
      }
      attribute->sighting_count = *count;
      attribute->comment =
          "listed by " + std::to_string(*count) + (*count == 1 ? " blacklist" : " blacklists");
    }
    return true;
  });
}

bool LooksLikeFeedHashes(std::string_view content) {
  LineCursor cursor(StripBom(content));
  std::string_view line;
  uint32_t number = 0;
  int checked = 0;
  while (checked < 5 && cursor.Next(&line, &number)) {
    if (TrimAscii(line).empty()) continue;
    // A prefix of a file may end inside a line: only complete lines count.
    if (!IsFeedHashLine(line)) return checked > 0 && !cursor.Next(&line, &number);
    ++checked;
  }
  return checked > 0;
}

bool LooksLikeIpsum(std::string_view content) {
  uint32_t number = 0;
  const std::string_view line = TrimAscii(FirstContentLine(StripBom(content), &number));
  const size_t tab = line.find('\t');
  if (number == 0 || tab == std::string_view::npos || tab == 0) return false;
  const std::string_view first = line.substr(0, tab);
  for (char c : first) {
    if (IsAsciiSpace(c)) return false;
  }
  return ParseCount(TrimAscii(line.substr(tab + 1))).has_value();
}

}  // namespace iocgrid::ingest::internal
