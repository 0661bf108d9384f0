// libFuzzer target for the portal's search body (POST /api/v1/searches, and re-runs):
// portal::internal::ParseSearchRequest with the real extractor for "text" bodies, and the body
// of POST /api/v1/searches/{id}/sightings (ParseSightingRequest) and of POST/PATCH
// /api/v1/watchlists (ParseWatchlistRequest), and TAXII's query, timestamps and Basic
// credentials (portal/internal/taxii_params.h), alliance sighting batches (JSON and NDJSON) and
// trends queries (issue 12), from the same bytes.
// Properties: no crash, no exception, no hang; an accepted request never holds more indicators
// than the limit; its normalized form (what a re-run sends) parses again to the same form.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "extract/extractor.h"
#include "fuzz/fuzz_checks.h"
#include "portal/internal/alliance_request.h"
#include "portal/internal/search_request.h"
#include "portal/internal/sighting_request.h"
#include "portal/internal/taxii_params.h"
#include "portal/internal/trends.h"
#include "portal/internal/watchlist_request.h"

// POST /api/v1/sightings batches (issue 12) and the trends queries: bounded, never more than
// their limits.
void CheckAllianceParsers(std::string_view body) {
  using namespace iocgrid;
  for (bool ndjson : {false, true}) {  // POST /api/v1/sightings (issue 12)
    portal::internal::SightingLimits batch_limits;
    batch_limits.max_sightings = 100;
    batch_limits.now = 1700000000;
    auto batch = portal::internal::ParseSightingBatch(body, ndjson, batch_limits);
    if (!batch.ok()) continue;
    if (batch->received > batch_limits.max_sightings ||
        batch->sightings.size() + batch->internal != batch->received) {
      fuzz::Fail("sighting batch: counts out of bounds", body);
    }
    for (const auto& s : batch->sightings) {
      if (s.first_seen > s.last_seen || s.alerted > s.count || s.count == 0 ||
          s.last_seen > batch_limits.now + batch_limits.max_future_s) {
        fuzz::Fail("sighting batch: a sighting outside its bounds", body);
      }
    }
  }
  for (std::string_view trend : {"window", "bucket"}) {
    auto q = portal::internal::ParseTrendQuery(body, "7d", {"window", trend, "min_orgs", "limit"},
                                               20000);
    if (q.ok() && (q->window.days < 1 || q->window.bucket < 1 ||
                   q->window.bucket > q->window.days || q->min_orgs < 2 || q->limit < 1)) {
      fuzz::Fail("trends: query out of bounds", body);
    }
  }
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace iocgrid;
  static const std::unique_ptr<extract::Extractor> extractor = [] {
    auto e = extract::Extractor::Create(extract::ExtractOptions{});
    if (!e.ok()) fuzz::Fail("extractor", e.status().ToString());
    return std::move(*e);
  }();
  std::string_view body(reinterpret_cast<const char*>(data), size);
  {
    net::Request taxii;
    taxii.query = std::string(body);
    taxii.headers = {{"authorization", "Basic " + std::string(body)}};
    if (auto f = portal::internal::ReadTaxiiFilter(taxii); f.ok()) {
      if (f->limit < 1 || f->limit > portal::internal::kTaxiiMaxLimit) {
        fuzz::Fail("taxii: limit out of range", body);
      }
    }
    if (portal::internal::TaxiiKey(taxii).size() > 512) fuzz::Fail("taxii: key too long", body);
    if (size < 64) (void)portal::internal::ParseTaxiiTime(body);
  }
  for (bool patch : {false, true}) {
    auto watch = portal::internal::ParseWatchlistRequest(body, patch);
    if (!watch.ok()) continue;
    // A new watchlist has a name and follows a search or the rising trends, never both.
    if (!patch && (!watch->name || watch->search.empty() != watch->rising.has_value())) {
      fuzz::Fail("watchlist: no name, or not exactly one of search and rising", body);
    }
    if (watch->rising &&
        (!watch->search.empty() || !(*watch->rising)["window"].is_string() ||
         !(*watch->rising)["sectors"].is_array() || !(*watch->rising)["types"].is_array())) {
      fuzz::Fail("watchlist: rising spec not normalized", body);
    }
    if (watch->interval_s && (*watch->interval_s < 1 || *watch->interval_s > 366 * 86400)) {
      fuzz::Fail("watchlist: interval out of range", body);
    }
    if (watch->webhook && !watch->webhook->empty() &&
        !portal::internal::CheckWebhookUrl(*watch->webhook).ok()) {
      fuzz::Fail("watchlist: webhook accepted unchecked", body);
    }
  }
  if (auto sightings = portal::internal::ParseSightingRequest(body); sightings.ok()) {
    if (sightings->all != sightings->picks.empty()) fuzz::Fail("sightings: all and picks", body);
    if (sightings->picks.size() > portal::internal::kMaxSightingPicks) {
      fuzz::Fail("sightings: more picks than the limit", body);
    }
    if (sightings->source &&
        (sightings->source->empty() ||
         sightings->source->size() > portal::internal::kMaxSightingSourceBytes)) {
      fuzz::Fail("sightings: source outside its bounds", body);
    }
  }
  CheckAllianceParsers(body);
  portal::internal::SearchRequestLimits limits;
  limits.max_indicators = 1000;
  limits.now = 1700000000;
  auto parsed = portal::internal::ParseSearchRequest(body, *extractor, limits);
  if (!parsed.ok()) return 0;
  if (parsed->input.indicators.size() > limits.max_indicators) {
    fuzz::Fail("more indicators than the limit", body);
  }
  std::string again =
      parsed->normalized.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  auto reparsed = portal::internal::ParseSearchRequest(again, *extractor, limits);
  if (!reparsed.ok()) fuzz::Fail("the normalized request does not parse: " + again, body);
  if (reparsed->normalized != parsed->normalized) {
    fuzz::Fail("re-run changes the request: " + again, body);
  }
  return 0;
}
