#include <algorithm>
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

#include "common/ascii.h"
#include "common/csv.h"
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

namespace iocgrid::node::internal {

net::Response JsonResponse(std::string body, int status) {
  net::Response r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

net::Response Error(int status, std::string_view message, const net::Request& req) {
  return net::ErrorResponse(status, message, req.path);
}

net::Response StatusError(const Status& st, const net::Request& req) {
  if (store::IsDiskFull(st)) {
    return Error(507, "Insufficient storage: " + std::string(st.message()), req);
  }
  return net::ErrorResponse(st, req.path);
}

Result<json> ParseBody(const net::Request& req) {
  if (!CheckJsonDepth(req.body).ok()) return Status(StatusCode::kInvalidArgument, kInvalidJson);
  json body = json::parse(req.body, nullptr, /*allow_exceptions=*/false);
  if (body.is_discarded()) return Status(StatusCode::kInvalidArgument, kInvalidJson);
  if (body.is_object() && body.size() == 1 && body.contains("request")) {
    json inner = std::move(body["request"]);
    return inner;
  }
  return body;
}

net::Response SaveFail(std::string_view name, std::string_view field, const Status& why,
                       const net::Request& req) {
  std::string message(why.message());
  json err = {{"saved", false},
              {"name", std::string(name)},
              {"message", name == "Could not add Attribute" ? std::string(name) : message},
              {"url", req.path},
              {"errors", {{std::string(field), {message}}}}};
  return JsonResponse(err.dump(), 403);
}

RestSearchRequest ParseRestSearch(const net::Request& req, bool refuse_empty_object,
                                  size_t max_values, int64_t now) {
  RestSearchRequest out;
  if (req.method == "GET") {
    out.error = Error(400,
                      "Restsearch queries using GET and no parameters are not allowed. If you "
                      "have passed parameters via a JSON body, make sure you use POST requests.",
                      req);
    return out;
  }
  if (req.body.find_first_not_of(" \t\r\n") == std::string::npos) {
    out.error = Error(400, kEmptySearch, req);
    return out;
  }
  // Counted before the DOM is built: a DOM costs tens of bytes per value, so a 100 MB body of
  // short values took the node to 1.8 GB (issue 8). Keys and other parameters get some slack.
  const std::string too_many = "Too many values in one search (more than " +
                               std::to_string(max_values) + "); split the request.";
  if (ScanJsonShape(req.body).scalars > static_cast<uint64_t>(max_values) + 1024) {
    out.error = Error(413, too_many, req);
    return out;
  }
  auto body = ParseBody(req);
  if (!body.ok()) {
    out.error = Error(405, kInvalidJson, req);
    return out;
  }
  if (refuse_empty_object && body->is_object() && body->empty()) {
    out.error = Error(400, kEmptySearch, req);
    return out;
  }
  auto params = ParseSearchParams(*body, now, max_values);
  if (!params.ok()) {
    bool too_big = params.status().code() == StatusCode::kResourceExhausted;
    out.error = too_big ? Error(413, too_many, req) : net::ErrorResponse(params.status(), req.path);
    return out;
  }
  // A search that filters nothing returns the whole store (30 MB on a real member): it needs
  // an explicit limit (issue 8; MISP users asked for default limits for this).
  if (!params->HasFilter() && params->limit == 0 && params->return_format != "count") {
    out.error = Error(400,
                      "No usable filter: give a filter such as value, type, eventid or "
                      "timestamp, or an explicit limit to page through everything.",
                      req);
    return out;
  }
  out.params = std::move(*params);
  return out;
}

// MISP compresses IPv6 search values before comparing (misp-api.md 2.3); the store holds
// canonical values, so the same is done here.
void CompressIpv6(std::vector<std::string>* values) {
  for (std::string& v : *values) {
    if (v.find(':') == std::string::npos || v.find('%') != std::string::npos) continue;
    if (auto net = core::ParseIpAddress(v); net.ok() && net->v6) v = core::FormatIpNetwork(*net);
  }
}

store::AttributeQuery ToAttributeQuery(const SearchParams& p) {
  store::AttributeQuery q;
  q.value = ToList(p.value);
  CompressIpv6(&q.value.any);
  CompressIpv6(&q.value.none);
  q.value1 = ToList(p.value1);
  q.value2 = ToList(p.value2);
  q.type = ToList(p.type);
  q.category = ToList(p.category);
  q.tags = ToList(p.tags);
  q.event = ToList(p.eventid);
  q.uuid = ToList(p.uuid);
  q.org = ToList(p.org);
  q.object_relation = ToList(p.object_relation);
  if (!p.eventinfo.any.empty()) q.eventinfo = p.eventinfo.any.front();
  q.to_ids = p.to_ids;
  if (p.published.size() == 1) q.published = p.published.front();
  if (!p.threat_level_id.any.empty()) {
    const std::string& t = p.threat_level_id.any.front();
    if (auto level = store::ParseDecimal<uint8_t>(t)) q.threat_level_id = *level;
  }
  q.deleted = p.deleted == 1   ? store::DeletedFilter::kOnly
              : p.deleted == 2 ? store::DeletedFilter::kBoth
                               : store::DeletedFilter::kExclude;
  q.timestamp = ToRange(p.attribute_timestamp);
  q.event_timestamp = ToRange(p.event_timestamp);
  q.publish_timestamp = ToRange(p.publish_timestamp);
  auto us = [](const TimeRange& r) {
    store::TimeRange out;
    if (r.from) out.from = *r.from * 1000000;
    if (r.to) out.to = *r.to * 1000000;
    return out;
  };
  q.first_seen_us = us(p.first_seen);
  q.last_seen_us = us(p.last_seen);
  q.date_from = p.date_from;
  q.date_to = p.date_to;
  q.limit = p.limit;
  q.page = p.page;
  q.include_event_tags = p.include_event_tags;
  q.include_sightings = p.include_sightings;
  if (!p.order.empty()) {
    std::string o = AsciiLower(p.order);
    q.descending = o.find(" desc") != std::string::npos;
    std::string field = o.substr(0, o.find(' '));
    if (field.rfind("attribute.", 0) == 0) field = field.substr(10);
    static const std::map<std::string, store::AttributeOrder> kOrders = {
        {"id", store::AttributeOrder::kId},
        {"event_id", store::AttributeOrder::kEventId},
        {"object_id", store::AttributeOrder::kObjectId},
        {"type", store::AttributeOrder::kType},
        {"category", store::AttributeOrder::kCategory},
        {"value", store::AttributeOrder::kValue},
        {"distribution", store::AttributeOrder::kDistribution},
        {"timestamp", store::AttributeOrder::kTimestamp},
        {"object_relation", store::AttributeOrder::kObjectRelation},
        {"event.publish_timestamp", store::AttributeOrder::kEventPublishTimestamp},
    };
    if (auto it = kOrders.find(field); it != kOrders.end()) q.order = it->second;
  }
  return q;
}

std::string CsvCell(std::string_view raw) {
  return CsvQuoted(SanitizeUtf8(raw));  // valid UTF-8 on every API (issue 8)
}

}  // namespace iocgrid::node::internal
