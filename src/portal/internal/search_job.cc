#include "portal/internal/search_job.h"

#include <cstdlib>
#include <ctime>

#include "common/time.h"

namespace iocgrid::portal::internal {

using json = nlohmann::json;

std::vector<std::string> RelationNames(index::RelationMask mask) {
  std::vector<std::string> out;
  for (int r = 0; r < index::kRelationCount; ++r) {
    if (mask & (1u << r)) out.emplace_back(index::RelationName(static_cast<index::Relation>(r)));
  }
  return out;
}

namespace {

// The day of a date or date-time ("2019-03-01", "2026-04-01T00:00:00Z") as unix seconds at
// midnight UTC; 0 when there is none. Day granularity is what the time-gap flag compares.
int64_t DayOf(const std::string& text) {
  if (text.size() < 10) return 0;
  auto t = ParseIsoDateTime(std::string_view(text).substr(0, 10));
  return t.ok() ? *t : 0;
}

// The member data's own time for a hit: last seen, else first seen, else the event date, else
// the attribute timestamp.
int64_t HitTime(const federation::MemberHit& h) {
  for (const std::string* s : {&h.last_seen, &h.first_seen, &h.event_date}) {
    if (int64_t t = DayOf(*s)) return t;
  }
  return h.timestamp;
}

}  // namespace

SearchJob::SearchJob(SearchMeta meta, SearchInput input,
                     std::vector<federation::MemberConfig> members)
    : meta_(std::move(meta)), input_(std::move(input)) {
  for (auto& m : members) {
    MemberState state;
    state.config = std::move(m);
    members_.push_back(std::move(state));
  }
  hits_.resize(input_.indicators.size());
  held_by_.assign(input_.indicators.size(), std::vector<bool>(members_.size(), false));
  for (const std::string& d : input_.dates) input_times_.push_back(DayOf(d));
  MutexLock lock(mu_);
  AppendEvent("progress", ProgressJson());
}

void SearchJob::AppendEvent(const std::string& name, const json& data) {
  events_ += "event: " + name +
             "\ndata: " + data.dump(-1, ' ', false, json::error_handler_t::replace) + "\n\n";
  for (const auto& wake : wakers_) wake();  // each only posts to the server's io thread
}

void SearchJob::AddWaker(std::function<void()> wake) {
  MutexLock lock(mu_);
  wakers_.push_back(std::move(wake));
}

json SearchJob::MemberJson(const MemberState& m) const {
  return {{"member", m.config.name},
          {"display_name", m.config.display_name},
          {"sector", m.config.sector},
          {"kind", federation::MemberKindName(m.config.kind)},
          {"disclosure", federation::DisclosureName(m.config.disclosure)},
          {"status", federation::MemberStatusName(m.status)},
          {"error", m.error},
          {"elapsed_ms", m.elapsed_ms},
          {"hits",
           m.config.disclosure == federation::Disclosure::kCount ? json(nullptr) : json(m.hits)},
          {"relations", RelationNames(m.relations)}};
}

json SearchJob::ProgressJson() const {
  size_t done = 0;
  for (const auto& m : members_) {
    done += m.status != federation::MemberStatus::kQueued &&
            m.status != federation::MemberStatus::kRunning;
  }
  return {{"members_total", members_.size()}, {"members_done", done}, {"hits", total_hits_}};
}

json SearchJob::HitJson(const Hit& h) const {
  const auto& m = members_[h.member].config;
  json j = {{"member", m.name}, {"relation", index::RelationName(h.hit.relation)}};
  // A private member's labels carry what its own settings disclose: shown as they came.
  if (m.disclosure == federation::Disclosure::kFull ||
      m.disclosure == federation::Disclosure::kPrivate) {
    j["matched"] = h.hit.matched;
    j["type"] = h.hit.type;
    j["category"] = h.hit.category;
    j["to_ids"] = h.hit.to_ids;
    j["comment"] = h.hit.comment;
    j["event_uuid"] = h.hit.event_uuid;
    j["event_info"] = h.hit.event_info;
    j["event_date"] = h.hit.event_date;
    j["org"] = h.hit.org;
    j["tags"] = h.hit.tags;
    j["first_seen"] = h.hit.first_seen;
    j["last_seen"] = h.hit.last_seen;
    j["sightings"] = h.hit.sightings;
    j["time_gap"] = h.time_gap;
  }
  return j;
}

json SearchJob::SummaryJson() const {
  json by_member = json::object(), by_type = json::object(), by_relation = json::object();
  uint64_t matched = 0;
  for (size_t i = 0; i < hits_.size(); ++i) {
    bool any = false;
    for (size_t m = 0; m < members_.size(); ++m) any |= held_by_[i][m];
    if (!any) continue;
    ++matched;
    std::string type(core::TypeName(input_.indicators[i].type));
    by_type[type] = by_type.value(type, 0) + 1;
    for (const Hit& h : hits_[i]) {
      const std::string& name = members_[h.member].config.name;
      by_member[name] = by_member.value(name, 0) + 1;
      std::string rel(index::RelationName(h.hit.relation));
      by_relation[rel] = by_relation.value(rel, 0) + 1;
    }
  }
  return {{"indicators", input_.indicators.size()},
          {"invalid", input_.invalid.size()},
          {"matched", matched},
          {"hits", total_hits_},
          {"by_member", by_member},
          {"by_type", by_type},
          {"by_relation", by_relation}};
}

void SearchJob::OnStatus(const std::string& member, federation::MemberStatus status) {
  MutexLock lock(mu_);
  for (auto& m : members_) {
    if (m.config.name != member) continue;
    m.status = status;
    AppendEvent("member", MemberJson(m));
  }
}

void SearchJob::OnReply(federation::MemberReply reply) {
  MutexLock lock(mu_);
  size_t idx = members_.size();
  for (size_t i = 0; i < members_.size(); ++i) {
    if (members_[i].config.name == reply.member) idx = i;
  }
  if (idx == members_.size()) return;
  MemberState& m = members_[idx];
  m.status = reply.status;
  m.error = reply.error;
  m.elapsed_ms = reply.elapsed_ms;
  m.relations = reply.relations;
  const int64_t gap = int64_t{meta_.time_gap_days} * 86400;
  json by_indicator = json::object();
  for (auto& h : reply.hits) {
    if (h.query >= hits_.size()) continue;
    uint32_t q = h.query;
    held_by_[q][idx] = true;
    // A count member contributes to held_by only: its rows are never counted anywhere
    // (summary, progress, events, history), or a /24 query would reveal how many of its
    // addresses it holds.
    if (m.config.disclosure == federation::Disclosure::kCount) continue;
    ++m.hits;
    ++total_hits_;
    Hit hit{idx, std::move(h), false};
    int64_t own = input_times_.size() > q ? input_times_[q] : 0;
    int64_t theirs = HitTime(hit.hit);
    hit.time_gap = own > 0 && theirs > 0 && gap > 0 && std::llabs(own - theirs) > gap;
    by_indicator[std::to_string(q)].push_back(HitJson(hit));
    hits_[q].push_back(std::move(hit));
  }
  AppendEvent("member", MemberJson(m));
  if (!by_indicator.empty()) {
    json indicators = json::array();
    for (auto& [q, list] : by_indicator.items()) {
      indicators.push_back({{"i", std::strtoull(q.c_str(), nullptr, 10)}, {"hits", list}});
    }
    AppendEvent("hits", {{"member", m.config.name}, {"indicators", indicators}});
  }
  AppendEvent("progress", ProgressJson());
}

void SearchJob::OnDone() {
  MutexLock lock(mu_);
  done_ = true;
  elapsed_ms_ = std::chrono::duration_cast<std::chrono::milliseconds>(
                    std::chrono::steady_clock::now() - started_)
                    .count();
  AppendEvent("done", SummaryJson());
}

void SearchJob::MarkInterrupted(std::string reason) {
  MutexLock lock(mu_);
  interrupted_ = std::move(reason);
}

std::string SearchJob::status() const {
  MutexLock lock(mu_);
  if (!done_) return "running";
  return interrupted_.empty() ? "done" : "interrupted";
}

bool SearchJob::done() const {
  MutexLock lock(mu_);
  return done_;
}

bool SearchJob::FinalDocument(std::string* out) const {
  MutexLock lock(mu_);
  if (final_document_.empty()) return false;
  *out = final_document_;
  return true;
}

bool SearchJob::has_final_document() const {
  MutexLock lock(mu_);
  return !final_document_.empty();
}

void SearchJob::SetFinalDocument(std::string document) {
  MutexLock lock(mu_);
  final_document_ = std::move(document);
}

uint64_t SearchJob::hit_count() const {
  MutexLock lock(mu_);
  return total_hits_;
}

json SearchJob::Document() const {
  MutexLock lock(mu_);
  json d;
  d["id"] = meta_.id;
  d["label"] = meta_.label;
  d["tlp"] = meta_.tlp;
  d["owner"] = meta_.owner;
  d["shared"] = meta_.shared;
  d["created"] = meta_.created;
  d["status"] = !done_ ? "running" : interrupted_.empty() ? "done" : "interrupted";
  if (!interrupted_.empty()) d["interrupted"] = interrupted_;
  // The scope actually applied, as absolute times (also in "request").
  json scope = json::object();
  for (const char* k : {"since", "until"}) {
    if (meta_.request.is_object() && meta_.request.contains(k)) scope[k] = meta_.request[k];
  }
  d["scope"] = scope;
  d["time_gap_days"] = meta_.time_gap_days;
  if (!meta_.sift_id.empty()) d["sift"] = meta_.sift_id;
  if (meta_.request.is_object()) d["request"] = meta_.request;
  d["elapsed_ms"] = done_ ? elapsed_ms_
                          : std::chrono::duration_cast<std::chrono::milliseconds>(
                                std::chrono::steady_clock::now() - started_)
                                .count();
  d["progress"] = ProgressJson();
  json members = json::array();
  for (const auto& m : members_) members.push_back(MemberJson(m));
  d["members"] = members;
  json indicators = json::array();
  for (size_t i = 0; i < input_.indicators.size(); ++i) {
    size_t held = 0;
    for (bool b : held_by_[i]) held += b;
    json hits = json::array();
    for (const Hit& h : hits_[i]) hits.push_back(HitJson(h));
    indicators.push_back({{"i", i},
                          {"value", input_.raw[i]},
                          {"type", core::TypeName(input_.indicators[i].type)},
                          {"normalized", input_.indicators[i].value},
                          {"date", input_.dates.size() > i ? input_.dates[i] : ""},
                          {"held_by", held},
                          {"hits", hits}});
  }
  d["indicators"] = indicators;
  json invalid = json::array();
  for (const auto& [v, e] : input_.invalid) invalid.push_back({{"value", v}, {"error", e}});
  d["invalid"] = invalid;
  d["summary"] = SummaryJson();
  return d;
}

std::string SearchJob::EventLog() const {
  MutexLock lock(mu_);
  return events_;
}

bool SearchJob::NextEvents(size_t* cursor, std::string* out) {
  MutexLock lock(mu_);
  if (*cursor < events_.size()) {
    out->append(events_, *cursor, std::string::npos);
    *cursor = events_.size();
  }
  return !(done_ && *cursor >= events_.size());
}

}  // namespace iocgrid::portal::internal
