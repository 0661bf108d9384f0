// Pass 1 of an Extract() call, refanging: the types shared by refang.cc (the defanged forms, the
// refanged copy of the text and the map back to the original) and the Run that uses them.
//
// Thread-safety: plain values.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "extract/internal/hyperscan.h"

namespace iocgrid::extract::internal {

enum class RefangKind : uint8_t { kDot, kSpacedDot, kColon, kScheme, kAt, kSlash, kSchemeSep };

// One accepted defanged form: where it sits in both texts, so offsets map back (Run::ToOrig).
struct Edit {
  size_t norm_pos;  // where the replacement starts in the normalized text
  size_t orig_pos;  // where the defanged form starts in the original text
  uint32_t orig_len;
  uint32_t new_len;
  RefangKind kind;
};

// A Hyperscan match of a refang rule, before Run::Refang accepts or rejects it.
struct RefangMatch {
  size_t start;
  size_t end;
  unsigned rule;
};

// The refang forms as case-insensitive literal patterns; pattern i is rule i of refang.cc.
std::vector<Pattern> RefangPatterns();

}  // namespace iocgrid::extract::internal
