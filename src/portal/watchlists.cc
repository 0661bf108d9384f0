// Watchlists (issue 11; docs/portal-api.md "Watchlists"): an analyst's standing search. The
// watcher thread re-runs each one at least every `interval`, and as soon as a member it asks
// changes its data (federation/changes.h, checked every watch_poll_seconds). A run is an
// ordinary search (the same parsing, members and disclosure) kept in memory, not in the
// history; its hits are compared with the previous run's: new and removed hits go out as one
// `watchlist.hits` event to the watchlist's event streams and, signed, to its webhook, through
// a delivery queue in the store that the deliverer thread works off (webhooks.cc).
#include <algorithm>
#include <chrono>
#include <future>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "common/time.h"
#include "federation/changes.h"
#include "portal/internal/portal_impl.h"
#include "portal/internal/watchlist_request.h"

namespace iocgrid::portal {

using internal::Error;
using internal::Json;

namespace {

using json = nlohmann::json;

constexpr size_t kFeedEvents = 100;

// The hits of a search document as a watchlist keeps them: one object per hit row with the
// indicator it is for, and a key that names it across runs.
json HitsOf(const json& doc) {
  json out = json::array();
  if (!doc.contains("indicators") || !doc["indicators"].is_array()) return out;
  for (const json& ind : doc["indicators"]) {
    if (!ind.contains("hits") || !ind["hits"].is_array()) continue;
    for (const json& hit : ind["hits"]) {
      json h = hit;
      h["indicator"] = ind.value("value", "");
      h["indicator_type"] = ind.value("type", "");
      h["normalized"] = ind.value("normalized", "");
      h["key"] = ind.value("normalized", "") + "|" + hit.value("member", "") + "|" +
                 hit.value("relation", "") + "|" + hit.value("matched", "");
      out.push_back(std::move(h));
    }
  }
  return out;
}

// Members asked this run that did not answer: each keeps its previous hits (neither removed
// now nor new again later). A member no longer asked loses them.
std::set<std::string> SilentMembers(const json& doc) {
  std::set<std::string> out;
  for (const json& m : doc.value("members", json::array())) {
    if (m.value("status", "") != "done") out.insert(m.value("member", ""));
  }
  return out;
}

struct Diff {
  json current = json::array();
  json added = json::array();
  json removed = json::array();
};

// `now_ms` stamps the hits seen for the first time ("added": when a TAXII client could first
// fetch them); hits seen before keep their stamp.
Diff Compare(const json& previous, const json& fresh, const std::set<std::string>& silent,
             int64_t now_ms) {
  Diff d;
  std::map<std::string, int64_t> before;
  std::set<std::string> now;
  for (const json& h : previous) before[h.value("key", "")] = h.value("added", now_ms);
  for (json h : fresh) {
    const std::string key = h.value("key", "");
    now.insert(key);
    auto it = before.find(key);
    h["added"] = it == before.end() ? now_ms : it->second;
    if (it == before.end()) d.added.push_back(h);
    d.current.push_back(std::move(h));
  }
  for (const json& h : previous) {
    if (now.count(h.value("key", ""))) continue;
    if (silent.count(h.value("member", ""))) {
      d.current.push_back(h);  // its member did not answer: kept as it was
      now.insert(h.value("key", ""));
    } else {
      d.removed.push_back(h);
    }
  }
  return d;
}

// A run of `row` starting now.
WatchRunRow StartRun(const WatchlistRow& row, int64_t started, const std::string& reason) {
  WatchRunRow run;
  run.watchlist_id = row.id;
  run.started = started;
  run.reason = reason;
  return run;
}

// The run's end: its status and what changed.
void EndRun(const Diff& diff, const std::string& status, int64_t now, WatchRunRow* run) {
  run->finished = now;
  run->status = status;
  run->hits = diff.current.size();
  run->new_hits = diff.added.dump(-1, ' ', false, json::error_handler_t::replace);
  run->removed_hits = diff.removed.dump(-1, ' ', false, json::error_handler_t::replace);
}

bool News(const Diff& diff) { return !diff.added.empty() || !diff.removed.empty(); }

json RequestOf(const WatchlistRow& row) {
  json r = json::parse(row.request, nullptr, false);
  return r.is_object() ? r : json::object();
}

// What GET /api/v1/watchlists shows of one (never the secret).
json Summary(const WatchlistRow& row) {
  json hits = json::parse(row.hits, nullptr, false);
  json request = RequestOf(row);
  return {{"id", row.id},
          {"name", row.name},
          {"owner", row.owner},
          {"created", row.created},
          {"updated", row.updated},
          {"interval_s", row.interval_s},
          {"webhook", row.webhook},
          {"secret_set", !row.secret.empty()},
          {"last_run", row.last_run},
          {"hits", hits.is_array() ? hits.size() : 0},
          {"indicators", request.contains("indicators") && request["indicators"].is_array()
                             ? request["indicators"].size()
                             : 0},
          {"members", request.value("members", json::array())},
          {"kind", request.contains("rising") ? "rising" : "search"},
          {"rising", request.value("rising", json(nullptr))}};
}

json RunJson(const WatchRunRow& r) {
  auto parse = [](const std::string& s) {
    json j = json::parse(s, nullptr, false);
    return j.is_discarded() ? json::array() : j;
  };
  return {{"id", r.id},
          {"started", r.started},
          {"finished", r.finished},
          {"reason", r.reason},
          {"status", r.status},
          {"hits", r.hits},
          {"new", parse(r.new_hits)},
          {"removed", parse(r.removed_hits)},
          {"members", parse(r.members)}};
}

// ?limit=N (1-1000, default 50). Errors: kInvalidArgument.
Result<size_t> LimitParam(const net::Request& req) {
  std::string text = req.QueryParam("limit");
  if (text.empty()) return size_t{50};
  size_t n = 0;
  for (char ch : text) {
    if (ch < '0' || ch > '9' || n > 1000) return InvalidArgumentError("'limit' must be 1-1000.");
    n = n * 10 + static_cast<size_t>(ch - '0');
  }
  if (n < 1 || n > 1000) return InvalidArgumentError("'limit' must be 1-1000.");
  return n;
}

}  // namespace

// ---- HTTP ---------------------------------------------------------------------------------

std::optional<net::Response> Portal::Impl::RefuseInternalWebhook(const std::string& url,
                                                                 const net::Request& req) {
  if (url.empty() || config.watch.allow_internal_webhooks || !internal::WebhookIsInternal(url)) {
    return std::nullopt;
  }
  return Error(400,
               "'webhook' points into the portal's own network (a loopback, private or link-local "
               "address, or a local name); an admin can allow that with webhook_allow_internal = "
               "true.",
               req);
}

Result<WatchlistRow> Portal::Impl::VisibleWatchlist(const std::string& id, const PortalUser& user) {
  auto row = store->GetWatchlist(id);
  if (!row.ok() || (row->owner != user.name && user.role != Role::kAdmin)) {
    return NotFoundError("no watchlist " + id);
  }
  return row;
}

net::Response Portal::Impl::CreateWatchlist(net::Request& req, const PortalUser& user) {
  auto fields = internal::ParseWatchlistRequest(req.body, /*patch=*/false);
  if (!fields.ok()) return Error(400, fields.status().message(), req);
  const int64_t interval = fields->interval_s.value_or(900);
  if (interval < config.watch.min_interval_s) {
    return Error(400,
                 "'interval' must be at least " + std::to_string(config.watch.min_interval_s) +
                     " seconds on this portal (min_watch_interval_seconds).",
                 req);
  }
  if (auto refused = RefuseInternalWebhook(fields->webhook.value_or(""), req)) return *refused;
  std::string request;
  if (fields->rising) {
    request = json({{"rising", *fields->rising}}).dump();
  } else {
    auto prepared = PrepareSearch(fields->search.dump(), user);
    if (!prepared.ok()) {
      int status = prepared.status().code() == StatusCode::kResourceExhausted ? 413 : 400;
      return Error(status, prepared.status().message(), req);
    }
    request = prepared->meta.request.dump(-1, ' ', false, json::error_handler_t::replace);
  }
  auto all = store->ListWatchlists();
  if (!all.ok()) return net::ErrorResponse(all.status(), req.path);
  const auto mine = std::count_if(all->begin(), all->end(),
                                  [&](const WatchlistRow& w) { return w.owner == user.name; });
  if (mine >= config.watch.max_per_user) {
    return Error(429,
                 "You keep " + std::to_string(mine) +
                     " watchlists, the most this portal allows (max_watchlists_per_user); "
                     "delete one first.",
                 req);
  }
  WatchlistRow row;
  row.id = internal::NewId();
  row.owner = user.name;
  row.name = *fields->name;
  row.request = std::move(request);
  row.webhook = fields->webhook.value_or("");
  row.secret = fields->secret.value_or("");
  row.interval_s = interval;
  row.created = row.updated = config.clock.Now();
  if (Status st = store->InsertWatchlist(row); !st.ok()) {
    return net::ErrorResponse(st, req.path);
  }
  {
    MutexLock lock(watch_mu);
    watch_now[row.id] = "created";
  }
  watch_cv.SignalAll();
  return Json({{"id", row.id}, {"url", "/api/v1/watchlists/" + row.id}}, 201);
}

net::Response Portal::Impl::ListWatchlists(net::Request& req, const PortalUser& user) {
  auto all = store->ListWatchlists();
  if (!all.ok()) return net::ErrorResponse(all.status(), req.path);
  json out = json::array();
  for (const WatchlistRow& w : *all) {
    if (w.owner == user.name || user.role == Role::kAdmin) out.push_back(Summary(w));
  }
  return Json(out);
}

net::Response Portal::Impl::GetWatchlist(net::Request& req, const PortalUser& user) {
  auto row = VisibleWatchlist(req.params["id"], user);
  if (!row.ok()) return Error(404, "Invalid watchlist", req);
  json out = Summary(*row);
  out["request"] = RequestOf(*row);
  json hits = json::parse(row->hits, nullptr, false);
  out["current_hits"] = hits.is_array() ? hits : json::array();
  return Json(out);
}

net::Response Portal::Impl::PatchWatchlist(net::Request& req, const PortalUser& user) {
  auto row = VisibleWatchlist(req.params["id"], user);
  if (!row.ok()) return Error(404, "Invalid watchlist", req);
  auto fields = internal::ParseWatchlistRequest(req.body, /*patch=*/true);
  if (!fields.ok()) return Error(400, fields.status().message(), req);
  if (fields->name) row->name = *fields->name;
  if (fields->secret) row->secret = *fields->secret;
  if (fields->webhook) {
    if (auto refused = RefuseInternalWebhook(*fields->webhook, req)) return *refused;
    row->webhook = *fields->webhook;
  }
  if (!row->webhook.empty() && row->secret.empty()) {
    return Error(400, "'secret' is required with a webhook (it signs every delivery).", req);
  }
  if (fields->interval_s) {
    if (*fields->interval_s < config.watch.min_interval_s) {
      return Error(400,
                   "'interval' must be at least " + std::to_string(config.watch.min_interval_s) +
                       " seconds on this portal (min_watch_interval_seconds).",
                   req);
    }
    row->interval_s = *fields->interval_s;
  }
  const bool rising = RequestOf(*row).contains("rising");
  if (rising ? !fields->search.empty() : fields->rising.has_value()) {
    return Error(400,
                 rising ? "This watchlist follows the rising trends: it takes 'rising', not "
                          "search fields (create another watchlist for a search)."
                        : "This watchlist follows a search: it takes search fields, not 'rising' "
                          "(create another watchlist for the rising trends).",
                 req);
  }
  const bool search_changed = !fields->search.empty() || fields->rising.has_value();
  if (fields->rising) {
    row->request = json({{"rising", *fields->rising}}).dump();
  } else if (search_changed) {
    // The given search fields replace the stored ones; a new input replaces the old input.
    json request = RequestOf(*row);
    if (fields->search.contains("indicators") || fields->search.contains("csv") ||
        fields->search.contains("text")) {
      request.erase("indicators");
      request.erase("csv");
      request.erase("text");
    }
    request.erase("shared");
    for (auto& [k, v] : fields->search.items()) request[k] = v;
    auto prepared = PrepareSearch(request.dump(), user);
    if (!prepared.ok()) {
      int status = prepared.status().code() == StatusCode::kResourceExhausted ? 413 : 400;
      return Error(status, prepared.status().message(), req);
    }
    row->request = prepared->meta.request.dump(-1, ' ', false, json::error_handler_t::replace);
  }
  row->updated = config.clock.Now();
  if (Status st = store->UpdateWatchlist(*row); !st.ok()) {
    return net::ErrorResponse(st, req.path);
  }
  if (search_changed) {
    {
      MutexLock lock(watch_mu);
      watch_now[row->id] = "patched";
    }
    watch_cv.SignalAll();
  }
  return Json(Summary(*row));
}

net::Response Portal::Impl::DeleteWatchlist(net::Request& req, const PortalUser& user) {
  auto row = VisibleWatchlist(req.params["id"], user);
  if (!row.ok()) return Error(404, "Invalid watchlist", req);
  if (Status st = store->DeleteWatchlist(row->id); !st.ok()) {
    return net::ErrorResponse(st, req.path);
  }
  return Json({{"deleted", true}});
}

net::Response Portal::Impl::WatchlistRuns(net::Request& req, const PortalUser& user) {
  auto row = VisibleWatchlist(req.params["id"], user);
  if (!row.ok()) return Error(404, "Invalid watchlist", req);
  auto limit = LimitParam(req);
  if (!limit.ok()) return Error(400, limit.status().message(), req);
  auto runs = store->ListWatchRuns(row->id, *limit);
  if (!runs.ok()) return net::ErrorResponse(runs.status(), req.path);
  json out = json::array();
  for (const WatchRunRow& r : *runs) out.push_back(RunJson(r));
  return Json(out);
}

net::Response Portal::Impl::WatchlistDeliveries(net::Request& req, const PortalUser& user) {
  auto row = VisibleWatchlist(req.params["id"], user);
  if (!row.ok()) return Error(404, "Invalid watchlist", req);
  auto limit = LimitParam(req);
  if (!limit.ok()) return Error(400, limit.status().message(), req);
  auto deliveries = store->ListDeliveries(row->id, *limit);
  if (!deliveries.ok()) return net::ErrorResponse(deliveries.status(), req.path);
  json out = json::array();
  for (const DeliveryRow& d : *deliveries) {
    json log = json::parse(d.log, nullptr, false);
    out.push_back({{"id", d.id},
                   {"run", d.run_id},
                   {"url", d.url},
                   {"state", d.state},
                   {"attempts", d.attempts},
                   {"last_status", d.last_status},
                   {"last_error", d.last_error},
                   {"log", log.is_array() ? log : json::array()}});
  }
  return Json(out);
}

net::Response Portal::Impl::WatchlistEvents(net::Request& req, const PortalUser& user) {
  auto row = VisibleWatchlist(req.params["id"], user);
  if (!row.ok()) return Error(404, "Invalid watchlist", req);
  const std::string id = row->id;
  net::Response r;
  r.content_type = "text/event-stream";
  r.headers.emplace_back("Cache-Control", "no-cache");
  struct Cursor {
    uint64_t next = 0;
    std::chrono::steady_clock::time_point last = std::chrono::steady_clock::now();
  };
  auto cursor = std::make_shared<Cursor>();
  {
    MutexLock lock(feeds_mu);
    cursor->next = feeds[id].next;  // from now on
  }
  r.body = ": watching " + id + "\n\n";
  r.stream_wake = [this, id](std::function<void()> wake) {
    MutexLock lock(feeds_mu);
    feeds[id].wakers.push_back(std::move(wake));
  };
  r.stream = [this, id, cursor](std::string* chunk) {
    {
      MutexLock lock(feeds_mu);
      for (const auto& [seq, block] : feeds[id].events) {
        if (seq >= cursor->next) *chunk += block;
      }
      cursor->next = feeds[id].next;
    }
    auto now = std::chrono::steady_clock::now();
    if (!chunk->empty()) {
      cursor->last = now;
    } else if (now - cursor->last >= std::chrono::seconds(15)) {
      *chunk = ": keep-alive\n\n";
      cursor->last = now;
    }
    return !stopping.load();
  };
  return r;
}

void Portal::Impl::PublishWatchEvent(const std::string& id, const std::string& name,
                                     const json& data) {
  std::vector<std::function<void()>> wakers;
  {
    MutexLock lock(feeds_mu);
    WatchFeed& feed = feeds[id];
    feed.events.emplace_back(
        feed.next++, "event: " + name + "\ndata: " +
                         data.dump(-1, ' ', false, json::error_handler_t::replace) + "\n\n");
    while (feed.events.size() > kFeedEvents) feed.events.pop_front();
    wakers = feed.wakers;
  }
  for (auto& wake : wakers) wake();
}

// ---- The watcher ----------------------------------------------------------------------------

void Portal::Impl::StartWatching() {
  watcher = std::thread([this] { WatchLoop(); });
  deliverer = std::thread([this] { DeliverLoop(); });
}

void Portal::Impl::StopWatching() {
  {
    MutexLock lock(watch_mu);
    watch_stop = true;
  }
  watch_cv.SignalAll();
  deliver_cv.SignalAll();
  if (watcher.joinable()) watcher.join();
  if (deliverer.joinable()) deliverer.join();
}

namespace {

// The members a stored request asks: its "members", else every enabled member.
std::vector<std::string> AskedMembers(const json& request,
                                      const std::vector<federation::MemberConfig>& all) {
  std::vector<std::string> out;
  if (request.contains("rising")) return out;  // the trends are the portal's own
  if (request.contains("members") && request["members"].is_array() && !request["members"].empty()) {
    for (const json& m : request["members"]) {
      if (m.is_string()) out.push_back(m.get<std::string>());
    }
    return out;
  }
  for (const auto& m : all) {
    if (m.enabled) out.push_back(m.name);
  }
  return out;
}

}  // namespace

void Portal::Impl::WatchLoop() {
  // Intervals count in seconds, and created or patched watchlists wake the watcher at once.
  const auto tick = std::chrono::seconds(1);
  while (true) {
    std::map<std::string, std::string> now_runs;
    {
      MutexLock lock(watch_mu);
      if (watch_now.empty() && !watch_stop) watch_cv.WaitFor(watch_mu, tick);
      if (watch_stop) return;
      now_runs.swap(watch_now);
    }
    auto rows = store->ListWatchlists();
    if (!rows.ok() || rows->empty()) continue;
    const int64_t now = config.clock.Now();
    const std::vector<federation::MemberConfig> all = fed->members();
    // Which members changed their data since the last check (in parallel, each within its
    // timeout); the first check only records where each one stands.
    std::vector<std::vector<std::string>> asked_by(rows->size());  // each row's members
    for (size_t k = 0; k < rows->size(); ++k)
      asked_by[k] = AskedMembers(RequestOf((*rows)[k]), all);
    std::set<std::string> changed;
    if (now - markers_checked >= config.watch.poll_seconds) {
      std::set<std::string> asked;
      for (const auto& members : asked_by) asked.insert(members.begin(), members.end());
      std::vector<std::pair<std::string, std::future<Result<federation::DataCheck>>>> checks;
      for (const federation::MemberConfig& m : all) {
        if (!asked.count(m.name) || !m.enabled) continue;
        checks.emplace_back(
            m.name, std::async(std::launch::async,
                               [m, previous = member_markers[m.name], since = markers_checked] {
                                 return federation::CheckMemberData(m, previous, since);
                               }));
      }
      for (auto& [name, check] : checks) {
        Result<federation::DataCheck> r = check.get();
        if (!r.ok()) continue;  // unreachable now: its hits are kept, the interval still runs
        if (r->changed) changed.insert(name);
        member_markers[name] = r->marker;
      }
      markers_checked = now;
    }
    std::vector<std::pair<WatchlistRow, std::string>> due;
    for (size_t k = 0; k < rows->size(); ++k) {
      const WatchlistRow& row = (*rows)[k];
      std::string reason;
      if (auto it = now_runs.find(row.id); it != now_runs.end()) {
        reason = it->second;
      } else if (row.last_run == 0) {
        reason = "created";
      } else if (now - row.last_run >= row.interval_s) {
        reason = "interval";
      } else {
        for (const std::string& m : asked_by[k]) {
          if (changed.count(m)) reason = "data-changed";
        }
      }
      if (reason.empty()) continue;
      // Another instance on the same database may have decided the same from the same row:
      // whoever claims it runs it (and diffs against the hits of the run before).
      auto claim = store->ClaimWatchRun(row.id, row.last_run, now);
      if (!claim.ok() || !claim->has_value()) continue;
      due.emplace_back(row, std::move(reason));
      due.back().first.last_run = **claim;
    }
    if (!RunDue(due)) return;
  }
}

bool Portal::Impl::RunDue(const std::vector<std::pair<WatchlistRow, std::string>>& due) {
  // `watch_concurrent_runs` at a time: a run waits for its slowest member, so one after the
  // other, a data change that touches many watchlists would take their sum.
  const size_t width = static_cast<size_t>(std::max<int64_t>(1, config.watch.concurrent_runs));
  for (size_t begin = 0; begin < due.size(); begin += width) {
    std::vector<std::future<bool>> runs;
    for (size_t k = begin; k < std::min(due.size(), begin + width); ++k) {
      runs.push_back(std::async(std::launch::async, [this, &item = due[k]] {
        return RunWatchlist(item.first, item.second);
      }));
    }
    for (size_t k = 0; k < runs.size(); ++k) {
      if (!runs[k].get()) {
        MutexLock lock(watch_mu);
        watch_now.try_emplace(due[begin + k].first.id, due[begin + k].second);  // next tick
      }
    }
    MutexLock lock(watch_mu);
    if (watch_stop) return false;
  }
  return true;
}

std::shared_ptr<internal::SearchJob> Portal::Impl::SearchNow(internal::PreparedSearch search,
                                                             const std::string& handle_key) {
  if (!TakeSlot()) return nullptr;
  federation::SearchRequest sr = std::move(search.request);
  sr.indicators = search.input.indicators;
  for (const auto& m : search.members) sr.members.push_back(m.name);
  sr.deadline = std::chrono::steady_clock::now() + config.search_timeout;
  auto job = std::make_shared<SearchJob>(search.meta, std::move(search.input), search.members);
  federation::SearchCallbacks cb;
  cb.on_status = [job](const std::string& m, federation::MemberStatus s) { job->OnStatus(m, s); };
  cb.on_reply = [this, job](federation::MemberReply r) {
    RecordAnswer(r);
    job->OnReply(std::move(r));
  };
  auto done = std::make_shared<std::promise<void>>();
  std::future<void> finished = done->get_future();
  cb.on_done = [job, done] {
    job->OnDone();
    done->set_value();
  };
  {
    auto handle = fed->Search(std::move(sr), std::move(cb));
    MutexLock lock(jobs_mu);
    if (stopping.load()) handle->Cancel();  // the portal is shutting down: end at once
    handles[handle_key] = std::move(handle);
  }
  finished.wait();
  {
    MutexLock lock(jobs_mu);
    handles.erase(handle_key);
  }
  ReleaseSlot();
  return job;
}

bool Portal::Impl::RunWatchlist(const WatchlistRow& row, const std::string& reason) {
  const json request = RequestOf(row);
  if (request.contains("rising")) {
    RunRisingWatchlist(row, request["rising"], reason);
    return true;
  }
  const int64_t started = config.clock.Now();
  PortalUser owner;
  owner.name = row.owner;
  auto prepared = PrepareSearch(row.request, owner);
  WatchRunRow run = StartRun(row, started, reason);
  if (!prepared.ok()) {
    // The portal's members changed under it (a member it names is gone): recorded, not retried
    // before the next interval.
    RecordFailedRun(row, std::move(run), prepared.status());
    return true;
  }
  if (stopping.load()) return true;
  std::shared_ptr<SearchJob> job = SearchNow(std::move(*prepared), "watchlist:" + row.id);
  if (!job) return false;
  const json doc = job->Document();
  json previous = json::parse(row.hits, nullptr, false);
  if (!previous.is_array()) previous = json::array();
  Diff diff = Compare(previous, HitsOf(doc), SilentMembers(doc), UnixNowMs());
  EndRun(diff, job->status(), config.clock.Now(), &run);
  json members = json::array();
  for (const json& m : doc.value("members", json::array())) {
    members.push_back({{"member", m.value("member", "")},
                       {"status", m.value("status", "")},
                       {"error", m.value("error", "")}});
  }
  run.members = members.dump();
  json event = {{"event", "watchlist.hits"},
                {"watchlist", {{"id", row.id}, {"name", row.name}}},
                {"run", {{"reason", reason}, {"started", started}, {"finished", run.finished}}},
                {"new", diff.added},
                {"removed", diff.removed}};
  RecordRun(row, std::move(run), diff.current, std::move(event), News(diff));
  return true;
}

void Portal::Impl::RunRisingWatchlist(const WatchlistRow& row, const json& spec,
                                      const std::string& reason) {
  const int64_t started = config.clock.Now();
  WatchRunRow run = StartRun(row, started, reason);
  auto window = internal::ParseTrendWindow("rising.window", spec.value("window", "7d"),
                                           started / internal::kSecondsPerDay);
  Result<json> answer = window.ok() ? RisingAnswer(*window) : Result<json>(window.status());
  if (!answer.ok()) {
    RecordFailedRun(row, std::move(run), answer.status());
    return;
  }
  auto wanted = [](const json& list, const json& name) {
    return !list.is_array() || list.empty() ||
           std::find(list.begin(), list.end(), name) != list.end();
  };
  json cells = json::array();
  for (json c : (*answer)["cells"]) {
    if (!wanted(spec.value("sectors", json::array()), c["sector"]) ||
        !wanted(spec.value("types", json::array()), c["type"])) {
      continue;
    }
    c["key"] = "rising\x1f" + c.value("sector", "") + "\x1f" + c.value("type", "");
    cells.push_back(std::move(c));
  }
  json previous = json::parse(row.hits, nullptr, false);
  if (!previous.is_array()) previous = json::array();
  Diff diff = Compare(previous, cells, {}, UnixNowMs());
  EndRun(diff, "done", config.clock.Now(), &run);
  run.members = "[]";
  json event = {{"event", "watchlist.rising"},
                {"watchlist", {{"id", row.id}, {"name", row.name}}},
                {"run", {{"reason", reason}, {"started", started}, {"finished", run.finished}}},
                {"window", spec.value("window", "7d")},
                {"k_anonymity", config.trends.k_anonymity},
                {"new", diff.added},
                {"ended", diff.removed}};
  RecordRun(row, std::move(run), diff.current, std::move(event), News(diff));
}

void Portal::Impl::RecordFailedRun(const WatchlistRow& row, WatchRunRow run, const Status& why) {
  run.finished = config.clock.Now();
  run.status = "failed";
  run.members = json::array({{{"error", why.message()}}}).dump();
  // The current items stay as they were.
  (void)store->RecordWatchRun(run, row.hits, nullptr, row.last_run);
}

void Portal::Impl::RecordRun(const WatchlistRow& row, WatchRunRow run, const json& current,
                             json event, bool news) {
  DeliveryRow delivery;
  if (news && !row.webhook.empty()) {
    delivery.url = row.webhook;
    delivery.body = event.dump(-1, ' ', false, json::error_handler_t::replace);
    delivery.next_at = UnixNowMs();
  }
  auto run_id = store->RecordWatchRun(
      run, current.dump(-1, ' ', false, json::error_handler_t::replace), &delivery, row.last_run);
  if (!run_id.ok()) return;  // deleted while it ran, or run again by another instance
  event["run"]["id"] = *run_id;
  run.id = *run_id;
  PublishWatchEvent(row.id, "run", RunJson(run));
  if (news) PublishWatchEvent(row.id, event.value("event", "watchlist.hits"), event);
  if (delivery.id != 0) deliver_cv.SignalAll();
}

}  // namespace iocgrid::portal
