// TAXII 2.1 request parameters (portal/taxii.cc; docs/taxii.md): the key of a request (HTTP
// Basic with the key as the password, or the API's forms), TAXII timestamps, and the query of
// objects and manifest pages. Bounded; never throw.
//
// Thread-safety: pure functions.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>

#include "common/result.h"
#include "net/http.h"

namespace iocgrid::portal::internal {

inline constexpr size_t kTaxiiDefaultLimit = 100;
inline constexpr size_t kTaxiiMaxLimit = 1000;

// A TAXII timestamp (added_after, match[version]) to unix milliseconds: an RFC 3339 date-time,
// fractions of a second kept to the millisecond. Errors: kInvalidArgument.
Result<int64_t> ParseTaxiiTime(std::string_view text);

// The key of a TAXII request: HTTP Basic (the key is the password; the user name is not
// checked), else the API's Authorization / X-MISP-AUTH forms. Empty when Basic is malformed.
std::string TaxiiKey(const net::Request& req);

// The page's query parameters (TAXII 2.1 section 3.4).
struct TaxiiFilter {
  std::optional<int64_t> added_after;                   // unix milliseconds
  size_t limit = kTaxiiDefaultLimit;                    // 1..kTaxiiMaxLimit
  std::optional<std::pair<int64_t, std::string>> next;  // after this (added, id)
  std::set<std::string> types;
  std::set<std::string> ids;
};

// Errors: kInvalidArgument naming the parameter.
Result<TaxiiFilter> ReadTaxiiFilter(const net::Request& req);

}  // namespace iocgrid::portal::internal
