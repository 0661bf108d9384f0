#include "federation/federation.h"

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <future>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <tuple>
#include <unordered_map>
#include <utility>

#include "federation/internal/dto.h"
#include "net/dispatcher.h"

namespace iocgrid::federation {
namespace {

using Clock = std::chrono::steady_clock;
using net::ClientRequest;
using net::ClientResponse;
using net::Dispatcher;
using std::chrono::milliseconds;

constexpr index::RelationMask kMispValueRelations =
    index::RelationBit(index::Relation::kExact) | index::RelationBit(index::Relation::kComponent);
constexpr index::RelationMask kInRangeBit = index::RelationBit(index::Relation::kInRange);

int64_t MillisSince(Clock::time_point start) {
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
  std::mutex mu;
  std::condition_variable cv;
  bool done = false;  // guarded by mu
};

class Handle;

class FederationImpl final : public Federation {
 public:
  FederationImpl(std::vector<MemberConfig> members, const FederationOptions& options,
                 std::unique_ptr<Dispatcher> dispatcher);
  ~FederationImpl() override;

  std::unique_ptr<SearchHandle> Search(SearchRequest request, SearchCallbacks callbacks) override;
  MemberProbe Probe(const std::string& member) override;
  std::vector<MemberConfig> members() const override;
  Status RefreshCidrCache(const std::string& member) override;

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
  ClientRequest MakeRequest(const MemberState& m, std::string method, std::string path,
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
                    std::shared_ptr<const MispBatch> batch, size_t page);
  void MatchCidr(const std::shared_ptr<SearchState>& s, MemberRun* run);
  void MaybeFinishMisp(const std::shared_ptr<SearchState>& s, MemberRun* run);

  // CIDR cache.
  void EnsureCidr(MemberState* m, std::function<void(const Status&)> ready);
  void StartCidrRefresh(MemberState* m);
  void FetchCidrPage(MemberState* m, std::shared_ptr<Owner> owner, int64_t since, int64_t max_ts,
                     size_t page);
  void EndCidrRefresh(MemberState* m, const Status& status);
  void ScheduleCidrRefresh(MemberState* m);

  FederationOptions options_;
  std::vector<std::unique_ptr<MemberState>> members_;
  std::unordered_map<std::string, MemberState*> by_name_;
  std::set<std::shared_ptr<SearchState>> active_;  // dispatcher thread only
  // Declared last, destroyed first: its shutdown completions still see the
  // members.
  std::unique_ptr<Dispatcher> dispatcher_;
};

class Handle final : public SearchHandle {
 public:
  Handle(FederationImpl* federation, std::shared_ptr<SearchState> state)
      : federation_(federation), state_(std::move(state)) {}
  void Cancel() override {
    {
      std::lock_guard<std::mutex> lock(state_->mu);
      if (state_->done) return;
    }
    federation_->CancelSearch(state_);
  }
  void Wait() override {
    std::unique_lock<std::mutex> lock(state_->mu);
    state_->cv.wait(lock, [this] { return state_->done; });
  }

 private:
  FederationImpl* federation_;  // must outlive Cancel calls on unfinished searches
  std::shared_ptr<SearchState> state_;
};

bool ValidName(std::string_view name) {
  if (name.empty() || name.size() > 64) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
  });
}

// ---- construction
// --------------------------------------------------------------------------

FederationImpl::FederationImpl(std::vector<MemberConfig> members, const FederationOptions& options,
                               std::unique_ptr<Dispatcher> dispatcher)
    : options_(options), dispatcher_(std::move(dispatcher)) {
  for (MemberConfig& config : members) {
    auto state = std::make_unique<MemberState>();
    state->config = std::move(config);
    by_name_[state->config.name] = state.get();
    members_.push_back(std::move(state));
  }
  for (auto& m : members_) {
    if (m->config.kind == MemberKind::kMisp && m->config.enabled) ScheduleCidrRefresh(m.get());
  }
}

