#include <future>
#include <utility>

#include "federation/internal/dto.h"
#include "federation/internal/federation_impl.h"

namespace iocgrid::federation::internal {

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

void FederationImpl::FetchCidrPage(MemberState* m, const std::shared_ptr<Owner>& owner,
                                   int64_t since, int64_t max_ts, size_t page) {
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
          Status added = builder.Add(*ind, static_cast<index::RecordId>(snap->entries.size()));
          if (!added.ok()) return EndCidrRefresh(m, added);
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

}  // namespace iocgrid::federation::internal
