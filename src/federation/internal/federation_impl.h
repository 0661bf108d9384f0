// The federation's machinery, shared by the files that implement it by responsibility:
//   federation.cc       the public Federation/SearchHandle, searches, member runs, breaker
//   requests.cc         outbound requests: concurrency slots, retries with backoff, status errors
//   grid_connector.cc   iocgrid members: one POST /grid/v1/match per search
//   misp_connector.cc   MISP members: batched, paged restSearch
//   psi_connector.cc    private members: the portal-blinded private search of issue 10
//   cidr_cache.cc       MISP members' CIDR cache for in-range matching
//   probe.cc            member health probes
// Everything here runs on the dispatcher thread unless a comment says otherwise.
#pragma once

#include <array>
#include <chrono>
#include <deque>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "common/mutex.h"
#include "common/task_thread.h"
#include "federation/federation.h"
#include "index/match_index.h"
#include "net/dispatcher.h"

namespace iocgrid::federation::internal {

using Clock = std::chrono::steady_clock;
using net::ClientRequest;
using net::ClientResponse;
using net::Dispatcher;
using std::chrono::milliseconds;

inline constexpr index::RelationMask kMispValueRelations =
    index::RelationBit(index::Relation::kExact) | index::RelationBit(index::Relation::kComponent);
inline constexpr index::RelationMask kInRangeBit = index::RelationBit(index::Relation::kInRange);

inline int64_t MillisSince(Clock::time_point start) {
  return std::chrono::duration_cast<milliseconds>(Clock::now() - start).count();
}

// The CIDR attributes of a MISP member, indexed for in-range matching.
// Immutable once built.
struct CidrSnapshot {
  std::shared_ptr<const index::MatchIndex> index;
  std::vector<MemberHit> entries;  // record id -> the attribute as a hit template
};

// What a request belongs to (a member's part of a search, a cache refresh, a
// probe): its deadline, its transfers in flight (cancelled when it finishes)
// and its request count.
struct Owner {
  bool finished = false;
  Clock::time_point deadline;
  std::set<Dispatcher::TransferId> transfers;
  uint64_t requests = 0;
};

// A private member's tag set of one class in full-set mode: synced with a full listing once
// per key epoch, then with the change pages after the cursor.
struct PsiTagSet {
  std::unordered_set<std::string> tags;  // tag bytes
  uint64_t cursor_generation = 0;
  uint64_t cursor_id = 0;
  bool complete = false;  // the full listing has been read; from now on change pages
};

struct PsiCache {
  uint32_t epoch = 0;             // the member's key epoch the sets belong to
  std::array<PsiTagSet, 2> sets;  // [0] value keys, [1] below keys
};

struct PsiSearch;  // psi_connector.cc

// Per configured member; touched only on the dispatcher thread, except `config`
// (immutable).
struct MemberState {
  MemberConfig config;
  // Circuit breaker (DESIGN: a failing member is marked down for a while).
  int consecutive_failures = 0;
  bool open = false;
  Clock::time_point open_until;
  bool trial_running = false;
  // Requests in flight to this member across all searches, and those waiting
  // for a slot.
  int in_flight = 0;
  std::deque<std::function<void()>> waiting;
  // MISP members: the CIDR cache.
  std::map<std::string, MemberHit> cidr_by_uuid;
  std::shared_ptr<const CidrSnapshot> cidr;
  int64_t cidr_max_timestamp = 0;
  bool cidr_refreshing = false;
  bool cidr_again = false;  // an on-demand refresh arrived while one was running
  Clock::time_point cidr_refreshed_at;
  std::vector<std::function<void(const Status&)>> cidr_waiters;
  std::vector<std::function<void(const Status&)>> cidr_waiters_next;
  // Private members in full-set mode: the synced tag sets.
  PsiCache psi;
};

struct SearchState;

// One member's part of one search.
struct MemberRun {
  MemberState* member = nullptr;  // null: unknown member name
  MemberReply reply;
  Owner owner;
  bool trial = false;
  Clock::time_point start;
  // MISP connector progress.
  size_t batches_pending = 0;
  bool cache_pending = false;
  std::string note;  // a remark for a successful reply (in-range not checked, ...)
};

struct SearchState {
  SearchRequest request;
  SearchCallbacks callbacks;
  std::vector<std::unique_ptr<MemberRun>> runs;
  size_t remaining = 0;
  bool cancelled = false;  // dispatcher thread only
  // The grid/v1/match body, the same for every iocgrid member: built once, on first use
  // (dispatcher thread only).
  std::string grid_body;
  Mutex mu;
  CondVar cv;
  bool done IOCGRID_GUARDED_BY(mu) = false;
};

class FederationImpl {
 public:
  FederationImpl(std::vector<MemberConfig> members, const FederationOptions& options,
                 std::unique_ptr<Dispatcher> dispatcher);
  ~FederationImpl();