FederationImpl::~FederationImpl() {
  // Every running search ends (members reply kFailed "cancelled") before the
  // dispatcher stops, so no callback runs after the Federation is gone.
  std::promise<std::vector<std::shared_ptr<SearchState>>> got;
  auto fut = got.get_future();
  dispatcher_->Post([this, &got] {
    std::vector<std::shared_ptr<SearchState>> list(active_.begin(), active_.end());
    for (auto& s : list) CancelSearch(s);
    got.set_value(std::move(list));
  });
  for (auto& s : fut.get()) {
    std::unique_lock<std::mutex> lock(s->mu);
    s->cv.wait(lock, [&] { return s->done; });
  }
  dispatcher_.reset();
}

MemberState* FederationImpl::Find(std::string_view name) const {
  auto it = by_name_.find(std::string(name));
  return it == by_name_.end() ? nullptr : it->second;
}

std::vector<MemberConfig> FederationImpl::members() const {
  std::vector<MemberConfig> out;
  out.reserve(members_.size());
  for (const auto& m : members_) out.push_back(m->config);
  return out;
}

// ---- searches
// ------------------------------------------------------------------------------

std::unique_ptr<SearchHandle> FederationImpl::Search(SearchRequest request,
                                                     SearchCallbacks callbacks) {
  auto s = std::make_shared<SearchState>();
  s->request = std::move(request);
  s->callbacks = std::move(callbacks);
  dispatcher_->Post([this, s] { StartSearch(s); });
  return std::make_unique<Handle>(this, s);
}

void FederationImpl::CancelSearch(const std::shared_ptr<SearchState>& s) {
  dispatcher_->Post([this, s] {
    s->cancelled = true;
    for (auto& run : s->runs) {
      if (!run->owner.finished) Finish(s, run.get(), MemberStatus::kFailed, "cancelled");
    }
  });
}

void FederationImpl::StartSearch(const std::shared_ptr<SearchState>& s) {
  active_.insert(s);
  std::vector<std::string> names = s->request.members;
  if (names.empty()) {
    for (const auto& m : members_) {
      if (m->config.enabled) names.push_back(m->config.name);
    }
  }
  std::set<std::string> seen;
  for (const std::string& name : names) {
    if (!seen.insert(name).second) continue;
    auto run = std::make_unique<MemberRun>();
    run->member = Find(name);
    run->reply.member = name;
    run->start = Clock::now();
    s->runs.push_back(std::move(run));
  }
  s->remaining = s->runs.size();
  if (s->remaining == 0) {
    // Nobody to ask: the search is complete at once.
    s->runs.clear();
    if (s->callbacks.on_done) s->callbacks.on_done();
    active_.erase(s);
    std::lock_guard<std::mutex> lock(s->mu);
    s->done = true;
    s->cv.notify_all();
    return;
  }
  for (auto& run : s->runs) {
    if (s->callbacks.on_status) s->callbacks.on_status(run->reply.member, MemberStatus::kQueued);
  }
  // Runs may finish (and the search end) inside StartRun; iterate over stable
  // pointers.
  std::vector<MemberRun*> runs;
  for (auto& run : s->runs) runs.push_back(run.get());
  for (MemberRun* run : runs) StartRun(s, run);
}

void FederationImpl::StartRun(const std::shared_ptr<SearchState>& s, MemberRun* run) {
  if (run->owner.finished) return;
  MemberState* m = run->member;
  if (m == nullptr) return Finish(s, run, MemberStatus::kFailed, "unknown member");
  if (!m->config.enabled) return Finish(s, run, MemberStatus::kSkipped, "disabled");
  Clock::time_point now = Clock::now();
  if (m->open) {
    if (now < m->open_until || m->trial_running) {
      return Finish(s, run, MemberStatus::kSkipped,
                    "circuit open after " + std::to_string(m->consecutive_failures) +
                        " consecutive failures");
    }
    // Half-open: this search is the trial; others skip the member until it
    // ends.
    m->trial_running = true;
    run->trial = true;
  }
  run->start = now;
  Clock::time_point deadline = now + m->config.timeout;
  if (s->request.deadline != Clock::time_point{})
    deadline = std::min(deadline, s->request.deadline);
  run->owner.deadline = deadline;
  if (s->callbacks.on_status) s->callbacks.on_status(run->reply.member, MemberStatus::kRunning);
  if (deadline <= now)
    return Finish(s, run, MemberStatus::kTimedOut, "no time left before the search deadline");
  // The deadline is ours, not only curl's: it also bounds requests waiting for
  // a slot or a retry, so every member replies by then whatever the server
  // does.
  dispatcher_->PostAt(deadline, [this, s, run] { OnDeadline(s, run); });
  if (m->config.kind == MemberKind::kIocgrid) {
    StartGrid(s, run);
  } else {
    StartMisp(s, run);
  }
}

