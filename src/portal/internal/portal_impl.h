// Portal::Impl: the portal's state and its route handlers, shared by the files that implement
// them: portal.cc (searches, members, exports, persistence) and sifts.cc (log uploads,
// POST/GET /api/v1/sifts). Internal to the portal component.
//
// Thread-safety: as Portal: handlers run concurrently on the HTTP server's workers; the maps are
// guarded by the mutexes named on them.
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <vector>

#include "common/mutex.h"
#include "extract/extractor.h"
#include "federation/federation.h"
#include "net/http.h"
#include "net/http_error.h"
#include "net/router.h"
#include "net/static_files.h"
#include "portal/config.h"
#include "portal/internal/search_job.h"
#include "portal/internal/sift_job.h"
#include "portal/internal/trends.h"
#include "portal/portal.h"
#include "portal/portal_store.h"
#include "sift/rules.h"

namespace iocgrid::portal {

namespace internal {

inline constexpr const char* kAuthFailed =
    "Authentication failed. Please make sure you pass the API key of an API enabled user along "
    "in the Authorization header.";

// A random 16-hex-digit id (searches, sifts).
std::string NewId();

inline net::Response Json(const nlohmann::json& body, int status = 200) {
  net::Response r;
  r.status = status;
  r.body = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return r;
}

inline net::Response Error(int status, std::string_view message, const net::Request& req) {
  return net::ErrorResponse(status, message, req.path);
}

// The API key of a request: X-MISP-AUTH, else Authorization (with or without "Bearer ").
inline std::string_view RequestKey(const net::Request& req) {
  std::string_view key = req.Header("x-misp-auth");
  if (key.empty()) key = req.Header("authorization");
  if (key.rfind("Bearer ", 0) == 0) key.remove_prefix(7);
  return key;
}

// A search ready to run: parsed, its members chosen, its id given (PrepareSearch), not yet
// stored or started (LaunchSearch).
struct PreparedSearch {
  SearchMeta meta;
  SearchInput input;
  federation::SearchRequest request;
  std::vector<federation::MemberConfig> members;
};

}  // namespace internal

struct Portal::Impl {
  using json = nlohmann::json;
  using SearchJob = internal::SearchJob;
  using SearchMeta = internal::SearchMeta;
  using SiftJob = internal::SiftJob;

  PortalConfig config;
  std::unique_ptr<PortalStore> store;
  std::unique_ptr<federation::Federation> fed;
  std::unique_ptr<extract::Extractor> extractor;
  std::string web_dir;
  std::optional<net::StaticFiles> static_files;  // none when no web directory was found
  net::Router router;
  std::atomic<bool> stopping{false};  // set when the portal shuts down: searches end interrupted
  sift::ClassRules sift_rules = sift::DefaultRules();

  Mutex jobs_mu;
  std::unordered_map<std::string, std::shared_ptr<SearchJob>> jobs IOCGRID_GUARDED_BY(jobs_mu);
  std::unordered_map<std::string, std::unique_ptr<federation::SearchHandle>> handles
      IOCGRID_GUARDED_BY(jobs_mu);
  // Searches running and sift uploads in progress (each holds one of max_running_searches).
  size_t running IOCGRID_GUARDED_BY(jobs_mu) = 0;

  // Each member's part in the latest search that asked it: the health an analyst sees on the
  // members page without probing anybody (GET /members `last_search`).
  struct LastAnswer {
    std::string status;
    std::string error;
    int64_t elapsed_ms = 0;
    int64_t at = 0;  // unix seconds
  };
  Mutex answers_mu;
  std::unordered_map<std::string, LastAnswer> last_answers IOCGRID_GUARDED_BY(answers_mu);
  void RecordAnswer(const federation::MemberReply& reply);

  // Sifts uploading, or whose search still runs; finished ones live in the store only.
  Mutex sifts_mu;
  std::unordered_map<std::string, std::shared_ptr<SiftJob>> sifts IOCGRID_GUARDED_BY(sifts_mu);

  void Routes();
  using Handler = net::Response (Impl::*)(net::Request&, const PortalUser&);
  void Add(std::vector<std::string> methods, std::string_view pattern, Handler h,
           bool admin_only = false);

