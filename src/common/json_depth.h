// A cheap, non-recursive guard run on untrusted JSON text before any DOM parser (nlohmann,
// simdjson) sees it: both recurse per nesting level, so a 75 KB body nested 15,000 deep
// overflows the stack. Strings (with escapes) are skipped, so brackets inside them do not count.
#pragma once

#include <string_view>

#include "common/status.h"

namespace iocgrid {

// Nesting deeper than this is refused on every request path.
inline constexpr int kMaxJsonDepth = 64;

// kInvalidArgument ("JSON nested deeper than N levels") when `text` opens more than
// `max_depth` arrays/objects at once; OK otherwise (also for text that is not valid JSON: the
// parser that runs next reports that).
Status CheckJsonDepth(std::string_view text, int max_depth = kMaxJsonDepth);

}  // namespace iocgrid
