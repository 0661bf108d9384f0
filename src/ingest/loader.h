// Loaders for member-style data files: MISP warninglist list.json, MISP event JSON (one event,
// a list, or {"response": [...]}), CSV/TSV with a header naming type/value columns, plain
// one-value-per-line lists (types guessed, defanged values refanged), IPsum-style
// "ip<TAB>count" lists, and STIX 2.1 bundles (indicator patterns of simple comparisons). The format
// is detected from the content unless given.
//
// Bad lines never abort a load: each is reported through the error callback with file and line,
// and skipped (the caller decides whether that is fatal: `--strict`). Only an unreadable file or
// a file that is not the given format at all is an error Status.
//
// Thread-safety: free functions; callbacks run on the calling thread.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "core/event.h"

namespace iocgrid::ingest {

// The model lives in core (core/event.h); the importers name it unqualified.
using core::Attribute;
using core::Event;

enum class InputFormat : uint8_t { kAuto, kWarninglist, kMispEvent, kCsv, kPlain, kIpsum, kStix };

// "auto", "warninglist", "misp", "csv", "plain", "ipsum", "stix".
std::string_view InputFormatName(InputFormat format);
// Inverse of InputFormatName (also accepts "json" for misp, "tsv" and "list"); false if unknown.
bool ParseInputFormat(std::string_view name, InputFormat* out);

struct LoadIssue {
  std::string path;
  uint32_t line = 0;    // 0 when the issue is not tied to a line
  std::string message;  // e.g. "invalid IPv4 address '1.2.3.256'"
};

struct LoadOptions {
  InputFormat format = InputFormat::kAuto;
  // Files larger than this are refused (kResourceExhausted); 0 = no cap.
  uint64_t max_file_bytes = 0;
  // 0: every event is handed over whole. Otherwise the list formats (plain, IPsum, CSV,
  // warninglist), whose one event per file can hold millions of attributes, hand it over in parts
  // of at most this many attributes, each with the event's header; LoadStats counts the event
  // once. For consumers that only index values (iocgrid match, sift --against): memory stays
  // bounded by a part, not the file.
  uint32_t max_attributes_per_event = 0;
};

struct LoadStats {
  InputFormat format = InputFormat::kAuto;  // the detected or given format
  uint64_t events = 0;
  uint64_t attributes = 0;
  uint64_t skipped = 0;  // malformed or unsupported entries reported as issues
  // Invalid UTF-8 sequences (bytes in the file, or \u escapes decoding to lone surrogates)
  // replaced by U+FFFD so that no stored string can break a JSON answer (issue 8).
  uint64_t invalid_utf8 = 0;
};

using EventSink = std::function<void(Event&& event)>;
using IssueSink = std::function<void(const LoadIssue& issue)>;

// Detects the format of `content` (the first bytes of a file are enough) and `path` (extension).
InputFormat DetectFormat(std::string_view path, std::string_view content);

// Loads one file ("-" reads standard input), calling `on_event` for each event it holds and
// `on_issue` for each skipped entry. Errors: kNotFound / kPermissionDenied when the file cannot
// be read, kInvalidArgument when it is not the requested format, kResourceExhausted over the cap.
Result<LoadStats> LoadFile(const std::string& path, const LoadOptions& options,
                           const EventSink& on_event, const IssueSink& on_issue);

// Same, on content already in memory; `path` only names it in events and issues.
Result<LoadStats> LoadContent(std::string_view path, std::string_view content,
                              const LoadOptions& options, const EventSink& on_event,
                              const IssueSink& on_issue);

// Expands files and folders (recursively, sorted, hidden files and README/LICENSE files
// skipped) into the list of files to load. Errors: kNotFound for a missing path.
Result<std::vector<std::string>> ExpandPaths(const std::vector<std::string>& paths);

}  // namespace iocgrid::ingest
