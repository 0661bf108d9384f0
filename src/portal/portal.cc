#include "portal/portal.h"

#include <sodium.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>
#include <unordered_map>

#include "common/mutex.h"
#include "common/time.h"
#include "extract/extractor.h"
#include "ingest/query_reader.h"
#include "net/http_error.h"
#include "net/router.h"
#include "net/static_files.h"
#include "portal/internal/exports.h"
#include "portal/internal/portal_impl.h"
#include "portal/internal/search_job.h"
#include "portal/internal/search_request.h"

namespace iocgrid::portal {

using json = nlohmann::json;
using internal::Error;
using internal::ExportCsv;
using internal::ExportMispEvent;
using internal::ExportStixBundle;
using internal::Json;
using internal::kAuthFailed;
using internal::NewId;
using internal::SearchInput;
using internal::SearchJob;
using internal::SearchMeta;

namespace internal {

std::string NewId() {
  unsigned char b[8];
  randombytes_buf(b, sizeof(b));
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : b) {
    out += kHex[c >> 4];
    out += kHex[c & 0xf];
  }
  return out;
}

}  // namespace internal

std::string FindWebDir(const std::string& configured) {
  namespace fs = std::filesystem;
  std::vector<std::string> candidates;
  if (!configured.empty()) candidates.push_back(configured);
  if (const char* env = std::getenv("IOCGRID_WEB_DIR")) candidates.emplace_back(env);
  if (std::string share = extract::InstalledShareDir(); !share.empty()) {
    candidates.push_back(share + "/web");
  }
  // The checkout's web/ only for a binary still in its build tree: an install never reads it.
  if (extract::RunningFromBuildTree()) candidates.emplace_back(IOCGRID_SOURCE_WEB_DIR);
  std::error_code ec;
  for (const auto& c : candidates) {
    if (fs::exists(fs::path(c) / "index.html", ec)) return fs::canonical(c, ec).string();
  }
  return configured;
}

void Portal::Impl::Add(std::vector<std::string> methods, std::string_view pattern, Handler h,
                       bool admin_only) {
  router.Add(std::move(methods), pattern, [this, h, admin_only](net::Request& req) {
    auto user = store->Authenticate(internal::RequestKey(req));
    if (!user.ok()) return Error(403, kAuthFailed, req);
    if (admin_only && user->role != Role::kAdmin)
      return Error(403, "You do not have permission to do that.", req);
    return (this->*h)(req, *user);
  });
}

void Portal::Impl::Routes() {
  Add({"GET"}, "/api/v1/me", &Impl::Me);
  Add({"GET"}, "/api/v1/members", &Impl::Members);
  Add({"POST"}, "/api/v1/members/check", &Impl::MembersCheck, true);
  Add({"POST"}, "/api/v1/searches", &Impl::CreateSearch);
  Add({"GET"}, "/api/v1/searches", &Impl::ListSearches);
  Add({"GET"}, "/api/v1/searches/{id}", &Impl::GetSearch);
  Add({"DELETE"}, "/api/v1/searches/{id}", &Impl::DeleteSearch);
  Add({"GET"}, "/api/v1/searches/{id}/events", &Impl::SearchEvents);
  Add({"GET"}, "/api/v1/searches/{id}/export", &Impl::Export);
  Add({"POST"}, "/api/v1/searches/{id}/rerun", &Impl::Rerun);
  Add({"POST"}, "/api/v1/searches/{id}/sightings", &Impl::SendSightings);
  Add({"GET"}, "/api/v1/searches/{id}/sightings", &Impl::ListSentSightings);
  Add({"GET"}, "/api/v1/indicators", &Impl::IndicatorReputation);
  Add({"GET"}, "/api/v1/indicators/{value}", &Impl::IndicatorReputation);
  Add({"POST"}, "/api/v1/watchlists", &Impl::CreateWatchlist);
  Add({"GET"}, "/api/v1/watchlists", &Impl::ListWatchlists);
  Add({"GET"}, "/api/v1/watchlists/{id}", &Impl::GetWatchlist);
  Add({"PATCH"}, "/api/v1/watchlists/{id}", &Impl::PatchWatchlist);
  Add({"DELETE"}, "/api/v1/watchlists/{id}", &Impl::DeleteWatchlist);
  Add({"GET"}, "/api/v1/watchlists/{id}/runs", &Impl::WatchlistRuns);
  Add({"GET"}, "/api/v1/watchlists/{id}/deliveries", &Impl::WatchlistDeliveries);
  Add({"GET"}, "/api/v1/watchlists/{id}/events", &Impl::WatchlistEvents);
  Add({"POST"}, "/api/v1/sifts", &Impl::CreateSiftBuffered);
  Add({"GET"}, "/api/v1/sifts", &Impl::ListSifts);
  Add({"GET"}, "/api/v1/sifts/{id}", &Impl::GetSift);
  Add({"POST"}, "/api/v1/sightings", &Impl::ReportSightings);
  Add({"GET"}, "/api/v1/trends/sectors", &Impl::TrendSectors);
  Add({"GET"}, "/api/v1/trends/scanners", &Impl::TrendScanners);
  Add({"GET"}, "/api/v1/trends/rising", &Impl::TrendRising);
  Add({"GET"}, "/api/v1/trends/actors", &Impl::TrendActors);
  Add({"GET", "POST"}, "/api/v1/private/{member}/grid/v1/psi/{op}", &Impl::PrivateRelay);
}

