// The node's request handling, shared by the files that implement it by responsibility:
//   node.cc                 Node's public methods, Open, the route table
//   index_manager.cc        the index snapshot: deltas, rebuilds, merges, the kept file
//   index_snapshot.cc       matching over a snapshot's base and delta
//   auth_audit.cc           authentication, per-key concurrency, the audit rows around a request
//   misp_meta_handlers.cc   getVersion, users/view/me, describeTypes
//   misp_search_handlers.cc attributes/restSearch, events/restSearch, events/index
//   misp_event_handlers.cc  events view/add/edit/delete/publish
//   misp_attribute_handlers.cc attributes add/view/delete, sightings/add
//   grid_handlers.cc        /grid/v1/match and /grid/v1/stats
//   psi_precompute.cc       private search: the OPRF key, the background precompute of tags
//                           and labels (psi_labels.cc builds a key's label)
//   psi_handlers.cc         /grid/v1/psi/info, evaluate, tags, buckets, labels
//   handler_util.cc         the small helpers below
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <vector>

#include "common/json_writer.h"
#include "common/mutex.h"
#include "common/result.h"
#include "net/http.h"
#include "net/router.h"
#include "node/internal/search_params.h"
#include "node/node.h"
#include "psi/oprf.h"
#include "store/store.h"

namespace iocgrid::node {
namespace internal {

using json = nlohmann::json;

inline constexpr const char* kAuthFailed =
    "Authentication failed. Please make sure you pass the API key of an API enabled user along "
    "in the Authorization header.";

inline constexpr const char* kInvalidJson =
    "Invalid JSON input. Make sure that the JSON input is a correctly formatted JSON string. This "
    "request has been blocked to avoid an unfiltered request.";

inline constexpr const char* kEmptySearch =
    "Either specify the search terms in the url, or POST a json with the filter parameters.";

net::Response JsonResponse(std::string body, int status = 200);

net::Response Error(int status, std::string_view message, const net::Request& req);

// A failed Status as MISP's error body; a full disk is 507 with the reason, not the 429 that
// kResourceExhausted otherwise maps to (clients would read a rate limit and retry).
net::Response StatusError(const Status& st, const net::Request& req);

// Parses a JSON body as MISP does: invalid JSON is 405, `{"request": ...}` is unwrapped.
// REQUIRES: the body's nesting was checked (Node::Impl::Add does, before any handler runs), so
// nlohmann's recursive parser cannot overflow the stack.
Result<json> ParseBody(const net::Request& req);

// MISP's saveFailResponse (misp-api.md 1.3): 403 with "saved": false and the field errors.
net::Response SaveFail(std::string_view name, std::string_view field, const Status& why,
                       const net::Request& req);

// The filters of a restSearch request, or the MISP error answer for a request that has none
// (misp-api.md 1.3): GET is refused, an empty body or object is 400, invalid JSON 405.
struct RestSearchRequest {
  std::optional<SearchParams> params;
  std::optional<net::Response> error;

  bool ok() const { return params.has_value(); }
  const SearchParams* operator->() const { return &*params; }
  const SearchParams& operator*() const { return *params; }
};

// `max_values`: filter terms accepted in one request (NodeOptions::max_search_values); `now`:
// what relative times ("last": "30d") count back from.
RestSearchRequest ParseRestSearch(const net::Request& req, bool refuse_empty_object,
                                  size_t max_values, int64_t now);

inline store::ListFilter ToList(const TermFilter& f) { return store::ListFilter{f.any, f.none}; }

inline store::TimeRange ToRange(const TimeRange& r) { return store::TimeRange{r.from, r.to}; }

// MISP compresses IPv6 search values before comparing (misp-api.md 2.3); the store holds
// canonical values, so the same is done here.
void CompressIpv6(std::vector<std::string>* values);

store::AttributeQuery ToAttributeQuery(const SearchParams& p);

std::string CsvCell(std::string_view raw);

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

}  // namespace internal

struct Node::Impl {
  using Call = internal::Call;
  NodeOptions options;
  std::unique_ptr<store::Store> store;
  net::Router router;

  mutable Mutex snapshot_mu;
  std::shared_ptr<const IndexSnapshot> current IOCGRID_GUARDED_BY(snapshot_mu);
  // Held while the snapshot is brought up to date (a delta, or a rebuild); a merge's scan runs
  // without it, under merge_mu.
  Mutex rebuild_mu;
  Mutex merge_mu;                   // one merge at a time
  std::atomic<uint64_t> merges{0};  // bases built since Open (rebuilds and merges)

  Mutex keys_mu;
  std::unordered_map<int64_t, int> in_flight_by_key IOCGRID_GUARDED_BY(keys_mu);

  // Live writes (docs/index.md "Live writes"). Refresh brings the snapshot up to the store: the
  // changes logged since it go into its delta (NextDelta), or, when there is no snapshot, the
  // private-search state changed, the log was trimmed past it or holds more than
  // index_delta_max changes, the index is rebuilt. Past index_merge_at changed attributes the
  // background merges: a new base from a scan made without rebuild_mu, then the writes made
  // during the scan as its delta.
  Status Refresh() IOCGRID_EXCLUDES(rebuild_mu);
  Status RefreshLocked() IOCGRID_REQUIRES(rebuild_mu);
  Status RebuildLocked() IOCGRID_REQUIRES(rebuild_mu);
  Status Merge() IOCGRID_EXCLUDES(rebuild_mu, merge_mu);
  // Publishes a snapshot on a new base, and hands the base to the background to keep.
  void InstallBase(std::shared_ptr<const IndexSnapshot> snap);
  // Restart without a rebuild (docs/performance.md "Restart without a rebuild"): every new
  // base is written to DATA/index.snapshot by the background thread (PersistPending), which
  // then trims the change log up to it; Open serves the file's base with the changes logged
  // since as a delta. A damaged file, another private-search state, or a log that no longer
  // reaches back to the file is rebuilt. Returns whether the file was used.
  Result<bool> LoadPersistedSnapshot() IOCGRID_EXCLUDES(rebuild_mu);
  Status PersistSnapshot(const IndexSnapshot& snap);
  std::string SnapshotPath() const;
  void Routes();

