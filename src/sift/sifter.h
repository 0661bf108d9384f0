// Sifter: reads logs (plain, gzip or standard input), parses each line with its format's
// LineParser, and keeps the distinct observables with their line counts, first/last seen and
// alert counts. Memory grows with distinct observables, not with lines: a line is forgotten
// once counted, except as a record of its observable ids in a temporary spool file when it
// holds several (or when annotations are asked for), for the per-class line counts.
//
// Values are normalized on first sight only (a cache keyed by the raw text): IPs canonical
// with ports stripped, host names lower-case (IDN as punycode), URLs normalized, hashes lower
// hex. Private, loopback, link-local, shared (CGNAT), multicast, reserved and documentation
// addresses, and local names (localhost, *.local, *.internal, *.lan, single labels), are
// counted as internal and never become observables.
//
// Thread-safety: single-threaded.
#pragma once

#include <cstdint>
#include <cstdio>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "core/indicator.h"
#include "sift/log_parser.h"

namespace iocgrid::sift {

inline constexpr size_t kMaxLineBytes = 64 * 1024;

struct SiftOptions {
  LogFormat format = LogFormat::kAuto;  // kAuto: detected per file from its first line
  ParserOptions parser;
  FieldMask fields = kAllFields;  // observables of other fields are dropped
  size_t max_line_bytes = kMaxLineBytes;
  size_t max_malformed_examples = 10;  // malformed lines kept with file:line: reason
  bool annotate = false;               // spool every line's record for ForEachLine
  // A plain file at least this large, of a format whose lines stand alone (combined, common,
  // JSON lines, EVE), is read by two threads and merged (the same result as one pass; see
  // sifter_split.cc). 0: always one thread.
  uint64_t split_min_bytes = uint64_t{32} << 20;
};

struct Observable {
  std::string value;  // normalized
  core::IndicatorType type = core::IndicatorType::kOther;
  Field field = Field::kClient;  // where it was first seen
  FieldMask fields = 0;          // every field it was seen in
  uint64_t lines = 0;
  int64_t first_seen = 0;  // unix seconds; 0 when no line holding it had a time
  int64_t last_seen = 0;
  uint64_t alerts = 0;  // alert lines naming it as the client
};

struct MalformedLine {
  std::string path;
  uint64_t line = 0;
  std::string reason;
};

struct FileStats {
  std::string path;
  LogFormat format = LogFormat::kAuto;
  uint64_t lines = 0;
  uint64_t alerts = 0;
  bool split = false;  // read by two threads (SiftOptions::split_min_bytes)
};

struct SiftCounts {
  uint64_t lines = 0;
  uint64_t parsed = 0;
  uint64_t malformed = 0;
  uint64_t cut = 0;             // lines over max_line_bytes, cut at that length
  uint64_t internal = 0;        // distinct internal addresses and names (never sent)
  uint64_t invalid_values = 0;  // values in a field that normalize to nothing (e.g. "unknown")
  uint64_t alerts = 0;          // alert lines
};

// Called now and then while reading: bytes read (compressed bytes for gzip) and lines so far.
using ProgressFn = std::function<void(uint64_t bytes, uint64_t lines)>;

class Sifter {
 public:
  explicit Sifter(SiftOptions options);
  ~Sifter();
  Sifter(const Sifter&) = delete;
  Sifter& operator=(const Sifter&) = delete;

  // Reads one log, "-" meaning standard input; gzip is recognized by its magic bytes.
  // Errors: kNotFound / kPermissionDenied when it cannot be opened, kInvalidArgument when its
  // format cannot be detected, kDataLoss for a truncated or corrupt gzip stream or a read error.
  // Every error message says how far reading got; what was read stays counted.
  Status AddFile(const std::string& path, const ProgressFn& progress = {});

  // Same for a log already in memory (not compressed); `name` names it in messages.
  Status AddContent(std::string_view name, std::string_view content);

  // Reads a log that arrives in pieces (an upload), plain or gzip (recognized by its magic
  // bytes, concatenated members too), exactly as AddFile reads a file: BeginStream, then
  // WriteStream with each piece in order (any sizes), then EndStream. Memory stays one inflate
  // window and one line, however long the stream. `max_inflated_bytes` caps what a gzip stream
  // may inflate to (0: no cap). WriteStream errors: kDataLoss for corrupt gzip data,
  // kResourceExhausted past max_inflated_bytes. EndStream errors: kDataLoss for a truncated gzip
  // stream, kInvalidArgument when the format cannot be told. Every message says how far it got
  // (bytes received and lines read); after an error the stream is over and what was read stays
  // counted. `bytes_in` is what the stream received so far.
  void BeginStream(std::string_view name, uint64_t max_inflated_bytes = 0);
  Status WriteStream(std::string_view piece);
  Status EndStream();
  uint64_t stream_bytes_in() const;

  const std::vector<Observable>& observables() const;
  // The number of distinct observables so far (cheap: no copying of counters).
  size_t observable_count() const;
  const SiftCounts& counts() const;
  const std::vector<MalformedLine>& malformed_examples() const;
  const std::vector<FileStats>& files() const;

  // Lines grouped by the observables they hold: lines without any as one group with an empty
  // set, lines with one per observable, and each line with several on its own (replayed from
  // the spool file). Errors: kDataLoss when the spool could not be written or read.
  Status ForEachLineGroup(
      const std::function<void(std::span<const uint32_t> ids, uint64_t lines)>& fn) const;

  // Replays every line read, in order: file index (into files()), 1-based line number, and
  // the observables it held. REQUIRES: options.annotate. Errors: kDataLoss on a spool error.
  Status ForEachLine(const std::function<void(size_t file, uint64_t line,
                                              std::span<const uint32_t> ids)>& fn) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// The normalized indicator of a raw value of the given kind, or an error; *internal is set
// when the value is an internal address or name (then the status is OK and the indicator
// holds the normalized value). Exposed for tests and the fast-path benchmarks.
Result<core::Indicator> NormalizeObservable(ValueKind kind, Field field, std::string_view raw,
                                            bool* internal);

}  // namespace iocgrid::sift
