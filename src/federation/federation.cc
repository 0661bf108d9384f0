#include "federation/federation.h"

#include <algorithm>
#include <future>
#include <set>
#include <string>
#include <utility>

#include "federation/internal/dto.h"
#include "federation/internal/federation_impl.h"
#include "psi/oprf.h"

namespace iocgrid::federation {
namespace internal {

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
    MutexLock lock(s->mu);
    while (!s->done) s->cv.Wait(s->mu);
  }
  crypto_.reset();  // its last tasks may still post to the dispatcher
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

std::unique_ptr<SearchHandle> FederationImpl::Search(SearchRequest request,
                                                     SearchCallbacks callbacks) {
  auto s = std::make_shared<SearchState>();
  s->request = std::move(request);
  s->callbacks = std::move(callbacks);
  dispatcher_->Post([this, s] { StartSearch(s); });
  return std::unique_ptr<SearchHandle>(new SearchHandle(this, s));
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
    MutexLock lock(s->mu);
    s->done = true;
    s->cv.SignalAll();
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
  if (m->config.disclosure == Disclosure::kPrivate) {
    StartPrivate(s, run);
  } else if (m->config.kind == MemberKind::kIocgrid) {
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
    // `s` may be the reference held by active_, so erasing it would free the state under us.
    auto keep = s;  // NOLINT(performance-unnecessary-copy-initialization): holds it alive
    active_.erase(keep);
    MutexLock lock(keep->mu);
    keep->done = true;
    keep->cv.SignalAll();
  }
}

void FederationImpl::FailFrom(const std::shared_ptr<SearchState>& s, MemberRun* run,
                              const Status& status) {
  MemberStatus st = status.code() == StatusCode::kDeadlineExceeded ? MemberStatus::kTimedOut
                                                                   : MemberStatus::kFailed;
  Finish(s, run, st, std::string(status.message()));
}

}  // namespace internal

namespace {

bool ValidName(std::string_view name) {
  if (name.empty() || name.size() > 64) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
  });
}

}  // namespace

SearchHandle::SearchHandle(internal::FederationImpl* federation,
                           std::shared_ptr<internal::SearchState> state)
    : federation_(federation), state_(std::move(state)) {}

SearchHandle::~SearchHandle() = default;

void SearchHandle::Cancel() {
  {
    MutexLock lock(state_->mu);
    if (state_->done) return;
  }
  federation_->CancelSearch(state_);
}

void SearchHandle::Wait() {
  MutexLock lock(state_->mu);
  while (!state_->done) state_->cv.Wait(state_->mu);
}

Federation::Federation(std::unique_ptr<internal::FederationImpl> impl) : impl_(std::move(impl)) {}

Federation::~Federation() = default;

std::unique_ptr<SearchHandle> Federation::Search(SearchRequest request, SearchCallbacks callbacks) {
  return impl_->Search(std::move(request), std::move(callbacks));
}

MemberProbe Federation::Probe(const std::string& member) { return impl_->Probe(member); }

std::vector<MemberConfig> Federation::members() const { return impl_->members(); }

std::vector<MemberBreaker> Federation::Breakers() { return impl_->Breakers(); }

Status Federation::RefreshCidrCache(const std::string& member) {
  return impl_->RefreshCidrCache(member);
}

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
    if (c.disclosure == Disclosure::kPrivate && c.kind == MemberKind::kMisp) {
      return InvalidArgumentError("member '" + c.name +
                                  "': a plain MISP member cannot be private (no private-search "
                                  "API); list an iocgrid node mirroring it instead");
    }
  }
  IOCGRID_RETURN_IF_ERROR(psi::InitCrypto());
  if (options.retries < 0 || options.breaker_failures < 1) {
    return InvalidArgumentError("retries must be >= 0 and breaker_failures >= 1");
  }
  // At least two connections per member: with the cap below the member count, a search's
  // requests to the last members waited for others to finish (a 100-member alliance: p50 233
  // ms, 36 members re-connecting every search), and members hung until their timeout could hold
  // every connection the others needed.
  net::DispatcherOptions dopts;
  dopts.max_total_connections = std::max(options.max_total_connections, 2 * members.size());
  dopts.max_cached_connections = dopts.max_total_connections;
  IOCGRID_ASSIGN_OR_RETURN(auto dispatcher, net::Dispatcher::Start(dopts));
  return std::unique_ptr<Federation>(new Federation(std::make_unique<internal::FederationImpl>(
      std::move(members), options, std::move(dispatcher))));
}

}  // namespace iocgrid::federation