void FederationImpl::OnDeadline(const std::shared_ptr<SearchState>& s, MemberRun* run) {
  if (run->owner.finished) return;
  if (run->member->config.kind == MemberKind::kMisp && run->batches_pending == 0 &&
      run->cache_pending) {
    // The value matches are complete; only the CIDR cache is still loading.
    run->cache_pending = false;
    run->reply.relations &= static_cast<index::RelationMask>(~kInRangeBit);
    run->note = "in-range not checked: CIDR cache not loaded before the deadline";
    return MaybeFinishMisp(s, run);
  }
  Finish(s, run, MemberStatus::kTimedOut,
         "timed out after " + std::to_string(MillisSince(run->start)) + " ms");
}

void FederationImpl::Finish(const std::shared_ptr<SearchState>& s, MemberRun* run,
                            MemberStatus status, std::string error) {
  if (run->owner.finished) return;
  run->owner.finished = true;
  CancelTransfers(&run->owner);
  MemberReply& reply = run->reply;
  reply.status = status;
  reply.error = std::move(error);
  reply.elapsed_ms = MillisSince(run->start);
  reply.requests = run->owner.requests;
  // A failed member keeps the hits it delivered before failing, and its
  // relations.
  std::sort(reply.hits.begin(), reply.hits.end(), [](const MemberHit& a, const MemberHit& b) {
    return std::tie(a.query, a.relation, a.attribute_uuid, a.matched) <
           std::tie(b.query, b.relation, b.attribute_uuid, b.matched);
  });
  if (MemberState* m = run->member; m != nullptr && status != MemberStatus::kSkipped) {
    bool user_cancel = s->cancelled && reply.error == "cancelled";
    if (status == MemberStatus::kDone) {
      m->consecutive_failures = 0;
      m->open = false;
    } else if (!user_cancel) {
      ++m->consecutive_failures;
      if (run->trial || m->consecutive_failures >= options_.breaker_failures) {
        m->open = true;
        m->open_until = Clock::now() + options_.breaker_open_for;
      }
    }
    if (run->trial) m->trial_running = false;
  }
  if (s->callbacks.on_status) s->callbacks.on_status(reply.member, status);
  if (s->callbacks.on_reply) s->callbacks.on_reply(std::move(reply));
  if (--s->remaining == 0) {
    if (s->callbacks.on_done) s->callbacks.on_done();
    auto keep = s;  // `s` may be the reference held by active_
    active_.erase(keep);
    std::lock_guard<std::mutex> lock(keep->mu);
    keep->done = true;
    keep->cv.notify_all();
  }
}

void FederationImpl::FailFrom(const std::shared_ptr<SearchState>& s, MemberRun* run,
                              const Status& status) {
  MemberStatus st = status.code() == StatusCode::kDeadlineExceeded ? MemberStatus::kTimedOut
                                                                   : MemberStatus::kFailed;
  Finish(s, run, st, std::string(status.message()));
}

// ---- requests
// ------------------------------------------------------------------------------

ClientRequest FederationImpl::MakeRequest(const MemberState& m, std::string method,
                                          std::string path, std::string body) const {
  const MemberConfig& c = m.config;
  ClientRequest r;
  r.method = std::move(method);
  std::string base = c.url;
  while (!base.empty() && base.back() == '/') base.pop_back();
  r.url = base + path;
  r.body = std::move(body);
  r.headers = {{"Authorization", c.key},
               {"Accept", "application/json"},
               {"Content-Type", "application/json"},
               {"User-Agent", "iocgrid-portal"}};
  r.connect_timeout = c.timeout;
  r.verify_tls = c.verify_tls;
  r.ca_file = c.ca_file;
  r.client_cert_file = c.client_cert_file;
  r.client_key_file = c.client_key_file;
  r.proxy = c.proxy;
  r.max_response_bytes = c.max_response_bytes;
  return r;
}

