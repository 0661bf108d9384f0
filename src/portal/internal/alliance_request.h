// The body of POST /api/v1/sightings (issue 12; docs/trends.md): what an organisation saw,
// reported to the alliance. A JSON list of sightings, an object {"share", "sightings"}, or NDJSON
// (Content-Type application/x-ndjson), one sighting per line:
//   {"value", "type", "first_seen", "last_seen", "count", "alerted"}
// Only `value` is required: the type is guessed when absent, last_seen defaults to the time of
// the report, first_seen to last_seen, count to 1, alerted to false. Bounded, typed checks;
// anything else is a kInvalidArgument naming the sighting and the field.
//
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "core/indicator_type.h"

namespace iocgrid::portal::internal {

// What the reporter shares: `matched` only observables some member holds (the default);
// `public` every public address and name, for scanner detection.
enum class ShareMode : uint8_t { kMatched, kPublic };
std::string_view ShareModeName(ShareMode mode);
// Errors: kInvalidArgument naming the accepted values.
Result<ShareMode> ParseShareMode(std::string_view text);

struct ReportedSighting {
  core::IndicatorType type = core::IndicatorType::kOther;
  std::string value;  // normalized
  int64_t first_seen = 0;
  int64_t last_seen = 0;
  uint64_t count = 1;
  uint64_t alerted = 0;  // sightings that raised an alert (all of them for "alerted": true)
};

struct SightingBatch {
  ShareMode share = ShareMode::kMatched;
  bool share_given = false;                 // the body named it (a query parameter must then agree)
  std::vector<ReportedSighting> sightings;  // public values only, as sent (repeats kept)
  uint64_t received = 0;                    // sightings in the body
  uint64_t internal = 0;                    // private, loopback, ... : never shared
};

struct SightingLimits {
  size_t max_sightings = 100000;
  int64_t now = 0;               // unix seconds: last_seen's default and the future bound
  int64_t max_future_s = 86400;  // clock skew tolerated
};

// Errors: kInvalidArgument naming the sighting (its position) and the field, or kResourceExhausted
// past max_sightings.
Result<SightingBatch> ParseSightingBatch(std::string_view body, bool ndjson,
                                         const SightingLimits& limits);

}  // namespace iocgrid::portal::internal
