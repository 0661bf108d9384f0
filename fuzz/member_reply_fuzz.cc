// libFuzzer target for what members answer the portal (issue 8), the federation's side of the
// wire (federation/internal/dto.h): the grid match NDJSON answer, MISP restSearch attribute
// lists, grid/v1/stats, getVersion, error bodies, and private search's psi/info answer and
// opened labels, and the answer to a sighting sent back (issue 11), all from the same bytes.
// Properties: no crash, no exception, no hang; every grid hit names a query in range; error
// summaries stay short; a psi/info that parses has limits of at least 1; label hits carry the
// query they were opened for.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "federation/internal/dto.h"
#include "federation/sightings.h"
#include "fuzz/fuzz_checks.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace iocgrid;
  namespace dto = federation::internal;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  constexpr size_t kQueries = 8;
  std::vector<federation::MemberHit> hits;
  (void)dto::ParseGridAnswer(text, kQueries, &hits);  // kDataLoss is an answer, not a bug
  for (const auto& hit : hits) {
    if (hit.query >= kQueries)
      fuzz::Fail("grid hit outside the query list", std::to_string(hit.query));
  }
  if (auto attributes = dto::ParseMispAttributes(text); attributes.ok()) {
    for (const auto& a : *attributes) {
      if (a.hit.query != 0) fuzz::Fail("MISP attribute template with a query", a.hit.matched);
    }
  }
  (void)dto::ParseVersion(text);
  (void)dto::ParseGridStats(text);
  // A summary of any body is at most the 200 bytes it is cut to, plus a little framing.
  if (dto::ErrorBodySummary(text).size() > 256) fuzz::Fail("error summary too long", text);
  if (size < 64) (void)dto::ParseIsoSeconds(text);
  if (auto info = dto::ParsePsiInfo(text); info.ok()) {
    if (info->epoch == 0 || info->max_points == 0 || info->max_labels == 0 ||
        info->max_buckets == 0 || info->max_tags_per_page == 0 || info->max_bucket_bits == 0 ||
        info->max_bucket_bits > 24) {
      fuzz::Fail("psi/info accepted with an unusable limit", text);
    }
  }
  std::vector<federation::MemberHit> labels;
  if (dto::ParseLabelHits(text, 5, &labels).ok()) {
    for (const auto& h : labels) {
      if (h.query != 5) fuzz::Fail("label hit for another query", std::to_string(h.query));
    }
  }
  // A sighting answer: sent means no reason; anything else names one, short.
  for (int status : {200, 403, 500}) {
    federation::SightingResult r = federation::ReadSightingAnswer(status, text);
    if ((r.outcome == federation::SightingOutcome::kSent) != r.reason.empty()) {
      fuzz::Fail("sighting outcome and reason disagree", r.reason);
    }
    if (r.reason.size() > 1024) fuzz::Fail("sighting reason too long", r.reason);
    if (status != 200 && r.outcome == federation::SightingOutcome::kSent) {
      fuzz::Fail("an HTTP error counted as sent", text);
    }
  }
  return 0;
}
