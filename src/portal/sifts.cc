// POST /api/v1/sifts and GET /api/v1/sifts[/{id}] (issue 9, docs/portal-api.md): a log upload
// streamed through the sift library's parsers, its distinct public observables run as one
// search, and the report that joins the two. The log is never stored: the upload's pieces go
// straight into the parser, and only observables, counts and line groups (observable ids) are
// kept.
#include <charconv>
#include <cstdio>
#include <tuple>
#include <utility>

#include "common/time.h"
#include "core/indicator_type.h"
#include "portal/internal/portal_impl.h"
#include "portal/internal/sift_request.h"

namespace iocgrid::portal {

using internal::Error;
using internal::Json;
using internal::SiftJob;
using json = nlohmann::json;

namespace {

constexpr size_t kDefaultTop = 10;
constexpr size_t kMaxTop = 1000;
// A gzip upload may inflate to this many times the upload cap (logs compress ~10-20 times).
constexpr uint64_t kMaxInflateRatio = 32;

// The upload's end of net::BodySink: pieces go to the SiftJob, the end to FinishUpload.
class SiftSink final : public net::BodySink {
 public:
  SiftSink(Portal::Impl* portal, std::shared_ptr<SiftJob> job, uint64_t max_bytes)
      : net::BodySink(max_bytes), portal_(portal), job_(std::move(job)) {}
  ~SiftSink() override {
    // The server stopped before the upload ended: nothing is kept.
    if (!finished_) portal_->DropSift(job_, /*release_slot=*/true);
  }
  Status Write(std::string_view piece) override { return job_->Write(piece); }
  net::Response Finish(const net::Request& head, Status status) override {
    finished_ = true;
    return portal_->FinishUpload(head, job_, status);
  }

