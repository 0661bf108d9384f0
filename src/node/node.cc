#include "node/node.h"

#include <algorithm>
#include <chrono>
#include <ctime>
#include <map>
#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <optional>
#include <thread>
#include <string>
#include <unordered_map>
#include <utility>

#include <nlohmann/json.hpp>

#include "common/json_depth.h"
#include "common/utf8.h"
#include "core/indicator.h"
#include "core/ip.h"
#include "net/http_error.h"
#include "net/router.h"
#include "node/describe_types.h"
#include "node/grid.h"
#include "node/internal/json_writer.h"
#include "node/misp_dto.h"
#include "node/search_params.h"
#include "store/number.h"

namespace iocgrid::node {

using internal::JsonWriter;
using json = nlohmann::json;

namespace {

constexpr const char* kAuthFailed =
    "Authentication failed. Please make sure you pass the API key of an API enabled user along "
    "in the Authorization header.";
constexpr const char* kInvalidJson =
    "Invalid JSON input. Make sure that the JSON input is a correctly formatted JSON string. This "
    "request has been blocked to avoid an unfiltered request.";
constexpr const char* kEmptySearch =
    "Either specify the search terms in the url, or POST a json with the filter parameters.";

int64_t Now() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

net::Response JsonResponse(std::string body, int status = 200) {
  net::Response r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

net::Response Error(int status, std::string_view message, const net::Request& req) {
  return net::ErrorResponse(status, message, req.path);
}

// A failed Status as MISP's error body; a full disk is 507 with the reason, not the 429 that
// kResourceExhausted otherwise maps to (clients would read a rate limit and retry).
net::Response StatusError(const Status& st, const net::Request& req) {
  if (store::IsDiskFull(st)) {
    return Error(507, "Insufficient storage: " + std::string(st.message()), req);
  }
  return net::ErrorResponse(st, req.path);
}

// Parses a JSON body as MISP does: invalid JSON is 405, `{"request": ...}` is unwrapped.
// REQUIRES: the body's nesting was checked (Node::Impl::Add does, before any handler runs), so
// nlohmann's recursive parser cannot overflow the stack.
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

// MISP's saveFailResponse (misp-api.md 1.3): 403 with "saved": false and the field errors.
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

// The filters of a restSearch request, or the MISP error answer for a request that has none
// (misp-api.md 1.3): GET is refused, an empty body or object is 400, invalid JSON 405.
struct RestSearchRequest {
  std::optional<SearchParams> params;
  std::optional<net::Response> error;

  bool ok() const { return params.has_value(); }
  const SearchParams* operator->() const { return &*params; }
  const SearchParams& operator*() const { return *params; }
};

// `max_values`: filter terms accepted in one request (NodeOptions::max_search_values).
RestSearchRequest ParseRestSearch(const net::Request& req, bool refuse_empty_object,
                                  size_t max_values) {
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
  auto params = ParseSearchParams(*body, Now(), max_values);
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

store::ListFilter ToList(const TermFilter& f) { return store::ListFilter{f.any, f.none}; }

store::TimeRange ToRange(const TimeRange& r) { return store::TimeRange{r.from, r.to}; }

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
  q.deleted = p.deleted == 1 ? store::DeletedFilter::kOnly
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
    std::string o = p.order;
    for (char& c : o) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
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
  const std::string s = SanitizeUtf8(raw);  // valid UTF-8 on every API (issue 8)
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
  return out;
}

// One authenticated request: who sent it, and what its audit row records when it ends.
struct Call {
  explicit Call(store::AuthContext a) : auth(std::move(a)) {}

  // The number of values the request carried and, for searches, the values themselves (the
  // store keeps them only with --audit-values).
  void Note(uint64_t count, std::vector<std::string> queried = {}) {
    value_count = count;
    values = std::move(queried);
  }

  store::AuthContext auth;
  uint64_t value_count = 0;
  std::vector<std::string> values;
};

}  // namespace

struct Node::Impl {
  NodeOptions options;
  std::unique_ptr<store::Store> store;
  net::Router router;

  mutable std::mutex snapshot_mu;
  std::shared_ptr<const IndexSnapshot> current;  // GUARDED_BY(snapshot_mu)
  std::mutex rebuild_mu;                          // one rebuild at a time

  std::mutex keys_mu;
  std::unordered_map<int64_t, int> in_flight_by_key;  // GUARDED_BY(keys_mu)

  Status Rebuild();
  void Routes();

