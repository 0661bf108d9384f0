// Run: one Extract() call. Its methods are defined in files named by responsibility (as duckdb's
// Transformer and Binder are): refang.cc (pass 1), anchors.cc (pass 2), scan_*.cc (the scanners,
// one file per candidate family), filters.cc (the false-positive reasons), run.cc (the driver and
// de-duplication) and context.cc (line, column and context of the results).
//
// Thread-safety: a Run belongs to one thread; it borrows a Workspace and a Hyperscan scratch from
// the Extractor::Impl, whose pools are thread-safe.
#pragma once

#include <hs/hs.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/indicator_type.h"
#include "core/ip.h"
#include "extract/extractor.h"
#include "extract/internal/anchors.h"
#include "extract/internal/candidate.h"
#include "extract/internal/claim_set.h"
#include "extract/internal/extractor_impl.h"
#include "extract/internal/refang.h"
#include "extract/internal/string_table.h"
#include "extract/internal/text.h"
#include "extract/internal/warninglists.h"

namespace iocgrid::extract::internal {

using core::IndicatorType;

// Lower-cases ASCII into `out` (reused between calls, so no allocation once it
// has grown). Inline: the scanners call it for every host and path token.
inline std::string_view LowerInto(std::string_view s, std::string& out) {
  out.assign(s);
  for (char& c : out) c = AsciiToLower(c);
  return out;
}

class Run {
 public:
  // Borrows a workspace from `impl` (which must outlive the Run) and returns it at the end.
  Run(const Extractor::Impl& impl, std::string_view orig);
  ~Run();
  Run(const Run&) = delete;
  Run& operator=(const Run&) = delete;

  // The whole call: refang, anchors, scanners, then positions and context (run.cc).
  std::vector<ExtractedIndicator> Go();

 private:
  // Text access on the normalized text, with '\0' outside it.
  char At(size_t i) const { return i < t_.size() ? t_[i] : '\0'; }
  char Before(size_t i) const { return i > 0 && i <= t_.size() ? t_[i - 1] : '\0'; }

  // Pass 1 (refang.cc): sets t_ to the refanged text, recording edits_.
  bool Refang(hs_scratch_t* scratch);
  // Passes 1 and 2 (anchors.cc): refangs, then fills the workspace's by_anchor and hex_runs and
  // sizes the claims. False when Hyperscan fails.
  bool FindAnchors();
  void FindLongWords(std::vector<HexRun>* hex, std::vector<Pos>* btc) const;
  void FindDots(std::vector<Pos>* domain, std::vector<Pos>* ipv4, std::vector<Pos>* file) const;
  size_t ToOrig(size_t norm) const;
  // Whether an edit may start in [start, end) of the normalized text: false is exact, true is
  // checked against edits_ (one bit per 64 bytes spares most tokens that binary search).
  bool MayHoldEdit(size_t start, size_t end) const {
    end = std::min(end, t_.size());
    if (start >= end) return false;
    for (size_t b = start / 64; b <= (end - 1) / 64; ++b) {
      if (((edit_blocks_[b / 64] >> (b % 64)) & 1) != 0) return true;
    }
    return false;
  }
  // Whether an edit starts in [start, end): asked for every occurrence, so defined here.
  bool Defanged(size_t start, size_t end) const {
    if (edits_.empty() || !MayHoldEdit(start, end)) return false;
    auto it = std::lower_bound(edits_.begin(), edits_.end(), start,
                               [](const Edit& e, size_t n) { return e.norm_pos < n; });
    return it != edits_.end() && it->norm_pos < end;
  }
  bool HasEdit(size_t start, size_t end, RefangKind kind) const;

  bool Claimed(size_t start, size_t end, ClaimLevel level) const {
    return claims_.Claimed(start, end, level);
  }
  void Claim(size_t start, size_t end, ClaimLevel level) { claims_.Claim(start, end, level); }

  // Parses `raw` with core's parser for `type` (for the types whose
  // normalization is more than lower-casing) and records the occurrence.
  void Add(IndicatorType type, std::string_view raw, size_t start, size_t end, Reason reason);
  // Records an occurrence of a value the scanner has already validated and
  // normalized (hashes, IPv4, host names): core's parser dominated the cost on
  // indicator-dense reports. `value_hash`, when not 0, is
  // HashBytes(value), already computed by the caller.
  void AddNormalized(IndicatorType type, std::string_view value, size_t start, size_t end,
                     Reason reason, uint64_t value_hash = 0) {
    AddNormalizedLazy(type, value, start, end, value_hash, [&reason] { return reason; });
  }
  // Same, with the reason computed by `reason_fn()` only when it can matter: for a new value, an
  // earlier occurrence, or a value all of whose occurrences so far were flagged. Scanners whose
  // reason depends on the value alone (digests) so skip the warninglist lookup on repeats.
  template <typename ReasonFn>
  void AddNormalizedLazy(IndicatorType type, std::string_view value, size_t start, size_t end,
                         uint64_t value_hash, ReasonFn&& reason_fn);

