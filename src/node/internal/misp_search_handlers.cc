#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <ctime>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>
#include <utility>

#include "common/json_depth.h"
#include "common/json_writer.h"
#include "common/utf8.h"
#include "core/indicator.h"
#include "core/ip.h"
#include "net/http_error.h"
#include "net/router.h"
#include "node/internal/describe_types.h"
#include "node/internal/grid.h"
#include "node/internal/misp_dto.h"
#include "node/internal/node_impl.h"
#include "node/internal/search_params.h"
#include "store/number.h"

namespace iocgrid::node {

using namespace internal;  // the helpers of node_impl.h

namespace {

// The value of one restSearch CSV column (MISP's names) for attribute `a` of event `e`.
std::string AttributeCsvCell(const std::string& c, const store::AttributeRecord& a,
                             const store::EventInfo* e) {
  std::string cell;
  if (c == "uuid")
    cell = a.uuid;
  else if (c == "event_id")
    cell = std::to_string(a.event_id);
  else if (c == "category")
    cell = a.category;
  else if (c == "type")
    cell = std::string(core::TypeName(a.type));
  else if (c == "value")
    cell = a.value;
  else if (c == "comment")
    cell = a.comment;
  else if (c == "to_ids")
    cell = a.to_ids ? "1" : "0";
  else if (c == "date" || c == "timestamp")
    cell = std::to_string(a.timestamp);
  else if (c == "object_relation")
    cell = a.object_relation;
  else if (c == "attribute_tag") {
    for (size_t t = 0; t < a.tags.size(); ++t) cell += (t ? "," : "") + a.tags[t].name;
  } else if (c == "event_info" && e)
    cell = e->info;
  else if (c == "event_uuid" && e)
    cell = e->uuid;
  else if (c == "event_date" && e)
    cell = e->date;
  return cell;
}

// returnFormat "csv": the requested columns (MISP's default set when none), a header row
// unless headerless.
void WriteAttributesCsv(const SearchParams& params, const store::AttributeSearchResult& result,
                        net::Response* r) {
  r->content_type = "text/csv; charset=UTF-8";
  r->headers.emplace_back("X-Response-Format", "csv");
  std::vector<std::string> columns = params.requested_attributes;
  if (columns.empty()) {
    columns = {"uuid",
               "event_id",
               "category",
               "type",
               "value",
               "comment",
               "to_ids",
               "date",
               "object_relation",
               "attribute_tag",
               "object_uuid",
               "object_name",
               "object_meta_category"};
  }
  if (!params.headerless) {
    for (size_t i = 0; i < columns.size(); ++i) r->body += (i ? "," : "") + columns[i];
    r->body += "\n";
  }
  for (const auto& a : result.attributes) {
    const store::EventInfo* e = result.FindEvent(a.event_id);
    for (size_t i = 0; i < columns.size(); ++i) {
      r->body += (i ? "," : "") + CsvCell(AttributeCsvCell(columns[i], a, e));
    }
    r->body += "\n";
  }
}

// returnFormat "text": the distinct values, sorted, one a line.
void WriteAttributesText(const store::AttributeSearchResult& result, net::Response* r) {
  r->content_type = "text/plain; charset=UTF-8";
  r->headers.emplace_back("X-Response-Format", "txt");
  std::vector<std::string> seen;
  seen.reserve(result.attributes.size());
  for (const auto& a : result.attributes) seen.push_back(a.value);
  std::sort(seen.begin(), seen.end());
  seen.erase(std::unique(seen.begin(), seen.end()), seen.end());
  for (const auto& v : seen) r->body += SanitizeUtf8(v) + "\n";  // valid UTF-8 on every API
}

}  // namespace

net::Response Node::Impl::AttributesRestSearch(net::Request& req, Call& call) {
  auto params = ParseRestSearch(req, /*refuse_empty_object=*/true, options.max_search_values,
                                options.store.clock.Now());
  if (!params.ok()) return *params.error;
  const std::string& format = params->return_format;
  if (format != "json" && format != "csv" && format != "text" && format != "count") {
    return Error(404, "Invalid output format.", req);
  }
  size_t values = params->value.any.size() + params->value.none.size();
  if (values > options.max_search_values) {
    return Error(413,
                 "Too many values in one search (" + std::to_string(values) + " > " +
                     std::to_string(options.max_search_values) + "); split the request.",
                 req);
  }
  store::AttributeQuery query = ToAttributeQuery(*params);
  // Non-restrictive formats see everything; text applies MISP's implicit to_ids and published.
  if (format == "text") {
    if (!query.to_ids) query.to_ids = true;
    if (params->published.empty()) query.published = true;
  }
  // Every format records the same audit row (--audit-values kept json's only, issue 8).
  call.Note(values, AuditedValues(params->value.any, params->value.none));
  if (format == "count") {
    auto n = store->CountAttributes(query);
    if (!n.ok()) return StatusError(n.status(), req);
    return JsonResponse(json{{"response", {{"count", *n}}}}.dump());
  }
  auto result = store->SearchAttributes(query);
  if (!result.ok()) return StatusError(result.status(), req);

  net::Response r;
  size_t count = result->attributes.size();
  // A full explicit page is reported as count + 1: a hint that more pages exist (MISP).
  size_t header_count = (query.limit > 0 && count == query.limit) ? count + 1 : count;
  r.headers.emplace_back("X-Result-Count", std::to_string(header_count));
  r.headers.emplace_back("X-Export-Module-Used", format);
  if (format == "json") {
    r.headers.emplace_back("X-Response-Format", "json");
    std::string& out = r.body;
    out.reserve(count * 600 + 64);
    out = "{\"response\":{\"Attribute\":[";
    JsonWriter w(&out);
    for (const auto& a : result->attributes) {
      WriteSearchAttribute(w, a, result->FindEvent(a.event_id), params->include_event_uuid,
                           params->include_context);
    }
    out += "]}}";
    return r;
  }
  if (format == "text") {
    WriteAttributesText(*result, &r);
  } else {
    WriteAttributesCsv(*params, *result, &r);
  }
  return r;
}

net::Response Node::Impl::EventsRestSearch(net::Request& req, Call& call) {
  auto params = ParseRestSearch(req, /*refuse_empty_object=*/false, options.max_search_values,
                                options.store.clock.Now());
  if (!params.ok()) return *params.error;
  if (params->return_format != "json") return Error(404, "Invalid output format.", req);
  // Attribute-level filters choose the events; the events come back whole (misp-api.md 3.1).
  std::vector<int64_t> event_ids;
  bool attribute_filters =
      !(params->value.empty() && params->type.empty() && params->category.empty() &&
        params->tags.empty() && !params->to_ids && params->uuid.empty() &&
        params->object_relation.empty() && params->value1.empty() && params->value2.empty());
  if (attribute_filters) {
    store::AttributeQuery query = ToAttributeQuery(*params);
    query.limit = 0;
    query.page = 1;
    auto result = store->SearchAttributes(query);
    if (!result.ok()) return StatusError(result.status(), req);
    for (const auto& e : result->events) event_ids.push_back(e.id);
  } else {
    // Events without attributes match event-level filters too.
    store::EventQuery eq;
    eq.event = ToList(params->eventid);
    eq.org = ToList(params->org);
    if (!params->eventinfo.any.empty()) eq.eventinfo = params->eventinfo.any.front();
    if (params->published.size() == 1) eq.published = params->published.front();
    eq.date_from = params->date_from;
    eq.date_to = params->date_to;
    eq.timestamp = ToRange(params->event_timestamp);
    eq.publish_timestamp = ToRange(params->publish_timestamp);
    auto events = store->ListEvents(eq);
    if (!events.ok()) return StatusError(events.status(), req);
    for (const auto& e : *events) event_ids.push_back(e.id);
  }
  std::sort(event_ids.begin(), event_ids.end());
  event_ids.erase(std::unique(event_ids.begin(), event_ids.end()), event_ids.end());
  size_t total = event_ids.size();
  if (params->limit > 0) {
    size_t start = static_cast<size_t>(params->page - 1) * params->limit;
    if (start >= event_ids.size()) {
      event_ids.clear();
    } else {
      event_ids = std::vector<int64_t>(
          event_ids.begin() + static_cast<std::ptrdiff_t>(start),
          event_ids.begin() +
              static_cast<std::ptrdiff_t>(std::min(event_ids.size(), start + params->limit)));
    }
  }
  call.Note(params->value.any.size() + params->value.none.size(),
            AuditedValues(params->value.any, params->value.none));
  net::Response r;
  r.headers.emplace_back("X-Result-Count", std::to_string(total));
  std::string& out = r.body;
  out = "{\"response\":[";
  JsonWriter w(&out);
  store::GetEventOptions get_options;
  get_options.include_sightings = params->include_sightings;
  for (int64_t id : event_ids) {
    auto event = store->GetEvent(std::to_string(id), get_options);
    if (!event.ok()) continue;  // deleted meanwhile
    if (params->to_ids) {
      // to_ids also filters the attributes inside each returned event (misp-api.md 3.1).
      auto keep = [&](const store::AttributeRecord& a) { return a.to_ids == *params->to_ids; };
      std::erase_if(event->attributes, [&](const auto& a) { return !keep(a); });
      for (auto& o : event->objects)
        std::erase_if(o.attributes, [&](const auto& a) { return !keep(a); });
    }
    WriteEvent(w, *event, params->metadata);
  }
  out += "]}";
  return r;
}

net::Response Node::Impl::EventsIndex(net::Request& req, Call& call) {
  const int64_t now = options.store.clock.Now();
  json body = json::object();
  if (req.method == "POST" && req.body.find_first_not_of(" \t\r\n") != std::string::npos) {
    auto parsed = ParseBody(req);
    if (!parsed.ok()) return Error(405, kInvalidJson, req);
    if (!parsed->is_object())
      return Error(400, "The filter parameters must be a JSON object.", req);
    body = std::move(*parsed);
  }
  store::EventQuery q;
  TermFilter f;
  auto terms = [&](const char* name, store::ListFilter* out) -> Status {
    if (!body.contains(name)) return Status();
    json sub = {{"value", body[name]}};
    auto p = ParseSearchParams(sub, now);
    if (!p.ok()) return p.status().WithContext(name);
    *out = ToList(p->value);
    return Status();
  };
  for (auto [name, target] : {std::pair<const char*, store::ListFilter*>{"eventid", &q.event},
                              {"org", &q.org},
                              {"tags", &q.tags},
                              {"tag", &q.tags},
                              {"attribute", &q.value},
                              {"value", &q.value}}) {
    Status st = terms(name, target);
    if (!st.ok()) return StatusError(st, req);
  }
  if (auto it = body.find("eventinfo"); it != body.end() && it->is_string()) {
    std::string info = it->get<std::string>();
    q.eventinfo = info.find('%') == std::string::npos ? "%" + info + "%" : info;
  }
  if (auto it = body.find("published"); it != body.end()) q.published = LooseBool(*it);
  if (auto it = body.find("datefrom"); it != body.end() && it->is_string())
    q.date_from = it->get<std::string>();
  if (auto it = body.find("dateuntil"); it != body.end() && it->is_string())
    q.date_to = it->get<std::string>();
  {
    // limit and page as restSearch reads them: whole numbers >= 1, else 400. timestamp (and
    // publish_timestamp) as MISP's index filters them: on the event's, in restSearch's forms
    // (a mirror asks for the events changed since its last sweep).
    json paging = json::object();
    for (const char* k : {"limit", "page"}) {
      if (auto it = body.find(k); it != body.end()) paging[k] = *it;
    }
    if (auto it = body.find("timestamp"); it != body.end()) paging["event_timestamp"] = *it;
    if (auto it = body.find("publish_timestamp"); it != body.end()) {
      paging["publish_timestamp"] = *it;
    }
    auto p = ParseSearchParams(paging, now);
    if (!p.ok()) return StatusError(p.status(), req);
    q.limit = p->limit;
    q.page = p->page;
    q.timestamp = ToRange(p->event_timestamp);
    q.publish_timestamp = ToRange(p->publish_timestamp);
  }
  if (auto it = body.find("direction"); it != body.end() && it->is_string())
    q.descending = it->get<std::string>() == "desc";
  auto events = store->ListEvents(q);
  if (!events.ok()) return StatusError(events.status(), req);
  call.Note(q.value.any.size() + q.value.none.size(), AuditedValues(q.value.any, q.value.none));
  net::Response r;
  r.body = "[";
  JsonWriter w(&r.body);
  for (const auto& e : *events) WriteEventIndexRow(w, e);
  r.body += "]";
  return r;
}

}  // namespace iocgrid::node
