// MISP restSearch filter parameters, parsed from a request body as MISP does
// (misp-api.md sections 2.1-2.3 and 3.1): value lists with OR/NOT ("!x", {"OR":..,"NOT":..},
// "a||b", "a&&!b"), relative and absolute times, flags given as 0/1, "0"/"1", true/false.
// Unknown keys are ignored, as MISP drops them; a known key of the wrong JSON type is an error.
//
// Thread-safety: plain values.
#pragma once

#include <cstddef>
#include <cstdint>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace iocgrid::node {

// An OR list and a NOT list of strings (MISP's AND behaves as OR for these filters).
struct TermFilter {
  std::vector<std::string> any;
  std::vector<std::string> none;

  bool empty() const { return any.empty() && none.empty(); }
};

// An inclusive range of unix seconds; either end may be open.
struct TimeRange {
  std::optional<int64_t> from;
  std::optional<int64_t> to;

  bool empty() const { return !from && !to; }
};

struct SearchParams {
  std::string return_format = "json";
  TermFilter value;  // value1 OR value2
  TermFilter value1;
  TermFilter value2;
  TermFilter type;
  TermFilter category;
  TermFilter org;  // creator org: id, name or uuid
  TermFilter tags;
  TermFilter eventid;    // event id or uuid
  TermFilter uuid;       // attribute uuid
  TermFilter eventinfo;  // with % wildcards
  TermFilter object_relation;
  TermFilter threat_level_id;
  std::optional<bool> to_ids;
  std::vector<bool> published;  // empty = both
  int deleted = 0;              // 0 live only, 1 deleted only, 2 both
  TimeRange attribute_timestamp;
  TimeRange event_timestamp;
  TimeRange publish_timestamp;           // "last", "publish_timestamp"
  std::optional<std::string> date_from;  // Event.date >= (YYYY-MM-DD)
  std::optional<std::string> date_to;
  TimeRange first_seen;
  TimeRange last_seen;
  std::optional<std::string> searchall;  // events only
  uint32_t limit = 0;                    // 0 = none given (a given limit is >= 1)
  uint32_t page = 1;                     // >= 1; a page past the end is empty
  bool include_event_tags = false;
  bool include_event_uuid = false;
  bool include_context = false;
  bool include_sightings = false;
  bool metadata = false;                          // events: no attributes
  bool headerless = false;                        // csv
  std::vector<std::string> requested_attributes;  // csv columns
  std::string order;

  // True when some parameter narrows the result; a search without one would return the whole
  // store and is refused unless it sets a limit (issue 8).
  bool HasFilter() const;
};

// Parses a restSearch body (already unwrapped from {"request": ...}). `now` is the current unix
// time for relative values ("7d"). At most `max_terms` filter terms are kept over all list
// parameters ("a||b" counts 2). Errors: kInvalidArgument naming the parameter (a wrong JSON
// type, a number out of range, limit or page below 1); kResourceExhausted beyond max_terms.
Result<SearchParams> ParseSearchParams(const nlohmann::json& body, int64_t now,
                                       size_t max_terms = SIZE_MAX);

// Resolves a MISP time value: unix seconds (number or digits), a relative "7d"/"12h"/"30m"/
// "10s"/"2w" (now minus that), or a date "YYYY-MM-DD[ HH:MM:SS]" / ISO-8601 (UTC). An
// unparsable value resolves to now + 1, which matches nothing, as MISP's resolveTimeDelta.
// Errors: kInvalidArgument for a number beyond the year 9999 (20-digit input, issue 8).
Result<int64_t> ResolveTime(std::string_view text, int64_t now);

// Reads MISP's loose booleans: true/false, 0/1, "0"/"1", "true"/"false". nullopt otherwise.
std::optional<bool> LooseBool(const nlohmann::json& v);

}  // namespace iocgrid::node
