// TAXII 2.1 out (issue 11; docs/taxii.md): the portal serves what the alliance confirmed and
// keeps watching to the tools a SOC already runs. One API root (/taxii2/api/) with read-only
// collections: one per watchlist the caller may see (its current hits), the shared searches'
// hits, and the confirmed sightings. Objects are STIX 2.1 indicators with patterns, sightings
// that reference them and, where a member's disclosure names it, the member's identity. Paging
// is by a keyset cursor over (date added, id); `added_after`, `limit`/`next`, `match[type]`,
// `match[id]`, `match[spec_version]` and `match[version]` filter. Portal keys authenticate:
// HTTP Basic with the key as the password, or the key in Authorization as for the API.
#include <algorithm>
#include <charconv>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/ascii.h"
#include "common/time.h"
#include "core/indicator.h"
#include "portal/internal/exports.h"
#include "portal/internal/portal_impl.h"
#include "portal/internal/taxii_params.h"

namespace iocgrid::portal {

namespace {

using json = nlohmann::json;
using internal::ParseTaxiiTime;
using internal::TaxiiFilter;
using internal::TaxiiKey;

constexpr std::string_view kTaxiiType = "application/taxii+json;version=2.1";
constexpr std::string_view kStixType = "application/stix+json;version=2.1";
constexpr std::string_view kRoot = "/taxii2/api/";

net::Response TaxiiJson(const json& body, int status = 200) {
  net::Response r;
  r.status = status;
  r.content_type = std::string(kTaxiiType);
  r.body = body.dump(-1, ' ', false, json::error_handler_t::replace);
  return r;
}

// TAXII's error message (2.1 section 3.6.1).
net::Response TaxiiError(int status, std::string title, std::string description) {
  net::Response r = TaxiiJson({{"title", std::move(title)},
                               {"description", std::move(description)},
                               {"http_status", std::to_string(status)}},
                              status);
  if (status == 401) r.headers.emplace_back("WWW-Authenticate", "Basic realm=\"iocgrid\"");
  return r;
}

// "YYYY-MM-DDTHH:MM:SS.mmmZ" of unix milliseconds.
std::string TaxiiTime(int64_t ms) {
  std::string t = FormatIsoDateTime(ms / 1000);  // ...SSZ
  char frac[8];
  std::snprintf(frac, sizeof frac, ".%03lldZ", static_cast<long long>(ms % 1000));
  return t.substr(0, t.size() - 1) + frac;
}

// True when the client accepts TAXII JSON (or anything).
bool Acceptable(const net::Request& req) {
  std::string accept = AsciiLower(req.Header("accept"));
  return accept.empty() || accept.find("application/taxii+json") != std::string::npos ||
         accept.find("*/*") != std::string::npos ||
         accept.find("application/*") != std::string::npos ||
         accept.find("application/json") != std::string::npos;
}

// One object of a collection with when it was added (unix milliseconds).
struct Entry {
  int64_t added = 0;
  json object;
  std::string id() const { return object.value("id", ""); }
};

std::string PortalIdentityId() { return "identity--" + internal::StableUuid("iocgrid-portal"); }

json Identity(const std::string& id, const std::string& name, const std::string& cls,
              const std::string& time) {
  return {{"type", "identity"},   {"spec_version", "2.1"}, {"id", id},
          {"created", time},      {"modified", time},      {"name", name},
          {"identity_class", cls}};
}

// The indicator object of a value (null when STIX has no simple pattern for its type).
json IndicatorObject(const std::string& type, const std::string& normalized,
                     const std::string& name, const std::string& time) {
  std::string pattern = normalized.empty() ? "" : internal::StixPattern(type, normalized);
  if (pattern.empty()) return nullptr;
  return {{"type", "indicator"},
          {"spec_version", "2.1"},
          {"id", "indicator--" + internal::StableUuid("ioc/" + type + "/" + normalized)},
          {"created", time},
          {"modified", time},
          {"created_by_ref", PortalIdentityId()},
          {"name", name},
          {"pattern", pattern},
          {"pattern_type", "stix"},
          {"valid_from", time},
          {"indicator_types", {"malicious-activity"}},
          {"labels", {type}}};
}

// Adds the objects of one hit row of a search document (or a watchlist): the indicator, the
// member's identity (the hit names the member: its disclosure allows it) and a sighting.
void AddHit(const json& hit, const std::string& type, const std::string& normalized,
            const std::string& name, int64_t added, const std::string& seed,
            std::vector<Entry>* out) {
  const std::string time = TaxiiTime(added);
  json indicator = IndicatorObject(type, normalized, name, time);
  if (indicator.is_null()) return;
  const std::string member = hit.value("member", "");
  const std::string member_id = "identity--" + internal::StableUuid("member/" + member);
  json sighting = {
      {"type", "sighting"},
      {"spec_version", "2.1"},
      {"id", "sighting--" + internal::StableUuid(seed + "/" + hit.value("key", "") + "/" + member +
                                                 "/" + hit.value("relation", "") + "/" +
                                                 hit.value("matched", "") + "/" + normalized)},
      {"created", time},
      {"modified", time},
      {"created_by_ref", PortalIdentityId()},
      {"sighting_of_ref", indicator["id"]},
      {"where_sighted_refs", {member_id}},
      {"count", 1},
      {"description",
       "held by member " + member + " (" + hit.value("relation", "") +
           (hit.value("matched", "").empty() ? "" : ": " + hit.value("matched", "")) + ")"}};
  if (!hit.value("first_seen", "").empty()) sighting["first_seen"] = hit.value("first_seen", "");
  if (!hit.value("last_seen", "").empty()) sighting["last_seen"] = hit.value("last_seen", "");
  out->push_back({added, std::move(indicator)});
  out->push_back({added, Identity(member_id, member, "organization", time)});
  out->push_back({added, std::move(sighting)});
}

// The newest version of each object id (the same indicator found by two runs or searches is one
// object, added when first seen).
std::vector<Entry> Dedup(std::vector<Entry> entries) {
  std::sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) {
    return a.id() != b.id() ? a.id() < b.id() : a.added < b.added;
  });
  std::vector<Entry> out;
  for (Entry& e : entries) {
    if (!out.empty() && out.back().id() == e.id()) continue;
    out.push_back(std::move(e));
  }
  std::sort(out.begin(), out.end(), [](const Entry& a, const Entry& b) {
    return a.added != b.added ? a.added < b.added : a.id() < b.id();
  });
  return out;
}

