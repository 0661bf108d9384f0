// Bounds on a JSON text checked before it reaches a DOM parser. nlohmann::json::parse and the
// code walking its DOM recurse once per nesting level, so a body of 75 KB nested 15,000 levels
// deep overflows the stack (issue 8); a DOM of millions of small values costs far more memory
// than the text. These scans run in one pass, without recursion and without allocating, so any
// text can be measured safely before it is parsed.
//
// The scan looks only at structure: it does not validate the JSON (the parser that follows
// does). Brackets inside strings, including escaped quotes, are not counted.
//
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <string_view>

#include "common/status.h"

namespace iocgrid {

// The nesting depth every JSON parse in the project accepts unless it says otherwise: real
// MISP events, STIX bundles and search bodies nest fewer than 10 levels.
inline constexpr int kMaxJsonDepth = 64;

struct JsonShape {
  int max_depth = 0;     // deepest nesting of [ and { (a scalar alone is depth 0)
  uint64_t scalars = 0;  // strings (object keys included), numbers, true, false, null
};

// Measures `text`. Stops counting early, with max_depth = max_depth_cap + 1, once the nesting
// goes deeper than `max_depth_cap` (the rest of the text is not read).
JsonShape ScanJsonShape(std::string_view text, int max_depth_cap = kMaxJsonDepth);

// OK when no [ or { in `text` nests deeper than `max_depth` levels; otherwise kInvalidArgument
// "JSON nested deeper than N levels".
Status CheckJsonDepth(std::string_view text, int max_depth = kMaxJsonDepth);

}  // namespace iocgrid
