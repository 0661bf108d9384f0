// The body of POST /api/v1/searches (docs/portal-api.md), parsed with bounded, typed checks:
// every field has one type and range, and anything else is a kInvalidArgument naming the
// field, never a silent default. The result keeps the request in a normalized form so that a
// search can be stored with the scope actually applied and re-run after an interruption.
//
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "index/match_index.h"
#include "portal/internal/search_job.h"

namespace iocgrid::extract {
class Extractor;
}

namespace iocgrid::portal::internal {

struct SearchRequestLimits {
  size_t max_indicators = 100000;
  int default_time_gap_days = 365;
  int64_t now = 0;  // unix seconds, for "30d"
};

struct ParsedSearch {
  SearchInput input;
  std::vector<std::string> members;  // chosen names; empty = every enabled member
  std::optional<index::RelationMask> relations;
  std::optional<int64_t> since, until;  // unix seconds
  std::string label;
  std::string tlp = "amber";
  bool shared = false;
  int time_gap_days = 365;
  // The request as it will be re-run: the indicators as typed values, scope as absolute
  // dates. Stored in the search document under "request".
  nlohmann::json normalized;
};

// Errors: kInvalidArgument naming the field; kResourceExhausted when there are more than
// max_indicators indicators (the caller answers 413).
Result<ParsedSearch> ParseSearchRequest(std::string_view body, const extract::Extractor& extractor,
                                        const SearchRequestLimits& limits);

}  // namespace iocgrid::portal::internal