net::Response Portal::Impl::Me(net::Request&, const PortalUser& user) {
  RelayCount relayed;
  {
    MutexLock lock(relay_mu);
    if (auto it = relayed_counts.find(user.name); it != relayed_counts.end()) relayed = it->second;
  }
  // Private searches run on the analyst's machine: the portal keeps only these counts of the
  // frames it relayed for them (since it started), never their content.
  return Json({{"name", user.name},
               {"role", RoleName(user.role)},
               {"private_relayed", {{"requests", relayed.requests}, {"bytes", relayed.bytes}}}});
}

void Portal::Impl::RecordAnswer(const federation::MemberReply& reply) {
  MutexLock lock(answers_mu);
  last_answers[reply.member] = LastAnswer{std::string(federation::MemberStatusName(reply.status)),
                                          reply.error, reply.elapsed_ms, config.clock.Now()};
}

net::Response Portal::Impl::Members(net::Request&, const PortalUser& user) {
  std::unordered_map<std::string, LastAnswer> answers;
  {
    MutexLock lock(answers_mu);
    answers = last_answers;
  }
  std::vector<federation::MemberBreaker> breakers;
  if (user.role == Role::kAdmin) breakers = fed->Breakers();
  json out = json::array();
  for (const auto& m : fed->members()) {
    json j = {{"name", m.name},
              {"display_name", m.display_name},
              {"sector", m.sector},
              {"kind", federation::MemberKindName(m.kind)},
              {"disclosure", federation::DisclosureName(m.disclosure)},
              {"data_kind", m.data_kind},
              {"enabled", m.enabled}};
    j["relations"] = internal::RelationNames(federation::SupportedRelations(m.kind));
    if (m.disclosure == federation::Disclosure::kPrivate) {
      j["psi_mode"] = federation::PsiModeName(m.psi_mode);  // for `search --private`
    }
    j["last_search"] = nullptr;
    if (auto it = answers.find(m.name); it != answers.end()) {
      j["last_search"] = {{"status", it->second.status},
                          {"error", it->second.error},
                          {"elapsed_ms", it->second.elapsed_ms},
                          {"at", it->second.at}};
    }
    if (user.role == Role::kAdmin) {
      j["url"] = m.url;
      for (const auto& b : breakers) {
        if (b.member != m.name) continue;
        j["breaker"] = {{"state", federation::BreakerStateName(b.state)},
                        {"consecutive_failures", b.consecutive_failures},
                        {"retry_in_ms", b.retry_in_ms}};
      }
    }
    out.push_back(j);
  }
  return Json(out);
}

