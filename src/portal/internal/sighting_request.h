// The body of POST /api/v1/searches/{id}/sightings (docs/portal-api.md): which of a search's
// hits to send back to the members holding them, as true or false positives. Bounded, typed
// checks: every field has one type and range; anything else is a kInvalidArgument naming the
// field.
//
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "federation/sightings.h"

namespace iocgrid::portal::internal {

// One chosen hit: the search's indicator `i` as held by `member`.
struct SightingPick {
  uint32_t i = 0;
  std::string member;
};

struct ParsedSightings {
  federation::SightingType type = federation::SightingType::kTruePositive;
  bool all = false;                   // "hits": "all"
  std::vector<SightingPick> picks;    // otherwise, at least one, none twice
  std::optional<std::string> source;  // the request's; else the user's organisation
};

inline constexpr size_t kMaxSightingPicks = 100000;
inline constexpr size_t kMaxSightingSourceBytes = 255;

// Errors: kInvalidArgument naming the field.
Result<ParsedSightings> ParseSightingRequest(std::string_view body);

}  // namespace iocgrid::portal::internal
