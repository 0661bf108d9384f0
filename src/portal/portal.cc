#include "portal/portal.h"

#include <sodium.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <thread>
#include <cstring>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>
#include <unordered_map>

#include <nlohmann/json.hpp>

#include "extract/extractor.h"
#include "ingest/query_reader.h"
#include "net/http_error.h"
#include "net/router.h"
#include "portal/internal/exports.h"
#include "portal/internal/search_job.h"

namespace iocgrid::portal {

using json = nlohmann::json;
using internal::ExportCsv;
using internal::ExportMispEvent;
using internal::ExportStixBundle;
using internal::ParseDate;
using internal::SearchInput;
using internal::SearchJob;
using internal::SearchMeta;

namespace {

constexpr const char* kAuthFailed =
    "Authentication failed. Please make sure you pass the API key of an API enabled user along "
    "in the Authorization header.";

int64_t Now() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

net::Response Json(const json& body, int status = 200) {
  net::Response r;
  r.status = status;
  r.body = body.dump(-1, ' ', false, json::error_handler_t::replace);
  return r;
}

net::Response Error(int status, std::string_view message, const net::Request& req) {
  return net::ErrorResponse(status, message, req.path);
}

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

std::string ContentType(const std::string& path) {
  auto ends = [&](const char* s) {
    size_t n = std::strlen(s);
    return path.size() >= n && path.compare(path.size() - n, n, s) == 0;
  };
  if (ends(".html")) return "text/html; charset=UTF-8";
  if (ends(".js") || ends(".mjs")) return "text/javascript; charset=UTF-8";
  if (ends(".css")) return "text/css; charset=UTF-8";
  if (ends(".svg")) return "image/svg+xml";
  if (ends(".png")) return "image/png";
  if (ends(".json")) return "application/json";
  if (ends(".ico")) return "image/x-icon";
  return "application/octet-stream";
}

}  // namespace

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

struct Portal::Impl {
  PortalConfig config;
  std::unique_ptr<PortalStore> store;
  std::unique_ptr<federation::Federation> fed;
  std::unique_ptr<extract::Extractor> extractor;
  std::string web_dir;
  net::Router router;

  std::mutex jobs_mu;
  std::unordered_map<std::string, std::shared_ptr<SearchJob>> jobs;  // GUARDED_BY(jobs_mu)
  std::unordered_map<std::string, std::unique_ptr<federation::SearchHandle>> handles;  // GUARDED_BY(jobs_mu)
  size_t running = 0;                                                // GUARDED_BY(jobs_mu)

  void Routes();
  using Handler = net::Response (Impl::*)(net::Request&, const PortalUser&);
  void Add(std::vector<std::string> methods, std::string pattern, Handler h, bool admin_only = false);

  net::Response Me(net::Request&, const PortalUser&);
  net::Response Members(net::Request&, const PortalUser&);
  net::Response MembersCheck(net::Request&, const PortalUser&);
  net::Response CreateSearch(net::Request&, const PortalUser&);
  net::Response GetSearch(net::Request&, const PortalUser&);
  net::Response SearchEvents(net::Request&, const PortalUser&);
  net::Response ListSearches(net::Request&, const PortalUser&);
  net::Response DeleteSearch(net::Request&, const PortalUser&);
  net::Response Export(net::Request&, const PortalUser&);
  net::Response Static(net::Request&);

  // The document of a search, running (in memory) or finished (from the store).
  Result<json> Document(const std::string& id, const PortalUser& user);
  bool CanSee(const SearchMeta& meta, const PortalUser& user) const {
    return user.role == Role::kAdmin || meta.owner == user.name || meta.shared;
  }
  void Finish(const std::shared_ptr<SearchJob>& job);

