#include <utility>

#include "federation/internal/dto.h"
#include "federation/internal/federation_impl.h"

namespace iocgrid::federation::internal {

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

}  // namespace iocgrid::federation::internal
