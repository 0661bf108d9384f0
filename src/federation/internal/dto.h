// Wire formats the connectors speak (STYLE.md section 7: JSON stays at the
// edges): the grid API's match request and NDJSON answer (docs/node-api.md),
// MISP restSearch requests and the attribute list it answers (misp-api.md
// section 2), getVersion and grid/v1/stats.
//
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "core/indicator.h"
#include "federation/member.h"
#include "index/match_index.h"
#include "psi/keys.h"

namespace iocgrid::federation::internal {

// POST /grid/v1/match body:
// {"indicators":[{"value","type"}...],"relations":[...], "since","until"}.
std::string GridMatchBody(std::span<const core::Indicator> indicators,
                          index::RelationMask relations, std::optional<int64_t> since,
                          std::optional<int64_t> until);

// Parses the NDJSON answer, appending a MemberHit per hit (query = the line's
// "i"). Errors: kDataLoss for a line that is not JSON, an "i" outside [0,
// query_count), or an answer without its {"done":true} summary line (cut
// short).
Status ParseGridAnswer(std::string_view body, size_t query_count, std::vector<MemberHit>* hits);

// One attribute of a MISP restSearch answer, as a hit template (query and
// relation unset).
struct MispAttribute {
  MemberHit hit;
  bool deleted = false;
};

// restSearch for values (returnFormat json, context for event date/org, event
// tags).
std::string MispValueSearchBody(std::span<const std::string> values, size_t limit, size_t page);
// restSearch for the member's IP attributes that may hold CIDRs; with
// `since_timestamp` > 0 only attributes changed since then, deleted ones
// included (so the cache can drop them).
std::string MispCidrSearchBody(int64_t since_timestamp, size_t limit, size_t page);

// Parses {"response": {"Attribute": [...]}} (also {"response": []} as empty).
// Errors: kDataLoss when the body is not JSON or not that shape.
Result<std::vector<MispAttribute>> ParseMispAttributes(std::string_view body);

// getVersion: {"version": "2.5.1", ...}. Errors: kDataLoss.
Result<std::string> ParseVersion(std::string_view body);

struct GridStats {
  uint64_t attributes = 0;
  std::string first_date;
  std::string last_date;
  std::optional<uint64_t> generation;  // the searchable data generation (absent: older nodes)
  // A node mirroring a MISP (node/mirror.h): its source, lag (-1 before a first success) and
  // the last sweep's error. Empty source: not a mirror.
  std::string mirror_source;
  int64_t mirror_lag_seconds = -1;
  std::string mirror_error;
};
// grid/v1/stats. Errors: kDataLoss.
Result<GridStats> ParseGridStats(std::string_view body);

// The "message" (else "name") of a MISP-style error body, cut to 200 bytes;
// else the start of the body.
std::string ErrorBodySummary(std::string_view body);

// A member's ISO 8601 date or date-time to unix seconds (common/time.h ParseIsoDateTime);
// nothing when it is not one (the hit then counts as undated).
std::optional<int64_t> ParseIsoSeconds(std::string_view text);

// Whether a hit's activity (first_seen..last_seen, else its timestamp) overlaps
// [since, until]; unknown times are kept.
bool InTimeScope(const MemberHit& hit, std::optional<int64_t> since, std::optional<int64_t> until);

// GET /grid/v1/psi/info (docs/private-search.md "Node API"): what a querier needs.
struct PsiInfo {
  uint32_t epoch = 0;
  psi::RangeDeclaration declaration;
  bool ready = false;  // the node's precompute has caught up with its data
  uint64_t tags = 0;
  uint64_t generation = 0;
  std::string label_context;  // "full" or "value" (what the member's labels disclose)
  bool full_set = false;      // retrieval modes offered
  bool bucketed = false;
  bool Offers(PsiMode mode) const { return mode == PsiMode::kFullSet ? full_set : bucketed; }
  size_t max_points = 0;  // per evaluate request
  size_t max_labels = 0;  // per labels request
  size_t max_buckets = 0;
  size_t max_tags_per_page = 0;
  unsigned max_bucket_bits = 0;
  uint64_t evaluations_left_today = 0;
};
// Errors: kDataLoss for anything but that shape (version 1, 11-byte tags, limits >= 1).
Result<PsiInfo> ParsePsiInfo(std::string_view body);

// One opened label ({"v":1,"hits":[...]}, node/internal/psi_precompute.cc): appends a hit per
// entry with `query` and no relation yet (the querier decides it). Errors: kDataLoss.
Status ParseLabelHits(std::string_view content, uint32_t query, std::vector<MemberHit>* hits);

}  // namespace iocgrid::federation::internal