  // Finished searches are serialized and written to the store on this thread, not on the
  // federation's dispatcher thread, whose callbacks must not block.
  std::mutex persist_mu;
  std::condition_variable persist_cv;
  std::deque<std::shared_ptr<SearchJob>> persist_queue;  // GUARDED_BY(persist_mu)
  bool persist_stop = false;                               // GUARDED_BY(persist_mu)
  std::thread persister;
  void PersistLoop();
  void Persist(const std::shared_ptr<SearchJob>& job);
};

void Portal::Impl::Add(std::vector<std::string> methods, std::string pattern, Handler h, bool admin_only) {
  router.Add(std::move(methods), std::move(pattern), [this, h, admin_only](net::Request& req) {
    std::string_view key = req.Header("x-misp-auth");
    if (key.empty()) key = req.Header("authorization");
    if (key.rfind("Bearer ", 0) == 0) key.remove_prefix(7);
    auto user = store->Authenticate(key);
    if (!user.ok()) return Error(403, kAuthFailed, req);
    if (admin_only && user->role != Role::kAdmin) return Error(403, "You do not have permission to do that.", req);
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
}

net::Response Portal::Impl::Me(net::Request&, const PortalUser& user) {
  return Json({{"name", user.name}, {"role", RoleName(user.role)}});
}

net::Response Portal::Impl::Members(net::Request&, const PortalUser& user) {
  json out = json::array();
  for (const auto& m : fed->members()) {
    json j = {{"name", m.name},
              {"display_name", m.display_name},
              {"sector", m.sector},
              {"kind", federation::MemberKindName(m.kind)},
              {"disclosure", federation::DisclosureName(m.disclosure)},
              {"enabled", m.enabled}};
    j["relations"] = internal::RelationNames(federation::SupportedRelations(m.kind));
    if (user.role == Role::kAdmin) j["url"] = m.url;
    out.push_back(j);
  }
  return Json(out);
}

net::Response Portal::Impl::MembersCheck(net::Request&, const PortalUser&) {
  json out = json::array();
  for (const auto& m : fed->members()) {
    federation::MemberProbe p = fed->Probe(m.name);
    out.push_back({{"member", p.member}, {"ok", p.ok}, {"error", p.error}, {"version", p.version},
                   {"latency_ms", p.latency_ms}, {"attributes", p.attributes},
                   {"first_date", p.first_date}, {"last_date", p.last_date}});
  }
  return Json(out);
}

namespace {

Status AddIndicator(const std::string& raw, const std::string& type, const std::string& date,
                    SearchInput* in) {
  auto parsed = type.empty() ? core::GuessIndicator(raw) : core::ParseIndicator(type, raw);
  if (!parsed.ok() && !type.empty()) {
    // A typed value may still be defanged ("evil[.]example" typed as domain).
    bool changed = false;
    std::string refanged = core::Refang(raw, &changed);
    if (changed) parsed = core::ParseIndicator(type, refanged);
  }
  if (!parsed.ok()) {
    in->invalid.emplace_back(raw, std::string(parsed.status().message()));
    return Status();
  }
  in->raw.push_back(raw);
  in->indicators.push_back(std::move(*parsed));
  in->dates.push_back(date);
  return Status();
}

}  // namespace

net::Response Portal::Impl::CreateSearch(net::Request& req, const PortalUser& user) {
  json body = json::parse(req.body, nullptr, false);
  if (body.is_discarded() || !body.is_object()) {
    return Error(400, "The search must be a JSON object (see docs/portal-api.md).", req);
  }
  SearchInput input;
  auto str = [&](const char* k) -> std::string {
    auto it = body.find(k);
    return it != body.end() && it->is_string() ? it->get<std::string>() : std::string();
  };
  if (auto it = body.find("indicators"); it != body.end()) {
    if (!it->is_array()) return Error(400, "'indicators' must be a list.", req);
    for (const json& item : *it) {
      if (item.is_string()) {
        AddIndicator(item.get<std::string>(), "", "", &input).IgnoreError();  // never fails
      } else if (item.is_object() && item.contains("value") && item["value"].is_string()) {
        auto s = [&](const char* k) { return item.contains(k) && item[k].is_string() ? item[k].get<std::string>() : ""; };
        AddIndicator(item["value"].get<std::string>(), s("type"), s("date"), &input).IgnoreError();
      } else {
        return Error(400, "Each indicator must be a string or an object with a \"value\".", req);
      }
    }
  } else if (body.contains("csv")) {
    if (!body["csv"].is_string()) return Error(400, "'csv' must be a string.", req);
    ingest::QueryFile q = ingest::ParseQueries("csv", body["csv"].get<std::string>());
    for (auto& item : q.items) {
      input.raw.push_back(item.raw);
      input.indicators.push_back(std::move(item.indicator));
      input.dates.push_back(item.date);
    }
    for (const auto& issue : q.issues) input.invalid.emplace_back("line " + std::to_string(issue.line), issue.message);
  } else if (body.contains("text")) {
    if (!body["text"].is_string()) return Error(400, "'text' must be a string.", req);
    for (auto& found : extractor->Extract(body["text"].get<std::string>())) {
      if (!found.benign_reason.empty()) continue;
      input.raw.push_back(found.indicator.value);
      input.indicators.push_back(std::move(found.indicator));
      input.dates.emplace_back();
    }
  } else {
    return Error(400, "Give the indicators as 'indicators' (a list), 'csv' or 'text'.", req);
  }
  if (input.indicators.empty() && input.invalid.empty()) return Error(400, "No indicators in the request.", req);
  if (input.indicators.size() > config.max_indicators) {
    return Error(413, "Too many indicators (" + std::to_string(input.indicators.size()) + " > " +
                          std::to_string(config.max_indicators) + "); split the search.", req);
  }
  federation::SearchRequest sr;
  std::vector<federation::MemberConfig> members;
  std::vector<std::string> wanted;
  if (auto it = body.find("members"); it != body.end()) {
    if (!it->is_array()) return Error(400, "'members' must be a list of names.", req);
    for (const json& m : *it) {
      if (!m.is_string()) return Error(400, "'members' must be a list of names.", req);
      wanted.push_back(m.get<std::string>());
    }
  }
  const std::vector<federation::MemberConfig> all_members = fed->members();
  for (const auto& m : all_members) {
    bool chosen = wanted.empty() ? m.enabled : std::find(wanted.begin(), wanted.end(), m.name) != wanted.end();
    if (chosen) members.push_back(m);
  }
  for (const auto& w : wanted) {
    bool known = std::any_of(all_members.begin(), all_members.end(),
                             [&](const federation::MemberConfig& m) { return m.name == w; });
    if (!known) return Error(400, "Unknown member '" + w + "'.", req);
  }
  if (members.empty()) return Error(400, "No member to ask: none is enabled or chosen.", req);
  if (auto it = body.find("relations"); it != body.end()) {
    if (!it->is_array()) return Error(400, "'relations' must be a list.", req);
    sr.relations = 0;
    for (const json& r : *it) {
      index::Relation rel;
      if (!r.is_string() || !index::ParseRelation(r.get<std::string>(), &rel)) {
        return Error(400, "Unknown relation " + r.dump() + " (exact, component, url-host, subdomain, in-range).", req);
      }
      sr.relations |= index::RelationBit(rel);
    }
  }
  auto time_param = [&](const char* k) -> std::optional<int64_t> {
    auto it = body.find(k);
    if (it == body.end() || it->is_null()) return std::nullopt;
    if (it->is_number_integer()) return it->get<int64_t>();
    std::string s = it->is_string() ? it->get<std::string>() : "";
    if (int64_t t = ParseDate(s)) return t;
    if (!s.empty() && s.back() == 'd' && s.find_first_not_of("0123456789") == s.size() - 1) {
      return Now() - std::stoll(s.substr(0, s.size() - 1)) * 86400;
    }
    return std::nullopt;
  };
  sr.since = time_param("since");
  sr.until = time_param("until");
  std::string tlp = str("tlp");
  static const std::vector<std::string> kTlp = {"", "clear", "white", "green", "amber", "amber+strict", "red"};
  if (std::find(kTlp.begin(), kTlp.end(), tlp) == kTlp.end()) return Error(400, "Unknown TLP '" + tlp + "'.", req);

  SearchMeta meta;
  meta.id = NewId();
  meta.owner = user.name;
  meta.label = str("label");
  meta.tlp = tlp.empty() ? "amber" : tlp;
  meta.shared = body.value("shared", false);
  meta.created = Now();
  meta.time_gap_days = body.contains("time_gap_days") && body["time_gap_days"].is_number_integer()
                           ? body["time_gap_days"].get<int>()
                           : config.time_gap_days;
  {
    std::lock_guard<std::mutex> lock(jobs_mu);
    if (running >= config.max_running_searches) {
      return Error(429, "Too many searches are running; retry in a moment.", req);
    }
    ++running;
  }
  sr.indicators = input.indicators;
  for (const auto& m : members) sr.members.push_back(m.name);
  sr.deadline = std::chrono::steady_clock::now() + config.search_timeout;
  auto job = std::make_shared<SearchJob>(meta, std::move(input), members);
  SearchRow row{meta.id, meta.owner, meta.label, meta.tlp, meta.shared, meta.created, "running",
                job->input().indicators.size(), 0, "", ""};
  Status st = store->InsertSearch(row);
  if (!st.ok()) {
    std::lock_guard<std::mutex> lock(jobs_mu);
    --running;
    return net::ErrorResponse(st, req.path);
  }
  {
    std::lock_guard<std::mutex> lock(jobs_mu);
    jobs[meta.id] = job;
  }
  federation::SearchCallbacks cb;
  cb.on_status = [job](const std::string& m, federation::MemberStatus s) { job->OnStatus(m, s); };
  cb.on_reply = [job](federation::MemberReply r) { job->OnReply(std::move(r)); };
  cb.on_done = [this, job] { Finish(job); };
  auto handle = fed->Search(std::move(sr), std::move(cb));
  {
    std::lock_guard<std::mutex> lock(jobs_mu);
    if (!job->done()) handles[meta.id] = std::move(handle);
  }
  return Json({{"id", meta.id}, {"status", "running"}, {"url", "/api/v1/searches/" + meta.id}}, 201);
}

void Portal::Impl::Finish(const std::shared_ptr<SearchJob>& job) {
  job->OnDone();  // cheap: marks done and wakes event-stream readers
  {
    std::lock_guard<std::mutex> lock(persist_mu);
    persist_queue.push_back(job);
  }
  persist_cv.notify_one();
  // The handle is released by the next request touching the map; the federation thread must
  // not destroy the handle it is calling us from.
}

void Portal::Impl::Persist(const std::shared_ptr<SearchJob>& job) {
  std::string doc = job->Document().dump(-1, ' ', false, json::error_handler_t::replace);
  job->SetFinalDocument(doc);
  SearchRow row{job->meta().id, job->meta().owner, job->meta().label, job->meta().tlp,
                job->meta().shared, job->meta().created, "done", job->input().indicators.size(),
                job->hit_count(), std::move(doc), job->EventLog()};
  Status st = store->FinishSearch(row);
  if (!st.ok()) {
    std::fprintf(stderr, "iocgrid portal: cannot persist search %s: %s\n", row.id.c_str(),
                 st.ToString().c_str());
  }
  std::lock_guard<std::mutex> lock(jobs_mu);
  --running;
}

void Portal::Impl::PersistLoop() {
  std::unique_lock<std::mutex> lock(persist_mu);
  while (true) {
    persist_cv.wait(lock, [this] { return persist_stop || !persist_queue.empty(); });
    if (persist_queue.empty()) return;  // stopping and drained
    auto job = std::move(persist_queue.front());
    persist_queue.pop_front();
    lock.unlock();
    try {
      Persist(job);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "iocgrid portal: persisting a search failed: %s\n", e.what());
    }
    lock.lock();
  }
}

Result<json> Portal::Impl::Document(const std::string& id, const PortalUser& user) {
  std::shared_ptr<SearchJob> job;
  {
    std::lock_guard<std::mutex> lock(jobs_mu);
    auto it = jobs.find(id);
    if (it != jobs.end()) job = it->second;
  }
  if (job) {
    if (!CanSee(job->meta(), user)) return NotFoundError("no search " + id);
    return job->Document();
  }
  auto row = store->GetSearch(id);
  if (!row.ok()) return row.status();
  SearchMeta meta{row->id, row->owner, row->label, row->tlp, row->shared, row->created, 0};
  if (!CanSee(meta, user)) return NotFoundError("no search " + id);
  if (row->document.empty()) {
    return json{{"id", row->id}, {"label", row->label}, {"tlp", row->tlp}, {"owner", row->owner},
                {"created", row->created}, {"status", row->status}, {"indicators", json::array()},
                {"members", json::array()}, {"invalid", json::array()}};
  }
  json d = json::parse(row->document, nullptr, false);
  if (d.is_discarded()) return DataLossError("stored search " + id + " is unreadable");
  d["status"] = row->status;
  return d;
}

net::Response Portal::Impl::GetSearch(net::Request& req, const PortalUser& user) {
  {
    // A finished search still in memory: its document was serialized once, when it ended.
    std::shared_ptr<SearchJob> job;
    {
      std::lock_guard<std::mutex> lock(jobs_mu);
      auto it = jobs.find(req.params["id"]);
      if (it != jobs.end()) job = it->second;
    }
    net::Response r;
    if (job && CanSee(job->meta(), user) && job->FinalDocument(&r.body)) return r;
  }
  auto d = Document(req.params["id"], user);
  if (!d.ok()) return d.status().code() == StatusCode::kNotFound ? Error(404, "Invalid search", req)
                                                                 : net::ErrorResponse(d.status(), req.path);
  return Json(*d);
}

net::Response Portal::Impl::SearchEvents(net::Request& req, const PortalUser& user) {
  const std::string id = req.params["id"];
  std::shared_ptr<SearchJob> job;
  {
    std::lock_guard<std::mutex> lock(jobs_mu);
    auto it = jobs.find(id);
    if (it != jobs.end()) job = it->second;
  }
  net::Response r;
  r.content_type = "text/event-stream";
  r.headers.emplace_back("Cache-Control", "no-cache");
  if (!job) {
    auto row = store->GetSearch(id);
    SearchMeta meta;
    if (row.ok()) meta = SearchMeta{row->id, row->owner, row->label, row->tlp, row->shared, row->created, 0};
    if (!row.ok() || !CanSee(meta, user)) return Error(404, "Invalid search", req);
    r.body = row->events;
    if (row->status != "done") r.body += "event: done\ndata: {\"status\":\"" + row->status + "\"}\n\n";
    return r;
  }
  if (!CanSee(job->meta(), user)) return Error(404, "Invalid search", req);
  auto cursor = std::make_shared<size_t>(0);
  r.stream = [job, cursor](std::string* chunk) {
    bool more = job->NextEvents(cursor.get(), chunk, std::chrono::seconds(15));
    if (more && chunk->empty()) *chunk = ": keep-alive\n\n";
    return more;
  };
  return r;
}

net::Response Portal::Impl::ListSearches(net::Request& req, const PortalUser& user) {
  auto rows = store->ListSearches();
  if (!rows.ok()) return net::ErrorResponse(rows.status(), req.path);
  std::unordered_map<std::string, std::shared_ptr<SearchJob>> live;
  {
    std::lock_guard<std::mutex> lock(jobs_mu);
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
    SearchMeta meta{r.id, r.owner, r.label, r.tlp, r.shared, r.created, 0};
    if (!CanSee(meta, user)) continue;
    uint64_t hits = r.hits;
    std::string status = r.status;
    if (auto it = live.find(r.id); it != live.end() && !it->second->done()) {
      hits = it->second->hit_count();
      status = "running";
    }
    out.push_back({{"id", r.id}, {"label", r.label}, {"tlp", r.tlp}, {"owner", r.owner},
                   {"created", r.created}, {"status", status}, {"indicators", r.indicators},
                   {"hits", hits}, {"shared", r.shared}});
  }
  return Json(out);
}

net::Response Portal::Impl::DeleteSearch(net::Request& req, const PortalUser& user) {
  const std::string id = req.params["id"];
  auto row = store->GetSearch(id);
  if (!row.ok()) return Error(404, "Invalid search", req);
  if (user.role != Role::kAdmin && row->owner != user.name) {
    return Error(403, "Only the owner or an admin may delete a search.", req);
  }
  {
    std::lock_guard<std::mutex> lock(jobs_mu);
    auto it = jobs.find(id);
    if (it != jobs.end() && !it->second->done()) return Error(409, "The search is still running.", req);
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
  namespace fs = std::filesystem;
  std::string rel = req.path == "/" ? "index.html" : req.path.substr(1);
  if (rel.find("..") != std::string::npos || web_dir.empty()) return Error(404, "Not Found", req);
  fs::path p = fs::path(web_dir) / rel;
  std::error_code ec;
  if (!fs::is_regular_file(p, ec)) return Error(404, "Not Found", req);
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  net::Response r;
  r.content_type = ContentType(p.string());
  r.body = ss.str();
  r.headers.emplace_back("Cache-Control", "no-cache");
  r.headers.emplace_back("X-Content-Type-Options", "nosniff");
  r.headers.emplace_back("Content-Security-Policy", "default-src 'self'; style-src 'self'; img-src 'self' data:");
  return r;
}

Portal::Portal(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Portal::~Portal() {
  // Stop outstanding searches before the jobs they fill go away.
  std::unordered_map<std::string, std::unique_ptr<federation::SearchHandle>> handles;
  {
    std::lock_guard<std::mutex> lock(impl_->jobs_mu);
    handles.swap(impl_->handles);
  }
  for (auto& [id, h] : handles) {
    h->Cancel();
    h->Wait();
  }
  impl_->fed.reset();
  {
    std::lock_guard<std::mutex> lock(impl_->persist_mu);
    impl_->persist_stop = true;
  }
  impl_->persist_cv.notify_all();
  if (impl_->persister.joinable()) impl_->persister.join();  // drains the queue first
}

Result<std::unique_ptr<Portal>> Portal::Open(const PortalConfig& config) {
  auto impl = std::make_unique<Impl>();
  impl->config = config;
  IOCGRID_ASSIGN_OR_RETURN(impl->store, PortalStore::Open(config.data));
  IOCGRID_ASSIGN_OR_RETURN(impl->fed, federation::Federation::Create(config.members, config.federation));
  IOCGRID_ASSIGN_OR_RETURN(impl->extractor, extract::Extractor::Create(extract::ExtractOptions{}));
  impl->web_dir = FindWebDir(config.web_dir);
  impl->Routes();
  Impl* raw = impl.get();
  impl->persister = std::thread([raw] { raw->PersistLoop(); });
  return std::unique_ptr<Portal>(new Portal(std::move(impl)));
}

net::Response Portal::Handle(net::Request& request) {
  if (request.path.rfind("/api/", 0) != 0 && (request.method == "GET" || request.method == "HEAD")) {
    return impl_->Static(request);
  }
  return impl_->router.Dispatch(request);
}

PortalStore& Portal::store() { return *impl_->store; }
federation::Federation& Portal::federation() { return *impl_->fed; }

}  // namespace iocgrid::portal