void FederationImpl::CancelTransfers(Owner* owner) {
  std::set<Dispatcher::TransferId> ids;
  ids.swap(owner->transfers);
  for (Dispatcher::TransferId id : ids) dispatcher_->Cancel(id);
}

void FederationImpl::ReleaseSlot(MemberState* m) {
  --m->in_flight;
  while (!m->waiting.empty() && m->in_flight < std::max(1, m->config.max_concurrent)) {
    std::function<void()> next = std::move(m->waiting.front());
    m->waiting.pop_front();
    next();  // takes the slot, or returns at once when its owner has finished
  }
}

std::string PathOf(const std::string& url) {
  size_t scheme = url.find("://");
  size_t slash = url.find('/', scheme == std::string::npos ? 0 : scheme + 3);
  return slash == std::string::npos ? "/" : url.substr(slash);
}

Status HttpStatusError(const ClientResponse& r, const std::string& url) {
  std::string what = "HTTP " + std::to_string(r.status) + " from " + PathOf(url) + ": " +
                     internal::ErrorBodySummary(r.body);
  if (r.status >= 500) return UnavailableError(what);
  if (r.status == 401 || r.status == 403) return PermissionDeniedError(what);
  if (r.status == 404) return NotFoundError(what);
  if (r.status == 413 || r.status == 429) return ResourceExhaustedError(what);
  if (r.status >= 300 && r.status < 400) {
    return UnavailableError("HTTP " + std::to_string(r.status) + " from " + PathOf(url) +
                            " (redirects are not followed)");
  }
  return InvalidArgumentError(what);
}

void FederationImpl::Send(std::shared_ptr<void> keep, MemberState* m, Owner* owner,
                          ClientRequest req, Done done, int attempt) {
  if (owner->finished) return;
  if (m->in_flight >= std::max(1, m->config.max_concurrent)) {
    m->waiting.push_back(
        [this, keep, m, owner, req = std::move(req), done = std::move(done), attempt]() mutable {
          Send(std::move(keep), m, owner, std::move(req), std::move(done), attempt);
        });
    return;
  }
  auto left = std::chrono::duration_cast<milliseconds>(owner->deadline - Clock::now());
  if (left.count() <= 0) {
    done(Status(StatusCode::kDeadlineExceeded, "timed out: no time left for " + PathOf(req.url)));
    return;
  }
  ++m->in_flight;
  ++owner->requests;
  ClientRequest to_send = req;
  to_send.timeout = left;
  to_send.connect_timeout = std::min(to_send.connect_timeout, left);
  // The completion may run inside Submit (no time left, shutting down): track
  // whether it did.
  auto state = std::make_shared<std::pair<Dispatcher::TransferId, bool>>(0, false);
  Dispatcher::TransferId id = dispatcher_->Submit(
      std::move(to_send), [this, keep, m, owner, req = std::move(req), done = std::move(done),
                           attempt, state](Result<ClientResponse> result) mutable {
        state->second = true;
        owner->transfers.erase(state->first);
        ReleaseSlot(m);
        if (owner->finished) return;
        bool retryable = false;
        Status error;
        if (!result.ok()) {
          error = result.status();
          retryable = error.code() == StatusCode::kUnavailable;
        } else if (result->status >= 500) {
          error = HttpStatusError(*result, req.url);
          retryable = true;
        } else if (result->status < 200 || result->status >= 300) {
          error = HttpStatusError(*result,
                                  req.url);  // 4xx: the same request fails again
        } else {
          done(std::move(result));
          return;
        }
        Clock::time_point retry_at =
            Clock::now() + options_.retry_backoff * (int64_t{1} << std::min(attempt, 16));
        if (retryable && attempt < options_.retries && retry_at < owner->deadline) {
          dispatcher_->PostAt(retry_at, [this, keep, m, owner, req = std::move(req),
                                         done = std::move(done), attempt]() mutable {
            Send(std::move(keep), m, owner, std::move(req), std::move(done), attempt + 1);
          });
          return;
        }
        if (attempt > 0) {
          error = Status(error.code(), std::string(error.message()) + " (after " +
                                           std::to_string(attempt + 1) + " attempts)");
        }
        done(std::move(error));
      });
  state->first = id;
  if (!state->second) owner->transfers.insert(id);
}

