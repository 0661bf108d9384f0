#include "ingest/loader.h"

#include <algorithm>
#include <filesystem>
#include <system_error>
#include <utility>

#include "common/utf8.h"
#include "ingest/internal/file_io.h"
#include "ingest/internal/formats.h"
#include "ingest/internal/text_util.h"

namespace iocgrid::ingest {
namespace {

// How much decompressed text DetectFormat looks at in a gzip file.
constexpr uint64_t kDetectPrefixBytes = 64 * 1024;

bool HasJsonExtension(std::string_view path) {
  return path.size() >= 5 && EqualsIgnoreAsciiCase(path.substr(path.size() - 5), ".json");
}

InputFormat DetectText(std::string_view path, std::string_view content) {
  content = internal::StripBom(content);
  size_t start = 0;
  while (start < content.size() && IsAsciiSpace(content[start])) ++start;
  if (start < content.size()) {
    const char first = content[start];
    if (first == '{') {
      if (internal::LooksLikeStixBundle(content)) return InputFormat::kStix;
      return internal::LooksLikeWarninglist(content) ? InputFormat::kWarninglist
                                                     : InputFormat::kMispEvent;
    }
    if (first == '[') {
      // A JSON array, unless the line is a bracketed IPv6 address of a plain list.
      size_t next = start + 1;
      while (next < content.size() && IsAsciiSpace(content[next])) ++next;
      // A ".json" file is JSON whatever its array holds.
      if (next >= content.size() || content[next] == '{' || content[next] == ']' ||
          content[next] == '"' || HasJsonExtension(path)) {
        return InputFormat::kMispEvent;
      }
    }
  }
  if (internal::LooksLikeIpsum(content)) return InputFormat::kIpsum;
  return internal::CsvHeaderDelimiter(content) != 0 ? InputFormat::kCsv : InputFormat::kPlain;
}

bool SkippedByExpansion(const std::filesystem::path& path) {
  const std::string name = path.filename().string();
  if (name.empty() || name.front() == '.') return true;
  if (StartsWithIgnoreAsciiCase(name, "README") || StartsWithIgnoreAsciiCase(name, "LICENSE")) {
    return true;
  }
  const std::string extension = AsciiLower(path.extension().string());
  return extension == ".md";
}

}  // namespace

std::string_view InputFormatName(InputFormat format) {
  switch (format) {
    case InputFormat::kAuto:
      return "auto";
    case InputFormat::kWarninglist:
      return "warninglist";
    case InputFormat::kMispEvent:
      return "misp";
    case InputFormat::kCsv:
      return "csv";
    case InputFormat::kPlain:
      return "plain";
    case InputFormat::kIpsum:
      return "ipsum";
    case InputFormat::kStix:
      return "stix";
  }
  return "auto";
}

bool ParseInputFormat(std::string_view name, InputFormat* out) {
  const std::string lower = AsciiLower(TrimAscii(name));
  if (lower == "auto") {
    *out = InputFormat::kAuto;
  } else if (lower == "warninglist") {
    *out = InputFormat::kWarninglist;
  } else if (lower == "misp" || lower == "json") {
    *out = InputFormat::kMispEvent;
  } else if (lower == "csv" || lower == "tsv") {
    *out = InputFormat::kCsv;
  } else if (lower == "plain" || lower == "list") {
    *out = InputFormat::kPlain;
  } else if (lower == "ipsum") {
    *out = InputFormat::kIpsum;
  } else if (lower == "stix" || lower == "stix2") {
    *out = InputFormat::kStix;
  } else {
    return false;
  }
  return true;
}

InputFormat DetectFormat(std::string_view path, std::string_view content) {
  if (internal::IsGzip(content)) {
    Result<std::string> text = internal::Gunzip(content, kDetectPrefixBytes, /*truncate=*/true);
    // Without zlib (or with corrupt data) the content cannot be told apart; LoadContent then
    // reports why.
    if (!text.ok()) return InputFormat::kAuto;
    return DetectText(path, *text);
  }
  return DetectText(path, content);
}

Result<LoadStats> LoadContent(std::string_view path, std::string_view content,
                              const LoadOptions& options, const EventSink& on_event,
                              const IssueSink& on_issue) {
  const std::string name(path);
  if (options.max_file_bytes != 0 && content.size() > options.max_file_bytes) {
    return ResourceExhaustedError(name + ": " + std::to_string(content.size()) +
                                  " bytes, over the " + std::to_string(options.max_file_bytes) +
                                  "-byte limit");
  }
  std::string decompressed;
  if (internal::IsGzip(content)) {
    Result<std::string> text =
        internal::Gunzip(content, options.max_file_bytes, /*truncate=*/false);
    if (!text.ok()) return text.status().WithContext(name);
    decompressed = std::move(text).value();
    content = decompressed;
  }

  LoadStats stats;
  // Invalid UTF-8 is repaired before any parser sees it: stored as written, one such string made
  // every answer naming it unparsable to the portal (issue 8); simdjson would refuse the file.
  std::string repaired;
  if (!IsValidUtf8(content)) {
    size_t replaced = 0;
    repaired = SanitizeUtf8(content, &replaced);
    stats.invalid_utf8 += replaced;
    content = repaired;
  }
  stats.format = options.format == InputFormat::kAuto ? DetectText(path, content) : options.format;
  const internal::LoadContext context(path, on_event, on_issue, &stats,
                                      options.max_attributes_per_event);
  if (stats.invalid_utf8 > 0) {
    context.Note(
        0, std::to_string(stats.invalid_utf8) + " invalid UTF-8 sequences replaced with U+FFFD");
  }
  if ((stats.format == InputFormat::kCsv || stats.format == InputFormat::kPlain) &&
      internal::LooksLikeFeedHashes(content)) {
    context.Note(0,
                 "MISP feed hashes.csv (md5 digests of attribute values, not indicators): file "
                 "skipped");
    return stats;
  }
  Status status;
  switch (stats.format) {
    case InputFormat::kWarninglist:
      status = internal::LoadWarninglist(context, content);
      break;
    case InputFormat::kMispEvent:
      status = internal::LoadMispEvents(context, content);
      break;
    case InputFormat::kCsv:
      status = internal::LoadCsv(context, content);
      break;
    case InputFormat::kStix:
      status = internal::LoadStixBundle(context, content);
      break;
    case InputFormat::kIpsum:
      status = internal::LoadIpsum(context, content);
      break;
    case InputFormat::kPlain:
    case InputFormat::kAuto:
      status = internal::LoadPlain(context, content);
      break;
  }
  if (!status.ok()) return status.WithContext(name);
  return stats;
}

Result<LoadStats> LoadFile(const std::string& path, const LoadOptions& options,
                           const EventSink& on_event, const IssueSink& on_issue) {
  IOCGRID_ASSIGN_OR_RETURN(std::string content,
                           internal::ReadWholeFile(path, options.max_file_bytes));
  return LoadContent(path, content, options, on_event, on_issue);
}

Result<std::vector<std::string>> ExpandPaths(const std::vector<std::string>& paths) {
  namespace fs = std::filesystem;
  std::vector<std::string> files;
  for (const std::string& path : paths) {
    if (path == "-") {
      files.push_back(path);
      continue;
    }
    std::error_code ec;
    const fs::file_status status = fs::status(path, ec);
    if (ec || !fs::exists(status)) return NotFoundError(path + ": no such file or directory");
    if (!fs::is_directory(status)) {
      files.push_back(path);  // named explicitly: loaded whatever its name
      continue;
    }
    std::vector<std::string> found;
    fs::recursive_directory_iterator it(path, fs::directory_options::skip_permission_denied, ec);
    if (ec) return PermissionDeniedError(path + ": " + ec.message());
    for (const fs::recursive_directory_iterator end; it != end; it.increment(ec)) {
      if (ec) return UnavailableError(path + ": " + ec.message());
      const fs::path& entry = it->path();
      const std::string name = entry.filename().string();
      std::error_code type_ec;
      if (it->is_directory(type_ec)) {
        if (!name.empty() && name.front() == '.') it.disable_recursion_pending();
        continue;
      }
      if (!it->is_regular_file(type_ec) || SkippedByExpansion(entry)) continue;
      found.push_back(entry.string());
    }
    if (ec) return UnavailableError(path + ": " + ec.message());
    std::sort(found.begin(), found.end());
    files.insert(files.end(), found.begin(), found.end());
  }
  return files;
}

}  // namespace iocgrid::ingest
