// The per-format loaders behind LoadContent (loader.h), and the content probes DetectFormat
// uses. Each loader reports through a LoadContext and returns an error Status only when the
// content is not its format at all (or, for JSON, is not well-formed JSON).
//
// Thread-safety: free functions; a LoadContext is used by one thread.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"
#include "ingest/loader.h"

namespace iocgrid::ingest::internal {

// Where a loader sends events and issues, and the stats it keeps.
class LoadContext {
 public:
  // `on_event`, `on_issue` and `stats` must outlive the context.
  // `max_part`: LoadOptions::max_attributes_per_event.
  LoadContext(std::string_view path, const EventSink& on_event, const IssueSink& on_issue,
              LoadStats* stats, uint32_t max_part = 0)
      : path_(path), on_event_(on_event), on_issue_(on_issue), stats_(stats), max_part_(max_part) {}

  std::string_view path() const { return path_; }
  // The file name without folders ("-" for standard input).
  std::string FileName() const;

  // Reports an issue that does not drop an entry (informational).
  void Note(uint32_t line, std::string message) const;
  // Reports an entry that was skipped, counting it in stats.skipped.
  void Skip(uint32_t line, std::string message) const;
  // Counts `count` skipped entries reported by one issue.
  void SkipMany(uint64_t count, uint32_t line, std::string message) const;
  // Adds an attribute to a list format's event; when the event reaches the part size, hands the
  // attributes so far over as a part (see LoadOptions::max_attributes_per_event).
  void Add(Event* event, Attribute&& attribute) const;
  // The same for an attribute already appended to event->attributes.
  void Added(Event* event) const;
  // Hands an event (or its last part) to the sink, counting it and its attributes.
  void Emit(Event&& event) const { Hand(event); }

 private:
  // Emit's work on an event the caller still owns: the sink may take its contents or not.
  void Hand(Event& event) const;

  std::string_view path_;
  const EventSink& on_event_;
  const IssueSink& on_issue_;
  LoadStats* stats_;
  uint32_t max_part_;
  mutable bool part_emitted_ = false;  // a part of the current event has been handed over
};

Status LoadWarninglist(const LoadContext& context, std::string_view content);
Status LoadMispEvents(const LoadContext& context, std::string_view content);
Status LoadCsv(const LoadContext& context, std::string_view content);
Status LoadPlain(const LoadContext& context, std::string_view content);
Status LoadIpsum(const LoadContext& context, std::string_view content);
// STIX 2.1 bundles: indicator patterns made of simple `path = 'value'` comparisons.
Status LoadStixBundle(const LoadContext& context, std::string_view content);

// True when a JSON object's top-level keys include "list" and one of "name", "type",
// "matching_attributes" or "description" (scans keys at depth 1 only; a prefix of the file
// is enough when "description" precedes "list", as in sorted warninglists).
bool LooksLikeWarninglist(std::string_view json);

// True when a JSON document's beginning shows a STIX bundle ("type": "bundle").
bool LooksLikeStixBundle(std::string_view json);

// True for a MISP feed's hashes.csv: no header, lines "<32 hex>,<uuid>".
bool LooksLikeFeedHashes(std::string_view content);

// True when the first non-comment line is "<token><TAB><integer>".
bool LooksLikeIpsum(std::string_view content);

}  // namespace iocgrid::ingest::internal