// ---- iocgrid connector
// ---------------------------------------------------------------------

void FederationImpl::StartGrid(const std::shared_ptr<SearchState>& s, MemberRun* run) {
  const SearchRequest& q = s->request;
  run->reply.relations = q.relations & SupportedRelations(MemberKind::kIocgrid);
  if (q.indicators.empty() || run->reply.relations == 0) {
    return Finish(s, run, MemberStatus::kDone, "");
  }
  MemberState* m = run->member;
  if (s->grid_body.empty()) {
    s->grid_body = internal::GridMatchBody(q.indicators, run->reply.relations, q.since, q.until);
  }
  ClientRequest req = MakeRequest(*m, "POST", "/grid/v1/match", s->grid_body);
  req.headers[1].second = "application/x-ndjson";
  Send(
      s, m, &run->owner, std::move(req),
      [this, s, run](Result<ClientResponse> r) {
        if (!r.ok()) return FailFrom(s, run, r.status());
        Status parsed =
            internal::ParseGridAnswer(r->body, s->request.indicators.size(), &run->reply.hits);
        if (!parsed.ok()) {
          run->reply.hits.clear();
          return Finish(s, run, MemberStatus::kFailed, std::string(parsed.message()));
        }
        Finish(s, run, MemberStatus::kDone, "");
      },
      0);
}

// ---- MISP connector
// ------------------------------------------------------------------------

void FederationImpl::StartMisp(const std::shared_ptr<SearchState>& s, MemberRun* run) {
  const SearchRequest& q = s->request;
  MemberState* m = run->member;
  run->reply.relations = q.relations & SupportedRelations(MemberKind::kMisp);
  // Batches of at most batch_size search values; a composite query sends both
  // halves, since MISP matches value1 or value2 but never the joined "a|b"
  // (misp-api.md 2.3).
  std::vector<std::shared_ptr<const MispBatch>> batches;
  if (q.relations & kMispValueRelations) {
    size_t limit = std::max<size_t>(1, m->config.batch_size);
    auto batch = std::make_shared<MispBatch>();
    std::set<std::string> in_batch;
    for (uint32_t i = 0; i < q.indicators.size(); ++i) {
      core::Component parts[2];
      int n = core::Components(q.indicators[i], parts);
      std::vector<std::string> values;
      for (int k = 0; k < n; ++k) {
        if (!in_batch.count(std::string(parts[k].value))) values.emplace_back(parts[k].value);
      }
      if (!batch->values.empty() && batch->values.size() + values.size() > limit) {
        batches.push_back(std::move(batch));
        batch = std::make_shared<MispBatch>();
        in_batch.clear();
        values.clear();
        for (int k = 0; k < n; ++k) values.emplace_back(parts[k].value);
      }
      batch->queries.push_back(i);
      for (std::string& v : values) {
        if (in_batch.insert(v).second) batch->values.push_back(std::move(v));
      }
    }
    if (!batch->queries.empty()) batches.push_back(std::move(batch));
  }
  run->batches_pending = batches.size();
  run->cache_pending = (q.relations & kInRangeBit) != 0 && !q.indicators.empty();
  if (run->batches_pending == 0 && !run->cache_pending) return MaybeFinishMisp(s, run);
  for (auto& b : batches) SendMispPage(s, run, b, 1);
  if (run->cache_pending) {
    EnsureCidr(m, [this, s, run](const Status& st) {
      if (run->owner.finished || !run->cache_pending) return;
      run->cache_pending = false;
      if (st.ok()) {
        MatchCidr(s, run);
      } else {
        run->reply.relations &= static_cast<index::RelationMask>(~kInRangeBit);
        run->note = "in-range not checked: CIDR cache: " + std::string(st.message());
      }
      MaybeFinishMisp(s, run);
    });
  }
}

