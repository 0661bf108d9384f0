// Tag names on the write path: case-insensitive deduplication and comparison (as the NOCASE
// tags.name column), and the stable colour a new tag gets.
//
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/ascii.h"  // AsciiLower: tag names compare case-insensitively

namespace iocgrid::store::internal {

// Tag names deduplicated case-insensitively, first spelling kept, sorted case-insensitively;
// `b`'s names, when given, are added after `a`'s.
std::vector<std::string> NormalizeTags(const std::vector<std::string>& a,
                                       const std::vector<std::string>* b = nullptr);

// Equal as NormalizeTags lists, ignoring case.
bool SameTags(const std::vector<std::string>& a, const std::vector<std::string>& b);

// A stable colour per tag name, as MISP gives tags a colour; "#rrggbb".
std::string TagColour(std::string_view name);

}  // namespace iocgrid::store::internal
