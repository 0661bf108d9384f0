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

net::Response Node::Impl::AttributesAdd(net::Request& req, Call& call) {
  auto body = ParseBody(req);
  if (!body.ok()) return Error(405, kInvalidJson, req);
  std::vector<core::Attribute> attributes;
  bool batch = body->is_array();
  const json items = batch ? *body : json::array({*body});
  int n = 0;
  for (const json& item : items) {
    ++n;
    auto a = ParseAttributeJson(item);
    if (!a.ok()) {
      return SaveFail("Could not add Attribute", "value", a.status(), req);
    }
    attributes.push_back(std::move(*a));
  }
  store::AddAttributeOptions add_options;
  add_options.break_on_duplicate =
      !(req.params.count("flag") && req.params["flag"] == "breakOnDuplicate:0");
  auto ids = store->AddAttributes(req.params["event"], attributes, add_options);
  if (!ids.ok()) {
    if (ids.status().code() == StatusCode::kNotFound) return Error(404, "Invalid event.", req);
    if (ids.status().code() == StatusCode::kAlreadyExists ||
        ids.status().code() == StatusCode::kInvalidArgument) {
      return SaveFail("Could not add Attribute", "value", ids.status(), req);
    }
    return StatusError(ids.status(), req);
  }
  call.Note(attributes.size());
  Status fresh = Refresh();
  if (!fresh.ok()) return StatusError(fresh, req);
  auto rows = store->GetAttributes(*ids, false);
  if (!rows.ok()) return StatusError(rows.status(), req);
  net::Response r;
  JsonWriter w(&r.body);
  w.BeginObject();
  w.Key("Attribute");
  if (batch) w.BeginArray();
  for (const auto& a : rows->attributes) WriteAttribute(w, a);
  if (batch) w.EndArray();
  if (!batch && rows->attributes.empty()) w.Raw("{}");
  w.EndObject();
  return r;
}

net::Response Node::Impl::AttributesView(net::Request& req, Call&) {
  auto a = store->GetAttribute(req.params["id"]);
  if (!a.ok()) return Error(404, "Invalid attribute", req);
  net::Response r;
  JsonWriter w(&r.body);
  w.BeginObject();
  w.Key("Attribute");
  WriteAttribute(w, *a);
  w.EndObject();
  return r;
}

net::Response Node::Impl::AttributesDelete(net::Request& req, Call& call) {
  bool hard = req.params.count("hard") && req.params["hard"] == "1";
  Status st = store->DeleteAttribute(req.params["id"], hard);
  if (!st.ok()) {
    if (st.code() == StatusCode::kNotFound) return Error(404, "Invalid attribute", req);
    return StatusError(st, req);
  }
  call.Note(0);
  Status fresh = Refresh();
  if (!fresh.ok()) return StatusError(fresh, req);
  return JsonResponse(json{{"message", "Attribute deleted."}}.dump());
}

net::Response Node::Impl::SightingsAdd(net::Request& req, Call& call) {
  const store::AuthContext& auth = call.auth;
  auto body = ParseBody(req);
  if (!body.ok()) return Error(405, kInvalidJson, req);
  // Read in place: copying the DOM (twice) was the other recursion path issue 8 found.
  const json* sighting = &*body;
  if (sighting->is_object() && sighting->contains("Sighting") &&
      (*sighting)["Sighting"].is_object()) {
    sighting = &(*sighting)["Sighting"];
  }
  const json& s = *sighting;
  if (!s.is_object()) return Error(400, "The sighting must be a JSON object.", req);
  store::SightingRequest sr;
  sr.org_id = auth.org.id;
  if (req.params.count("id")) {
    sr.attribute = req.params["id"];
  } else if (s.contains("id") && (s["id"].is_string() || s["id"].is_number())) {
    sr.attribute = s["id"].is_string() ? s["id"].get<std::string>() : s["id"].dump();
  } else if (s.contains("uuid") && s["uuid"].is_string()) {
    sr.attribute = s["uuid"].get<std::string>();
  }
  if (s.contains("value") && s["value"].is_string())
    sr.values.push_back(s["value"].get<std::string>());
  if (s.contains("values") && s["values"].is_array()) {
    for (const json& v : s["values"]) {
      if (v.is_string()) sr.values.push_back(v.get<std::string>());
    }
  }
  CompressIpv6(&sr.values);
  if (s.contains("type")) {
    std::string t = s["type"].is_string() ? s["type"].get<std::string>() : s["type"].dump();
    if (t != "0" && t != "1" && t != "2") {
      return JsonResponse(
          json{{"message", "Could not add the Sighting. Reason: Invalid type."}}.dump());
    }
    sr.type = t[0] - '0';
  }
  if (s.contains("source") && s["source"].is_string()) sr.source = s["source"].get<std::string>();
  if (s.contains("timestamp") && !s["timestamp"].is_null()) {
    std::string t =
        s["timestamp"].is_string() ? s["timestamp"].get<std::string>() : s["timestamp"].dump();
    auto seconds = store::ParseDecimal<int64_t>(t);
    if (!seconds) return Error(400, "'timestamp' must be unix seconds", req);
    sr.timestamp = *seconds;
  }
  auto sightings = store->AddSighting(sr);
  if (!sightings.ok() || sightings->empty()) {
    // MISP answers 200 with a message; clients check the key (misp-api.md 4.2).
    std::string reason = sightings.ok() || sightings.status().code() == StatusCode::kNotFound
                             ? "No valid attributes found that match the criteria."
                             : std::string(sightings.status().message());
    return JsonResponse(json{{"message", "Could not add the Sighting. Reason: " + reason}}.dump());
  }
  call.Note(sr.values.size());
  const store::Sighting& last = sightings->back();
  json body_out = {{"Sighting",
                    {{"id", std::to_string(last.id)},
                     {"attribute_id", std::to_string(last.attribute_id)},
                     {"event_id", std::to_string(last.event_id)},
                     {"org_id", std::to_string(last.org_id)},
                     {"date_sighting", std::to_string(last.date_sighting)},
                     {"uuid", last.uuid},
                     {"source", last.source},
                     {"type", std::to_string(last.type)}}}};
  return JsonResponse(body_out.dump());
}

