// `iocgrid search --private` (issue 10, docs/private-search.md "Blinding on the analyst's
// machine"): the querier of private search runs here. Queries are blinded on this machine; the
// portal relays the frames to each private member (POST /api/v1/private/{member}/...) and
// learns neither the queried values nor the hits.
//
// Thread-safety: one call at a time.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "app/portal_client.h"
#include "common/result.h"
#include "core/indicator.h"
#include "index/match_index.h"

namespace iocgrid::app {

struct PrivateSearchInput {
  std::vector<core::Indicator> queries;  // normalized
  std::vector<std::string> written;      // each query as the analyst wrote it (printed)
  std::vector<std::string> members;      // empty: every private member
  index::RelationMask relations = index::kAllRelations;
  std::optional<int64_t> since;  // unix seconds
  std::optional<int64_t> until;
  int timeout_s = 120;
};

// Runs the search against the portal's private members and returns a document shaped like the
// portal's search document (docs/portal-api.md: "indicators" with "hits", "members",
// "progress", "summary"), so that it prints the same. Errors: kInvalidArgument (a named member
// is not private, or there is none), the portal call's errors.
Result<nlohmann::json> RunPrivateSearch(const PortalConnection& portal,
                                        const PrivateSearchInput& input);

}  // namespace iocgrid::app