  // Background rebuilds for data written by other processes.
  std::mutex bg_mu;
  std::condition_variable bg_cv;
  bool bg_requested = false;  // GUARDED_BY(bg_mu)
  bool bg_stop = false;       // GUARDED_BY(bg_mu)
  std::thread bg_thread;
  void StartBackground();
  void StopBackground();
  // Requests a background rebuild when the file changed under the current snapshot.
  void RefreshIfStale(const IndexSnapshot& snap);

  // Authentication as MISP: X-MISP-AUTH wins over Authorization; "Basic ..." counts as none;
  // several comma-separated keys are tried in turn.
  Result<store::AuthContext> Authenticate(const net::Request& req);

  using AuthedHandler = net::Response (Impl::*)(net::Request&, Call&);
  // `json_body`: the body, when any, is JSON whose nesting is checked before the handler runs.
  void Add(std::vector<std::string> methods, std::string pattern, AuthedHandler h,
           bool admin_only = false, bool json_body = true);
  // Runs `h` for an authenticated request between its two audit writes.
  net::Response RunAudited(net::Request& req, store::AuthContext auth, AuthedHandler h,
                           bool json_body);

  net::Response GetVersion(net::Request&, Call&);
  net::Response GetPyMispVersion(net::Request&, Call&);
  net::Response ViewMe(net::Request&, Call&);
  net::Response DescribeTypes(net::Request&, Call&);
  net::Response AttributesRestSearch(net::Request&, Call&);
  net::Response EventsRestSearch(net::Request&, Call&);
  net::Response EventsView(net::Request&, Call&);
  net::Response EventsAdd(net::Request&, Call&);
  net::Response EventsEdit(net::Request&, Call&);
  net::Response EventsDelete(net::Request&, Call&);
  net::Response EventsPublish(net::Request&, Call&);
  net::Response EventsIndex(net::Request&, Call&);
  net::Response AttributesAdd(net::Request&, Call&);
  net::Response AttributesView(net::Request&, Call&);
  net::Response AttributesDelete(net::Request&, Call&);
  net::Response SightingsAdd(net::Request&, Call&);
  net::Response GridMatch(net::Request&, Call&);
  net::Response GridStats(net::Request&, Call&);

