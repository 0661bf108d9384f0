#include <algorithm>
#include <utility>

#include "federation/internal/dto.h"
#include "federation/internal/federation_impl.h"

namespace iocgrid::federation::internal {

ClientRequest FederationImpl::MakeRequest(const MemberState& m, std::string method,
                                          std::string_view path, std::string body) const {
  return MemberRequest(m.config, std::move(method), path, std::move(body));
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

}  // namespace iocgrid::federation::internal