  net::Response Me(net::Request&, const PortalUser&);
  net::Response Members(net::Request&, const PortalUser&);
  net::Response MembersCheck(net::Request&, const PortalUser&);
  net::Response CreateSearch(net::Request&, const PortalUser&);
  net::Response GetSearch(net::Request&, const PortalUser&);
  net::Response SearchEvents(net::Request&, const PortalUser&);
  net::Response ListSearches(net::Request&, const PortalUser&);
  net::Response DeleteSearch(net::Request&, const PortalUser&);
  net::Response Export(net::Request&, const PortalUser&);
  net::Response Rerun(net::Request&, const PortalUser&);
  // Sightings back to members (sightings.cc): POST sends the chosen hits' sightings, GET lists
  // what was sent from the search.
  net::Response SendSightings(net::Request&, const PortalUser&);
  net::Response ListSentSightings(net::Request&, const PortalUser&);
  net::Response Static(net::Request&);
  // The private-search relay (private_relay.cc): an analyst's blinded frames to a private
  // member and its answers back; the portal counts, never reads.
  net::Response PrivateRelay(net::Request&, const PortalUser&);
  // Counts an evaluate frame's points against the user's daily share; the 429 when over it.
  std::optional<net::Response> ChargeEvaluations(const net::Request& req, const PortalUser& user);
  struct RelayCount {
    uint64_t requests = 0;
    uint64_t bytes = 0;
  };
  Mutex relay_mu;
  std::unordered_map<std::string, RelayCount> relayed_counts IOCGRID_GUARDED_BY(relay_mu);
  // Starts a search from a request body (POST /searches and re-runs).
  net::Response StartSearch(std::string_view body, const net::Request& req, const PortalUser& user);
  // Parses a search body and chooses its members. Errors: kInvalidArgument (400: bad field,
  // unknown member, no member), kResourceExhausted (413: too many indicators).
  Result<internal::PreparedSearch> PrepareSearch(std::string_view body, const PortalUser& user);
  // Stores and starts a prepared search; 201 with its id, or the error response. With
  // `slot_held` the caller already holds one of max_running_searches for it.
  net::Response LaunchSearch(internal::PreparedSearch search, const net::Request& req,
                             bool slot_held);
  // Takes one of max_running_searches; false when none is free. ReleaseSlot gives it back.
  bool TakeSlot();
  void ReleaseSlot();

  // The document of a search, running (in memory) or finished (from the store).
  Result<json> Document(const std::string& id, const PortalUser& user);
  bool CanSee(const SearchMeta& meta, const PortalUser& user) const {
    return user.role == Role::kAdmin || meta.owner == user.name || meta.shared;
  }
  void Finish(const std::shared_ptr<SearchJob>& job);

  // Reputation of one indicator (reputation.cc): GET /api/v1/indicators/{value} or ?value=.
  net::Response IndicatorReputation(net::Request&, const PortalUser&);
  // The reputation answer from the document of a one-indicator search.
  json ReputationOf(const json& doc, const core::Indicator& indicator, const std::string& value);

  // TAXII 2.1 (taxii.cc; docs/taxii.md): discovery, the API root, collections and objects.
  net::Response Taxii(net::Request& req);

  // Watchlists (watchlists.cc; docs/portal-api.md): standing searches re-run on an interval and
  // when a member's data changes, new and removed hits to a signed webhook, an event stream and
  // the runs log.
  net::Response CreateWatchlist(net::Request&, const PortalUser&);
  net::Response ListWatchlists(net::Request&, const PortalUser&);
  net::Response GetWatchlist(net::Request&, const PortalUser&);
  net::Response PatchWatchlist(net::Request&, const PortalUser&);
  net::Response DeleteWatchlist(net::Request&, const PortalUser&);
  net::Response WatchlistRuns(net::Request&, const PortalUser&);
  net::Response WatchlistDeliveries(net::Request&, const PortalUser&);
  net::Response WatchlistEvents(net::Request&, const PortalUser&);
  // The 400 for a webhook into the portal's own network, unless the config allows it.
  std::optional<net::Response> RefuseInternalWebhook(const std::string& url,
                                                     const net::Request& req);
  // The watchlist `id` as `user` may see it (owner or admin). Errors: kNotFound.
  Result<WatchlistRow> VisibleWatchlist(const std::string& id, const PortalUser& user);
  void StartWatching();
  void StopWatching();
  void WatchLoop();
  void DeliverLoop();
  // Runs a search in memory (not in the history) and waits for it, its handle kept under
  // `handle_key` meanwhile so that shutdown cancels it; null when no search slot was free.
  std::shared_ptr<internal::SearchJob> SearchNow(internal::PreparedSearch search,
                                                 const std::string& handle_key);
  // Runs the due watchlists, watch.concurrent_runs at a time; false when the portal stops.
  bool RunDue(const std::vector<std::pair<WatchlistRow, std::string>>& due);
  // Runs one watchlist now (the watcher thread); false when no search slot was free.
  bool RunWatchlist(const WatchlistRow& row, const std::string& reason);
  // A watchlist of rising trends: the rising cells of its sectors and types now, compared
  // with the previous run's (a cell that starts rising is news, as a new hit is).
  void RunRisingWatchlist(const WatchlistRow& row, const json& spec, const std::string& reason);
  // Records a run that could not be done (its error as its one member line); the watchlist's
  // current items stay as they were.
  void RecordFailedRun(const WatchlistRow& row, WatchRunRow run, const Status& why);
  // Records a finished run with its current items, queues the webhook delivery when there is
  // news, and tells the watchlist's event streams.
  void RecordRun(const WatchlistRow& row, WatchRunRow run, const json& current, json event,
                 bool news);
  // GET /api/v1/trends/rising's answer for window `w`.
  Result<json> RisingAnswer(const internal::TrendWindow& w);
  // Tries one webhook delivery (the deliverer thread) and records the attempt.
  void AttemptDelivery(DeliveryRow delivery);
  // An event for the watchlist's open event streams.
  void PublishWatchEvent(const std::string& id, const std::string& name, const json& data);
  Mutex watch_mu;
  CondVar watch_cv;    // the watcher: stop, or a watchlist to run now
  CondVar deliver_cv;  // the deliverer: stop, or a delivery queued
  bool watch_stop IOCGRID_GUARDED_BY(watch_mu) = false;
  // Watchlists to run at the next tick, with why (created, patched).
  std::map<std::string, std::string> watch_now IOCGRID_GUARDED_BY(watch_mu);
  std::thread watcher;
  std::thread deliverer;
  // The watcher thread's own: each member's data marker and when they were last checked.
  std::map<std::string, std::string> member_markers;
  int64_t markers_checked = 0;
  // The last events of one watchlist for its event streams (kept in memory, at most 100).
  struct WatchFeed {
    std::deque<std::pair<uint64_t, std::string>> events;  // (sequence, "event: ..." block)
    uint64_t next = 0;
    std::vector<std::function<void()>> wakers;
  };
  Mutex feeds_mu;
  std::map<std::string, WatchFeed> feeds IOCGRID_GUARDED_BY(feeds_mu);

