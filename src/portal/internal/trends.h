// Trends over alliance sightings (issue 12; docs/trends.md): the answers of
// GET /api/v1/trends/{sectors,scanners,rising,actors}, computed from the store's per-day
// aggregates with k-anonymity applied. No answer names a reporting organisation: cells carry
// counts of organisations, and any cell (or part of one) to which fewer than k organisations
// contributed is suppressed, with the parts around it suppressed too when the suppressed ones
// could otherwise be derived from the cell's total.
//
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "portal/portal_store.h"

namespace iocgrid::portal::internal {

inline constexpr int64_t kSecondsPerDay = 86400;

// The days a trends request covers: [from, to] (UTC day numbers), `bucket` days per bucket.
struct TrendWindow {
  int64_t from = 0;
  int64_t to = 0;
  int64_t days = 0;
  int64_t bucket = 1;
};

// The window ending on `today` for `text` ("7d", "2w": whole days or weeks, 1-366 days), one
// bucket per day. Errors: kInvalidArgument naming `name`, the parameter or field it came from.
Result<TrendWindow> ParseTrendWindow(std::string_view name, std::string_view text, int64_t today);

// The query of a trends endpoint: window (default `default_window`, "Nd" or "Nw", 1-366 days),
// bucket (sectors: "1d" default, a whole number of days up to the window), min_orgs (scanners,
// 2-1000, default 2), limit (scanners, 1-10000, default 100). `allowed` lists the parameters
// the endpoint takes. Errors: kInvalidArgument naming the parameter.
struct TrendQuery {
  TrendWindow window;
  uint64_t min_orgs = 2;
  size_t limit = 100;
};
Result<TrendQuery> ParseTrendQuery(std::string_view query, std::string_view default_window,
                                   const std::vector<std::string_view>& allowed, int64_t today);

// P(X >= x) for X ~ Poisson(lambda); 1 for x = 0.
double PoissonUpperTail(uint64_t x, double lambda);

// The rising test's thresholds (docs/trends.md).
inline constexpr double kRisingPValue = 0.001;
inline constexpr int kRisingBaselineWindows = 4;

nlohmann::json SectorTrends(const TrendWindow& w, const std::vector<SectorDayRow>& days,
                            const std::vector<SectorOrgRow>& orgs,
                            const std::vector<SectorDistinctRow>& distinct, int64_t k);

// `days` and `orgs` cover the window and the kRisingBaselineWindows windows before it.
nlohmann::json RisingTrends(const TrendWindow& w, const std::vector<SectorDayRow>& days,
                            const std::vector<SectorOrgRow>& orgs, int64_t k);

nlohmann::json ScannerTrends(const TrendWindow& w, const std::vector<ScannerRow>& rows,
                             uint64_t min_orgs);

nlohmann::json ActorTrends(const TrendWindow& w, const std::vector<ActorRow>& rows, int64_t k);

// The threat actor a hit's tag names, or empty: MISP galaxy clusters
// misp-galaxy:threat-actor="X" and misp-galaxy:mitre-intrusion-set="X", and the plain
// threat-actor:"X" / actor:X forms some feeds use.
std::string ActorOfTag(std::string_view tag);

}  // namespace iocgrid::portal::internal