struct Collection {
  std::string id;
  std::string title;
  std::string description;
  std::string kind;  // watchlist, shared, sightings
  std::string watchlist_id;
};

json CollectionJson(const Collection& c) {
  return {{"id", c.id},       {"title", c.title},   {"description", c.description},
          {"can_read", true}, {"can_write", false}, {"media_types", {std::string(kStixType)}}};
}

std::vector<Collection> TaxiiCollections(Portal::Impl& impl, const PortalUser& user) {
  std::vector<Collection> out;
  if (auto rows = impl.store->ListWatchlists(); rows.ok()) {
    for (const WatchlistRow& w : *rows) {
      if (w.owner != user.name && user.role != Role::kAdmin) continue;
      // A watchlist of rising trends holds sector cells, not indicators: nothing for TAXII.
      if (json::parse(w.request, nullptr, false).contains("rising")) continue;
      out.push_back({internal::StableUuid("taxii/watchlist/" + w.id), "Watchlist: " + w.name,
                     "The current hits of watchlist " + w.id + " (" + w.owner + ")", "watchlist",
                     w.id});
    }
  }
  out.push_back({internal::StableUuid("taxii/shared-searches"), "Shared searches",
                 "The hits of searches shared with the alliance", "shared", ""});
  out.push_back({internal::StableUuid("taxii/confirmed-sightings"), "Confirmed sightings",
                 "Hits analysts confirmed (true positives the holding member took)", "sightings",
                 ""});
  return out;
}

std::vector<Entry> TaxiiObjects(Portal::Impl& impl, const Collection& c, const PortalUser& user) {
  std::vector<Entry> out;
  if (c.kind == "watchlist") {
    auto w = impl.store->GetWatchlist(c.watchlist_id);
    json hits = w.ok() ? json::parse(w->hits, nullptr, false) : json::array();
    if (!hits.is_array()) return out;
    for (const json& h : hits) {
      const std::string type = h.value("indicator_type", "");
      std::string normalized = h.value("normalized", "");
      if (normalized.empty()) {  // a hit kept before the field existed: normalize it here
        auto parsed = core::ParseIndicator(type, h.value("indicator", ""));
        if (parsed.ok()) normalized = parsed->value;
      }
      AddHit(h, type, normalized, h.value("indicator", ""), h.value("added", int64_t{0}),
             "watchlist/" + c.watchlist_id, &out);
    }
  } else if (c.kind == "shared") {
    auto rows = impl.store->ListSearches();
    if (!rows.ok()) return out;
    for (const SearchRow& row : *rows) {
      if (!row.shared) continue;
      auto d = impl.Document(row.id, user);
      if (!d.ok() || !d->contains("indicators")) continue;
      for (const json& ind : (*d)["indicators"]) {
        for (const json& h : ind.value("hits", json::array())) {
          AddHit(h, ind.value("type", ""), ind.value("normalized", ""), ind.value("value", ""),
                 row.created * 1000, "search/" + row.id, &out);
        }
      }
    }
  } else {
    auto rows = impl.store->ListConfirmedSightings();
    if (!rows.ok()) return out;
    std::map<std::string, bool> visible;
    for (const SentSighting& s : *rows) {
      auto [it, fresh] = visible.try_emplace(s.search_id, false);
      if (fresh) it->second = impl.Document(s.search_id, user).ok();
      if (!it->second) continue;
      auto guessed = core::GuessIndicator(s.value);
      if (!guessed.ok()) continue;
      json hit = {
          {"member", s.member},
          {"relation", "confirmed"},
          {"matched", s.value},
          {"key", s.search_id + "/" + std::to_string(s.i) + "/" + std::to_string(s.created)}};
      AddHit(hit, std::string(core::TypeName(guessed->type)), guessed->value, s.value,
             s.created * 1000, "confirmed/" + s.user, &out);
    }
  }
  return Dedup(std::move(out));
}