void FederationImpl::SendMispPage(const std::shared_ptr<SearchState>& s, MemberRun* run,
                                  std::shared_ptr<const MispBatch> batch, size_t page) {
  MemberState* m = run->member;
  size_t limit = std::max<size_t>(1, m->config.page_limit);
  ClientRequest req = MakeRequest(*m, "POST", "/attributes/restSearch",
                                  internal::MispValueSearchBody(batch->values, limit, page));
  Send(
      s, m, &run->owner, std::move(req),
      [this, s, run, batch, page, limit](Result<ClientResponse> r) {
        if (!r.ok()) return FailFrom(s, run, r.status());
        auto attrs = internal::ParseMispAttributes(r->body);
        if (!attrs.ok())
          return Finish(s, run, MemberStatus::kFailed, std::string(attrs.status().message()));
        // Relations from the real match semantics: a small index of what MISP
        // returned, matched against this batch's queries (exact vs component,
        // hash digests...).
        index::MatchIndex::Builder builder;
        for (size_t k = 0; k < attrs->size(); ++k) {
          const MemberHit& h = (*attrs)[k].hit;
          auto ind = core::ParseIndicator(h.type, h.matched);
          if (ind.ok()) builder.Add(*ind, static_cast<index::RecordId>(k));
        }
        auto idx = builder.Build();
        std::vector<core::Indicator> queries;
        queries.reserve(batch->queries.size());
        for (uint32_t qi : batch->queries) queries.push_back(s->request.indicators[qi]);
        index::MatchOptions mo;
        mo.relations = s->request.relations & kMispValueRelations;
        for (const index::Hit& hit : idx->MatchAll(queries, mo)) {
          MemberHit out = (*attrs)[hit.record].hit;
          out.query = batch->queries[hit.query];
          out.relation = hit.relation;
          if (internal::InTimeScope(out, s->request.since, s->request.until)) {
            run->reply.hits.push_back(std::move(out));
          }
        }
        if (attrs->size() >= limit) return SendMispPage(s, run, batch, page + 1);  // full page
        --run->batches_pending;
        MaybeFinishMisp(s, run);
      },
      0);
}

void FederationImpl::MatchCidr(const std::shared_ptr<SearchState>& s, MemberRun* run) {
  std::shared_ptr<const CidrSnapshot> snap = run->member->cidr;
  if (!snap || !snap->index) return;
  index::MatchOptions mo;
  mo.relations = kInRangeBit;
  for (const index::Hit& hit : snap->index->MatchAll(s->request.indicators, mo)) {
    MemberHit out = snap->entries[hit.record];
    out.query = hit.query;
    out.relation = index::Relation::kInRange;
    if (internal::InTimeScope(out, s->request.since, s->request.until)) {
      run->reply.hits.push_back(std::move(out));
    }
  }
}

void FederationImpl::MaybeFinishMisp(const std::shared_ptr<SearchState>& s, MemberRun* run) {
  if (run->owner.finished || run->batches_pending > 0 || run->cache_pending) return;
  // One hit per (query, attribute): MISP's exact answer and the local in-range
  // check can both report a CIDR queried as itself; keep the strongest
  // relation.
  auto& hits = run->reply.hits;
  std::sort(hits.begin(), hits.end(), [](const MemberHit& a, const MemberHit& b) {
    return std::tie(a.query, a.attribute_uuid, a.relation) <
           std::tie(b.query, b.attribute_uuid, b.relation);
  });
  hits.erase(std::unique(hits.begin(), hits.end(),
                         [](const MemberHit& a, const MemberHit& b) {
                           return a.query == b.query && !a.attribute_uuid.empty() &&
                                  a.attribute_uuid == b.attribute_uuid;
                         }),
             hits.end());
  Finish(s, run, MemberStatus::kDone, run->note);
}

// ---- CIDR cache
// ----------------------------------------------------------------------------

void FederationImpl::EnsureCidr(MemberState* m, std::function<void(const Status&)> ready) {
  if (m->cidr) {
    // Serve the snapshot at hand; a stale one is refreshed in the background.
    if (Clock::now() - m->cidr_refreshed_at >= options_.cidr_cache_refresh && !m->cidr_refreshing) {
      StartCidrRefresh(m);
    }
    return ready(Status::Ok());
  }
  m->cidr_waiters.push_back(std::move(ready));
  if (!m->cidr_refreshing) StartCidrRefresh(m);
}

