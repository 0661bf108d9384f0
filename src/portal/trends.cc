// Alliance sightings and trends (issue 12; docs/trends.md): POST /api/v1/sightings (a batch of
// what the caller's organisation saw, matched against the alliance as one search and then
// recorded), shared sifts (?share=), the retention purge, and GET /api/v1/trends/{sectors,
// scanners,rising,actors} with k-anonymity (portal/internal/trends.h).
#include "portal/internal/trends.h"

#include <algorithm>
#include <cstdio>
#include <map>
#include <set>
#include <string>
#include <tuple>
#include <unordered_map>
#include <utility>
#include <vector>

#include "common/ascii.h"
#include "common/time.h"
#include "core/indicator_type.h"
#include "portal/internal/alliance_request.h"
#include "portal/internal/portal_impl.h"
#include "portal/internal/sift_request.h"

namespace iocgrid::portal {

using json = nlohmann::json;
using internal::Error;
using internal::Json;

namespace {

constexpr int64_t kDay = 86400;

std::string Text(const json& o, const char* key) {
  auto it = o.find(key);
  return it != o.end() && it->is_string() ? it->get<std::string>() : "";
}

sift::Field FieldOf(core::IndicatorType type) {
  switch (core::FamilyOf(type)) {
    case core::MatchFamily::kHost:
      return sift::Field::kHost;
    case core::MatchFamily::kUrl:
      return sift::Field::kUrl;
    case core::MatchFamily::kHash:
      return sift::Field::kHash;
    default:
      return sift::Field::kClient;
  }
}

// The batch as a sift's result: one observable per distinct value (counts summed, first and
// last seen widened), each its own line group. Sightings older than `first_day` are left out
// (counted in *expired).
internal::SiftResult BatchResult(const internal::SightingBatch& batch, int64_t first_day,
                                 uint64_t* expired) {
  internal::SiftResult r;
  r.format = "sightings";
  r.counts.lines = batch.received;
  r.counts.parsed = batch.received;
  r.counts.internal = batch.internal;
  std::map<std::pair<core::IndicatorType, std::string>, size_t> at;
  for (const internal::ReportedSighting& s : batch.sightings) {
    if (s.last_seen / kDay < first_day) {
      ++*expired;
      continue;
    }
    auto [it, added] = at.emplace(std::make_pair(s.type, s.value), r.observables.size());
    if (added) {
      sift::Observable o;
      o.value = s.value;
      o.type = s.type;
      o.field = FieldOf(s.type);
      o.fields = sift::FieldBit(o.field);
      o.first_seen = s.first_seen;
      r.observables.push_back(std::move(o));
    }
    sift::Observable& o = r.observables[it->second];
    o.lines += s.count;
    o.alerts += s.alerted;
    o.first_seen = std::min(o.first_seen, s.first_seen);
    o.last_seen = std::max(o.last_seen, s.last_seen);
  }
  for (uint32_t i = 0; i < r.observables.size(); ++i) {
    r.groups.push_back({{i}, r.observables[i].lines});
  }
  return r;
}

// Per indicator of a search document (type, value): the members holding it and the actors
// its hits' tags name.
struct HeldBy {
  std::set<std::string> members;
  std::set<std::string> actors;
};
std::map<std::pair<std::string, std::string>, HeldBy> HoldersOf(const json& search) {
  std::map<std::pair<std::string, std::string>, HeldBy> out;
  auto indicators = search.find("indicators");
  if (indicators == search.end() || !indicators->is_array()) return out;
  for (const json& ind : *indicators) {
    if (!ind.is_object()) continue;
    auto hits = ind.find("hits");
    if (hits == ind.end() || !hits->is_array()) continue;
    HeldBy& held = out[{Text(ind, "type"), Text(ind, "value")}];
    for (const json& h : *hits) {
      if (!h.is_object()) continue;
      held.members.insert(Text(h, "member"));
      auto tags = h.find("tags");
      if (tags == h.end() || !tags->is_array()) continue;
      for (const json& t : *tags) {
        std::string name = t.is_string() ? t.get<std::string>() : Text(t, "name");
        std::string actor = internal::ActorOfTag(name);
        if (!actor.empty()) held.actors.insert(std::move(actor));
      }
    }
  }
  return out;
}

}  // namespace

Result<std::pair<std::string, std::string>> Portal::Impl::ShareOrigin(
    const PortalUser& user) const {
  if (user.org.empty()) {
    return InvalidArgumentError(
        "Your user belongs to no organisation, so its sightings cannot be shared; an admin sets "
        "it with: iocgrid portal users create " +
        user.name + " --org ORG");
  }
  auto sector = SectorOf(config, user.org);
  if (!sector.ok()) return InvalidArgumentError(sector.status().message());
  return std::make_pair(user.org, *sector);
}

void Portal::Impl::PurgeSightingsIfDue() {
  const int64_t today = config.clock.Now() / kDay;
  int64_t last = last_purge_day.load();
  if (last == today || !last_purge_day.compare_exchange_strong(last, today)) return;
  auto purged = store->PurgeAllianceSightings(today - config.trends.retention_days + 1);
  if (!purged.ok()) {
    std::fprintf(stderr, "iocgrid portal: sightings purge failed: %s\n",
                 purged.status().ToString().c_str());
    last_purge_day.store(-1);  // try again with the next report
  }
}

net::Response Portal::Impl::ReportSightings(net::Request& req, const PortalUser& user) {
  auto origin = ShareOrigin(user);
  if (!origin.ok()) return Error(400, origin.status().message(), req);
  auto query = internal::ParseSiftQuery(req.query);
  if (!query.ok()) return Error(400, query.status().message(), req);
  if (query->normalized.size() > (query->share ? 1u : 0u)) {
    return Error(400, "POST /api/v1/sightings takes one query parameter: share.", req);
  }
  std::string type = AsciiLower(req.Header("content-type"));
  const bool ndjson =
      type.rfind("application/x-ndjson", 0) == 0 || type.rfind("application/jsonl", 0) == 0;
  const int64_t now = config.clock.Now();
  internal::SightingLimits limits;
  limits.max_sightings = config.max_indicators;
  limits.now = now;
  auto batch = internal::ParseSightingBatch(req.body, ndjson, limits);
  if (!batch.ok()) {
    return Error(batch.status().code() == StatusCode::kResourceExhausted ? 413 : 400,
                 batch.status().message(), req);
  }
  if (query->share && batch->share_given && *query->share != batch->share) {
    return Error(400, "'share' differs between the query and the body.", req);
  }
  const internal::ShareMode share = query->share.value_or(batch->share);
  PurgeSightingsIfDue();
  uint64_t expired = 0;
  internal::SiftResult result =
      BatchResult(*batch, now / kDay - config.trends.retention_days + 1, &expired);
  json answer = {{"received", batch->received},
                 {"internal", batch->internal},
                 {"expired", expired},
                 {"observables", result.observables.size()},
                 {"share", internal::ShareModeName(share)}};
  if (result.observables.empty()) {
    answer["status"] = "nothing to share";
    return Json(answer, 200);
  }
  if (!TakeSlot()) {
    auto r = Error(429, "Too many searches and sifts are running; retry in a moment.", req);
    r.headers.emplace_back("Retry-After", "5");
    return r;
  }
  internal::SiftMeta meta;
  meta.id = internal::NewId();
  meta.owner = user.name;
  meta.label = "sightings";
  meta.created = now;
  meta.request = {{"share", internal::ShareModeName(share)}, {"source", "sightings"}};
  std::tie(meta.org, meta.sector) = *origin;
  auto job = std::make_shared<SiftJob>(std::move(meta), std::move(result));
  {
    MutexLock lock(sifts_mu);
    sifts[job->meta().id] = job;
  }
  net::Response launched = LaunchSift(req, job, *job->result());
  if (launched.status != 201) return launched;
  json body = json::parse(launched.body, nullptr, false);
  if (body.is_object()) answer.update(body);
  return Json(answer, 202);
}

void Portal::Impl::RecordShared(const internal::SiftMeta& meta, const internal::SiftResult& result,
                                const json& report, const json& search) {
  const bool everything = Text(meta.request, "share") == "public";
  const auto holders = HoldersOf(search);
  std::unordered_map<std::string, std::string> classes;  // type \x1f value -> class
  if (auto list = report.find("observables"); list != report.end() && list->is_array()) {
    for (const json& o : *list)
      classes[Text(o, "type") + '\x1f' + Text(o, "value")] = Text(o, "class");
  }
  const int64_t first_day = config.clock.Now() / kDay - config.trends.retention_days + 1;
  std::vector<AllianceSighting> rows;
  for (const sift::Observable& o : result.observables) {
    const std::string type(core::TypeName(o.type));
    auto held = holders.find({type, o.value});
    const bool matched = held != holders.end() && !held->second.members.empty();
    if (!matched && !everything) continue;
    AllianceSighting s;
    s.value = o.value;
    s.type = type;
    auto cls = classes.find(type + '\x1f' + o.value);
    s.cls = cls != classes.end() && !cls->second.empty() ? cls->second : "unknown";
    s.last_seen = o.last_seen != 0 ? o.last_seen : meta.created;
    s.first_seen = o.first_seen != 0 ? o.first_seen : s.last_seen;
    s.day = s.last_seen / kDay;
    if (s.day < first_day) continue;  // past retention: it would be purged at once
    s.count = std::max<uint64_t>(o.lines, 1);
    s.alerted = std::min(o.alerts, s.count);
    if (matched) {
      s.members.assign(held->second.members.begin(), held->second.members.end());
      s.actors.assign(held->second.actors.begin(), held->second.actors.end());
    }
    rows.push_back(std::move(s));
  }
  Status st = store->RecordAllianceSightings(meta.id, meta.org, meta.sector, rows);
  if (!st.ok() && st.code() != StatusCode::kAlreadyExists) {
    std::fprintf(stderr, "iocgrid portal: cannot record the sightings of %s: %s\n", meta.id.c_str(),
                 st.ToString().c_str());
  }
}

net::Response Portal::Impl::TrendSectors(net::Request& req, const PortalUser&) {
  auto q =
      internal::ParseTrendQuery(req.query, "30d", {"window", "bucket"}, config.clock.Now() / kDay);
  if (!q.ok()) return Error(400, q.status().message(), req);
  const internal::TrendWindow& w = q->window;
  auto rows = store->SectorTrendRows(w.from, w.from, w.to, w.bucket);
  if (!rows.ok()) return net::ErrorResponse(rows.status(), req.path);
  return Json(
      internal::SectorTrends(w, rows->days, rows->orgs, rows->distinct, config.trends.k_anonymity));
}

net::Response Portal::Impl::TrendScanners(net::Request& req, const PortalUser&) {
  auto q = internal::ParseTrendQuery(req.query, "7d", {"window", "min_orgs", "limit"},
                                     config.clock.Now() / kDay);
  if (!q.ok()) return Error(400, q.status().message(), req);
  auto rows = store->Scanners(q->window.from, q->window.to, q->min_orgs, q->limit);
  if (!rows.ok()) return net::ErrorResponse(rows.status(), req.path);
  return Json(internal::ScannerTrends(q->window, *rows, q->min_orgs));
}

Result<json> Portal::Impl::RisingAnswer(const internal::TrendWindow& w) {
  const int64_t from = w.from - internal::kRisingBaselineWindows * w.days;
  IOCGRID_ASSIGN_OR_RETURN(SectorTrendData rows, store->SectorTrendRows(from, w.from, w.to, 1));
  return internal::RisingTrends(w, rows.days, rows.orgs, config.trends.k_anonymity);
}

net::Response Portal::Impl::TrendRising(net::Request& req, const PortalUser&) {
  auto q = internal::ParseTrendQuery(req.query, "7d", {"window"}, config.clock.Now() / kDay);
  if (!q.ok()) return Error(400, q.status().message(), req);
  auto answer = RisingAnswer(q->window);
  if (!answer.ok()) return net::ErrorResponse(answer.status(), req.path);
  return Json(*answer);
}

net::Response Portal::Impl::TrendActors(net::Request& req, const PortalUser&) {
  auto q = internal::ParseTrendQuery(req.query, "30d", {"window"}, config.clock.Now() / kDay);
  if (!q.ok()) return Error(400, q.status().message(), req);
  auto rows = store->Actors(q->window.from, q->window.to);
  if (!rows.ok()) return net::ErrorResponse(rows.status(), req.path);
  return Json(internal::ActorTrends(q->window, *rows, config.trends.k_anonymity));
}

}  // namespace iocgrid::portal