 private:
  Portal::Impl* portal_;  // must outlive the sink (the server stops before the portal goes)
  std::shared_ptr<SiftJob> job_;
  bool finished_ = false;
};

bool IsSiftUpload(const net::Request& head) {
  return head.method == "POST" &&
         (head.path == "/api/v1/sifts" || head.path == "/api/v1/sifts.json");
}

// A failed upload's answer: 413 for caps, 408 for a silent client, 503 when stopping, 400 else.
net::Response UploadError(const Status& status, const net::Request& head) {
  int code = 400;
  switch (status.code()) {
    case StatusCode::kResourceExhausted:
      code = 413;
      break;
    case StatusCode::kDeadlineExceeded:
      code = 408;
      break;
    case StatusCode::kUnavailable:
      code = 503;
      break;
    case StatusCode::kInternal:
      code = 500;
      break;
    default:
      break;
  }
  return Error(code, "Sift failed: " + std::string(status.message()), head);
}

std::string MiB(uint64_t bytes) { return std::to_string(bytes >> 20) + " MiB"; }

}  // namespace

std::unordered_map<std::string, std::string> Portal::Impl::MemberKinds() const {
  std::unordered_map<std::string, std::string> out;
  // From the config, not the federation: the persister still finishes sifts while the portal
  // shuts down, after the federation is gone.
  for (const auto& m : config.members) out[m.name] = m.data_kind;
  return out;
}

net::BodyStream Portal::Impl::StreamSift(const net::Request& head) {
  net::BodyStream out;
  if (!IsSiftUpload(head)) return out;
  auto user = store->Authenticate(internal::RequestKey(head));
  if (!user.ok()) {
    out.refusal = Error(403, internal::kAuthFailed, head);
    return out;
  }
  Status type =
      internal::CheckSiftContentType(head.Header("content-type"), head.Header("content-encoding"));
  if (!type.ok()) {
    out.refusal = Error(415, type.message(), head);
    return out;
  }
  auto request = internal::ParseSiftQuery(head.query);
  if (!request.ok()) {
    out.refusal = Error(400, request.status().message(), head);
    return out;
  }
  std::string org, sector;
  if (request->share) {
    auto where = ShareOrigin(*user);
    if (!where.ok()) {
      out.refusal = Error(400, where.status().message(), head);
      return out;
    }
    std::tie(org, sector) = *where;
  }
  // The search's fields are checked now, before the log is read, exactly as the search will
  // check them (a placeholder stands for the observables).
  json probe = request->search;
  probe["indicators"] = json::array({"192.0.2.1"});
  if (auto checked = PrepareSearch(probe.dump(), *user); !checked.ok()) {
    out.refusal = Error(400, checked.status().message(), head);
    return out;
  }
  if (!TakeSlot()) {
    out.refusal = Error(429, "Too many searches and sifts are running; retry in a moment.", head);
    out.refusal->headers.emplace_back("Retry-After", "5");
    return out;
  }
  internal::SiftMeta meta;
  meta.id = internal::NewId();
  meta.owner = user->name;
  meta.label = request->label;
  meta.tlp = request->search.value("tlp", "amber");
  meta.shared = request->search.value("shared", false);
  meta.created = config.clock.Now();
  meta.request = request->normalized;
  meta.org = std::move(org);
  meta.sector = std::move(sector);
  internal::SiftLimits limits;
  limits.max_observables = config.max_indicators;
  limits.max_inflated_bytes = config.max_sift_upload_bytes * kMaxInflateRatio;
  auto job = std::make_shared<SiftJob>(std::move(meta), request->options, limits);
  {
    MutexLock lock(sifts_mu);
    sifts[job->meta().id] = job;
  }
  out.sink = std::make_unique<SiftSink>(this, job, config.max_sift_upload_bytes);
  return out;
}

void Portal::Impl::DropSift(const std::shared_ptr<SiftJob>& job, bool release_slot) {
  {
    MutexLock lock(sifts_mu);
    sifts.erase(job->meta().id);
  }
  if (release_slot) ReleaseSlot();
}

Result<internal::PreparedSearch> Portal::Impl::SiftSearch(const net::Request& head,
                                                          const internal::SiftResult& result,
                                                          const internal::SiftMeta& meta) {
  // One search for every distinct public observable, typed as the sifter typed it, with the
  // search fields of the upload's query (checked on the head already).
  auto request = internal::ParseSiftQuery(head.query);
  json body = request.ok() ? request->search : json::object();
  json list = json::array();
  for (const sift::Observable& o : result.observables) {
    list.push_back({{"value", o.value}, {"type", core::TypeName(o.type)}});
  }
  body["indicators"] = std::move(list);
  if (meta.label == "sightings" && meta.request.value("source", "") == "sightings") {
    body["label"] = "sightings";  // a batch of POST /api/v1/sightings
  }
  IOCGRID_ASSIGN_OR_RETURN(PortalUser user, store->Authenticate(internal::RequestKey(head)));
  IOCGRID_ASSIGN_OR_RETURN(internal::PreparedSearch prepared, PrepareSearch(body.dump(), user));
  prepared.meta.sift_id = meta.id;
  return prepared;
}

net::Response Portal::Impl::FinishUpload(const net::Request& head,
                                         const std::shared_ptr<SiftJob>& job,
                                         const Status& status) {
  if (!status.ok()) {
    DropSift(job, true);
    if (status.code() == StatusCode::kResourceExhausted && !job->write_failed()) {
      return Error(413,
                   "The log is larger than the portal's sift upload limit (" +
                       MiB(config.max_sift_upload_bytes) +
                       ", max_sift_upload_mb); compress it with gzip or split it.",
                   head);
    }
    return UploadError(status, head);
  }
  auto ended = job->End();
  if (!ended.ok()) {
    DropSift(job, true);
    return UploadError(ended.status(), head);
  }
  return LaunchSift(head, job, **ended);
}

net::Response Portal::Impl::LaunchSift(const net::Request& head,
                                       const std::shared_ptr<SiftJob>& job,
                                       const internal::SiftResult& result) {
  const internal::SiftMeta& meta = job->meta();
  SiftRow row{meta.id,
              meta.owner,
              meta.label,
              meta.tlp,
              meta.shared,
              meta.created,
              "searching",
              "",
              result.counts.lines,
              result.observables.size(),
              meta.request.dump(-1, ' ', false, json::error_handler_t::replace),
              internal::EncodeSiftResult(result),
              internal::EncodeLineGroups(result.groups),
              ""};
  std::optional<internal::PreparedSearch> search;
  if (!result.observables.empty()) {
    auto prepared = SiftSearch(head, result, meta);
    if (!prepared.ok()) {
      DropSift(job, true);
      return prepared.status().code() == StatusCode::kPermissionDenied
                 ? Error(403, internal::kAuthFailed, head)
                 : UploadError(prepared.status(), head);
    }
    row.search_id = prepared->meta.id;
    job->set_search_id(row.search_id);
    search = std::move(*prepared);
  } else {
    row.status = "done";  // nothing public to ask about
    row.report =
        SiftReport(meta, "done", result, "", nullptr, MemberKinds(), sift_rules, kDefaultTop, true)
            .dump(-1, ' ', false, json::error_handler_t::replace);
  }
  // The row goes in before the search starts: the search's end updates it.
  if (Status st = store->InsertSift(row); !st.ok()) {
    DropSift(job, true);
    return net::ErrorResponse(st, head.path);
  }
  json answer = {{"id", meta.id},
                 {"status", row.status},
                 {"url", "/api/v1/sifts/" + meta.id},
                 {"lines", result.counts.lines},
                 {"observables", result.observables.size()}};
  if (!search) {
    DropSift(job, true);
    answer["search_id"] = nullptr;
    return Json(answer, 201);
  }
  job->set_status("searching");
  net::Response launched = LaunchSearch(std::move(*search), head, /*slot_held=*/true);
  if (launched.status != 201) {
    DropSift(job, false);                                         // LaunchSearch gave the slot back
    store->FinishSift(meta.id, "interrupted", "").IgnoreError();  // best effort: shown as such
    return launched;
  }
  answer["search_id"] = row.search_id;
  answer["search_url"] = "/api/v1/searches/" + row.search_id;
  return Json(answer, 201);
}

void Portal::Impl::FinishSift(const std::string& sift_id, const SearchJob& search) {
  std::shared_ptr<SiftJob> job;
  {
    MutexLock lock(sifts_mu);
    auto it = sifts.find(sift_id);
    if (it != sifts.end()) job = it->second;
  }
  if (job == nullptr || job->result() == nullptr) return;
  const std::string status = search.status();
  json doc = search.Document();
  json report = SiftReport(job->meta(), status, *job->result(), search.meta().id, &doc,
                           MemberKinds(), sift_rules, kDefaultTop, true);
  if (job->meta().request.contains("share") && status == "done") {
    RecordShared(job->meta(), *job->result(), report, doc);
  }
  // Only now is the sift ended for GET: its shared sightings are in the trends.
  job->set_status(status);
  Status st = store->FinishSift(sift_id, status,
                                report.dump(-1, ' ', false, json::error_handler_t::replace));
  if (!st.ok()) {
    std::fprintf(stderr, "iocgrid portal: cannot store sift %s: %s\n", sift_id.c_str(),
                 st.ToString().c_str());
    return;  // kept in memory: GET still answers
  }
  DropSift(job, false);
}

net::Response Portal::Impl::CreateSiftBuffered(net::Request& req, const PortalUser&) {
  // Only a server without ServerOptions::stream_body gets here (the body read whole, within the
  // server's body limit): the same sink takes it in one piece.
  net::BodyStream stream = StreamSift(req);
  if (stream.refusal) return *std::move(stream.refusal);
  if (!stream.sink) return Error(500, "An Internal Error Has Occurred.", req);
  Status written;
  if (req.body.size() > stream.sink->max_bytes()) {
    written = ResourceExhaustedError("the body is larger than the upload limit");
  } else if (!req.body.empty()) {
    written = stream.sink->Write(req.body);
  }
  return stream.sink->Finish(req, written);
}

namespace {

// ?top=N (0-1000, default 10) and ?observables=true|false (default true) of GET /sifts/{id}.
Status ReportParams(const net::Request& req, size_t* top, bool* with_observables) {
  *top = kDefaultTop;
  *with_observables = true;
  std::string t = req.QueryParam("top");
  if (!t.empty()) {
    size_t n = 0;
    auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), n);
    if (ec != std::errc() || end != t.data() + t.size() || n > kMaxTop) {
      return InvalidArgumentError("Query parameter 'top' must be a whole number from 0 to " +
                                  std::to_string(kMaxTop) + ".");
    }
    *top = n;
  }
  std::string o = req.QueryParam("observables");
  if (!o.empty()) {
    if (o != "true" && o != "false") {
      return InvalidArgumentError("Query parameter 'observables' must be true or false.");
    }
    *with_observables = o == "true";
  }
  return Status::Ok();
}