  net::Response EventResponse(std::string_view id, const net::Request& req, bool metadata);
  // The queried values as the audit log keeps them (--audit-values; empty otherwise): the OR
  // list, then each NOT value with MISP's "!".
  std::vector<std::string> AuditedValues(const std::vector<std::string>& any,
                                         const std::vector<std::string>& none) const;
  store::AuditEntry AuditRow(const net::Request& req, const store::AuthContext* auth,
                            int status) const;
};

Status Node::Impl::Rebuild() {
  std::lock_guard<std::mutex> rebuild_lock(rebuild_mu);
  uint64_t generation = store->generation();
  IOCGRID_ASSIGN_OR_RETURN(uint64_t data_generation, store->DataGeneration());
  {
    std::lock_guard<std::mutex> lock(snapshot_mu);
    if (current && current->generation == generation &&
        current->data_generation == data_generation) {
      return Status();
    }
  }
  auto snap = std::make_shared<IndexSnapshot>();
  snap->generation = generation;
  snap->data_generation = data_generation;
  index::MatchIndex::Builder builder;
  core::Indicator indicator;
  Status st = store->ForEachLiveAttribute([&](const store::LiveAttribute& a) {
    indicator.type = a.type;
    indicator.value.assign(a.value);
    builder.Add(indicator, static_cast<index::RecordId>(snap->attribute_ids.size()));
    snap->attribute_ids.push_back(a.id);
    return Status();
  });
  IOCGRID_RETURN_IF_ERROR(st);
  snap->index = builder.Build();
  std::lock_guard<std::mutex> lock(snapshot_mu);
  current = std::move(snap);
  return Status();
}

void Node::Impl::StartBackground() {
  bg_thread = std::thread([this] {
    std::unique_lock<std::mutex> lock(bg_mu);
    while (true) {
      bg_cv.wait(lock, [this] { return bg_requested || bg_stop; });
      if (bg_stop) return;
      bg_requested = false;
      lock.unlock();
      Status st = Rebuild();
      if (!st.ok()) std::fprintf(stderr, "iocgrid node: index rebuild: %s\n", st.ToString().c_str());
      lock.lock();
    }
  });
}

void Node::Impl::StopBackground() {
  {
    std::lock_guard<std::mutex> lock(bg_mu);
    bg_stop = true;
  }
  bg_cv.notify_all();
  if (bg_thread.joinable()) bg_thread.join();
}

void Node::Impl::RefreshIfStale(const IndexSnapshot& snap) {
  auto data_generation = store->DataGeneration();
  if (!data_generation.ok() || *data_generation == snap.data_generation) return;
  std::lock_guard<std::mutex> lock(bg_mu);
  bg_requested = true;
  bg_cv.notify_all();
}

Result<store::AuthContext> Node::Impl::Authenticate(const net::Request& req) {
  std::string_view header = req.Header("x-misp-auth");
  if (header.empty()) header = req.Header("authorization");
  if (header.empty() || header.rfind("Basic", 0) == 0) return PermissionDeniedError(kAuthFailed);
  std::string_view rest = header;
  while (!rest.empty()) {
    size_t comma = rest.find(',');
    std::string_view key = rest.substr(0, comma);
    while (!key.empty() && key.front() == ' ') key.remove_prefix(1);
    while (!key.empty() && key.back() == ' ') key.remove_suffix(1);
    if (key.size() == 40) {
      auto auth = store->AuthenticateKey(key);
      if (auth.ok()) return auth;
    }
    if (comma == std::string_view::npos) break;
    rest.remove_prefix(comma + 1);
  }
  return PermissionDeniedError(kAuthFailed);
}

std::vector<std::string> Node::Impl::AuditedValues(const std::vector<std::string>& any,
                                                   const std::vector<std::string>& none) const {
  if (!options.store.audit_values) return {};
  std::vector<std::string> out = any;
  for (const std::string& v : none) out.push_back("!" + v);
  return out;
}

store::AuditEntry Node::Impl::AuditRow(const net::Request& req, const store::AuthContext* auth,
                                      int status) const {
  store::AuditEntry e;
  if (auth) {
    e.user_id = auth->user.id;
    e.key_id = auth->key_id;
    e.org_id = auth->org.id;
  }
  e.action = req.method;
  e.endpoint = req.path;
  e.remote = req.remote_address;
  e.status = status;
  return e;
}

net::Response Node::Impl::RunAudited(net::Request& req, store::AuthContext auth, AuthedHandler h,
                                     bool json_body) {
  // The row is written before the body is parsed or any work is done (status 0 = running), so
  // every request leaves a row even if it never ends; a node that cannot audit refuses the
  // request rather than serve it unaudited (issue 8: the log failed open).
  auto row = store->AppendAudit(AuditRow(req, &auth, 0));
  if (!row.ok()) {
    std::fprintf(stderr, "iocgrid node: audit: %s\n", row.status().ToString().c_str());
    return Error(503,
                 "The audit log cannot be written (" + std::string(row.status().message()) +
                     "); the request was refused.",
                 req);
  }
  Call call(std::move(auth));
  net::Response r;
  // nlohmann's parser and the code walking its DOM recurse per level: 15,000 levels killed the
  // node (issue 8). Checked without recursion before any handler parses.
  if (Status depth = json_body ? CheckJsonDepth(req.body) : Status(); !depth.ok()) {
    r = Error(400, std::string(depth.message()) + "; the request was refused.", req);
  } else {
    r = (this->*h)(req, call);
  }
  Status st = store->UpdateAudit(*row, r.status, call.value_count, call.values);
  // The work is done by now; a failure here leaves the row with status 0 and is logged.
  if (!st.ok()) std::fprintf(stderr, "iocgrid node: audit: %s\n", st.ToString().c_str());
  return r;
}

void Node::Impl::Add(std::vector<std::string> methods, std::string pattern, AuthedHandler h,
                     bool admin_only, bool json_body) {
  router.Add(std::move(methods), std::move(pattern),
             [this, h, admin_only, json_body](net::Request& req) {
    auto auth = Authenticate(req);
    if (!auth.ok() || (admin_only && auth->user.role != store::Role::kAdmin)) {
      // A refused request does nothing, so its row is best effort.
      auto row = store->AppendAudit(AuditRow(req, auth.ok() ? &*auth : nullptr, 403));
      if (!row.ok()) std::fprintf(stderr, "iocgrid node: audit: %s\n", row.status().ToString().c_str());
      if (auth.ok()) return Error(403, "You do not have permission to do that.", req);
      bool ajax = req.Header("x-requested-with") == "XMLHttpRequest";
      return Error(403, ajax ? "Authentication failed." : kAuthFailed, req);
    }
    {
      std::lock_guard<std::mutex> lock(keys_mu);
      int& n = in_flight_by_key[auth->key_id];
      if (n >= options.max_concurrent_per_key) {
        net::Response r = Error(429, "Rate limit exceeded.", req);
        r.headers.emplace_back("X-Rate-Limit-Limit", std::to_string(options.max_concurrent_per_key));
        r.headers.emplace_back("X-Rate-Limit-Remaining", "0");
        r.headers.emplace_back("X-Rate-Limit-Reset", "1");
        return r;
      }
      ++n;
    }
    // Released however the handler ends: a throw (caught by the server) must not leave the key
    // counted as busy for ever.
    struct Release {
      Impl* impl;
      int64_t key;
      ~Release() {
        std::lock_guard<std::mutex> lock(impl->keys_mu);
        --impl->in_flight_by_key[key];
      }
    } release{this, auth->key_id};
    return RunAudited(req, std::move(*auth), h, json_body);
  });
}

void Node::Impl::Routes() {
  Add({"GET"}, "/servers/getVersion", &Impl::GetVersion);
  Add({"GET"}, "/servers/getPyMISPVersion", &Impl::GetPyMispVersion);
  Add({"GET"}, "/users/view/me", &Impl::ViewMe);
  Add({"GET"}, "/attributes/describeTypes", &Impl::DescribeTypes);
  Add({"POST", "GET"}, "/attributes/restSearch", &Impl::AttributesRestSearch);
  Add({"POST", "GET"}, "/events/restSearch", &Impl::EventsRestSearch);
  Add({"GET", "HEAD", "POST"}, "/events/view/{id}", &Impl::EventsView);
  Add({"POST"}, "/events/add", &Impl::EventsAdd, true);
  Add({"POST"}, "/events/add/{flag}", &Impl::EventsAdd, true);
  Add({"POST", "PUT"}, "/events/edit/{id}", &Impl::EventsEdit, true);
  Add({"POST", "DELETE"}, "/events/delete/{id}", &Impl::EventsDelete, true);
  Add({"POST"}, "/events/publish/{id}", &Impl::EventsPublish, true);
  Add({"POST", "GET"}, "/events/index", &Impl::EventsIndex);
  Add({"POST"}, "/attributes/add/{event}", &Impl::AttributesAdd, true);
  Add({"POST"}, "/attributes/add/{event}/{flag}", &Impl::AttributesAdd, true);
  Add({"GET", "HEAD"}, "/attributes/view/{id}", &Impl::AttributesView);
  Add({"POST", "DELETE"}, "/attributes/delete/{id}", &Impl::AttributesDelete, true);
  Add({"POST", "DELETE"}, "/attributes/delete/{id}/{hard}", &Impl::AttributesDelete, true);
  Add({"POST"}, "/sightings/add", &Impl::SightingsAdd);
  Add({"POST"}, "/sightings/add/{id}", &Impl::SightingsAdd);
  // NDJSON or JSON, measured by the grid parser itself.
  Add({"POST"}, "/grid/v1/match", &Impl::GridMatch, false, /*json_body=*/false);
  Add({"GET"}, "/grid/v1/stats", &Impl::GridStats);
  // MISP's short form /events/{id}; last, so that /events/add and friends win.
  Add({"GET", "HEAD"}, "/events/{id}", &Impl::EventsView);
}

net::Response Node::Impl::GetVersion(net::Request&, Call&) {
  json j = {{"version", options.misp_version},
            {"pymisp_recommended_version", options.misp_version},
            {"perm_sync", false},
            {"perm_sighting", true},
            {"perm_galaxy_editor", false},
            {"perm_analyst_data", false},
            {"uuid", "-"},
            {"request_encoding", json::array()},
            {"filter_sightings", true},
            {"iocgrid", {{"grid_api", "v1"}}}};
  return JsonResponse(j.dump());
}

net::Response Node::Impl::GetPyMispVersion(net::Request&, Call&) {
  return JsonResponse(json{{"version", options.misp_version}}.dump());
}

net::Response Node::Impl::ViewMe(net::Request&, Call& call) {
  const store::AuthContext& auth = call.auth;
  bool admin = auth.user.role == store::Role::kAdmin;
  json user = {{"id", std::to_string(auth.user.id)},
               {"org_id", std::to_string(auth.org.id)},
               {"server_id", "0"},
               {"email", auth.user.email},
               {"autoalert", false},
               {"invited_by", "0"},
               {"gpgkey", nullptr},
               {"certif_public", ""},
               {"nids_sid", "0"},
               {"termsaccepted", true},
               {"newsread", "0"},
               {"role_id", admin ? "1" : "3"},
               {"change_pw", "0"},
               {"contactalert", false},
               {"disabled", auth.user.disabled},
               {"expiration", nullptr},
               {"current_login", "0"},
               {"last_login", "0"},
               {"force_logout", false},
               {"date_created", std::to_string(auth.user.created)},
               {"date_modified", std::to_string(auth.user.created)}};
  json role = {{"id", admin ? "1" : "3"},
               {"name", admin ? "admin" : "User"},
               {"perm_add", admin},
               {"perm_modify", admin},
               {"perm_modify_org", admin},
               {"perm_publish", admin},
               {"perm_delegate", false},
               {"perm_sync", false},
               {"perm_admin", admin},
               {"perm_audit", admin},
               {"perm_auth", true},
               {"perm_site_admin", admin},
               {"perm_regexp_access", false},
               {"perm_tagger", admin},
               {"perm_template", false},
               {"perm_sharing_group", false},
               {"perm_tag_editor", admin},
               {"perm_sighting", true},
               {"perm_object_template", false},
               {"default_role", !admin},
               {"memory_limit", ""},
               {"max_execution_time", ""},
               {"restricted_to_site_admin", false},
               {"perm_publish_zmq", false},
               {"perm_publish_kafka", false},
               {"perm_decaying", false},
               {"enforce_rate_limit", false},
               {"rate_limit_count", "0"},
               {"perm_galaxy_editor", false},
               {"perm_warninglist", false},
               {"perm_view_feed_correlations", false},
               {"perm_analyst_data", false},
               {"permission", admin ? "3" : "1"},
               {"permission_description", admin ? "publish" : "read_only"}};
  json org = {{"id", std::to_string(auth.org.id)},
              {"name", auth.org.name},
              {"uuid", auth.org.uuid},
              {"local", auth.org.local}};
  json body = {{"User", user}, {"Role", role}, {"UserSetting", json::array()}, {"Organisation", org}};
  return JsonResponse(body.dump());
}

net::Response Node::Impl::DescribeTypes(net::Request&, Call&) {
  return JsonResponse(std::string(DescribeTypesJson()));
}

net::Response Node::Impl::AttributesRestSearch(net::Request& req, Call& call) {
  auto params = ParseRestSearch(req, /*refuse_empty_object=*/true, options.max_search_values);
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
    r.content_type = "text/plain; charset=UTF-8";
    r.headers.emplace_back("X-Response-Format", "txt");
    std::vector<std::string> seen;
    for (const auto& a : result->attributes) seen.push_back(a.value);
    std::sort(seen.begin(), seen.end());
    seen.erase(std::unique(seen.begin(), seen.end()), seen.end());
    for (const auto& v : seen) r.body += SanitizeUtf8(v) + "\n";  // valid UTF-8 on every API
    return r;
  }
  // csv
  r.content_type = "text/csv; charset=UTF-8";
  r.headers.emplace_back("X-Response-Format", "csv");
  std::vector<std::string> columns = params->requested_attributes;
  if (columns.empty()) {
    columns = {"uuid", "event_id", "category", "type", "value", "comment", "to_ids", "date",
               "object_relation", "attribute_tag", "object_uuid", "object_name",
               "object_meta_category"};
  }
  if (!params->headerless) {
    for (size_t i = 0; i < columns.size(); ++i) r.body += (i ? "," : "") + columns[i];
    r.body += "\n";
  }
  for (const auto& a : result->attributes) {
    const store::EventInfo* e = result->FindEvent(a.event_id);
    for (size_t i = 0; i < columns.size(); ++i) {
      const std::string& c = columns[i];
      std::string cell;
      if (c == "uuid") cell = a.uuid;
      else if (c == "event_id") cell = std::to_string(a.event_id);
      else if (c == "category") cell = a.category;
      else if (c == "type") cell = std::string(core::TypeName(a.type));
      else if (c == "value") cell = a.value;
      else if (c == "comment") cell = a.comment;
      else if (c == "to_ids") cell = a.to_ids ? "1" : "0";
      else if (c == "date" || c == "timestamp") cell = std::to_string(a.timestamp);
      else if (c == "object_relation") cell = a.object_relation;
      else if (c == "attribute_tag") {
        for (size_t t = 0; t < a.tags.size(); ++t) cell += (t ? "," : "") + a.tags[t].name;
      } else if (c == "event_info" && e) cell = e->info;
      else if (c == "event_uuid" && e) cell = e->uuid;
      else if (c == "event_date" && e) cell = e->date;
      r.body += (i ? "," : "") + CsvCell(cell);
    }
    r.body += "\n";
  }
  return r;
}

net::Response Node::Impl::EventsRestSearch(net::Request& req, Call& call) {
  auto params = ParseRestSearch(req, /*refuse_empty_object=*/false, options.max_search_values);
  if (!params.ok()) return *params.error;
  if (params->return_format != "json") return Error(404, "Invalid output format.", req);
  // Attribute-level filters choose the events; the events come back whole (misp-api.md 3.1).
  std::vector<int64_t> event_ids;
  bool attribute_filters = !(params->value.empty() && params->type.empty() &&
                             params->category.empty() && params->tags.empty() &&
                             !params->to_ids && params->uuid.empty() &&
                             params->object_relation.empty() && params->value1.empty() &&
                             params->value2.empty());
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
          event_ids.begin() + static_cast<std::ptrdiff_t>(
                                  std::min(event_ids.size(), start + params->limit)));
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
      for (auto& o : event->objects) std::erase_if(o.attributes, [&](const auto& a) { return !keep(a); });
    }
    WriteEvent(w, *event, params->metadata);
  }
  out += "]}";
  return r;
}

