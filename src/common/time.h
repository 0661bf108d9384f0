// Dates as users and members write them, parsed strictly: one home for "2024-03-01",
// "2024-03-01T12:00:00Z", "2024-03-01 12:00:00+09:00" and "30d" (30 days before now), so that
// "2024-13-45", "yesterday" or "-5d" are errors everywhere instead of being ignored.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/result.h"

namespace iocgrid {

// Unix seconds now (the system clock).
int64_t UnixNow();

// An ISO 8601 date or date-time: YYYY-MM-DD, optionally followed by 'T' or ' ' and
// HH:MM[:SS[.fraction]] and an optional 'Z' or ±HH:MM / ±HHMM offset (UTC when none).
// Years 1970-9999; days checked against the month. Errors: kInvalidArgument.
Result<int64_t> ParseIsoDateTime(std::string_view text);

// "Nd": N whole days (1-36500) before `now`. Errors: kInvalidArgument.
Result<int64_t> ParseDaysAgo(std::string_view text, int64_t now);

// "YYYY-MM-DD" (UTC) of unix seconds.
std::string FormatIsoDate(int64_t unix_seconds);
// "YYYY-MM-DDTHH:MM:SSZ" of unix seconds.
std::string FormatIsoDateTime(int64_t unix_seconds);

}  // namespace iocgrid