  // Runs the scanners over the anchors, most specific family first (run.cc).
  void RunScanners();
  // The kept entries (every entry with keep_benign) with line, column and context (context.cc).
  void Report(std::vector<ExtractedIndicator>* out);

  // Scanners, one per anchor family (scan_*.cc); each returns nothing and adds candidates.
  void ScanUrl(size_t anchor_end);
  void ScanPath(size_t start, bool regkey);
  void ScanEmail(size_t anchor_end);
  void ScanFile(size_t anchor_end);
  void ScanHost(size_t anchor_end);
  void ScanDottedQuad(size_t s, size_t f, bool v_prefixed);  // ScanHost's two kinds of token
  void ScanName(size_t s, size_t f, size_t label_count, std::string_view tld);
  void ScanIpv6(size_t anchor_end);
  void ScanHex(const HexRun& run);
  void ScanCve(size_t anchor_end);
  void ScanAsn(size_t anchor_end);
  void ScanBtc(size_t anchor_end, bool bech32);
  void ScanSsdeep(size_t anchor_end);

  // Helpers, each in the file of its scanner (UrlEnd in scan_urls.cc, the path ends in
  // scan_paths.cc, ValidHost in scan_network.cc, HeaderOfLine in scan_email.cc), except the
  // filters' reasons and VersionContext, in filters.cc.
  size_t UrlEnd(size_t from, char opener) const;
  size_t QuotedPathEnd(size_t start, size_t line_end) const;
  size_t UnquotedPathEnd(size_t start, size_t line_end, bool regkey) const;
  bool ValidHost(std::string_view host_lower, size_t start, size_t end,
                 Warninglists::HostFacts* facts) const;
  Reason IpReason(const core::IpNetwork& ip) const;
  Reason HostReason(std::string_view host, const Warninglists::HostFacts& facts, bool url,
                    bool trivial_path) const;
  bool VersionContext(size_t start) const;
  std::string_view HeaderOfLine(size_t pos) const;

  const Extractor::Impl& impl_;
  std::string_view orig_;
  std::unique_ptr<Workspace> ws_;  // borrowed from impl_ for the call; the members below view it
  std::string& normalized_;
  std::string_view t_;
  std::vector<Edit>& edits_;
  std::vector<uint64_t>& edit_blocks_;  // see MayHoldEdit()
  ClaimSet& claims_;
  size_t covered_[kAnchorCount] = {};

  // De-duplication: entries_ in order of insertion, table_ an open-addressing
  // index into it (entry index + 1; 0 is empty) on a 64-bit hash of (type,
  // value), values_ the values.
  std::vector<Entry>& entries_;
  std::vector<uint32_t>& table_;
  std::string& values_;
  // Reused buffers for lower-cased tokens.
  std::string host_buf_;
  std::string hex_buf_;
};

// De-duplication on (type, value): a template, so defined here for every scanner to inline.
template <typename ReasonFn>
void Run::AddNormalizedLazy(IndicatorType type, std::string_view value, size_t start, size_t end,
                            uint64_t value_hash, ReasonFn&& reason_fn) {
  if (!impl_.allowed[static_cast<size_t>(type)]) return;
  if (value_hash == 0) value_hash = HashBytes(value);
  uint64_t hash = value_hash ^ (static_cast<uint64_t>(type) + 1) * 0x9E3779B97F4A7C15ULL;
  if ((entries_.size() + 1) * 2 > table_.size()) {
    // Grow the index (at most half full) and re-insert every entry.
    table_.assign(table_.empty() ? 1024 : table_.size() * 2, 0);
    size_t mask = table_.size() - 1;
    for (size_t i = 0; i < entries_.size(); ++i) {
      size_t slot = entries_[i].hash & mask;
      while (table_[slot] != 0) slot = (slot + 1) & mask;
      table_[slot] = static_cast<uint32_t>(i + 1);
    }
  }
  size_t mask = table_.size() - 1;
  size_t slot = hash & mask;
  for (; table_[slot] != 0; slot = (slot + 1) & mask) {
    Entry& e = entries_[table_[slot] - 1];
    if (e.hash != hash || e.type != type || e.value_length != value.size() ||
        std::string_view(values_).substr(e.value_offset, e.value_length) != value) {
      continue;
    }
    // Scanners run one anchor family at a time, so a later call may hold an
    // earlier occurrence: the first in the text gives the position and the
    // reason.
    if (start < e.start) {
      Reason reason = reason_fn();
      e.start = start;
      e.end = end;
      e.reason = reason;
      e.kept = e.kept || reason.empty();
    } else if (!e.kept) {
      e.kept = reason_fn().empty();
    }
    if (!e.defanged) e.defanged = Defanged(start, end);
    return;
  }
  Reason reason = reason_fn();
  bool defanged = Defanged(start, end);
  table_[slot] = static_cast<uint32_t>(entries_.size() + 1);
  entries_.push_back({hash, static_cast<uint32_t>(values_.size()),
                      static_cast<uint32_t>(value.size()), type, defanged, reason.empty(), start,
                      end, reason});
  values_.append(value);
}

}  // namespace iocgrid::extract::internal