net::Response Node::Impl::EventResponse(std::string_view id, const net::Request& req,
                                        bool metadata) {
  auto event = store->GetEvent(id, store::GetEventOptions{});
  if (!event.ok()) {
    if (event.status().code() == StatusCode::kNotFound) return Error(404, "Invalid event", req);
    return StatusError(event.status(), req);
  }
  net::Response r;
  JsonWriter w(&r.body);
  WriteEvent(w, *event, metadata);
  return r;
}

net::Response Node::Impl::EventsView(net::Request& req, Call&) {
  const std::string& id = req.params["id"];
  store::GetEventOptions get_options;
  if (req.method == "POST" && !req.body.empty()) {
    auto body = ParseBody(req);
    if (!body.ok()) return Error(405, kInvalidJson, req);
    if (body->is_object() && body->contains("deleted")) {
      get_options.include_deleted = LooseBool((*body)["deleted"]).value_or(false);
    }
  }
  auto event = store->GetEvent(id, get_options);
  if (!event.ok()) {
    if (event.status().code() == StatusCode::kNotFound) return Error(404, "Invalid event", req);
    return StatusError(event.status(), req);
  }
  net::Response r;
  JsonWriter w(&r.body);
  WriteEvent(w, *event, false);
  return r;
}

net::Response Node::Impl::EventsAdd(net::Request& req, Call& call) {
  const store::AuthContext& auth = call.auth;
  auto body = ParseBody(req);
  if (!body.ok()) return Error(405, kInvalidJson, req);
  if (Status shape = CheckEventShape(*body); !shape.ok()) return StatusError(shape, req);
  auto event = ParseEventJson(*body, /*require_info=*/true);
  if (!event.ok()) {
    return SaveFail("Could not add Event", "Event", event.status(), req);
  }
  store::ImportOptions import_options;
  import_options.org = auth.org.name;
  auto id = store->AddEvent(*event, import_options);
  if (!id.ok()) {
    if (id.status().code() == StatusCode::kAlreadyExists) {
      net::Response r = Error(
          404,
          "Event already exists, if you would like to edit it, use the url in the location header.",
          req);
      r.headers.emplace_back("Location", "/events/view/" + event->uuid);
      return r;
    }
    if (id.status().code() == StatusCode::kInvalidArgument) {
      return SaveFail("Could not add Event", "Event", id.status(), req);
    }
    return StatusError(id.status(), req);
  }
  call.Note(event->attributes.size());
  Status fresh = Rebuild();
  if (!fresh.ok()) return StatusError(fresh, req);
  bool metadata = req.params.count("flag") && req.params["flag"] == "metadata:1";
  return EventResponse(std::to_string(*id), req, metadata);
}