  std::unique_ptr<SearchHandle> Search(SearchRequest request, SearchCallbacks callbacks);
  MemberProbe Probe(const std::string& member);
  // The private-search part of a probe: GET /grid/v1/psi/info (dispatcher thread).
  void ProbePrivate(MemberState* m, const std::shared_ptr<Owner>& owner, MemberProbe* probe,
                    std::promise<void>* finished);
  std::vector<MemberBreaker> Breakers();
  std::vector<MemberConfig> members() const;
  Status RefreshCidrCache(const std::string& member);

  void CancelSearch(const std::shared_ptr<SearchState>& s);

 private:
  using Done = std::function<void(Result<ClientResponse>)>;

  MemberState* Find(std::string_view name) const;
  void StartSearch(const std::shared_ptr<SearchState>& s);
  void StartRun(const std::shared_ptr<SearchState>& s, MemberRun* run);
  void OnDeadline(const std::shared_ptr<SearchState>& s, MemberRun* run);
  void Finish(const std::shared_ptr<SearchState>& s, MemberRun* run, MemberStatus status,
              std::string error);
  void FailFrom(const std::shared_ptr<SearchState>& s, MemberRun* run, const Status& status);

  // Sends with the member's concurrency limit, retries with backoff on
  // connection errors and 5xx, and hands `done` a 2xx response or the final
  // error (never when owner is finished).
  ClientRequest MakeRequest(const MemberState& m, std::string method, std::string_view path,
                            std::string body) const;
  void Send(std::shared_ptr<void> keep, MemberState* m, Owner* owner, ClientRequest req, Done done,
            int attempt);
  void ReleaseSlot(MemberState* m);
  void CancelTransfers(Owner* owner);

  // Connectors.
  void StartGrid(const std::shared_ptr<SearchState>& s, MemberRun* run);
  void StartMisp(const std::shared_ptr<SearchState>& s, MemberRun* run);
  struct MispBatch {
    std::vector<uint32_t> queries;
    std::vector<std::string> values;
  };
  void SendMispPage(const std::shared_ptr<SearchState>& s, MemberRun* run,
                    const std::shared_ptr<const MispBatch>& batch, size_t page);
  void MatchCidr(const std::shared_ptr<SearchState>& s, MemberRun* run);
  void MaybeFinishMisp(const std::shared_ptr<SearchState>& s, MemberRun* run);

  void StartPrivate(const std::shared_ptr<SearchState>& s, MemberRun* run);
  void SendEvaluations(const std::shared_ptr<SearchState>& s, MemberRun* run,
                       const std::shared_ptr<PsiSearch>& p);
  void FetchMemberTags(const std::shared_ptr<SearchState>& s, MemberRun* run,
                       const std::shared_ptr<PsiSearch>& p);
  void SyncTags(const std::shared_ptr<SearchState>& s, MemberRun* run,
                const std::shared_ptr<PsiSearch>& p, bool below);
  void SendLabelRequests(const std::shared_ptr<SearchState>& s, MemberRun* run,
                         const std::shared_ptr<PsiSearch>& p);
  void FinishPrivate(const std::shared_ptr<SearchState>& s, MemberRun* run,
                     const std::shared_ptr<PsiSearch>& p);
  // Runs `work` on the crypto thread, then `then` on the dispatcher thread; `keep` stays alive
  // until both have run.
  void RunCrypto(std::shared_ptr<void> keep, std::function<void()> work,
                 std::function<void()> then);

  // CIDR cache.
  void EnsureCidr(MemberState* m, std::function<void(const Status&)> ready);
  void StartCidrRefresh(MemberState* m);
  void FetchCidrPage(MemberState* m, const std::shared_ptr<Owner>& owner, int64_t since,
                     int64_t max_ts, size_t page);
  void EndCidrRefresh(MemberState* m, const Status& status);
  void ScheduleCidrRefresh(MemberState* m);

  FederationOptions options_;
  std::vector<std::unique_ptr<MemberState>> members_;
  std::unordered_map<std::string, MemberState*> by_name_;
  std::set<std::shared_ptr<SearchState>> active_;  // dispatcher thread only
  // Declared last, destroyed first: its shutdown completions still see the
  // members.
  std::unique_ptr<Dispatcher> dispatcher_;
  // Private search's scalar multiplications. Destroyed (joined) before the dispatcher, whose
  // Post its tasks end with.
  std::unique_ptr<TaskThread> crypto_ = std::make_unique<TaskThread>();
};

// "http://host:port/path?q" -> "/path?q" (for error messages).
std::string PathOf(const std::string& url);
// A non-2xx answer as a Status naming the member's path and status.
Status HttpStatusError(const net::ClientResponse& r, const std::string& url);

}  // namespace iocgrid::federation::internal
