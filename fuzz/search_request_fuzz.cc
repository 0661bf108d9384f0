// libFuzzer target for the portal's search body (POST /api/v1/searches, and re-runs):
// portal::internal::ParseSearchRequest with the real extractor for "text" bodies, and the body
// of POST /api/v1/searches/{id}/sightings (ParseSightingRequest) and of POST/PATCH
// /api/v1/watchlists (ParseWatchlistRequest), and TAXII's query, timestamps and Basic
// credentials (portal/internal/taxii_params.h), from the same bytes.
// Properties: no crash, no exception, no hang; an accepted request never holds more indicators
// than the limit; its normalized form (what a re-run sends) parses again to the same form.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "extract/extractor.h"
#include "fuzz/fuzz_checks.h"
#include "portal/internal/search_request.h"
#include "portal/internal/sighting_request.h"
#include "portal/internal/taxii_params.h"
#include "portal/internal/watchlist_request.h"

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
    if (!patch && (!watch->name || watch->search.empty())) fuzz::Fail("watchlist: no name", body);
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