net::Response Portal::Impl::MembersCheck(net::Request&, const PortalUser&) {
  json out = json::array();
  for (const auto& m : fed->members()) {
    federation::MemberProbe p = fed->Probe(m.name);
    out.push_back({{"member", p.member},
                   {"ok", p.ok},
                   {"error", p.error},
                   {"version", p.version},
                   {"latency_ms", p.latency_ms},
                   {"attributes", p.attributes},
                   {"first_date", p.first_date},
                   {"last_date", p.last_date}});
  }
  return Json(out);
}

net::Response Portal::Impl::CreateSearch(net::Request& req, const PortalUser& user) {
  return StartSearch(req.body, req, user);
}

net::Response Portal::Impl::Rerun(net::Request& req, const PortalUser& user) {
  auto d = Document(req.params["id"], user);
  if (!d.ok()) return Error(404, "Invalid search", req);
  auto it = d->find("request");
  if (it == d->end() || !it->is_object()) {
    return Error(409, "This search was stored without its request and cannot be re-run.", req);
  }
  return StartSearch(it->dump(), req, user);
}

net::Response Portal::Impl::StartSearch(std::string_view body, const net::Request& req,
                                        const PortalUser& user) {
  auto prepared = PrepareSearch(body, user);
  if (!prepared.ok()) {
    int status = prepared.status().code() == StatusCode::kResourceExhausted ? 413 : 400;
    return Error(status, prepared.status().message(), req);
  }
  return LaunchSearch(std::move(*prepared), req, /*slot_held=*/false);
}

Result<internal::PreparedSearch> Portal::Impl::PrepareSearch(std::string_view body,
                                                             const PortalUser& user) {
  internal::SearchRequestLimits limits;
  limits.max_indicators = config.max_indicators;
  limits.default_time_gap_days = config.time_gap_days;
  limits.now = config.clock.Now();
  IOCGRID_ASSIGN_OR_RETURN(internal::ParsedSearch parsed,
                           internal::ParseSearchRequest(body, *extractor, limits));
  internal::PreparedSearch out;
  const std::vector<federation::MemberConfig> all_members = fed->members();
  for (const auto& w : parsed.members) {
    bool known = std::any_of(all_members.begin(), all_members.end(),
                             [&](const federation::MemberConfig& m) { return m.name == w; });
    if (!known) return InvalidArgumentError("Unknown member '" + w + "'.");
  }
  for (const auto& m : all_members) {
    bool chosen = parsed.members.empty() ? m.enabled
                                         : std::find(parsed.members.begin(), parsed.members.end(),
                                                     m.name) != parsed.members.end();
    if (chosen) out.members.push_back(m);
  }
  if (out.members.empty())
    return InvalidArgumentError("No member to ask: none is enabled or chosen.");
  federation::SearchRequest& sr = out.request;
  if (parsed.relations) sr.relations = *parsed.relations;
  sr.since = parsed.since;
  sr.until = parsed.until;
  SearchMeta& meta = out.meta;
  meta.id = NewId();
  meta.owner = user.name;
  meta.label = parsed.label;
  meta.tlp = parsed.tlp;
  meta.shared = parsed.shared;
  meta.created = config.clock.Now();
  meta.time_gap_days = parsed.time_gap_days;
  meta.request = std::move(parsed.normalized);
  out.input = std::move(parsed.input);
  return out;
}

bool Portal::Impl::TakeSlot() {
  MutexLock lock(jobs_mu);
  if (running >= config.max_running_searches) return false;
  ++running;
  return true;
}

void Portal::Impl::ReleaseSlot() {
  MutexLock lock(jobs_mu);
  --running;
}

