// The extractor's immutable state (Extractor::Impl, built by Extractor::Create in extractor.cc)
// and one Extract() call's pooled working buffers (Workspace).
//
// Thread-safety: an Impl is immutable after Create() except for its pools, which pool_mu guards;
// a Workspace belongs to one call at a time.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "common/mutex.h"
#include "core/ip.h"
#include "extract/extractor.h"
#include "extract/internal/anchors.h"
#include "extract/internal/candidate.h"
#include "extract/internal/claim_set.h"
#include "extract/internal/hyperscan.h"
#include "extract/internal/refang.h"
#include "extract/internal/string_table.h"
#include "extract/internal/warninglists.h"

namespace iocgrid::extract {
namespace internal {

// One Extract() call's growing buffers, pooled in the Impl between calls (their capacity is
// what is reused: a borrowed workspace is empty).
struct Workspace {
  std::string normalized;             // the refanged text, when the text was defanged
  std::vector<Edit> edits;            // the refang edits, in text order
  std::vector<uint64_t> edit_blocks;  // a bit per 64 bytes of normalized text holding an edit
  std::vector<RefangMatch> refang_matches;
  std::vector<Event> events;
  std::vector<std::vector<Pos>> by_anchor = std::vector<std::vector<Pos>>(kAnchorCount);
  std::vector<HexRun> hex_runs;
  ClaimSet claims;
  std::vector<Entry> entries;
  std::vector<uint32_t> table;
  std::string values;
  std::vector<uint32_t> order;

  void Clear();
  size_t RetainedBytes() const;
};

}  // namespace internal

struct Extractor::Impl {
  ExtractOptions options;
  internal::Warninglists lists;
  internal::HsDatabase refang_db;
  internal::HsDatabase anchor_db;
  internal::HsScratch prototype;
  std::vector<core::IpNetwork> reserved;  // parallel to the reserved ranges of filters.cc
  std::vector<core::IpNetwork> public_dns;
  std::vector<std::string> ignore_domains;  // normalized
  std::unordered_set<core::IndicatorType> types;
  std::array<bool, 256> allowed{};        // by IndicatorType value: `types` empty, or in it
  internal::StringTable file_extensions;  // kFileExtensions, lower-case
  std::unordered_set<std::string_view> well_known_files;

  // Scratch pool: Extract() is const and concurrent; each call borrows a
  // scratch.
  mutable Mutex pool_mu;
  mutable std::vector<internal::HsScratch> pool IOCGRID_GUARDED_BY(pool_mu);

  internal::HsScratch Borrow() const;
  void Return(internal::HsScratch s) const;

  // Working buffers (the refanged copy, claims, de-duplication, anchors) kept between calls, so
  // that a call does not page-fault them in again: at most kMaxPooledBytes in all. A call's
  // buffers take about twice its text, so a 32 MiB text's are kept and a 64 MiB text's freed.
  static constexpr size_t kMaxPooledBytes = size_t{128} << 20;
  mutable std::vector<std::unique_ptr<internal::Workspace>> workspaces IOCGRID_GUARDED_BY(pool_mu);
  mutable size_t pooled_bytes IOCGRID_GUARDED_BY(pool_mu) = 0;

  std::unique_ptr<internal::Workspace> BorrowWorkspace() const;
  void ReturnWorkspace(std::unique_ptr<internal::Workspace> ws) const;
};

}  // namespace iocgrid::extract