// A stored final report with another `top` or without the observable list.
void Reshape(json* report, size_t top, bool with_observables) {
  auto all = report->find("observables");
  if (top != kDefaultTop && all != report->end() && all->is_array()) {
    json tops = json::object();
    for (sift::Class c : sift::kAllClasses) tops[std::string(sift::ClassName(c))] = json::array();
    for (const json& o : *all) {  // in report order: by class, most lines first
      if (!o.is_object() || !o.contains("class") || !o["class"].is_string()) continue;
      json& list = tops[o["class"].get<std::string>()];
      if (list.size() < top) list.push_back(o);
    }
    (*report)["top"] = tops;
  }
  if (!with_observables) report->erase("observables");
}

}  // namespace

net::Response Portal::Impl::GetSift(net::Request& req, const PortalUser& user) {
  const std::string id = req.params["id"];
  size_t top = kDefaultTop;
  bool with_observables = true;
  if (Status s = ReportParams(req, &top, &with_observables); !s.ok()) {
    return Error(400, s.message(), req);
  }
  std::shared_ptr<SiftJob> job;
  {
    MutexLock lock(sifts_mu);
    auto it = sifts.find(id);
    if (it != sifts.end()) job = it->second;
  }
  internal::SiftMeta meta;
  std::string status, search_id;
  std::shared_ptr<const internal::SiftResult> result;
  if (job != nullptr) {
    meta = job->meta();
    result = job->result();
    search_id = job->search_id();
    status = result == nullptr ? "uploading" : job->status();
  } else {
    auto row = store->GetSift(id);
    if (!row.ok()) {
      return row.status().code() == StatusCode::kNotFound
                 ? Error(404, "Invalid sift", req)
                 : net::ErrorResponse(row.status(), req.path);
    }
    meta = {row->id, row->owner, row->label, row->tlp, row->shared, row->created, {}, {}, {}};
    meta.request = json::parse(row->request, nullptr, false);
    status = row->status;
    search_id = row->search_id;
    if (CanSee(SearchMeta{meta.id, meta.owner, "", "", meta.shared, 0, 0, {}, {}}, user) &&
        !row->report.empty()) {
      json report = json::parse(row->report, nullptr, false);
      if (report.is_discarded()) return Error(500, "The stored sift is unreadable.", req);
      report["status"] = status;
      Reshape(&report, top, with_observables);
      return Json(report);
    }
    auto decoded = internal::DecodeSiftResult(row->result, row->groups);
    if (!decoded.ok()) return net::ErrorResponse(decoded.status(), req.path);
    result = std::make_shared<internal::SiftResult>(std::move(*decoded));
  }
  // Another analyst's sift answers exactly like a missing one: no existence oracle.
  if (!CanSee(SearchMeta{meta.id, meta.owner, "", "", meta.shared, 0, 0, {}, {}}, user)) {
    return Error(404, "Invalid sift", req);
  }
  if (result == nullptr) {
    json d = internal::SiftMetaJson(meta, status);
    d["progress"] = job->Progress();
    return Json(d);
  }
  Result<json> search =
      search_id.empty() ? Result<json>(NotFoundError("no search")) : Document(search_id, user);
  json report =
      internal::SiftReport(meta, status, *result, search_id, search.ok() ? &*search : nullptr,
                           MemberKinds(), sift_rules, top, with_observables);
  return Json(report);
}