net::Response Portal::Impl::LaunchSearch(internal::PreparedSearch search, const net::Request& req,
                                         bool slot_held) {
  if (!slot_held && !TakeSlot()) {
    return Error(429, "Too many searches are running; retry in a moment.", req);
  }
  const SearchMeta meta = search.meta;
  federation::SearchRequest sr = std::move(search.request);
  sr.indicators = search.input.indicators;
  for (const auto& m : search.members) sr.members.push_back(m.name);
  sr.deadline = std::chrono::steady_clock::now() + config.search_timeout;
  auto job = std::make_shared<SearchJob>(meta, std::move(search.input), search.members);
  // The query is stored before any member is asked, so a crash keeps what was asked.
  json document = job->Document();
  SearchRow row{meta.id,
                meta.owner,
                meta.label,
                meta.tlp,
                meta.shared,
                meta.created,
                "running",
                job->input().indicators.size(),
                0,
                document["scope"].dump(),
                document.dump(-1, ' ', false, json::error_handler_t::replace),
                ""};
  Status st = store->InsertSearch(row);
  if (!st.ok()) {
    ReleaseSlot();
    return net::ErrorResponse(st, req.path);
  }
  {
    MutexLock lock(jobs_mu);
    jobs[meta.id] = job;
  }
  federation::SearchCallbacks cb;
  cb.on_status = [job](const std::string& m, federation::MemberStatus s) { job->OnStatus(m, s); };
  cb.on_reply = [this, job](federation::MemberReply r) {
    RecordAnswer(r);
    job->OnReply(std::move(r));
    Checkpoint(job);  // hits received so far survive a crash
  };
  cb.on_done = [this, job] { Finish(job); };
  auto handle = fed->Search(std::move(sr), std::move(cb));
  {
    MutexLock lock(jobs_mu);
    if (!job->done()) handles[meta.id] = std::move(handle);
  }
  return Json({{"id", meta.id}, {"status", "running"}, {"url", "/api/v1/searches/" + meta.id}},
              201);
}

void Portal::Impl::Checkpoint(const std::shared_ptr<SearchJob>& job) {
  {
    MutexLock lock(persist_mu);
    for (const PersistItem& item : persist_queue) {
      if (item.job == job) return;  // one write will carry everything received so far
    }
    persist_queue.push_back({job, false});
  }
  persist_cv.Signal();
}

void Portal::Impl::Finish(const std::shared_ptr<SearchJob>& job) {
  // A search cut short by the portal's own shutdown did not finish: it is interrupted, with
  // that reason, and can be re-run.
  if (stopping.load()) job->MarkInterrupted("the portal shut down while the search ran");
  job->OnDone();  // cheap: marks done and wakes event-stream readers
  {
    MutexLock lock(persist_mu);
    persist_queue.push_back({job, true});
  }
  persist_cv.Signal();
  // The handle is released by the next request touching the map; the federation thread must
  // not destroy the handle it is calling us from.
}

void Portal::Impl::Persist(const PersistItem& item) {
  const auto& job = item.job;
  std::string doc = job->Document().dump(-1, ' ', false, json::error_handler_t::replace);
  std::string status = item.final ? job->status() : "running";
  if (item.final) job->SetFinalDocument(doc);
  SearchRow row{job->meta().id,
                job->meta().owner,
                job->meta().label,
                job->meta().tlp,
                job->meta().shared,
                job->meta().created,
                status,
                job->input().indicators.size(),
                job->hit_count(),
                "",
                std::move(doc),
                job->EventLog()};
  Status st = item.final ? store->FinishSearch(row) : store->CheckpointSearch(row);
  if (!st.ok()) {
    std::fprintf(stderr, "iocgrid portal: cannot persist search %s: %s\n", row.id.c_str(),
                 st.ToString().c_str());
  }
  if (!item.final) return;
  // A sift's report is final once its search is stored.
  if (!job->meta().sift_id.empty()) FinishSift(job->meta().sift_id, *job);
  ReleaseSlot();
}

void Portal::Impl::PersistLoop() {
  persist_mu.Lock();
  while (true) {
    while (!persist_stop && persist_queue.empty()) persist_cv.Wait(persist_mu);
    if (persist_queue.empty()) break;  // stopping and drained
    PersistItem item = std::move(persist_queue.front());
    persist_queue.pop_front();
    persist_mu.Unlock();
    try {
      Persist(item);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "iocgrid portal: persisting a search failed: %s\n", e.what());
    }
    persist_mu.Lock();
  }
  persist_mu.Unlock();
}

