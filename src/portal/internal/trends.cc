#include "portal/internal/trends.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <map>
#include <set>
#include <utility>

#include "common/time.h"
#include "net/http.h"
#include "sift/rules.h"

namespace iocgrid::portal::internal {
namespace {

using json = nlohmann::json;
constexpr size_t kMaxQueryBytes = 4096;
constexpr size_t kMaxInfrastructure = 100;

std::string Day(int64_t day) { return FormatIsoDate(day * 86400); }

Status ParamError(std::string_view name, std::string_view what) {
  return InvalidArgumentError("Query parameter '" + std::string(name) + "' " + std::string(what));
}

Result<int64_t> Days(std::string_view name, const std::string& text) {
  auto secs = ParseDuration(text);
  if (!secs.ok() || *secs % 86400 != 0) {
    return ParamError(name, "must be a whole number of days or weeks, such as 7d or 4w.");
  }
  return *secs / 86400;
}

Result<uint64_t> Whole(std::string_view name, const std::string& text, uint64_t lo, uint64_t hi) {
  uint64_t n = 0;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, n);
  if (text.empty() || ec != std::errc() || ptr != end || n < lo || n > hi) {
    return ParamError(name, "must be a whole number from " + std::to_string(lo) + " to " +
                                std::to_string(hi) + ".");
  }
  return n;
}

// What contributed to one cell, or to one part of it.
struct Tally {
  std::set<std::string> orgs;
  uint64_t observables = 0;
  uint64_t sightings = 0;
  uint64_t alerted = 0;
};

json Numbers(const Tally& t) {
  return {{"suppressed", false},
          {"organisations", t.orgs.size()},
          {"observables", t.observables},
          {"sightings", t.sightings},
          {"alerted", t.alerted}};
}

// A breakdown of a cell (by class, by type): parts with fewer than k organisations are
// suppressed, and then more parts, fewest organisations first, until the suppressed parts
// together (what the total minus the shown parts reveals) come from at least k.
json Breakdown(const std::map<std::string, Tally>& parts, int64_t k) {
  std::set<std::string> hidden;
  std::set<std::string> hidden_orgs;
  for (const auto& [name, t] : parts) {
    if (static_cast<int64_t>(t.orgs.size()) < k) {
      hidden.insert(name);
      hidden_orgs.insert(t.orgs.begin(), t.orgs.end());
    }
  }
  while (!hidden.empty() && static_cast<int64_t>(hidden_orgs.size()) < k &&
         hidden.size() < parts.size()) {
    const std::pair<const std::string, Tally>* next = nullptr;
    for (const auto& p : parts) {
      if (hidden.count(p.first)) continue;
      if (next == nullptr || p.second.orgs.size() < next->second.orgs.size() ||
          (p.second.orgs.size() == next->second.orgs.size() &&
           p.second.sightings < next->second.sightings)) {
        next = &p;
      }
    }
    hidden.insert(next->first);
    hidden_orgs.insert(next->second.orgs.begin(), next->second.orgs.end());
  }
  json out = json::object();
  for (const auto& [name, t] : parts) {
    out[name] = hidden.count(name) ? json{{"suppressed", true}} : Numbers(t);
  }
  return out;
}

struct Cell {
  Tally total;
  std::map<std::string, Tally> by_class, by_type;
};

void AddRow(Cell* c, const SectorDayRow& r, bool with_observables) {
  for (Tally* t : {&c->total, &c->by_class[r.cls], &c->by_type[r.type]}) {
    t->sightings += r.sightings;
    t->alerted += r.alerted;
    if (with_observables) t->observables += r.observables;
  }
}

}  // namespace

Result<TrendWindow> ParseTrendWindow(std::string_view name, std::string_view text, int64_t today) {
  auto secs = ParseDuration(text);
  if (!secs.ok() || *secs % 86400 != 0) {
    return InvalidArgumentError(std::string(name) +
                                " must be a whole number of days or weeks, 1-366 days, such as 7d "
                                "or 4w.");
  }
  TrendWindow w;
  w.days = *secs / 86400;
  w.to = today;
  w.from = today - w.days + 1;
  return w;
}

