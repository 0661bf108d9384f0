// SiftReport (sift_job.h): the report of GET /api/v1/sifts/{id}, from what the upload left and
// the sift's search document. The classes and counts come from sift/report.h, as in
// `iocgrid sift --portal`; the per-observable objects have the keys of its NDJSON lines.
#include <string>
#include <unordered_map>
#include <vector>

#include "common/time.h"
#include "core/indicator_type.h"
#include "portal/internal/sift_job.h"

namespace iocgrid::portal::internal {
namespace {

using json = nlohmann::json;
using sift::Class;

std::string Iso(int64_t t) { return t == 0 ? "" : FormatIsoDateTime(t); }

std::string Text(const json& o, const char* key) {
  auto it = o.find(key);
  return it != o.end() && it->is_string() ? it->get<std::string>() : "";
}

uint64_t Count(const json& o, const char* key) {
  auto it = o.find(key);
  return it != o.end() && it->is_number_unsigned() ? it->get<uint64_t>() : 0;
}

// hits[i]: the hits of observables[i] in the search document.
std::vector<std::vector<sift::Hit>> HitsOf(
    const SiftResult& r, const json& search,
    const std::unordered_map<std::string, std::string>& member_kinds,
    const sift::ClassRules& rules) {
  std::vector<std::vector<sift::Hit>> hits(r.observables.size());
  std::unordered_map<std::string, size_t> position;
  for (size_t i = 0; i < r.observables.size(); ++i) {
    position.emplace(
        std::string(core::TypeName(r.observables[i].type)) + '\x1f' + r.observables[i].value, i);
  }
  auto indicators = search.find("indicators");
  if (indicators == search.end() || !indicators->is_array()) return hits;
  for (const json& ind : *indicators) {
    if (!ind.is_object()) continue;
    auto it = position.find(Text(ind, "type") + '\x1f' + Text(ind, "value"));
    if (it == position.end()) continue;
    std::vector<sift::Hit>& out = hits[it->second];
    auto list = ind.find("hits");
    bool none = list == ind.end() || !list->is_array() || list->empty();
    if (!none) {
      for (const json& h : *list) {
        if (!h.is_object()) continue;
        sift::Hit hit;
        hit.member = Text(h, "member");
        hit.relation = Text(h, "relation");
        hit.matched = Text(h, "matched");
        hit.name = Text(h, "event_info");
        auto kind = member_kinds.find(hit.member);
        hit.cls = sift::MemberClass(rules, kind == member_kinds.end() ? "" : kind->second);
        out.push_back(std::move(hit));
      }
    } else if (uint64_t held = Count(ind, "held_by"); held > 0) {
      out.push_back(sift::UndisclosedHit(held, rules));  // count-disclosure members only
    }
  }
  return hits;
}

json ObservableJson(const sift::Observable& o, Class cls, const std::vector<sift::Hit>& hits) {
  json list = json::array();
  for (const sift::Hit& h : hits) {
    list.push_back(
        {{"member", h.member}, {"relation", h.relation}, {"matched", h.matched}, {"name", h.name}});
  }
  return {
      {"value", o.value},   {"type", core::TypeName(o.type)},  {"field", sift::FieldName(o.field)},
      {"lines", o.lines},   {"first_seen", Iso(o.first_seen)}, {"last_seen", Iso(o.last_seen)},
      {"alerts", o.alerts}, {"class", sift::ClassName(cls)},   {"hits", list}};
}

json SummaryJson(const SiftResult& r, const sift::Tally& t) {
  const sift::SiftCounts& c = r.counts;
  json by_class = json::object();
  for (Class cls : sift::kAllClasses) {
    const sift::ClassStats& s = t.by_class[static_cast<size_t>(cls)];
    by_class[std::string(sift::ClassName(cls))] = {{"observables", s.observables},
                                                   {"lines", s.lines},
                                                   {"clients", s.clients},
                                                   {"client_lines", s.client_lines}};
  }
  json malformed = json::array();
  for (const auto& m : r.malformed) malformed.push_back({{"line", m.line}, {"reason", m.reason}});
  return {{"format", r.format}, {"bytes", r.bytes},         {"lines", c.lines},
          {"parsed", c.parsed}, {"malformed", c.malformed}, {"malformed_examples", malformed},
          {"cut", c.cut},       {"internal", c.internal},   {"observables", r.observables.size()},
          {"alerts", c.alerts}, {"clients", t.clients},     {"by_class", by_class}};
}

json SearchJson(const std::string& id, const json* search) {
  if (id.empty()) return nullptr;
  json out = {{"id", id}, {"url", "/api/v1/searches/" + id}};
  if (search == nullptr) {
    out["status"] = "deleted";
    return out;
  }
  out["status"] = Text(*search, "status");
  if (auto p = search->find("progress"); p != search->end()) out["progress"] = *p;
  json members = json::array();
  if (auto m = search->find("members"); m != search->end() && m->is_array()) {
    for (const json& x : *m) {
      if (!x.is_object()) continue;
      members.push_back({{"member", Text(x, "member")},
                         {"status", Text(x, "status")},
                         {"error", Text(x, "error")}});
    }
  }
  out["members"] = members;
  return out;
}

}  // namespace

json SiftMetaJson(const SiftMeta& meta, std::string_view status) {
  return {{"id", meta.id},           {"label", meta.label},    {"owner", meta.owner},
          {"created", meta.created}, {"tlp", meta.tlp},        {"shared", meta.shared},
          {"status", status},        {"request", meta.request}};
}

json SiftReport(const SiftMeta& meta, std::string_view status, const SiftResult& result,
                const std::string& search_id, const json* search,
                const std::unordered_map<std::string, std::string>& member_kinds,
                const sift::ClassRules& rules, size_t top, bool with_observables) {
  std::vector<std::vector<sift::Hit>> hits =
      search != nullptr ? HitsOf(result, *search, member_kinds, rules)
                        : std::vector<std::vector<sift::Hit>>(result.observables.size());
  sift::Tally tally = sift::Classify(rules, result.observables, hits);
  for (const LineGroup& g : result.groups) sift::CountLines(g.ids, g.lines, &tally);
  json report = SiftMetaJson(meta, status);
  report["summary"] = SummaryJson(result, tally);
  const sift::AlertCells& cells = tally.cells;
  report["alert_cells"] = {
      {"alerted_threat", cells.alerted_threat},
      {"alerted_noise", cells.alerted_noise},
      {"alerted_unknown", cells.alerted_unknown},
      {"not_alerted_threat_or_anonymizer", cells.not_alerted_threat_or_anonymizer}};
  report["search"] = SearchJson(search_id, search);
  json tops = json::object(), all = json::array();
  for (Class c : sift::kAllClasses) tops[std::string(sift::ClassName(c))] = json::array();
  for (uint32_t i : sift::ReportOrder(result.observables, tally.classes)) {
    json& list = tops[std::string(sift::ClassName(tally.classes[i]))];
    bool in_top = list.size() < top;
    if (!in_top && !with_observables) continue;
    json o = ObservableJson(result.observables[i], tally.classes[i], hits[i]);
    if (in_top) list.push_back(o);
    if (with_observables) all.push_back(std::move(o));
  }
  report["top"] = tops;
  if (with_observables) report["observables"] = all;
  return report;
}

}  // namespace iocgrid::portal::internal