  // Sifts (sifts.cc).
  net::BodyStream StreamSift(const net::Request& head);
  net::Response FinishUpload(const net::Request& head, const std::shared_ptr<SiftJob>& job,
                             const Status& status);
  // Stores a sift whose observables are known (an ended upload, a sightings batch) and starts
  // its search; 201 with its id, or the error response (the slot taken for it is given back).
  net::Response LaunchSift(const net::Request& head, const std::shared_ptr<SiftJob>& job,
                           const internal::SiftResult& result);
  void DropSift(const std::shared_ptr<SiftJob>& job, bool release_slot);
  // The one search of an uploaded sift. Errors: kPermissionDenied (the key went away),
  // PrepareSearch's.
  Result<internal::PreparedSearch> SiftSearch(const net::Request& head,
                                              const internal::SiftResult& result,
                                              const internal::SiftMeta& meta);
  // After a sift's search ended (the persister thread): stores the sift's final report.
  void FinishSift(const std::string& sift_id, const SearchJob& search);
  net::Response CreateSiftBuffered(net::Request&, const PortalUser&);
  net::Response GetSift(net::Request&, const PortalUser&);
  net::Response ListSifts(net::Request&, const PortalUser&);
  // Alliance sightings and trends (trends.cc; docs/trends.md).
  net::Response ReportSightings(net::Request&, const PortalUser&);
  net::Response TrendSectors(net::Request&, const PortalUser&);
  net::Response TrendScanners(net::Request&, const PortalUser&);
  net::Response TrendRising(net::Request&, const PortalUser&);
  net::Response TrendActors(net::Request&, const PortalUser&);
  // After a shared sift's search ended: records its observables as the uploader's
  // organisation's sightings (those some member holds, or every one for share=public).
  void RecordShared(const internal::SiftMeta& meta, const internal::SiftResult& result,
                    const json& report, const json& search);
  // The organisation and sector `user` reports sightings as. Errors: kInvalidArgument saying
  // what to configure (a user without organisation, an organisation without sector).
  Result<std::pair<std::string, std::string>> ShareOrigin(const PortalUser& user) const;
  // Purges sightings past retention, at most once a day.
  void PurgeSightingsIfDue();
  std::atomic<int64_t> last_purge_day{-1};
  // The data_kind of each configured member, by name.
  std::unordered_map<std::string, std::string> MemberKinds() const;

  // Finished searches are serialized and written to the store on this thread, not on the
  // federation's dispatcher thread, whose callbacks must not block.
  Mutex persist_mu;
  CondVar persist_cv;
  struct PersistItem {
    std::shared_ptr<SearchJob> job;
    bool final = false;  // false: a checkpoint of a running search (hits so far)
  };
  std::deque<PersistItem> persist_queue IOCGRID_GUARDED_BY(persist_mu);
  bool persist_stop IOCGRID_GUARDED_BY(persist_mu) = false;
  std::thread persister;
  void PersistLoop();
  void Persist(const PersistItem& item);
  void Checkpoint(const std::shared_ptr<SearchJob>& job);
};

}  // namespace iocgrid::portal
