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
  Status fresh = Rebuild();
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
  Status fresh = Rebuild();
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

}  // namespace iocgrid::node