net::Response Node::Impl::EventsEdit(net::Request& req, Call& call) {
  const store::AuthContext& auth = call.auth;
  auto body = ParseBody(req);
  if (!body.ok()) return Error(405, kInvalidJson, req);
  if (Status shape = CheckEventShape(*body); !shape.ok()) return StatusError(shape, req);
  auto event = ParseEventJson(*body, /*require_info=*/false);
  if (!event.ok()) {
    return SaveFail("Could not edit Event", "Event", event.status(), req);
  }
  store::ImportOptions import_options;
  import_options.org = auth.org.name;
  import_options.delete_missing = false;  // MISP events/edit: absent attributes stay
  auto stats = store->EditEvent(req.params["id"], *event, import_options);
  if (!stats.ok()) {
    if (stats.status().code() == StatusCode::kNotFound) return Error(404, "Invalid event", req);
    return StatusError(stats.status(), req);
  }
  call.Note(event->attributes.size());
  Status fresh = Rebuild();
  if (!fresh.ok()) return StatusError(fresh, req);
  return EventResponse(req.params["id"], req, false);
}

net::Response Node::Impl::EventsDelete(net::Request& req, Call& call) {
  const std::string& id = req.params["id"];
  auto event = store->GetEvent(id, store::GetEventOptions{});
  if (!event.ok()) return Error(404, "Invalid event", req);
  Status st = store->DeleteEvent(id, /*hard=*/true);
  if (!st.ok()) {
    if (st.code() == StatusCode::kNotFound) return Error(404, "Invalid event", req);
    return StatusError(st, req);
  }
  call.Note(0);
  Status fresh = Rebuild();
  if (!fresh.ok()) return StatusError(fresh, req);
  json body = {{"saved", true},
               {"success", true},
               {"name", "Event deleted."},
               {"message", "Event deleted."},
               {"url", req.path},
               {"id", std::to_string(event->event.id)}};
  return JsonResponse(body.dump());
}

