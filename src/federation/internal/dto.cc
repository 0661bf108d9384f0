#include "federation/internal/dto.h"

#include <simdjson.h>

#include <algorithm>
#include <limits>
#include <nlohmann/json.hpp>
#include <string>

#include "common/time.h"
#include "psi/oprf.h"

namespace iocgrid::federation::internal {
namespace {

using json = nlohmann::json;
namespace dom = simdjson::dom;

// MISP emits ids and timestamps as strings and flags as booleans; other servers
// mix them.
std::string Str(dom::element e) {
  std::string_view s;
  if (e.get_string().get(s) == simdjson::SUCCESS) return std::string(s);
  int64_t i = 0;
  if (e.get_int64().get(i) == simdjson::SUCCESS) return std::to_string(i);
  uint64_t u = 0;
  if (e.get_uint64().get(u) == simdjson::SUCCESS) return std::to_string(u);
  return {};
}

int64_t Int(dom::element e) {
  int64_t i = 0;
  if (e.get_int64().get(i) == simdjson::SUCCESS) return i;
  uint64_t u = 0;
  if (e.get_uint64().get(u) == simdjson::SUCCESS) {
    return static_cast<int64_t>(std::min<uint64_t>(u, std::numeric_limits<int64_t>::max()));
  }
  double d = 0;
  if (e.get_double().get(d) == simdjson::SUCCESS) {
    // A member's 1e300 must not be undefined behaviour: clamp into range (NaN is 0).
    if (!(d == d)) return 0;
    if (d >= 9.2e18) return std::numeric_limits<int64_t>::max();
    if (d <= -9.2e18) return std::numeric_limits<int64_t>::min();
    return static_cast<int64_t>(d);
  }
  std::string_view s;
  if (e.get_string().get(s) == simdjson::SUCCESS) {
    int64_t v = 0;
    bool any = false;
    for (char c : s) {
      if (c < '0' || c > '9') return 0;
      if (v > (std::numeric_limits<int64_t>::max() - 9) / 10) return 0;
      v = v * 10 + (c - '0');
      any = true;
    }
    return any ? v : 0;
  }
  return 0;
}

bool Bool(dom::element e) {
  bool b = false;
  if (e.get_bool().get(b) == simdjson::SUCCESS) return b;
  std::string_view s;
  if (e.get_string().get(s) == simdjson::SUCCESS) return s == "1" || s == "true";
  return Int(e) != 0;
}

// Field accessors that treat a missing key like null.
std::string StrField(dom::object o, std::string_view key) {
  dom::element e;
  if (o[key].get(e) != simdjson::SUCCESS || e.is_null()) return {};
  return Str(e);
}
int64_t IntField(dom::object o, std::string_view key) {
  dom::element e;
  if (o[key].get(e) != simdjson::SUCCESS) return 0;
  return Int(e);
}
bool BoolField(dom::object o, std::string_view key) {
  dom::element e;
  if (o[key].get(e) != simdjson::SUCCESS) return false;
  return Bool(e);
}

// The fields of a hit object as /grid/v1/match writes it (node/internal/grid.h
// WriteHitContext), all but its relation.
MemberHit HitFields(dom::object h, uint32_t query) {
  MemberHit hit;
  hit.query = query;
  hit.matched = StrField(h, "matched");
  hit.type = StrField(h, "type");
  hit.category = StrField(h, "category");
  hit.to_ids = BoolField(h, "to_ids");
  hit.comment = StrField(h, "comment");
  hit.attribute_uuid = StrField(h, "attribute_uuid");
  hit.timestamp = IntField(h, "timestamp");
  hit.first_seen = StrField(h, "first_seen");
  hit.last_seen = StrField(h, "last_seen");
  hit.sightings = static_cast<uint64_t>(std::max<int64_t>(0, IntField(h, "sightings")));
  dom::object event;
  if (h["event"].get(event) == simdjson::SUCCESS) {
    hit.event_uuid = StrField(event, "uuid");
    hit.event_info = StrField(event, "info");
    hit.event_date = StrField(event, "date");
    hit.org = StrField(event, "org");
  }
  dom::array tags;
  if (h["tags"].get(tags) == simdjson::SUCCESS) {
    for (dom::element t : tags) {
      std::string name = Str(t);
      if (!name.empty()) hit.tags.push_back(std::move(name));
    }
  }
  return hit;
}

Status ParseGridHit(dom::object h, uint32_t query, std::vector<MemberHit>* hits) {
  MemberHit hit = HitFields(h, query);
  if (!index::ParseRelation(StrField(h, "relation"), &hit.relation)) {
    return DataLossError("unknown relation '" + StrField(h, "relation") + "'");
  }
  hits->push_back(std::move(hit));
  return Status::Ok();
}

// {"v4": [8, 12, ...], "v6": [...]} into *out. Errors: kDataLoss.
Status ParseLengths(dom::element e, const char* what, psi::PrefixLengths* out) {
  for (const char* family : {"v4", "v6"}) {
    dom::array list;
    if (e[family].get(list) != simdjson::SUCCESS) {
      return DataLossError(std::string("psi/info: \"") + what + "." + family + "\" is not a list");
    }
    const bool v6 = family[1] == '6';
    for (dom::element n : list) {
      uint64_t length = 0;
      if (n.get_uint64().get(length) != simdjson::SUCCESS || length > (v6 ? 128u : 32u)) {
        return DataLossError(std::string("psi/info: \"") + what + "." + family +
                             "\" holds a length that is no prefix length");
      }
      if (v6) {
        out->v6.set(length);
      } else {
        out->v4.set(length);
      }
    }
  }
  return Status::Ok();
}

// A positive whole number of `o`[section][key] into *out (at most `max`). Errors: kDataLoss.
Status PositiveField(dom::object o, std::string_view key, uint64_t max, uint64_t* out) {
  uint64_t v = 0;
  if (o[key].get_uint64().get(v) != simdjson::SUCCESS || v == 0 || v > max) {
    return DataLossError("psi/info: \"" + std::string(key) + "\" is not a number from 1 to " +
                         std::to_string(max));
  }
  *out = v;
  return Status::Ok();
}

void AppendTagNames(dom::object o, std::vector<std::string>* out) {
  dom::array tags;
  if (o["Tag"].get(tags) != simdjson::SUCCESS) return;
  for (dom::element t : tags) {
    dom::object tag;
    if (t.get(tag) != simdjson::SUCCESS) continue;
    std::string name = StrField(tag, "name");
    if (!name.empty() && std::find(out->begin(), out->end(), name) == out->end()) {
      out->push_back(std::move(name));
    }
  }
}

const std::vector<std::string>& CidrTypes() {
  // The types whose value (or a half of it) can be a network; misp-api.md
  // section 2.
  static const std::vector<std::string> kTypes = {"ip-src", "ip-dst", "ip-src|port", "ip-dst|port",
                                                  "domain|ip"};
  return kTypes;
}

}  // namespace

std::string GridMatchBody(std::span<const core::Indicator> indicators,
                          index::RelationMask relations, std::optional<int64_t> since,
                          std::optional<int64_t> until) {
  json body = json::object();
  json& list = body["indicators"] = json::array();
  for (const core::Indicator& ind : indicators) {
    list.push_back({{"value", ind.value}, {"type", std::string(core::TypeName(ind.type))}});
  }
  json& rel = body["relations"] = json::array();
  for (int r = 0; r < index::kRelationCount; ++r) {
    auto relation = static_cast<index::Relation>(r);
    if (relations & index::RelationBit(relation))
      rel.push_back(std::string(index::RelationName(relation)));
  }
  if (since) body["since"] = *since;
  if (until) body["until"] = *until;
  return body.dump(-1, ' ', false, json::error_handler_t::replace);
}

Status ParseGridAnswer(std::string_view body, size_t query_count, std::vector<MemberHit>* hits) {
  dom::parser parser;
  bool done = false;
  size_t line_no = 0;
  size_t pos = 0;
  while (pos < body.size()) {
    size_t end = body.find('\n', pos);
    if (end == std::string_view::npos) end = body.size();
    std::string_view line = body.substr(pos, end - pos);
    pos = end + 1;
    ++line_no;
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.remove_suffix(1);
    if (line.empty()) continue;
    dom::object o;
    if (auto err = parser.parse(line.data(), line.size()).get(o); err != simdjson::SUCCESS) {
      return DataLossError("invalid JSON in grid answer line " + std::to_string(line_no) + ": " +
                           simdjson::error_message(err));
    }
    if (BoolField(o, "done")) {
      done = true;
      continue;
    }
    dom::element i_el;
    if (o["i"].get(i_el) != simdjson::SUCCESS) {
      return DataLossError("grid answer line " + std::to_string(line_no) + " has no \"i\"");
    }
    int64_t i = Int(i_el);
    if (i < 0 || static_cast<size_t>(i) >= query_count) {
      return DataLossError("grid answer line " + std::to_string(line_no) + ": \"i\" " +
                           std::to_string(i) + " outside the request");
    }
    dom::array list;
    if (o["hits"].get(list) != simdjson::SUCCESS) continue;  // an "error" line: nothing held
    for (dom::element h : list) {
      dom::object hit;
      if (h.get(hit) != simdjson::SUCCESS)
        return DataLossError("grid answer: a hit is not an object");
      IOCGRID_RETURN_IF_ERROR(ParseGridHit(hit, static_cast<uint32_t>(i), hits));
    }
  }
  if (!done) return DataLossError("grid answer cut short (no summary line)");
  return Status::Ok();
}

std::string MispValueSearchBody(std::span<const std::string> values, size_t limit, size_t page) {
  json body = {{"returnFormat", "json"},
               {"value", json(std::vector<std::string>(values.begin(), values.end()))},
               {"limit", limit},
               {"page", page},
               {"includeContext", true},
               {"includeEventTags", true}};
  return body.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::string MispCidrSearchBody(int64_t since_timestamp, size_t limit, size_t page) {
  // "%/%" is MISP's LIKE wildcard (a value starting with '%'): only values holding a '/', the
  // CIDRs, come back, instead of every IP attribute. With MISP's LIMIT/OFFSET paging that
  // shortens every page's scan as well as the number of pages.
  json body = {{"returnFormat", "json"},  {"type", CidrTypes()}, {"value", "%/%"},
               {"limit", limit},          {"page", page},        {"includeContext", true},
               {"includeEventTags", true}};
  if (since_timestamp > 0) {
    body["timestamp"] = since_timestamp;
    body["deleted"] = {0, 1};
  }
  return body.dump();
}

Result<std::vector<MispAttribute>> ParseMispAttributes(std::string_view text) {
  dom::parser parser;
  dom::element doc;
  if (auto err = parser.parse(text.data(), text.size()).get(doc); err != simdjson::SUCCESS) {
    return DataLossError(std::string("invalid JSON in restSearch answer: ") +
                         simdjson::error_message(err));
  }
  dom::element response;
  if (doc["response"].get(response) != simdjson::SUCCESS) {
    return DataLossError("restSearch answer has no \"response\"");
  }
  std::vector<MispAttribute> out;
  dom::array empty_form;
  if (response.get(empty_form) == simdjson::SUCCESS && empty_form.size() == 0) return out;
  dom::array list;
  if (response["Attribute"].get(list) != simdjson::SUCCESS) {
    return DataLossError("restSearch answer has no \"response.Attribute\" list");
  }
  for (dom::element el : list) {
    dom::object a;
    if (el.get(a) != simdjson::SUCCESS)
      return DataLossError("restSearch: an attribute is not an object");
    MispAttribute attr;
    MemberHit& hit = attr.hit;
    hit.matched = StrField(a, "value");
    hit.type = StrField(a, "type");
    hit.category = StrField(a, "category");
    hit.to_ids = BoolField(a, "to_ids");
    hit.comment = StrField(a, "comment");
    hit.attribute_uuid = StrField(a, "uuid");
    hit.timestamp = IntField(a, "timestamp");
    hit.first_seen = StrField(a, "first_seen");
    hit.last_seen = StrField(a, "last_seen");
    attr.deleted = BoolField(a, "deleted");
    dom::object event;
    if (a["Event"].get(event) == simdjson::SUCCESS) {
      hit.event_uuid = StrField(event, "uuid");
      hit.event_info = StrField(event, "info");
      hit.event_date = StrField(event, "date");
      dom::object orgc;
      if (event["Orgc"].get(orgc) == simdjson::SUCCESS) hit.org = StrField(orgc, "name");
    }
    if (hit.event_uuid.empty()) hit.event_uuid = StrField(a, "event_uuid");
    AppendTagNames(a, &hit.tags);
    dom::array sightings;
    dom::object sighting_count;
    if (a["Sighting"].get(sightings) == simdjson::SUCCESS) {
      hit.sightings = sightings.size();
    } else if (a["Sighting_count"].get(sighting_count) == simdjson::SUCCESS) {
      hit.sightings =
          static_cast<uint64_t>(std::max<int64_t>(0, IntField(sighting_count, "sightings")));
    }
    out.push_back(std::move(attr));
  }
  return out;
}

Result<std::string> ParseVersion(std::string_view text) {
  dom::parser parser;
  dom::object o;
  if (parser.parse(text.data(), text.size()).get(o) != simdjson::SUCCESS) {
    return DataLossError("getVersion answer is not a JSON object");
  }
  std::string version = StrField(o, "version");
  if (version.empty()) return DataLossError("getVersion answer has no \"version\"");
  return version;
}

Result<GridStats> ParseGridStats(std::string_view text) {
  dom::parser parser;
  dom::object o;
  if (parser.parse(text.data(), text.size()).get(o) != simdjson::SUCCESS) {
    return DataLossError("grid/v1/stats answer is not a JSON object");
  }
  GridStats stats;
  stats.attributes = static_cast<uint64_t>(std::max<int64_t>(0, IntField(o, "attributes")));
  stats.first_date = StrField(o, "first_date");
  stats.last_date = StrField(o, "last_date");
  uint64_t generation = 0;
  if (o["generation"].get_uint64().get(generation) == simdjson::SUCCESS) {
    stats.generation = generation;
  }
  dom::object mirror;
  if (o["mirror"].get(mirror) == simdjson::SUCCESS) {
    stats.mirror_source = StrField(mirror, "source");
    stats.mirror_lag_seconds = IntField(mirror, "lag_seconds");
    stats.mirror_error = StrField(mirror, "error");
  }
  return stats;
}

std::string ErrorBodySummary(std::string_view body) {
  std::string out;
  dom::parser parser;
  dom::object o;
  if (parser.parse(body.data(), body.size()).get(o) == simdjson::SUCCESS) {
    out = StrField(o, "message");
    if (out.empty()) out = StrField(o, "name");
  }
  if (out.empty()) out = std::string(body.substr(0, 200));
  if (out.size() > 200) out.resize(200);
  for (char& c : out) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  return out;
}

std::optional<int64_t> ParseIsoSeconds(std::string_view s) {
  Result<int64_t> t = ParseIsoDateTime(s);  // common/time.h: the one ISO 8601 reader
  if (!t.ok()) return std::nullopt;
  return *t;
}

bool InTimeScope(const MemberHit& hit, std::optional<int64_t> since, std::optional<int64_t> until) {
  if (!since && !until) return true;
  std::optional<int64_t> first =
      hit.first_seen.empty() ? std::nullopt : ParseIsoSeconds(hit.first_seen);
  std::optional<int64_t> last =
      hit.last_seen.empty() ? std::nullopt : ParseIsoSeconds(hit.last_seen);
  int64_t lo = 0;
  int64_t hi = 0;
  if (first || last) {
    lo = first ? *first : std::numeric_limits<int64_t>::min();
    hi = last ? *last : std::numeric_limits<int64_t>::max();
  } else if (hit.timestamp > 0) {
    lo = hi = hit.timestamp;
  } else {
    return true;  // no time known: keep rather than hide
  }
  if (since && hi < *since) return false;
  if (until && lo > *until) return false;
  return true;
}

Result<PsiInfo> ParsePsiInfo(std::string_view body) {
  dom::parser parser;
  dom::object o;
  if (auto err = parser.parse(body.data(), body.size()).get(o); err != simdjson::SUCCESS) {
    return DataLossError(std::string("invalid JSON in psi/info answer: ") +
                         simdjson::error_message(err));
  }
  PsiInfo info;
  if (IntField(o, "version") != 1) return DataLossError("psi/info: protocol version is not 1");
  if (IntField(o, "tag_bytes") != static_cast<int64_t>(psi::kTagBytes)) {
    return DataLossError("psi/info: tag_bytes is not " + std::to_string(psi::kTagBytes));
  }
  uint64_t epoch = 0;
  IOCGRID_RETURN_IF_ERROR(PositiveField(o, "epoch", UINT32_MAX, &epoch));
  info.epoch = static_cast<uint32_t>(epoch);
  dom::element ranges;
  dom::element below;
  if (o["ranges"].get(ranges) != simdjson::SUCCESS || o["below"].get(below) != simdjson::SUCCESS) {
    return DataLossError("psi/info: no \"ranges\" and \"below\"");
  }
  IOCGRID_RETURN_IF_ERROR(ParseLengths(ranges, "ranges", &info.declaration.lengths));
  IOCGRID_RETURN_IF_ERROR(ParseLengths(below, "below", &info.declaration.below));
  info.ready = BoolField(o, "ready");
  info.tags = static_cast<uint64_t>(std::max<int64_t>(0, IntField(o, "tags")));
  info.generation = static_cast<uint64_t>(std::max<int64_t>(0, IntField(o, "generation")));
  info.label_context = StrField(o, "label_context");
  dom::array modes;
  if (o["modes"].get(modes) == simdjson::SUCCESS) {
    for (dom::element m : modes) {
      const std::string name = Str(m);
      info.full_set |= name == "full-set";
      info.bucketed |= name == "bucketed";
    }
  }
  dom::object limits;
  if (o["limits"].get(limits) != simdjson::SUCCESS) return DataLossError("psi/info: no \"limits\"");
  uint64_t v = 0;
  constexpr uint64_t kMaxItems = uint64_t{1} << 20;
  IOCGRID_RETURN_IF_ERROR(PositiveField(limits, "max_points_per_request", kMaxItems, &v));
  info.max_points = v;
  IOCGRID_RETURN_IF_ERROR(PositiveField(limits, "max_labels_per_request", kMaxItems, &v));
  info.max_labels = v;
  IOCGRID_RETURN_IF_ERROR(PositiveField(limits, "max_buckets_per_request", kMaxItems, &v));
  info.max_buckets = v;
  IOCGRID_RETURN_IF_ERROR(PositiveField(limits, "max_tags_per_page", kMaxItems, &v));
  info.max_tags_per_page = v;
  IOCGRID_RETURN_IF_ERROR(PositiveField(limits, "max_bucket_bits", 24, &v));
  info.max_bucket_bits = static_cast<unsigned>(v);
  info.evaluations_left_today =
      static_cast<uint64_t>(std::max<int64_t>(0, IntField(limits, "evaluations_left_today")));
  return info;
}

Status ParseLabelHits(std::string_view content, uint32_t query, std::vector<MemberHit>* hits) {
  dom::parser parser;
  dom::object o;
  if (auto err = parser.parse(content.data(), content.size()).get(o); err != simdjson::SUCCESS) {
    return DataLossError(std::string("an opened label is not JSON: ") +
                         simdjson::error_message(err));
  }
  dom::array list;
  if (IntField(o, "v") != 1 || o["hits"].get(list) != simdjson::SUCCESS) {
    return DataLossError("an opened label is not version 1 with a \"hits\" list");
  }
  for (dom::element h : list) {
    dom::object hit;
    if (h.get(hit) != simdjson::SUCCESS) return DataLossError("a label's hit is not an object");
    MemberHit parsed = HitFields(hit, query);
    if (parsed.matched.empty() || parsed.type.empty()) {
      return DataLossError("a label's hit has no \"matched\" value and \"type\"");
    }
    hits->push_back(std::move(parsed));
  }
  return Status::Ok();
}

}  // namespace iocgrid::federation::internal