Result<TrendQuery> ParseTrendQuery(std::string_view query, std::string_view default_window,
                                   const std::vector<std::string_view>& allowed, int64_t today) {
  if (query.size() > kMaxQueryBytes) return InvalidArgumentError("The query string is too long.");
  std::map<std::string, std::string> params;
  for (const auto& [name, value] : net::QueryItems(query)) {
    if (std::find(allowed.begin(), allowed.end(), name) == allowed.end()) {
      std::string names;
      for (std::string_view a : allowed) names += (names.empty() ? "" : ", ") + std::string(a);
      return InvalidArgumentError("Unknown query parameter '" + name.substr(0, 64) + "' (" + names +
                                  ").");
    }
    if (!params.emplace(name, value).second) return ParamError(name, "is given twice.");
  }
  TrendQuery q;
  auto window = params.find("window");
  IOCGRID_ASSIGN_OR_RETURN(
      q.window, ParseTrendWindow("Query parameter 'window'",
                                 window == params.end() ? default_window : window->second, today));
  if (auto b = params.find("bucket"); b != params.end()) {
    IOCGRID_ASSIGN_OR_RETURN(q.window.bucket, Days("bucket", b->second));
    if (q.window.bucket > q.window.days) return ParamError("bucket", "is longer than the window.");
  }
  if (auto m = params.find("min_orgs"); m != params.end()) {
    IOCGRID_ASSIGN_OR_RETURN(q.min_orgs, Whole("min_orgs", m->second, 2, 1000));
  }
  if (auto l = params.find("limit"); l != params.end()) {
    IOCGRID_ASSIGN_OR_RETURN(uint64_t limit, Whole("limit", l->second, 1, 10000));
    q.limit = static_cast<size_t>(limit);
  }
  return q;
}

double PoissonUpperTail(uint64_t x, double lambda) {
  if (x == 0) return 1.0;
  if (lambda <= 0) return 0.0;
  const double xd = static_cast<double>(x);
  if (xd <= lambda) {
    // The lower tail is the short sum here: 1 - P(X <= x-1).
    double term = std::exp(-lambda), sum = term;
    for (uint64_t i = 1; i < x; ++i) {
      term *= lambda / static_cast<double>(i);
      sum += term;
    }
    return std::clamp(1.0 - sum, 0.0, 1.0);
  }
  // Terms from x upward shrink (x > lambda): sum until they stop counting.
  double term = std::exp(-lambda + xd * std::log(lambda) - std::lgamma(xd + 1));
  double sum = 0;
  for (uint64_t i = x; term > sum * 1e-17 && i < x + 100000; ++i) {
    sum += term;
    term *= lambda / static_cast<double>(i + 1);
  }
  return std::clamp(sum, 0.0, 1.0);
}

json SectorTrends(const TrendWindow& w, const std::vector<SectorDayRow>& days,
                  const std::vector<SectorOrgRow>& orgs,
                  const std::vector<SectorDistinctRow>& distinct, int64_t k) {
  std::map<std::pair<std::string, int64_t>, Cell> cells;
  const bool daily = w.bucket == 1;
  for (const SectorDayRow& r : days) {
    AddRow(&cells[{r.sector, (r.day - w.from) / w.bucket}], r, daily);
  }
  for (const SectorDistinctRow& r : distinct) {
    Cell& c = cells[{r.sector, r.bucket}];
    for (Tally* t : {&c.total, &c.by_class[r.cls], &c.by_type[r.type]}) {
      t->observables += r.observables;
    }
  }
  for (const SectorOrgRow& r : orgs) {
    Cell& c = cells[{r.sector, (r.day - w.from) / w.bucket}];
    for (Tally* t : {&c.total, &c.by_class[r.cls], &c.by_type[r.type]}) t->orgs.insert(r.org);
  }
  json list = json::array();
  for (const auto& [key, c] : cells) {
    json cell = {{"sector", key.first}, {"bucket", Day(w.from + key.second * w.bucket)}};
    if (static_cast<int64_t>(c.total.orgs.size()) < k) {
      cell["suppressed"] = true;
    } else {
      cell.update(Numbers(c.total));
      cell["by_class"] = Breakdown(c.by_class, k);
      cell["by_type"] = Breakdown(c.by_type, k);
    }
    list.push_back(std::move(cell));
  }
  return {{"from", Day(w.from)},     {"to", Day(w.to)},  {"window_days", w.days},
          {"bucket_days", w.bucket}, {"k_anonymity", k}, {"cells", list}};
}

json RisingTrends(const TrendWindow& w, const std::vector<SectorDayRow>& days,
                  const std::vector<SectorOrgRow>& orgs, int64_t k) {
  const std::string benign(sift::ClassName(sift::Class::kBenign));
  // Per sector and type: observables per window (0 = the current one, 1.. the ones before).
  std::map<std::pair<std::string, std::string>, std::array<uint64_t, kRisingBaselineWindows + 1>>
      counts;
  std::map<std::pair<std::string, std::string>, std::set<std::string>> current_orgs;
  for (const SectorDayRow& r : days) {
    if (r.cls == benign || r.day > w.to) continue;
    int64_t back = (w.to - r.day) / w.days;
    if (back > kRisingBaselineWindows) continue;
    counts[{r.sector, r.type}][static_cast<size_t>(back)] += r.observables;
  }
  for (const SectorOrgRow& r : orgs) {
    if (r.cls != benign && r.day >= w.from && r.day <= w.to) {
      current_orgs[{r.sector, r.type}].insert(r.org);
    }
  }
  json list = json::array();
  uint64_t suppressed = 0;
  for (const auto& [key, n] : counts) {
    uint64_t before = 0;
    for (int i = 1; i <= kRisingBaselineWindows; ++i) before += n[static_cast<size_t>(i)];
    // Add-one smoothing: an empty baseline is a low rate, not a zero one.
    const double baseline = static_cast<double>(before + 1) / kRisingBaselineWindows;
    const double p = PoissonUpperTail(n[0], baseline);
    if (static_cast<double>(n[0]) <= baseline || p >= kRisingPValue) continue;
    if (static_cast<int64_t>(current_orgs[key].size()) < k) {
      ++suppressed;
      continue;
    }
    list.push_back({{"sector", key.first},
                    {"type", key.second},
                    {"suppressed", false},
                    {"organisations", current_orgs[key].size()},
                    {"observables", n[0]},
                    {"baseline", baseline},
                    {"p_value", p}});
  }
  std::sort(list.begin(), list.end(), [](const json& a, const json& b) {
    return a["p_value"].get<double>() < b["p_value"].get<double>();
  });
  return {{"from", Day(w.from)},
          {"to", Day(w.to)},
          {"window_days", w.days},
          {"baseline_windows", kRisingBaselineWindows},
          {"p_value_below", kRisingPValue},
          {"k_anonymity", k},
          {"suppressed", suppressed},
          {"cells", list}};
}

