// Extractor: finds indicators of compromise in free report text (issue 5).
//
// One pass of Hyperscan over the text finds candidate anchors (URL schemes, "x.yz" dots, '@',
// hex runs, "C:\", "HKLM\"...); each candidate is then grown, refanged, validated and normalized
// with core's parsers, de-duplicated on its normalized value, and checked against the
// false-positive filters (reserved IPs, bundled MISP warninglists, version numbers, file names
// that look like domains...). docs/extract.md describes the rules.
//
// Thread-safety: an Extractor is immutable after Create(); Extract() is const and may be called
// from any number of threads at once (each call borrows a Hyperscan scratch and working buffers
// from pools in the Extractor, which keeps at most 128 MiB of buffers between calls).
// LoadDocument() is a free function with no shared state.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "core/indicator.h"
#include "extract/data_dir.h"

namespace iocgrid::extract {

struct ExtractedIndicator {
  core::Indicator indicator;  // MISP type and normalized (refanged) value
  bool defanged = false;      // some occurrence was written defanged ("evil[.]example")
  uint32_t line = 0;          // 1-based line of the first occurrence
  uint32_t column = 0;        // 1-based column (in characters) of the first occurrence
  std::string context;        // the text around the first occurrence, on its line
  std::string benign_reason;  // why a filter flagged it ("reserved-ip", ...); empty when kept
};

// The false-positive filters. Each flags an indicator with a reason of the form "<filter>" or
// "<filter>:<warninglist>", e.g. "popular-domain:tranco10k". FilterNames() lists them.
struct ExtractFilters {
  bool reserved_ip = true;           // private, loopback, link-local, documentation, multicast...
  bool public_dns = true;            // well-known public DNS resolvers (8.8.8.8, 1.1.1.1...)
  bool provider_ip = true;           // provider ranges from warninglists (apple)
  bool popular_domain = true;        // tranco10k, cisco_top1000 (exact, or registrable domain)
  bool vendor_domain = true;         // security vendors, google, microsoft, shorteners...
  bool special_domain = true;        // RFC 6761 special-use names (.test, .invalid, in-addr.arpa)
  bool ignored_domain = true;        // ExtractOptions::ignore_domains
  bool version_number = true;        // "version 1.2.3.4", "v10.0.17763.1"
  bool filename_like_domain = true;  // "readme.md", "invoice.zip" written plainly
  bool embedded_hex = true;          // a hash-length prefix of a longer hex string
  bool benign_hash = true;           // empty-file hashes, common false positives
  bool system_file = true;           // cmd.exe, C:\Windows\System32\rundll32.exe...
  bool message_id = true;            // <...@...> in Message-ID / References / In-Reply-To
  bool reserved_asn = true;          // AS0, private and documentation AS numbers
};

struct ExtractOptions {
  // Only these types are returned; empty means every type the extractor knows.
  std::vector<core::IndicatorType> types;
  // Return the indicators a filter flagged too, with their benign_reason set.
  bool keep_benign = false;
  // The report publisher's own domains: they and their subdomains are flagged
  // "ignored-domain" (as hosts, URL hosts and e-mail domains).
  std::vector<std::string> ignore_domains;
  ExtractFilters filters;
  // Where the bundled warninglists live; empty means DataDir().
  std::string data_dir;
  // Longest context snippet, in bytes (cut at UTF-8 boundaries).
  size_t max_context_bytes = 100;
  // At most this many distinct indicators per Extract() call (bounded memory on any input).
  size_t max_indicators = 1'000'000;
};

class Extractor {
 public:
  // Compiles the Hyperscan databases and loads the warninglists under options.data_dir (or
  // DataDir()). Errors: kNotFound when the data directory or a list is missing, kDataLoss when
  // a list is malformed, kInvalidArgument for a bad ignore_domains entry, kInternal when
  // Hyperscan refuses a pattern.
  static Result<std::unique_ptr<Extractor>> Create(const ExtractOptions& options);

  Extractor(const Extractor&) = delete;
  Extractor& operator=(const Extractor&) = delete;
  ~Extractor();

  // Every indicator in `text` (UTF-8; invalid bytes are treated as separators), de-duplicated
  // on (type, normalized value), in order of first occurrence. Never fails: text that holds
  // nothing yields an empty vector. Thread-safe.
  std::vector<ExtractedIndicator> Extract(std::string_view text) const;

  const ExtractOptions& options() const;

  struct Impl;

 private:
  explicit Extractor(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// The names of the filters, as used in benign reasons and by SetFilter().
std::vector<std::string_view> FilterNames();

// Turns the named filter on or off. Errors: kInvalidArgument naming an unknown filter.
Status SetFilter(ExtractFilters& filters, std::string_view name, bool on);

// Parses a comma-separated type filter: MISP type names ("ip-dst", "sha256") and the groups
// ip, domain (domain+hostname), url, email, hash (every digest and ssdeep), cve, asn, btc,
// file (filename), regkey. Errors: kInvalidArgument naming the unknown entry.
Result<std::vector<core::IndicatorType>> ParseTypeList(std::string_view list);

// Reads a report and returns its text as UTF-8: "-" reads standard input. PDF (by content) goes
// through `pdftotext` (poppler-utils) when installed; HTML (by extension or content) has its
// tags stripped, entities decoded and href/src values kept; text and Markdown pass through.
// Encodings: UTF-8 (BOM stripped), UTF-16 with BOM, Shift_JIS (CP932) and EUC-JP detected and
// converted with iconv; anything else is read as Windows-1252. Files over 64 MiB are refused.
// Errors: kNotFound (no such file), kPermissionDenied, kResourceExhausted (too large),
// kUnavailable (PDF without pdftotext), kDataLoss (pdftotext failed), kInvalidArgument.
Result<std::string> LoadDocument(const std::string& path);

// Same, for bytes already in memory; `name` (a file name, may be empty) hints the format.
Result<std::string> DecodeDocument(std::string bytes, std::string_view name);

}  // namespace iocgrid::extract