Result<json> Portal::Impl::Document(const std::string& id, const PortalUser& user) {
  std::shared_ptr<SearchJob> job;
  {
    MutexLock lock(jobs_mu);
    auto it = jobs.find(id);
    if (it != jobs.end()) job = it->second;
  }
  if (job) {
    if (!CanSee(job->meta(), user)) return NotFoundError("no search " + id);
    return job->Document();
  }
  auto row = store->GetSearch(id);
  if (!row.ok()) return row.status();
  SearchMeta meta{row->id, row->owner, row->label, row->tlp, row->shared, row->created, 0, {}, {}};
  if (!CanSee(meta, user)) return NotFoundError("no search " + id);
  if (row->document.empty()) {
    return json{{"id", row->id},
                {"label", row->label},
                {"tlp", row->tlp},
                {"owner", row->owner},
                {"created", row->created},
                {"status", row->status},
                {"indicators", json::array()},
                {"members", json::array()},
                {"invalid", json::array()}};
  }
  json d = json::parse(row->document, nullptr, false);
  if (d.is_discarded()) return DataLossError("stored search " + id + " is unreadable");
  if (row->status == "interrupted" && !d.contains("interrupted")) {
    d["interrupted"] =
        "the portal stopped (or was killed) while the search ran; the hits "
        "received until then are kept. Re-run it with POST "
        "/api/v1/searches/" +
        id + "/rerun.";
  }
  d["status"] = row->status;
  return d;
}

net::Response Portal::Impl::GetSearch(net::Request& req, const PortalUser& user) {
  {
    // A finished search still in memory: its document was serialized once, when it ended.
    std::shared_ptr<SearchJob> job;
    {
      MutexLock lock(jobs_mu);
      auto it = jobs.find(req.params["id"]);
      if (it != jobs.end()) job = it->second;
    }
    net::Response r;
    if (job && CanSee(job->meta(), user) && job->FinalDocument(&r.body)) return r;
    if (!job) {
      // A finished search from the store: its document as it was written, without a parse and
      // a re-serialization (a search of 10^5 indicators is tens of megabytes).
      auto row = store->GetSearch(req.params["id"]);
      if (row.ok() && row->status == "done" && !row->document.empty()) {
        SearchMeta meta{row->id,      row->owner, row->label, row->tlp, row->shared,
                        row->created, 0,          {},         {}};
        if (!CanSee(meta, user)) return Error(404, "Invalid search", req);
        r.body = std::move(row->document);
        return r;
      }
    }
  }
  auto d = Document(req.params["id"], user);
  if (!d.ok())
    return d.status().code() == StatusCode::kNotFound ? Error(404, "Invalid search", req)
                                                      : net::ErrorResponse(d.status(), req.path);
  return Json(*d);
}

net::Response Portal::Impl::SearchEvents(net::Request& req, const PortalUser& user) {
  const std::string id = req.params["id"];
  std::shared_ptr<SearchJob> job;
  {
    MutexLock lock(jobs_mu);
    auto it = jobs.find(id);
    if (it != jobs.end()) job = it->second;
  }
  net::Response r;
  r.content_type = "text/event-stream";
  r.headers.emplace_back("Cache-Control", "no-cache");
  if (!job) {
    auto row = store->GetSearch(id);
    SearchMeta meta;
    if (row.ok())
      meta = SearchMeta{row->id,      row->owner, row->label, row->tlp, row->shared,
                        row->created, 0,          {},         {}};
    if (!row.ok() || !CanSee(meta, user)) return Error(404, "Invalid search", req);
    r.body = row->events;
    if (row->status != "done")
      r.body += "event: done\ndata: {\"status\":\"" + row->status + "\"}\n\n";
    return r;
  }
  if (!CanSee(job->meta(), user)) return Error(404, "Invalid search", req);
  // Never blocks: while nothing is new the server waits, without holding a worker, until the
  // job appends an event (stream_wake) or a short poll has passed. A comment line every 15 s keeps
  // proxies from closing a quiet stream.
  struct Cursor {
    size_t offset = 0;
    std::chrono::steady_clock::time_point last = std::chrono::steady_clock::now();
  };
  auto cursor = std::make_shared<Cursor>();
  r.stream_wake = [job](std::function<void()> wake) { job->AddWaker(std::move(wake)); };
  r.stream = [job, cursor](std::string* chunk) {
    bool more = job->NextEvents(&cursor->offset, chunk);
    auto now = std::chrono::steady_clock::now();
    if (!chunk->empty()) {
      cursor->last = now;
    } else if (more && now - cursor->last >= std::chrono::seconds(15)) {
      *chunk = ": keep-alive\n\n";
      cursor->last = now;
    }
    return more;
  };
  return r;
}

