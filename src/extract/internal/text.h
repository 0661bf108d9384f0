// Small ASCII character helpers shared by the extractor's scanners.
//
// Thread-safety: pure functions.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/ascii.h"

namespace iocgrid::extract::internal {

// Character classes by table: the scanners test every byte of a token, and the
// chained comparisons of the obvious definitions cost branch mispredictions on
// hex and base64 runs.
enum CharClass : uint8_t {
  kDigitClass = 1,
  kAlphaClass = 2,
  kHexClass = 4,
  kLabelClass = 8,   // [A-Za-z0-9_-]
  kUpperClass = 16,  // [A-Z]
};

inline constexpr std::array<uint8_t, 256> kCharClasses = [] {
  std::array<uint8_t, 256> t{};
  for (int c = 0; c < 256; ++c) {
    uint8_t v = 0;
    bool digit = c >= '0' && c <= '9';
    bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    if (digit) v |= kDigitClass;
    if (alpha) v |= kAlphaClass;
    if (digit || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')) v |= kHexClass;
    if (digit || alpha || c == '-' || c == '_') v |= kLabelClass;
    if (c >= 'A' && c <= 'Z') v |= kUpperClass;
    t[static_cast<size_t>(c)] = v;
  }
  return t;
}();

inline uint8_t ClassOf(char c) { return kCharClasses[static_cast<unsigned char>(c)]; }
inline bool IsDigit(char c) { return c >= '0' && c <= '9'; }
inline bool IsAlpha(char c) { return (ClassOf(c) & kAlphaClass) != 0; }
inline bool IsAlnum(char c) { return (ClassOf(c) & (kDigitClass | kAlphaClass)) != 0; }
inline bool IsHex(char c) { return (ClassOf(c) & kHexClass) != 0; }
inline bool IsLabelChar(char c) { return (ClassOf(c) & kLabelClass) != 0; }
// Space, case folding and case-insensitive compares: common/ascii.h.

}  // namespace iocgrid::extract::internal
