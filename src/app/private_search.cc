#include "app/private_search.h"

#include <algorithm>
#include <chrono>
#include <map>
#include <utility>

#include "common/mutex.h"
#include "federation/federation.h"

namespace iocgrid::app {
namespace {

using json = nlohmann::json;

// The portal's private members, as relay endpoints this machine's querier talks to.
Result<std::vector<federation::MemberConfig>> PrivateMembers(const PortalConnection& portal,
                                                             const PrivateSearchInput& input) {
  IOCGRID_ASSIGN_OR_RETURN(net::ClientResponse r, PortalCall(portal, "GET", "/api/v1/members"));
  if (r.status != 200) return UnavailableError(PortalApiError(r));
  json list = json::parse(r.body, nullptr, false);
  if (!list.is_array()) return DataLossError("the portal's member list is not a JSON array");
  std::vector<federation::MemberConfig> out;
  std::vector<std::string> not_private;
  for (const json& m : list) {
    if (!m.is_object() || !m.value("enabled", false)) continue;
    const std::string name = m.value("name", "");
    const bool named =
        std::find(input.members.begin(), input.members.end(), name) != input.members.end();
    if (!input.members.empty() && !named) continue;
    if (m.value("disclosure", "") != "private") {
      if (named) not_private.push_back(name);
      continue;
    }
    federation::MemberConfig c;
    c.name = name;
    c.display_name = m.value("display_name", name);
    c.kind = federation::MemberKind::kIocgrid;
    c.url = portal.url + "/api/v1/private/" + name;
    c.key = portal.key;
    c.disclosure = federation::Disclosure::kPrivate;
    if (!federation::ParsePsiMode(m.value("psi_mode", "full-set"), &c.psi_mode)) {
      return DataLossError("the portal names an unknown psi_mode for member " + name);
    }
    c.ca_file = portal.ca_file;
    c.verify_tls = !portal.insecure;
    c.timeout = std::chrono::seconds(input.timeout_s);
    out.push_back(std::move(c));
  }
  if (!not_private.empty()) {
    return InvalidArgumentError("member " + not_private.front() +
                                " does not answer private searches: search it without --private");
  }
  if (out.empty()) {
    return InvalidArgumentError(input.members.empty()
                                    ? "the portal lists no private member: search without --private"
                                    : "no member named in --members is in the portal's list");
  }
  return out;
}

json HitJson(const federation::MemberReply& reply, const federation::MemberHit& h) {
  return {{"member", reply.member},
          {"relation", index::RelationName(h.relation)},
          {"matched", h.matched},
          {"type", h.type},
          {"category", h.category},
          {"event_info", h.event_info},
          {"event_date", h.event_date},
          {"first_seen", h.first_seen},
          {"last_seen", h.last_seen},
          {"to_ids", h.to_ids},
          {"tags", h.tags},
          {"time_gap", false}};
}

// The replies as the portal's search document (the fields `iocgrid search` prints).
json Document(const PrivateSearchInput& input, const std::vector<federation::MemberReply>& all) {
  json indicators = json::array();
  for (size_t i = 0; i < input.queries.size(); ++i) {
    const core::Indicator& q = input.queries[i];
    indicators.push_back({{"value", i < input.written.size() ? input.written[i] : q.value},
                          {"type", core::TypeName(q.type)},
                          {"held_by", 0},
                          {"hits", json::array()}});
  }
  json members = json::array();
  uint64_t hits = 0;
  for (const federation::MemberReply& reply : all) {
    std::vector<bool> held(input.queries.size(), false);
    for (const federation::MemberHit& h : reply.hits) {
      if (h.query >= input.queries.size()) continue;
      indicators[h.query]["hits"].push_back(HitJson(reply, h));
      held[h.query] = true;
    }
    for (size_t i = 0; i < held.size(); ++i) {
      if (held[i]) indicators[i]["held_by"] = indicators[i]["held_by"].get<int>() + 1;
    }
    hits += reply.hits.size();
    members.push_back({{"member", reply.member},
                       {"status", federation::MemberStatusName(reply.status)},
                       {"error", reply.error},
                       {"elapsed_ms", reply.elapsed_ms},
                       {"hits", reply.hits.size()}});
  }
  uint64_t matched = 0;
  for (const json& i : indicators) matched += i["held_by"].get<int>() > 0;
  return {{"indicators", std::move(indicators)},
          {"members", std::move(members)},
          {"progress", {{"members_total", all.size()}}},
          {"summary", {{"hits", hits}, {"matched", matched}, {"indicators", input.queries.size()}}},
          {"invalid", json::array()}};
}

}  // namespace

Result<json> RunPrivateSearch(const PortalConnection& portal, const PrivateSearchInput& input) {
  IOCGRID_ASSIGN_OR_RETURN(std::vector<federation::MemberConfig> members,
                           PrivateMembers(portal, input));
  IOCGRID_ASSIGN_OR_RETURN(auto fed, federation::Federation::Create(members, {}));
  federation::SearchRequest request;
  request.indicators = input.queries;
  request.relations = input.relations;
  request.since = input.since;
  request.until = input.until;
  request.deadline = std::chrono::steady_clock::now() + std::chrono::seconds(input.timeout_s);
  // Replies arrive on the federation's dispatcher thread; Wait() returns after the last.
  Mutex mu;
  std::map<std::string, federation::MemberReply> replies;
  federation::SearchCallbacks callbacks;
  callbacks.on_reply = [&](federation::MemberReply reply) {
    MutexLock lock(mu);
    std::string name = reply.member;
    replies.emplace(std::move(name), std::move(reply));
  };
  fed->Search(std::move(request), std::move(callbacks))->Wait();
  std::vector<federation::MemberReply> ordered;
  for (const federation::MemberConfig& m : members) {
    if (auto it = replies.find(m.name); it != replies.end())
      ordered.push_back(std::move(it->second));
  }
  return Document(input, ordered);
}

}  // namespace iocgrid::app
