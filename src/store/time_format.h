// Time text as MISP writes it: first_seen/last_seen are ISO-8601 with microseconds
// ("2024-01-31T12:00:00.000000+00:00"), event dates are YYYY-MM-DD (FormatIsoDate in
// common/time.h). The store keeps first_seen/last_seen as unix microseconds and event dates as
// text.
//
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/result.h"

namespace iocgrid::store {

// Parses "YYYY-MM-DD", "YYYY-MM-DDTHH:MM[:SS[.ffffff]]" with "Z", "+HH:MM", "+HHMM" or no zone
// (UTC), a space instead of 'T', or a plain unix time in seconds. Returns unix microseconds.
// Errors: kInvalidArgument naming the text.
Result<int64_t> ParseIsoTime(std::string_view text);

// "2024-01-31T12:00:00.000000+00:00".
std::string FormatIsoMicros(int64_t unix_us);

}  // namespace iocgrid::store