json ScannerTrends(const TrendWindow& w, const std::vector<ScannerRow>& rows, uint64_t min_orgs) {
  json list = json::array();
  for (const ScannerRow& r : rows) {
    json members = json::parse(r.members, nullptr, false);
    if (!members.is_array()) members = json::array();
    std::vector<std::string> classes = r.classes;
    std::sort(classes.begin(), classes.end());
    list.push_back({{"value", r.value},
                    {"type", r.type},
                    {"organisations", r.orgs.size()},
                    {"sectors", r.sectors.size()},
                    {"first_seen", FormatIsoDateTime(r.first_seen)},
                    {"last_seen", FormatIsoDateTime(r.last_seen)},
                    {"sightings", r.sightings},
                    {"alerted", r.alerted},
                    {"classes", classes},
                    {"members", members}});
  }
  return {{"from", Day(w.from)},
          {"to", Day(w.to)},
          {"window_days", w.days},
          {"min_orgs", min_orgs},
          {"scanners", list}};
}

json ActorTrends(const TrendWindow& w, const std::vector<ActorRow>& rows, int64_t k) {
  struct Actor {
    std::set<std::string> orgs;
    std::map<std::pair<std::string, std::string>, std::set<std::string>> values;  // -> orgs
    std::map<int64_t, Tally> days;
    uint64_t sightings = 0;
  };
  std::map<std::string, Actor> actors;
  for (const ActorRow& r : rows) {
    Actor& a = actors[r.actor];
    a.orgs.insert(r.org);
    a.values[{r.type, r.value}].insert(r.org);
    Tally& d = a.days[r.day];
    d.orgs.insert(r.org);
    d.sightings += r.sightings;
    a.sightings += r.sightings;
  }
  json list = json::array();
  for (const auto& [name, a] : actors) {
    if (static_cast<int64_t>(a.orgs.size()) < k) {
      list.push_back({{"actor", name}, {"suppressed", true}});
      continue;
    }
    json days = json::array(), infra = json::array();
    for (const auto& [day, t] : a.days) {
      json d = {{"day", Day(day)}};
      if (static_cast<int64_t>(t.orgs.size()) < k) {
        d["suppressed"] = true;
      } else {
        d.update(
            {{"suppressed", false}, {"organisations", t.orgs.size()}, {"sightings", t.sightings}});
      }
      days.push_back(std::move(d));
    }
    for (const auto& [value, orgs] : a.values) {
      if (static_cast<int64_t>(orgs.size()) < k || infra.size() == kMaxInfrastructure) continue;
      infra.push_back(
          {{"type", value.first}, {"value", value.second}, {"organisations", orgs.size()}});
    }
    list.push_back({{"actor", name},
                    {"suppressed", false},
                    {"organisations", a.orgs.size()},
                    {"indicators", a.values.size()},
                    {"sightings", a.sightings},
                    {"days", days},
                    {"infrastructure", infra}});
  }
  return {{"from", Day(w.from)},
          {"to", Day(w.to)},
          {"window_days", w.days},
          {"k_anonymity", k},
          {"actors", list}};
}

std::string ActorOfTag(std::string_view tag) {
  for (std::string_view prefix : {"misp-galaxy:threat-actor=", "misp-galaxy:mitre-intrusion-set=",
                                  "threat-actor:", "threat-actor=", "actor:"}) {
    if (tag.size() <= prefix.size() || tag.substr(0, prefix.size()) != prefix) continue;
    std::string_view name = tag.substr(prefix.size());
    if (name.size() >= 2 && name.front() == '"' && name.back() == '"') {
      name = name.substr(1, name.size() - 2);
    }
    if (name.empty() || name.size() > 128) return {};
    return std::string(name);
  }
  return {};
}

}  // namespace iocgrid::portal::internal