  // The background thread: refreshes for data written by other processes, merges, and keeping
  // each new base.
  Mutex bg_mu;
  CondVar bg_cv;
  bool bg_requested IOCGRID_GUARDED_BY(bg_mu) = false;
  bool merge_requested IOCGRID_GUARDED_BY(bg_mu) = false;
  bool bg_stop IOCGRID_GUARDED_BY(bg_mu) = false;
  // The newest base not yet kept on disk (PersistSnapshot, on this thread).
  std::shared_ptr<const IndexSnapshot> base_pending IOCGRID_GUARDED_BY(bg_mu);
  std::thread bg_thread;
  void PersistPending();
  void StartBackground();
  void BackgroundLoop();
  void StopBackground();
  // Requests a background refresh when the file changed under the current snapshot.
  void RefreshIfStale(const IndexSnapshot& snap);

  // Authentication as MISP: X-MISP-AUTH wins over Authorization; "Basic ..." counts as none;
  // several comma-separated keys are tried in turn.
  Result<store::AuthContext> Authenticate(const net::Request& req);

  using AuthedHandler = net::Response (Impl::*)(net::Request&, Call&);
  // `json_body`: the body, when any, is JSON whose nesting is checked before the handler runs.
  void Add(std::vector<std::string> methods, std::string_view pattern, AuthedHandler h,
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
  net::Response SightingsRestSearch(net::Request&, Call&);
  net::Response GridMatch(net::Request&, Call&);
  net::Response GridStats(net::Request&, Call&);

  // ---- Private search (docs/private-search.md "Node API") ----
  // The key: absent until first use (psi_key unset), then loaded or created once; a copy is
  // taken per request. psi_on is read by Rebuild without the lock.
  // During a rotation (docs/private-search.md "Key rotation") the preparing key is kept current
  // beside the active one, and after the switch the retired key still answers for
  // options.psi.previous_key_grace; the precompute loop reloads them every round, so that a
  // rotation begun by `iocgrid node psi rotate` in another process starts within options.psi.poll.
  struct EpochKey {
    psi::OprfKey key;
    uint32_t epoch = 0;
    int64_t changed = 0;  // unix seconds it reached its state
  };
  Mutex psi_mu;
  std::optional<psi::OprfKey> psi_key IOCGRID_GUARDED_BY(psi_mu);
  uint32_t psi_epoch IOCGRID_GUARDED_BY(psi_mu) = 0;
  std::optional<EpochKey> psi_next IOCGRID_GUARDED_BY(psi_mu);
  std::optional<EpochKey> psi_prev IOCGRID_GUARDED_BY(psi_mu);
  std::atomic<bool> psi_on{false};
  // The precompute thread: woken after each rebuild, and every options.psi.poll.
  Mutex psi_loop_mu;
  CondVar psi_cv;
  bool psi_wake IOCGRID_GUARDED_BY(psi_loop_mu) = false;
  bool psi_stop IOCGRID_GUARDED_BY(psi_loop_mu) = false;
  std::thread psi_thread;

  // At Open: loads an existing key (and turns private search on). Errors: the store's, or
  // kDataLoss for a stored key that does not parse.
  Status LoadPsiKey();
  // The key and its epoch, created on first use (all data queued for the precompute).
  Result<std::pair<psi::OprfKey, uint32_t>> EnsurePsiKey();
  // The key a request's `epoch` names: the active one, or the retired one within its grace.
  // Call after EnsurePsiKey. nullopt: no such key (answer EpochError with the active epoch).
  std::optional<psi::OprfKey> PsiKeyOf(uint32_t epoch);
  // The epochs whose tags are kept current, with their keys: active, preparing, retired.
  std::vector<EpochKey> PsiEpochsKept();
  // One batch of a rotation's re-tag: the next active keys' tags under the preparing key, or
  // the switch when none is left; then a retired key past its grace is dropped. Returns false
  // when there was nothing to do.
  Result<bool> PsiRotationStep();
  void StartPsi();
  void StopPsi();
  void WakePsi();
  void PsiLoop();
  // One batch of stale attributes: new tags and labels for every key they had or have.
  // Returns false when none was left for the current snapshot.
  Result<bool> PsiRefreshBatch();

  net::Response PsiInfo(net::Request&, Call&);
  net::Response PsiEvaluate(net::Request&, Call&);
  net::Response PsiTags(net::Request&, Call&);
  net::Response PsiBuckets(net::Request&, Call&);
  net::Response PsiLabels(net::Request&, Call&);

  net::Response EventResponse(std::string_view id, const net::Request& req, bool metadata);
  // The queried values as the audit log keeps them (--audit-values; empty otherwise): the OR
  // list, then each NOT value with MISP's "!".
  std::vector<std::string> AuditedValues(const std::vector<std::string>& any,
                                         const std::vector<std::string>& none) const;
  store::AuditEntry AuditRow(const net::Request& req, const store::AuthContext* auth,
                             int status) const;
};

}  // namespace iocgrid::node
