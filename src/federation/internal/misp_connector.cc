#include <algorithm>
#include <utility>

#include "federation/internal/dto.h"
#include "federation/internal/federation_impl.h"

namespace iocgrid::federation::internal {

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
                                  const std::shared_ptr<const MispBatch>& batch, size_t page) {
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
          if (!ind.ok()) continue;
          Status added = builder.Add(*ind, static_cast<index::RecordId>(k));
          if (!added.ok()) return Finish(s, run, MemberStatus::kFailed, added.ToString());
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

}  // namespace iocgrid::federation::internal
