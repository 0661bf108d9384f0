// Reputation of one indicator (issue 11; docs/portal-api.md "Reputation"): a search of that
// value across the alliance, summed up: held by k of n members, by which relations, the sift
// classes its holders' data gives it, sightings (members' and the alliance's confirmations),
// first and last seen, and a score with a documented formula.
#include <algorithm>
#include <cmath>
#include <set>
#include <string>
#include <vector>

#include "common/time.h"
#include "portal/internal/portal_impl.h"
#include "sift/report.h"

namespace iocgrid::portal {

using internal::Error;
using internal::Json;

namespace {

using json = nlohmann::json;

constexpr size_t kMaxValueBytes = 4096;

// Unix seconds of a member's time text (ISO date or date-time); 0 when empty or unreadable.
int64_t Seconds(const std::string& text) {
  if (text.empty()) return 0;
  auto t = ParseIsoDateTime(text);
  return t.ok() ? *t : 0;
}

struct Score {
  double consensus = 0;
  double recency = 0.5;
  double sightings = 0.5;
  double false_positive = 1;
  int value = 0;
};

// The documented formula: 100 x consensus x recency x sightings x false-positive factor.
Score Compute(uint64_t held_by, uint64_t answered, int64_t newest, int64_t now,
              int64_t half_life_days, uint64_t member_sightings, uint64_t confirmed,
              uint64_t false_positives) {
  Score s;
  s.consensus = answered == 0 ? 0 : static_cast<double>(held_by) / static_cast<double>(answered);
  if (newest > 0) {
    const double age_days = std::max<double>(0, static_cast<double>(now - newest) / 86400.0);
    s.recency = std::pow(0.5, age_days / static_cast<double>(half_life_days));
  }
  const double seen = static_cast<double>(member_sightings + confirmed);
  s.sightings = 0.5 + 0.5 * std::min(1.0, std::log10(1 + seen) / 2);
  s.false_positive = 1.0 / (1.0 + static_cast<double>(false_positives));
  s.value =
      static_cast<int>(std::lround(100 * s.consensus * s.recency * s.sightings * s.false_positive));
  return s;
}

}  // namespace

net::Response Portal::Impl::IndicatorReputation(net::Request& req, const PortalUser& user) {
  const std::string value =
      req.params.count("value") ? req.params["value"] : req.QueryParam("value");
  const std::string type = req.QueryParam("type");
  if (value.empty()) {
    return Error(400, "Give the value: /api/v1/indicators/VALUE or ?value=VALUE (&type=TYPE).",
                 req);
  }
  if (value.size() > kMaxValueBytes || type.size() > 64) {
    return Error(400, "The value is longer than 4096 bytes.", req);
  }
  json item = type.empty() ? json(value) : json{{"value", value}, {"type", type}};
  auto prepared = PrepareSearch(json{{"indicators", {item}}}.dump(), user);
  if (!prepared.ok()) return Error(400, prepared.status().message(), req);
  if (prepared->input.indicators.empty()) {
    std::string why =
        prepared->input.invalid.empty() ? "not an indicator" : prepared->input.invalid[0].second;
    return Error(400, "'" + value.substr(0, 200) + "' is not an indicator: " + why, req);
  }
  const core::Indicator indicator = prepared->input.indicators[0];
  auto job = SearchNow(std::move(*prepared), "reputation:" + internal::NewId());
  if (!job) return Error(429, "Too many searches are running; retry in a moment.", req);
  const json doc = job->Document();
  return Json(ReputationOf(doc, indicator, value));
}

json Portal::Impl::ReputationOf(const json& doc, const core::Indicator& indicator,
                                const std::string& value) {
  const auto kinds = MemberKinds();
  uint64_t answered = 0, asked = 0;
  for (const json& m : doc.value("members", json::array())) {
    ++asked;
    if (m.value("status", "") == "done") ++answered;
  }
  const json ind = doc.contains("indicators") && !doc["indicators"].empty() ? doc["indicators"][0]
                                                                            : json::object();
  std::set<std::string> relations, holders;
  std::vector<sift::Class> classes;
  std::vector<std::string> values = {indicator.value};
  json members = json::array();
  uint64_t member_sightings = 0;
  int64_t first = 0, last = 0;
  for (const json& h : ind.value("hits", json::array())) {
    const std::string member = h.value("member", "");
    const auto kind = kinds.find(member);
    const sift::Class cls = sift::MemberClass(sift_rules, kind == kinds.end() ? "" : kind->second);
    classes.push_back(cls);
    relations.insert(h.value("relation", ""));
    holders.insert(member);
    if (!h.value("matched", "").empty()) values.push_back(h.value("matched", ""));
    member_sightings += h.value("sightings", uint64_t{0});
    const int64_t f = Seconds(h.value("first_seen", "")),
                  l = std::max({Seconds(h.value("last_seen", "")),
                                Seconds(h.value("event_date", "")),
                                h.value("timestamp", int64_t{0})});
    if (f > 0 && (first == 0 || f < first)) first = f;
    if (l > last) last = l;
    members.push_back({{"member", member},
                       {"relation", h.value("relation", "")},
                       {"matched", h.value("matched", "")},
                       {"class", std::string(sift::ClassName(cls))},
                       {"event_info", h.value("event_info", "")},
                       {"first_seen", h.value("first_seen", "")},
                       {"last_seen", h.value("last_seen", "")},
                       {"sightings", h.value("sightings", uint64_t{0})}});
  }
  const uint64_t held_by = ind.value("held_by", uint64_t{0});
  if (held_by > holders.size()) {  // members that disclose counts only: held, class undisclosed
    classes.push_back(sift::UndisclosedHit(held_by - holders.size(), sift_rules).cls);
  }
  auto counted = store->CountSentSightings(values);
  const auto [confirmed, false_positives] =
      counted.ok() ? *counted : std::make_pair(uint64_t{0}, uint64_t{0});
  const int64_t now = config.clock.Now();
  const Score score = Compute(held_by, answered, last, now, config.reputation_half_life_days,
                              member_sightings, confirmed, false_positives);
  std::set<std::string> class_names;
  for (sift::Class c : classes) class_names.insert(std::string(sift::ClassName(c)));
  return {{"value", value},
          {"type", std::string(core::TypeName(indicator.type))},
          {"normalized", indicator.value},
          {"held_by", held_by},
          {"members_asked", asked},
          {"members_answered", answered},
          {"relations", relations},
          {"classes", class_names},
          {"class", std::string(sift::ClassName(sift_rules.Decide(classes)))},
          {"members", members},
          {"sightings",
           {{"members", member_sightings},
            {"confirmed", confirmed},
            {"false_positive", false_positives}}},
          {"first_seen", first == 0 ? "" : FormatIsoDateTime(first)},
          {"last_seen", last == 0 ? "" : FormatIsoDateTime(last)},
          {"score", score.value},
          {"score_parts",
           {{"consensus", score.consensus},
            {"recency", score.recency},
            {"sightings", score.sightings},
            {"false_positive", score.false_positive}}},
          {"half_life_days", config.reputation_half_life_days},
          {"status", doc.value("status", "")}};
}

}  // namespace iocgrid::portal