namespace {

// One filter of sightings/restSearch: a scalar or a list of them (strings or integers).
Status ReadList(const json& body, std::string_view key, std::vector<std::string>* out) {
  auto it = body.find(std::string(key));
  if (it == body.end() || it->is_null()) return Status::Ok();
  const json items = it->is_array() ? *it : json::array({*it});
  for (const json& v : items) {
    if (v.is_string()) {
      out->push_back(v.get<std::string>());
    } else if (v.is_number_integer()) {
      out->push_back(v.dump());
    } else {
      return InvalidArgumentError("'" + std::string(key) +
                                  "' must be a string, a number or a list of them");
    }
  }
  return Status::Ok();
}

// Splits id-or-uuid terms into numeric ids and uuids. Errors: a term that is neither.
Status SplitRefs(std::string_view key, const std::vector<std::string>& terms,
                 std::vector<int64_t>* ids, std::vector<std::string>* uuids) {
  for (const std::string& t : terms) {
    if (auto id = store::ParseDecimal<int64_t>(t)) {
      ids->push_back(*id);
    } else if (t.size() == 36 && std::count(t.begin(), t.end(), '-') == 4) {
      uuids->push_back(t);
    } else {
      return InvalidArgumentError("'" + std::string(key) + "' must hold ids or uuids");
    }
  }
  return Status::Ok();
}

// MISP's sightings/restSearch filters (SightingsController::restSearch) as a store query.
Result<store::SightingQuery> ReadSightingQuery(const json& body, std::string_view context,
                                               int64_t now) {
  store::SightingQuery q;
  std::vector<std::string> from, to, last, ids, uuids, types, orgs;
  IOCGRID_RETURN_IF_ERROR(ReadList(body, "from", &from));
  IOCGRID_RETURN_IF_ERROR(ReadList(body, "to", &to));
  IOCGRID_RETURN_IF_ERROR(ReadList(body, "last", &last));
  IOCGRID_RETURN_IF_ERROR(ReadList(body, "id", &ids));
  IOCGRID_RETURN_IF_ERROR(ReadList(body, "uuid", &uuids));
  IOCGRID_RETURN_IF_ERROR(ReadList(body, "type", &types));
  IOCGRID_RETURN_IF_ERROR(ReadList(body, "org_id", &orgs));
  IOCGRID_RETURN_IF_ERROR(ReadList(body, "source", &q.sources));
  if (from.size() > 1 || to.size() > 1 || last.size() > 1) {
    return InvalidArgumentError("'from', 'to' and 'last' take one value each");
  }
  // MISP: from and to together, else last, else the last 30 days.
  if (!from.empty() && !to.empty()) {
    IOCGRID_ASSIGN_OR_RETURN(q.from, ResolveTime(from[0], now));
    IOCGRID_ASSIGN_OR_RETURN(q.to, ResolveTime(to[0], now));
  } else if (!last.empty() || !from.empty()) {
    IOCGRID_ASSIGN_OR_RETURN(q.from, ResolveTime(!last.empty() ? last[0] : from[0], now));
  } else {
    q.from = now - 30 * 86400;
  }
  for (const std::string& t : types) {
    if (t != "0" && t != "1" && t != "2") {
      return InvalidArgumentError(
          "'type' must be 0 (sighting), 1 (false positive) or 2 (expiration)");
    }
    q.types.push_back(t[0] - '0');
  }
  IOCGRID_RETURN_IF_ERROR(SplitRefs("org_id", orgs, &q.org_ids, &q.org_uuids));
  if (!context.empty() && ids.empty() && uuids.empty()) {
    return InvalidArgumentError("An ID or UUID must be provided if the context is set.");
  }
  if (context == "attribute") {
    IOCGRID_RETURN_IF_ERROR(SplitRefs("id", ids, &q.attribute_ids, &q.attribute_uuids));
    IOCGRID_RETURN_IF_ERROR(SplitRefs("uuid", uuids, &q.attribute_ids, &q.attribute_uuids));
  } else if (context == "event") {
    IOCGRID_RETURN_IF_ERROR(SplitRefs("id", ids, &q.event_ids, &q.event_uuids));
    IOCGRID_RETURN_IF_ERROR(SplitRefs("uuid", uuids, &q.event_ids, &q.event_uuids));
  }
  return q;
}

void WriteSightingRecord(JsonWriter& w, const store::SightingRecord& r, bool with_attribute,
                         bool with_event) {
  const store::Sighting& s = r.sighting;
  w.BeginObject();
  w.Key("Sighting");
  w.BeginObject();
  WriteSightingFields(w, s);
  w.Field("value", r.value);
  if (with_event) {
    w.Key("Event");
    w.BeginObject();
    w.FieldId("id", s.event_id);
    w.Field("uuid", r.event_uuid);
    w.FieldId("orgc_id", r.event_orgc_id);
    w.FieldId("org_id", r.event_org_id);
    w.Field("info", r.event_info);
    w.Key("Orgc");
    w.BeginObject();
    w.Field("name", r.event_orgc_name);
    w.EndObject();
    w.EndObject();
  }
  if (with_attribute) {
    w.Key("Attribute");
    w.BeginObject();
    w.Field("value", r.value);
    w.FieldId("id", s.attribute_id);
    w.Field("uuid", r.attribute_uuid);
    w.Field("type", r.attribute_type);
    w.Field("category", r.attribute_category);
    w.Field("to_ids", r.attribute_to_ids);
    w.EndObject();
  }
  WriteOrganisation(w, s.org_id, r.org_uuid, r.org_name);
  w.EndObject();
  w.EndObject();
}

}  // namespace

