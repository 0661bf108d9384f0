// Sightings back to members (issue 11; docs/portal-api.md): an analyst confirms a search's hits
// (or marks them false positives) and the portal sends one sighting per hit to the member that
// holds it, through MISP's /sightings/add (federation/sightings.h), members in parallel. What
// was sent, and each member's answer, is kept beside the search.
#include "federation/sightings.h"

#include <algorithm>
#include <chrono>
#include <map>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "portal/internal/portal_impl.h"
#include "portal/internal/sighting_request.h"

namespace iocgrid::portal {

using internal::Error;
using internal::Json;

namespace {

using json = nlohmann::json;

// What goes to one member: its distinct values, and for each the indicators that hit it.
struct MemberBatch {
  std::vector<std::string> values;
  std::map<std::string, std::vector<uint32_t>> positions;    // value -> indicator positions
  std::vector<std::pair<uint32_t, std::string>> unsendable;  // (i, why), answered locally
};

// The member value a hit names: its `matched`, else (a member disclosing existence only) the
// indicator itself where the relation says the member holds that very value.
std::optional<std::string> HitValue(const json& indicator, const json& hit) {
  if (auto m = hit.find("matched"); m != hit.end() && m->is_string() && !m->empty()) {
    return m->get<std::string>();
  }
  const std::string relation = hit.value("relation", "");
  if (relation == "exact" || relation == "component") {
    if (auto n = indicator.find("normalized"); n != indicator.end() && n->is_string()) {
      return n->get<std::string>();
    }
  }
  return std::nullopt;
}

void AddHit(const json& indicator, const json& hit, uint32_t i, MemberBatch* batch) {
  std::optional<std::string> value = HitValue(indicator, hit);
  if (!value) {
    batch->unsendable.emplace_back(
        i, "the member disclosed no value for this " + hit.value("relation", std::string("?")) +
               " hit (its disclosure is existence only), so there is nothing to sight");
    return;
  }
  auto [it, fresh] = batch->positions.try_emplace(*value);
  if (fresh) batch->values.push_back(*value);
  it->second.push_back(i);
}

// Groups the chosen hits of search document `d` by member. Errors: kInvalidArgument naming a
// pick that is no hit of the search.
Result<std::map<std::string, MemberBatch>> Collect(const json& d,
                                                   const internal::ParsedSightings& request) {
  std::map<std::string, MemberBatch> out;
  const json empty = json::array();
  const json& indicators = d.contains("indicators") ? d["indicators"] : empty;
  if (request.all) {
    for (const json& ind : indicators) {
      if (!ind.contains("hits") || !ind["hits"].is_array()) continue;
      const auto i = ind.value("i", uint32_t{0});
      for (const json& hit : ind["hits"]) AddHit(ind, hit, i, &out[hit.value("member", "")]);
    }
    if (out.empty()) return InvalidArgumentError("'hits': the search has no hit to sight.");
    return out;
  }
  for (size_t n = 0; n < request.picks.size(); ++n) {
    const internal::SightingPick& pick = request.picks[n];
    const json* ind = pick.i < indicators.size() ? &indicators[pick.i] : nullptr;
    bool found = false;
    if (ind != nullptr && ind->contains("hits") && (*ind)["hits"].is_array()) {
      for (const json& hit : (*ind)["hits"]) {
        if (hit.value("member", "") != pick.member) continue;
        AddHit(*ind, hit, pick.i, &out[pick.member]);
        found = true;
      }
    }
    if (!found) {
      return InvalidArgumentError("'hits[" + std::to_string(n) + "]': indicator " +
                                  std::to_string(pick.i) + " has no hit of member '" +
                                  pick.member.substr(0, 64) + "' in this search.");
    }
  }
  return out;
}

using Answers = std::vector<std::pair<std::string, std::vector<federation::SightingResult>>>;

// Sends each member's batch, members in parallel (each sequential over its batches); a member
// no longer configured is refused for each value without a request.
Answers SendToMembers(const std::map<std::string, MemberBatch>& batches,
                      const std::map<std::string, federation::MemberConfig>& configs,
                      federation::SightingType type, const std::string& source,
                      std::chrono::steady_clock::time_point deadline) {
  Answers answers(batches.size());
  std::vector<std::jthread> workers;
  size_t slot = 0;
  for (const auto& entry : batches) {
    auto& answer = answers[slot++];
    answer.first = entry.first;
    const MemberBatch& batch = entry.second;
    auto it = configs.find(entry.first);
    if (it == configs.end()) {
      for (const std::string& v : batch.values) {
        answer.second.push_back({v, federation::SightingOutcome::kRefused,
                                 "the member is no longer in the portal's config"});
      }
      continue;
    }
    const federation::MemberConfig& cfg = it->second;
    workers.emplace_back([&answer, &batch, &cfg, type, &source, deadline] {
      answer.second = federation::SendSightings(cfg, batch.values, type, source, deadline);
    });
  }
  return answers;  // the workers join first
}

// The answer of POST .../sightings for one member ({"member", "sent", "refused", "failed",
// "reasons"}), its rows appended to `rows` (each value once per indicator that hit it).
json MemberSummary(const std::string& member,
                   const std::vector<federation::SightingResult>& results, const MemberBatch& batch,
                   const SentSighting& base, std::vector<SentSighting>* rows) {
  uint64_t counts[3] = {0, 0, 0};
  json reasons = json::array();
  auto record = [&](uint32_t i, const std::string& value, federation::SightingOutcome outcome,
                    const std::string& reason) {
    ++counts[static_cast<int>(outcome)];
    if (!reason.empty() && reasons.size() < 10 &&
        std::find(reasons.begin(), reasons.end(), reason) == reasons.end()) {
      reasons.push_back(reason);
    }
    SentSighting row = base;
    row.member = member;
    row.i = i;
    row.value = value;
    row.outcome = std::string(federation::SightingOutcomeName(outcome));
    row.reason = reason;
    rows->push_back(std::move(row));
  };
  for (const federation::SightingResult& r : results) {
    for (uint32_t i : batch.positions.at(r.value)) record(i, r.value, r.outcome, r.reason);
  }
  for (const auto& [i, why] : batch.unsendable) {
    record(i, "", federation::SightingOutcome::kRefused, why);
  }
  return {{"member", member},
          {"sent", counts[0]},
          {"refused", counts[1]},
          {"failed", counts[2]},
          {"reasons", std::move(reasons)}};
}

}  // namespace

net::Response Portal::Impl::SendSightings(net::Request& req, const PortalUser& user) {
  const std::string id = req.params["id"];
  auto d = Document(id, user);
  if (!d.ok()) return Error(404, "Invalid search", req);
  auto request = internal::ParseSightingRequest(req.body);
  if (!request.ok()) return Error(400, request.status().message(), req);
  auto batches = Collect(*d, *request);
  if (!batches.ok()) return Error(400, batches.status().message(), req);

  const std::string source = request->source.value_or(user.org);
  std::map<std::string, federation::MemberConfig> configs;
  for (const federation::MemberConfig& m : config.members) configs.emplace(m.name, m);
  const Answers answers = SendToMembers(*batches, configs, request->type, source,
                                        std::chrono::steady_clock::now() + config.search_timeout);

  std::vector<SentSighting> rows;
  json members = json::array();
  SentSighting base;
  base.search_id = id;
  base.created = config.clock.Now();
  base.user = user.name;
  base.type = std::string(federation::SightingTypeName(request->type));
  for (const auto& [member, results] : answers) {
    auto it = configs.find(member);
    base.source = it != configs.end() && it->second.hide_sighting_source ? "" : source;
    members.push_back(MemberSummary(member, results, batches->at(member), base, &rows));
  }
  if (Status st = store->InsertSentSightings(rows); !st.ok()) {
    return Error(500, "The sightings went out but could not be recorded: " + st.ToString(), req);
  }
  json sightings = json::array();
  for (const SentSighting& r : rows) {
    sightings.push_back({{"i", r.i},
                         {"member", r.member},
                         {"value", r.value},
                         {"outcome", r.outcome},
                         {"reason", r.reason}});
  }
  return Json({{"type", base.type},
               {"source", source},
               {"members", std::move(members)},
               {"sightings", std::move(sightings)}});
}

net::Response Portal::Impl::ListSentSightings(net::Request& req, const PortalUser& user) {
  const std::string id = req.params["id"];
  if (auto d = Document(id, user); !d.ok()) return Error(404, "Invalid search", req);
  auto rows = store->ListSentSightings(id);
  if (!rows.ok()) return Error(500, rows.status().ToString(), req);
  json out = json::array();
  for (const SentSighting& r : *rows) {
    out.push_back({{"created", r.created},
                   {"user", r.user},
                   {"type", r.type},
                   {"source", r.source},
                   {"member", r.member},
                   {"i", r.i},
                   {"value", r.value},
                   {"outcome", r.outcome},
                   {"reason", r.reason}});
  }
  return Json(out);
}

}  // namespace iocgrid::portal