net::Response Node::Impl::EventsPublish(net::Request& req, Call& call) {
  const std::string& id = req.params["id"];
  auto event = store->GetEvent(id, store::GetEventOptions{});
  if (!event.ok()) return Error(404, "Invalid event", req);
  Status st = store->PublishEvent(id);
  if (!st.ok()) return StatusError(st, req);
  call.Note(0);
  json body = {{"name", "Publish"},
               {"message", "Event published without alerts"},
               {"url", req.path},
               {"id", std::to_string(event->event.id)}};
  return JsonResponse(body.dump());
}

net::Response Node::Impl::EventsIndex(net::Request& req, Call& call) {
  json body = json::object();
  if (req.method == "POST" && req.body.find_first_not_of(" \t\r\n") != std::string::npos) {
    auto parsed = ParseBody(req);
    if (!parsed.ok()) return Error(405, kInvalidJson, req);
    if (!parsed->is_object()) return Error(400, "The filter parameters must be a JSON object.", req);
    body = std::move(*parsed);
  }
  store::EventQuery q;
  TermFilter f;
  auto terms = [&](const char* name, store::ListFilter* out) -> Status {
    if (!body.contains(name)) return Status();
    json sub = {{"value", body[name]}};
    auto p = ParseSearchParams(sub, Now());
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
  if (auto it = body.find("datefrom"); it != body.end() && it->is_string()) q.date_from = it->get<std::string>();
  if (auto it = body.find("dateuntil"); it != body.end() && it->is_string()) q.date_to = it->get<std::string>();
  {
    // limit and page as restSearch reads them: whole numbers >= 1, else 400.
    json paging = json::object();
    for (const char* k : {"limit", "page"}) {
      if (auto it = body.find(k); it != body.end()) paging[k] = *it;
    }
    auto p = ParseSearchParams(paging, Now());
    if (!p.ok()) return StatusError(p.status(), req);
    q.limit = p->limit;
    q.page = p->page;
  }
  if (auto it = body.find("direction"); it != body.end() && it->is_string()) q.descending = it->get<std::string>() == "desc";
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

net::Response Node::Impl::AttributesAdd(net::Request& req, Call& call) {
  auto body = ParseBody(req);
  if (!body.ok()) return Error(405, kInvalidJson, req);
  std::vector<ingest::Attribute> attributes;
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
  add_options.break_on_duplicate = !(req.params.count("flag") && req.params["flag"] == "breakOnDuplicate:0");
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
  if (sighting->is_object() && sighting->contains("Sighting") && (*sighting)["Sighting"].is_object()) {
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
  if (s.contains("value") && s["value"].is_string()) sr.values.push_back(s["value"].get<std::string>());
  if (s.contains("values") && s["values"].is_array()) {
    for (const json& v : s["values"]) {
      if (v.is_string()) sr.values.push_back(v.get<std::string>());
    }
  }
  CompressIpv6(&sr.values);
  if (s.contains("type")) {
    std::string t = s["type"].is_string() ? s["type"].get<std::string>() : s["type"].dump();
    if (t != "0" && t != "1" && t != "2") {
      return JsonResponse(json{{"message", "Could not add the Sighting. Reason: Invalid type."}}.dump());
    }
    sr.type = t[0] - '0';
  }
  if (s.contains("source") && s["source"].is_string()) sr.source = s["source"].get<std::string>();
  if (s.contains("timestamp") && !s["timestamp"].is_null()) {
    std::string t = s["timestamp"].is_string() ? s["timestamp"].get<std::string>() : s["timestamp"].dump();
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

net::Response Node::Impl::GridMatch(net::Request& req, Call& call) {
  std::shared_ptr<const IndexSnapshot> snap;
  {
    std::lock_guard<std::mutex> lock(snapshot_mu);
    snap = current;
  }
  RefreshIfStale(*snap);
  GridContext ctx{store.get(), std::move(snap), options.max_match_values, options.match_chunk};
  uint64_t count = 0;
  std::vector<std::string> audited;
  net::Response r = HandleGridMatch(req, ctx, &count, options.store.audit_values ? &audited : nullptr);
  call.Note(count, std::move(audited));
  return r;
}

net::Response Node::Impl::GridStats(net::Request& req, Call& call) {
  const store::AuthContext& auth = call.auth;
  auto stats = store->Stats();
  if (!stats.ok()) return StatusError(stats.status(), req);
  std::shared_ptr<const IndexSnapshot> snap;
  {
    std::lock_guard<std::mutex> lock(snapshot_mu);
    snap = current;
  }
  json by_type = json::object();
  for (const auto& [type, n] : stats->attributes_by_type) by_type[type] = n;
  json body = {{"events", stats->events},
               {"attributes", stats->attributes},
               {"objects", stats->objects},
               {"sightings", stats->sightings},
               {"attributes_by_type", by_type},
               {"first_timestamp", stats->first_timestamp},
               {"last_timestamp", stats->last_timestamp},
               {"first_date", stats->first_date},
               {"last_date", stats->last_date},
               {"last_import", stats->last_import},
               {"index_entries", snap && snap->index ? snap->index->size() : 0},
               {"index_bytes", snap && snap->index ? snap->index->MemoryUsage() + snap->index->ValueBytes() : 0},
               {"relations", {"exact", "component", "url-host", "subdomain", "in-range"}},
               {"org", auth.org.name}};
  call.Note(0);
  return JsonResponse(body.dump());
}

Node::Node(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Node::~Node() { impl_->StopBackground(); }

Result<std::unique_ptr<Node>> Node::Open(const NodeOptions& options) {
  auto impl = std::make_unique<Impl>();
  impl->options = options;
  IOCGRID_ASSIGN_OR_RETURN(impl->store, store::Store::Open(options.data_dir, options.store));
  IOCGRID_RETURN_IF_ERROR(impl->Rebuild());
  impl->Routes();
  impl->StartBackground();
  return std::unique_ptr<Node>(new Node(std::move(impl)));
}

net::Response Node::Handle(net::Request& request) { return impl_->router.Dispatch(request); }

std::optional<net::Response> Node::Admit(const net::Request& head, size_t* /*body_limit*/) {
  if (impl_->Authenticate(head).ok()) return std::nullopt;
  auto row = impl_->store->AppendAudit(impl_->AuditRow(head, nullptr, 403));
  if (!row.ok()) std::fprintf(stderr, "iocgrid node: audit: %s\n", row.status().ToString().c_str());
  bool ajax = head.Header("x-requested-with") == "XMLHttpRequest";
  return Error(403, ajax ? "Authentication failed." : kAuthFailed, head);
}

store::Store& Node::store() { return *impl_->store; }

std::shared_ptr<const IndexSnapshot> Node::snapshot() const {
  std::lock_guard<std::mutex> lock(impl_->snapshot_mu);
  return impl_->current;
}

Status Node::RefreshIndex() { return impl_->Rebuild(); }

}  // namespace iocgrid::node