net::Response Portal::Impl::ListSifts(net::Request& req, const PortalUser& user) {
  auto rows = store->ListSifts();
  if (!rows.ok()) return net::ErrorResponse(rows.status(), req.path);
  std::vector<std::shared_ptr<SiftJob>> live;
  {
    MutexLock lock(sifts_mu);
    for (const auto& [id, job] : sifts) live.push_back(job);
  }
  auto visible = [&](const std::string& owner, bool shared) {
    return CanSee(SearchMeta{"", owner, "", "", shared, 0, 0, {}, {}}, user);
  };
  json out = json::array();
  for (const auto& job : live) {  // uploads in progress are not in the store yet
    if (job->result() != nullptr || !visible(job->meta().owner, job->meta().shared)) continue;
    json d = internal::SiftMetaJson(job->meta(), "uploading");
    d["progress"] = job->Progress();
    out.push_back(std::move(d));
  }
  for (const SiftRow& r : *rows) {
    if (!visible(r.owner, r.shared)) continue;
    out.push_back({{"id", r.id},
                   {"label", r.label},
                   {"owner", r.owner},
                   {"created", r.created},
                   {"tlp", r.tlp},
                   {"shared", r.shared},
                   {"status", r.status},
                   {"search_id", r.search_id.empty() ? json(nullptr) : json(r.search_id)},
                   {"lines", r.lines},
                   {"observables", r.observables}});
  }
  return Json(out);
}

}  // namespace iocgrid::portal