net::Response Portal::Impl::ListSearches(net::Request& req, const PortalUser& user) {
  auto rows = store->ListSearches();
  if (!rows.ok()) return net::ErrorResponse(rows.status(), req.path);
  std::unordered_map<std::string, std::shared_ptr<SearchJob>> live;
  {
    MutexLock lock(jobs_mu);
    live = jobs;
    // Finished and persisted jobs are in the store now; drop them from memory with their
    // handles.
    for (auto it = jobs.begin(); it != jobs.end();) {
      if (it->second->has_final_document()) {
        handles.erase(it->first);
        it = jobs.erase(it);
      } else {
        ++it;
      }
    }
  }
  json out = json::array();
  for (const auto& r : *rows) {
    SearchMeta meta{r.id, r.owner, r.label, r.tlp, r.shared, r.created, 0, {}, {}};
    if (!CanSee(meta, user)) continue;
    uint64_t hits = r.hits;
    std::string status = r.status;
    if (auto it = live.find(r.id); it != live.end() && !it->second->done()) {
      hits = it->second->hit_count();
      status = "running";
    }
    json scope = json::parse(r.scope, nullptr, false);
    if (scope.is_discarded() || !scope.is_object()) scope = json::object();
    out.push_back({{"id", r.id},
                   {"label", r.label},
                   {"tlp", r.tlp},
                   {"owner", r.owner},
                   {"created", r.created},
                   {"status", status},
                   {"indicators", r.indicators},
                   {"hits", hits},
                   {"shared", r.shared},
                   {"scope", scope}});
  }
  return Json(out);
}

net::Response Portal::Impl::DeleteSearch(net::Request& req, const PortalUser& user) {
  const std::string id = req.params["id"];
  auto row = store->GetSearch(id);
  if (!row.ok()) return Error(404, "Invalid search", req);
  // Another analyst's search answers exactly like a missing one: no existence oracle.
  if (user.role != Role::kAdmin && row->owner != user.name)
    return Error(404, "Invalid search", req);
  {
    MutexLock lock(jobs_mu);
    auto it = jobs.find(id);
    if (it != jobs.end() && !it->second->done())
      return Error(409, "The search is still running.", req);
    jobs.erase(id);
    handles.erase(id);
  }
  Status st = store->DeleteSearch(id);
  if (!st.ok()) return net::ErrorResponse(st, req.path);
  return Json({{"deleted", true}, {"id", id}});
}

net::Response Portal::Impl::Export(net::Request& req, const PortalUser& user) {
  auto d = Document(req.params["id"], user);
  if (!d.ok()) return Error(404, "Invalid search", req);
  std::string format = req.QueryParam("format");
  if (format.empty()) format = "json";
  net::Response r;
  std::string base = "iocgrid-search-" + req.params["id"];
  if (format == "csv") {
    r.content_type = "text/csv; charset=UTF-8";
    r.body = ExportCsv(*d);
    base += ".csv";
  } else if (format == "json") {
    r.body = d->dump(2, ' ', false, json::error_handler_t::replace);
    base += ".json";
  } else if (format == "misp") {
    r.body = ExportMispEvent(*d).dump(2, ' ', false, json::error_handler_t::replace);
    base += "-misp.json";
  } else if (format == "stix") {
    r.body = ExportStixBundle(*d).dump(2, ' ', false, json::error_handler_t::replace);
    base += "-stix.json";
  } else {
    return Error(400, "Unknown export format '" + format + "' (csv, json, misp, stix).", req);
  }
  r.headers.emplace_back("Content-Disposition", "attachment; filename=\"" + base + "\"");
  return r;
}