net::Response TaxiiPage(const std::vector<Entry>& all, const TaxiiFilter& f, bool manifest,
                        bool one_object) {
  std::vector<const Entry*> chosen;
  for (const Entry& e : all) {
    if (f.added_after && e.added <= *f.added_after) continue;
    if (f.next && std::make_pair(e.added, e.id()) <= *f.next) continue;
    if (!f.types.empty() && !f.types.count(e.object.value("type", ""))) continue;
    if (!f.ids.empty() && !f.ids.count(e.id())) continue;
    chosen.push_back(&e);
  }
  if (one_object && chosen.empty()) {
    return TaxiiError(404, "Object Not Found", "No such object in this collection.");
  }
  const bool more = chosen.size() > f.limit;
  if (more) chosen.resize(f.limit);
  json objects = json::array();
  for (const Entry* e : chosen) {
    if (manifest) {
      objects.push_back({{"id", e->id()},
                         {"date_added", TaxiiTime(e->added)},
                         {"version", e->object.value("modified", "")},
                         {"media_type", std::string(kStixType)}});
    } else {
      objects.push_back(e->object);
    }
  }
  json body = {{"more", more}, {"objects", objects}};
  if (more) body["next"] = std::to_string(chosen.back()->added) + "." + chosen.back()->id();
  net::Response r = TaxiiJson(body);
  if (!chosen.empty()) {
    r.headers.emplace_back("X-TAXII-Date-Added-First", TaxiiTime(chosen.front()->added));
    r.headers.emplace_back("X-TAXII-Date-Added-Last", TaxiiTime(chosen.back()->added));
  }
  return r;
}

}  // namespace

net::Response Portal::Impl::Taxii(net::Request& req) {
  auto user = store->Authenticate(TaxiiKey(req));
  if (!user.ok()) {
    return TaxiiError(401, "Unauthorized",
                      "Give a portal API key: HTTP Basic with the key as the password.");
  }
  if (!Acceptable(req)) {
    return TaxiiError(406, "Not Acceptable",
                      "This server answers application/taxii+json;version=2.1.");
  }
  std::string path = req.path;
  if (path.back() != '/') path += '/';
  if (path == "/taxii2/") {
    return TaxiiJson({{"title", "iocgrid portal"},
                      {"description", "What the alliance confirmed and keeps watching."},
                      {"default", std::string(kRoot)},
                      {"api_roots", {std::string(kRoot)}}});
  }
  if (path.rfind(kRoot, 0) != 0) return TaxiiError(404, "Not Found", "No such API root.");
  std::vector<std::string> parts;
  for (size_t start = kRoot.size(); start < path.size();) {
    size_t slash = path.find('/', start);
    parts.push_back(path.substr(start, slash - start));
    start = slash + 1;
  }
  if (parts.empty()) {
    return TaxiiJson(
        {{"title", "iocgrid"},
         {"description", "Watchlists' hits, shared searches' hits, confirmed sightings."},
         {"versions", {std::string(kTaxiiType)}},
         {"max_content_length", 0}});
  }
  if (parts[0] != "collections") {
    return TaxiiError(404, "Not Found", "Only collections are served under this API root.");
  }
  std::vector<Collection> collections = TaxiiCollections(*this, *user);
  if (parts.size() == 1) {
    json list = json::array();
    for (const Collection& c : collections) list.push_back(CollectionJson(c));
    return TaxiiJson({{"collections", list}});
  }
  auto it = std::find_if(collections.begin(), collections.end(),
                         [&](const Collection& c) { return c.id == parts[1]; });
  if (it == collections.end()) {
    return TaxiiError(404, "Collection Not Found",
                      "No collection " + parts[1].substr(0, 64) + " that this key may read.");
  }
  if (parts.size() == 2) return TaxiiJson(CollectionJson(*it));
  const bool manifest = parts[2] == "manifest";
  if ((parts[2] != "objects" && !manifest) || parts.size() > 4 || (manifest && parts.size() > 3)) {
    return TaxiiError(404, "Not Found", "No such endpoint.");
  }
  auto filter = internal::ReadTaxiiFilter(req);
  if (!filter.ok()) return TaxiiError(400, "Bad Request", std::string(filter.status().message()));
  if (parts.size() == 4) filter->ids = {parts[3]};
  return TaxiiPage(TaxiiObjects(*this, *it, *user), *filter, manifest, parts.size() == 4);
}

}  // namespace iocgrid::portal