void FederationImpl::StartCidrRefresh(MemberState* m) {
  m->cidr_refreshing = true;
  auto owner = std::make_shared<Owner>();
  owner->deadline = Clock::now() + options_.cidr_page_timeout;
  FetchCidrPage(m, owner, m->cidr ? m->cidr_max_timestamp : 0, m->cidr_max_timestamp, 1);
}

void FederationImpl::FetchCidrPage(MemberState* m, std::shared_ptr<Owner> owner, int64_t since,
                                   int64_t max_ts, size_t page) {
  size_t limit = std::max<size_t>(1, m->config.cidr_page_limit);
  owner->deadline = Clock::now() + options_.cidr_page_timeout;
  ClientRequest req = MakeRequest(*m, "POST", "/attributes/restSearch",
                                  internal::MispCidrSearchBody(since, limit, page));
  Owner* raw = owner.get();
  Send(
      owner, m, raw, std::move(req),
      [this, m, owner, since, max_ts, page, limit](Result<ClientResponse> r) mutable {
        if (!r.ok()) return EndCidrRefresh(m, r.status().WithContext("CIDR cache fetch"));
        auto attrs = internal::ParseMispAttributes(r->body);
        if (!attrs.ok()) return EndCidrRefresh(m, attrs.status().WithContext("CIDR cache fetch"));
        for (internal::MispAttribute& a : *attrs) {
          max_ts = std::max(max_ts, a.hit.timestamp);
          const std::string& uuid = a.hit.attribute_uuid;
          bool cidr = a.hit.matched.find('/') != std::string::npos;
          if (a.deleted || !cidr) {
            // Deleted, or edited into a plain IP: no longer a range of this
            // member.
            m->cidr_by_uuid.erase(uuid);
            continue;
          }
          std::string key = uuid.empty() ? a.hit.type + ":" + a.hit.matched : uuid;
          m->cidr_by_uuid[key] = std::move(a.hit);
        }
        if (attrs->size() >= limit) return FetchCidrPage(m, owner, since, max_ts, page + 1);
        // Rebuild the snapshot; searches holding the old one keep it until they
        // finish.
        auto snap = std::make_shared<CidrSnapshot>();
        index::MatchIndex::Builder builder;
        for (const auto& [key, hit] : m->cidr_by_uuid) {
          auto ind = core::ParseIndicator(hit.type, hit.matched);
          if (!ind.ok()) continue;
          builder.Add(*ind, static_cast<index::RecordId>(snap->entries.size()));
          snap->entries.push_back(hit);
        }
        snap->index = builder.Build();
        m->cidr = std::move(snap);
        m->cidr_max_timestamp = max_ts;
        m->cidr_refreshed_at = Clock::now();
        EndCidrRefresh(m, Status::Ok());
      },
      0);
}

void FederationImpl::EndCidrRefresh(MemberState* m, const Status& status) {
  m->cidr_refreshing = false;
  std::vector<std::function<void(const Status&)>> waiters;
  waiters.swap(m->cidr_waiters);
  if (m->cidr_again) {
    m->cidr_again = false;
    m->cidr_waiters.swap(m->cidr_waiters_next);
    StartCidrRefresh(m);
  }
  for (auto& w : waiters) w(status);
}

void FederationImpl::ScheduleCidrRefresh(MemberState* m) {
  dispatcher_->PostAt(Clock::now() + options_.cidr_cache_refresh, [this, m] {
    if (!m->cidr_refreshing) StartCidrRefresh(m);
    ScheduleCidrRefresh(m);
  });
}

Status FederationImpl::RefreshCidrCache(const std::string& member) {
  MemberState* m = Find(member);
  if (m == nullptr) return NotFoundError("unknown member '" + member + "'");
  if (m->config.kind != MemberKind::kMisp) {
    return InvalidArgumentError("member '" + member +
                                "' is an iocgrid node: it matches ranges itself");
  }
  if (dispatcher_->OnDispatcherThread()) {
    return InvalidArgumentError("RefreshCidrCache called from a federation callback");
  }
  std::promise<Status> result;
  auto fut = result.get_future();
  dispatcher_->Post([this, m, &result] {
    auto waiter = [&result](const Status& st) { result.set_value(st); };
    if (m->cidr_refreshing) {
      // The running refresh may have started before the data the caller wants:
      // go again.
      m->cidr_waiters_next.push_back(waiter);
      m->cidr_again = true;
    } else {
      m->cidr_waiters.push_back(waiter);
      StartCidrRefresh(m);
    }
  });
  return fut.get();
}