net::Response Portal::Impl::Static(net::Request& req) {
  if (!static_files) return Error(404, "Not Found", req);
  return static_files->Serve(req);
}

Portal::Portal(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Portal::~Portal() {
  // Stop outstanding searches before the jobs they fill go away; they end interrupted.
  impl_->stopping.store(true);
  std::unordered_map<std::string, std::unique_ptr<federation::SearchHandle>> handles;
  {
    MutexLock lock(impl_->jobs_mu);
    handles.swap(impl_->handles);
  }
  for (auto& [id, h] : handles) {
    h->Cancel();
    h->Wait();
  }
  impl_->StopWatching();  // a watchlist run in progress was among the handles, or cancels itself
  impl_->fed.reset();
  {
    MutexLock lock(impl_->persist_mu);
    impl_->persist_stop = true;
  }
  impl_->persist_cv.SignalAll();
  if (impl_->persister.joinable()) impl_->persister.join();  // drains the queue first
}

Result<std::unique_ptr<Portal>> Portal::Open(const PortalConfig& config) {
  auto impl = std::make_unique<Impl>();
  impl->config = config;
  IOCGRID_ASSIGN_OR_RETURN(impl->store,
                           PortalStore::Open(config.data, config.clock, config.database));
  IOCGRID_ASSIGN_OR_RETURN(impl->fed,
                           federation::Federation::Create(config.members, config.federation));
  IOCGRID_ASSIGN_OR_RETURN(impl->extractor, extract::Extractor::Create(extract::ExtractOptions{}));
  impl->web_dir = FindWebDir(config.web_dir);
  if (!impl->web_dir.empty()) {
    auto files = net::StaticFiles::Open(impl->web_dir);
    if (!files.ok()) return files.status();
    impl->static_files.emplace(std::move(*files));
  }
  impl->Routes();
  Impl* raw = impl.get();
  impl->persister = std::thread([raw] { raw->PersistLoop(); });
  impl->StartWatching();
  return std::unique_ptr<Portal>(new Portal(std::move(impl)));
}

net::Response Portal::Handle(net::Request& request) {
  if (request.path == "/taxii2" || request.path.rfind("/taxii2/", 0) == 0) {
    if (request.method != "GET" && request.method != "HEAD") {
      return net::ErrorResponse(405, "TAXII collections here are read-only.", request.path);
    }
    return impl_->Taxii(request);
  }
  if (request.path.rfind("/api/", 0) != 0 &&
      (request.method == "GET" || request.method == "HEAD")) {
    return impl_->Static(request);
  }
  return impl_->router.Dispatch(request);
}

net::BodyStream Portal::StreamBody(const net::Request& head) { return impl_->StreamSift(head); }

std::optional<net::Response> Portal::Admit(const net::Request& head, size_t* body_limit) {
  if (head.path.rfind("/api/", 0) == 0) {
    if (!impl_->store->Authenticate(internal::RequestKey(head)).ok()) {
      return Error(403, kAuthFailed, head);
    }
    // The private-search relay carries frames of at most 65,536 points (2 MiB): a larger body
    // is refused (413) before it is read, not buffered and forwarded.
    if (head.path.rfind("/api/v1/private/", 0) == 0) {
      *body_limit = std::min<size_t>(*body_limit, size_t{8} << 20);
    }
    return std::nullopt;
  }
  if (head.method != "GET" && head.method != "HEAD") {
    return net::ErrorResponse(405, "Method Not Allowed", head.path);
  }
  if (!head.Header("content-length").empty() && head.Header("content-length") != "0") {
    return net::ErrorResponse(400, "A request for a page carries no body.", head.path);
  }
  if (!head.Header("transfer-encoding").empty()) {
    return net::ErrorResponse(400, "A request for a page carries no body.", head.path);
  }
  return std::nullopt;
}

PortalStore& Portal::store() { return *impl_->store; }
federation::Federation& Portal::federation() { return *impl_->fed; }

}  // namespace iocgrid::portal
