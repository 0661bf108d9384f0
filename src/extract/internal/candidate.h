// The candidate types every scanner shares: why a filter flagged an occurrence (Reason), and one
// distinct (type, normalized value) with its first occurrence (Entry, Run's de-duplication).
//
// Thread-safety: plain values.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/indicator_type.h"

namespace iocgrid::extract::internal {

// Why a filter flagged an occurrence: "<filter>" or "<filter>:<list>". Both
// parts view static strings or the Impl's warninglists, so a reason costs no
// allocation until it is reported.
struct Reason {
  std::string_view filter;  // empty: not flagged
  std::string_view list;

  bool empty() const { return filter.empty(); }
  std::string ToString() const;  // context.cc
};

// One distinct (type, normalized value): where it first occurs and what its
// occurrences say.
struct Entry {
  uint64_t hash;
  uint32_t value_offset;  // in Run::values_
  uint32_t value_length;
  core::IndicatorType type;
  bool defanged;  // some occurrence was defanged
  bool kept;      // some occurrence was not flagged
  size_t start;   // normalized offsets of the first occurrence
  size_t end;
  Reason reason;  // of the first occurrence
};

}  // namespace iocgrid::extract::internal