// MISP's POST /sightings/restSearch[/attribute|event] (SightingsController::restSearch), JSON
// only: {"response": [{"Sighting": {...}}]}, newest first, the last 30 days unless from/to or
// last say otherwise.
net::Response Node::Impl::SightingsRestSearch(net::Request& req, Call& call) {
  const std::string context = req.params.count("context") ? req.params["context"] : "";
  if (!context.empty() && context != "attribute" && context != "event") {
    return Error(405, "Invalid context.", req);
  }
  json body = json::object();
  if (req.body.find_first_not_of(" \t\r\n") != std::string::npos) {
    auto parsed = ParseBody(req);
    if (!parsed.ok()) return Error(405, kInvalidJson, req);
    if (!parsed->is_object()) return Error(400, "The filters must be a JSON object.", req);
    body = std::move(*parsed);
  }
  if (auto f = body.find("returnFormat"); f != body.end()) {
    if (!f->is_string() || (*f != "json" && *f != "download")) {
      return Error(404, "Invalid output format.", req);
    }
  }
  auto query = ReadSightingQuery(body, context, options.store.clock.Now());
  if (!query.ok()) return Error(400, query.status().message(), req);
  const bool with_attribute =
      body.contains("includeAttribute") && LooseBool(body["includeAttribute"]).value_or(false);
  const bool with_event =
      body.contains("includeEvent") && LooseBool(body["includeEvent"]).value_or(false);
  auto rows = store->SearchSightings(*query);
  if (!rows.ok()) return StatusError(rows.status(), req);
  call.Note(rows->size());
  std::string out;
  JsonWriter w(&out);
  w.BeginObject();
  w.Key("response");
  w.BeginArray();
  for (const store::SightingRecord& r : *rows)
    WriteSightingRecord(w, r, with_attribute, with_event);
  w.EndArray();
  w.EndObject();
  return JsonResponse(std::move(out));
}

}  // namespace iocgrid::node