// ---- probe
// ---------------------------------------------------------------------------------

MemberProbe FederationImpl::Probe(const std::string& member) {
  MemberProbe probe;
  probe.member = member;
  MemberState* m = Find(member);
  if (m == nullptr) {
    probe.error = "unknown member";
    return probe;
  }
  if (dispatcher_->OnDispatcherThread()) {
    probe.error = "Probe called from a federation callback";
    return probe;
  }
  std::promise<void> finished;
  auto fut = finished.get_future();
  auto owner = std::make_shared<Owner>();
  Clock::time_point start = Clock::now();
  owner->deadline = start + m->config.timeout;
  dispatcher_->Post([this, m, owner, &probe, &finished, start] {
    Send(
        owner, m, owner.get(), MakeRequest(*m, "GET", "/servers/getVersion", ""),
        [this, m, owner, &probe, &finished, start](Result<ClientResponse> r) {
          probe.latency_ms = MillisSince(start);
          if (!r.ok()) {
            probe.error = std::string(r.status().message());
            return finished.set_value();
          }
          auto version = internal::ParseVersion(r->body);
          if (!version.ok()) {
            probe.error = std::string(version.status().message());
            return finished.set_value();
          }
          probe.version = *version;
          if (m->config.kind != MemberKind::kIocgrid) {
            probe.ok = true;
            return finished.set_value();
          }
          Send(
              owner, m, owner.get(), MakeRequest(*m, "GET", "/grid/v1/stats", ""),
              [owner, &probe, &finished](Result<ClientResponse> sr) {
                if (!sr.ok()) {
                  probe.error = std::string(sr.status().message());
                  return finished.set_value();
                }
                auto stats = internal::ParseGridStats(sr->body);
                if (!stats.ok()) {
                  probe.error = std::string(stats.status().message());
                  return finished.set_value();
                }
                probe.attributes = stats->attributes;
                probe.first_date = stats->first_date;
                probe.last_date = stats->last_date;
                probe.ok = true;
                finished.set_value();
              },
              0);
        },
        0);
  });
  fut.get();
  return probe;
}

}  // namespace

Result<std::unique_ptr<Federation>> Federation::Create(std::vector<MemberConfig> members,
                                                       const FederationOptions& options) {
  std::set<std::string> names;
  for (const MemberConfig& c : members) {
    if (!ValidName(c.name)) {
      return InvalidArgumentError("member name '" + c.name + "' must be 1-64 of [a-z0-9_-]");
    }
    if (!names.insert(c.name).second)
      return InvalidArgumentError("duplicate member '" + c.name + "'");
    if (c.url.rfind("http://", 0) != 0 && c.url.rfind("https://", 0) != 0) {
      return InvalidArgumentError("member '" + c.name +
                                  "': url must start with http:// or https://");
    }
    if (c.timeout.count() <= 0 || c.max_concurrent < 1 || c.batch_size < 1 || c.page_limit < 1 ||
        c.cidr_page_limit < 1 || c.max_response_bytes < 1) {
      return InvalidArgumentError("member '" + c.name +
                                  "': timeout, max_concurrent, batch_size, page limits and "
                                  "max_response_bytes must be positive");
    }
  }
  if (options.retries < 0 || options.breaker_failures < 1) {
    return InvalidArgumentError("retries must be >= 0 and breaker_failures >= 1");
  }
  net::DispatcherOptions dopts;
  dopts.max_total_connections = options.max_total_connections;
  dopts.max_cached_connections = options.max_total_connections;
  IOCGRID_ASSIGN_OR_RETURN(auto dispatcher, Dispatcher::Start(dopts));
  return std::unique_ptr<Federation>(
      new FederationImpl(std::move(members), options, std::move(dispatcher)));
}

}  // namespace iocgrid::federation
