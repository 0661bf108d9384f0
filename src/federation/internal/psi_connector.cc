// Private members (disclosure = "private", issue 10, docs/private-search.md): the portal blinds
// the search's indicators, the member raises the blinded points to its key, and the portal
// learns only which of its keys the member tags, and opens those keys' labels. The member sees
// blinded points, bucket numbers (bucketed mode) and tags it already holds; never a value.
//
//   info  GET  /grid/v1/psi/info          epoch, range declaration, limits
//   1     POST /grid/v1/psi/evaluate      one request per points frame (psi::Querier::Blind)
//   2     full-set: GET /grid/v1/psi/tags (the member's whole tag set, synced once per epoch and
//         then by change pages); bucketed: POST /grid/v1/psi/buckets for the queried buckets
//   3     POST /grid/v1/psi/labels        the labels of the tags both sides have
// Then MatchIndex over the entries the labels name decides each relation, as in plain search.
//
// The scalar multiplications (blinding and unblinding, about 0.1 ms per key) run on the
// federation's crypto thread, so a large private search never stalls the dispatcher thread
// that serves every other member's transfers.
#include <algorithm>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "federation/internal/dto.h"
#include "federation/internal/federation_impl.h"
#include "psi/querier.h"
#include "psi/wire.h"

namespace iocgrid::federation::internal {

// One private member's part of one search.
struct PsiSearch {
  PsiInfo info;
  std::unique_ptr<psi::Querier> querier;
  std::vector<psi::Frame> requests;  // the frames of the step in progress
  std::vector<psi::Frame> answers;
  size_t pending = 0;
  std::unordered_set<std::string> bucket_tags;  // bucketed mode: the tags the member answered
  bool failed = false;
};

namespace {

// A remark for a reply that succeeded, after any earlier ones.
void AddNote(MemberRun* run, const std::string& text) {
  run->note += (run->note.empty() ? "" : "; ") + text;
}

std::string TagBytes(const psi::Tag& t) {
  return {reinterpret_cast<const char*>(t.data()), t.size()};
}

psi::FrameLimits LimitsFor(size_t max_items) {
  psi::FrameLimits limits;
  limits.max_items = max_items;
  return limits;
}

// The bucket frame split into requests of at most `max` buckets.
std::vector<psi::Frame> SplitBuckets(const psi::Frame& all, size_t max) {
  std::vector<psi::Frame> out;
  for (size_t i = 0; i < all.buckets.size(); i += max) {
    psi::Frame f = all;
    f.buckets.assign(
        all.buckets.begin() + static_cast<std::ptrdiff_t>(i),
        all.buckets.begin() + static_cast<std::ptrdiff_t>(std::min(all.buckets.size(), i + max)));
    out.push_back(std::move(f));
  }
  return out;
}

}  // namespace

void FederationImpl::RunCrypto(std::shared_ptr<void> keep, std::function<void()> work,
                               std::function<void()> then) {
  crypto_->Post(
      [this, keep = std::move(keep), work = std::move(work), then = std::move(then)]() mutable {
        work();
        dispatcher_->Post(std::move(then));
      });
}

void FederationImpl::StartPrivate(const std::shared_ptr<SearchState>& s, MemberRun* run) {
  const SearchRequest& q = s->request;
  run->reply.relations = q.relations & SupportedRelations(MemberKind::kIocgrid);
  if (q.indicators.empty() || run->reply.relations == 0) {
    return Finish(s, run, MemberStatus::kDone, "");
  }
  MemberState* m = run->member;
  Send(
      s, m, &run->owner, MakeRequest(*m, "GET", "/grid/v1/psi/info", ""),
      [this, s, run](Result<ClientResponse> r) {
        if (!r.ok()) return FailFrom(s, run, r.status());
        auto info = ParsePsiInfo(r->body);
        if (!info.ok()) return Finish(s, run, MemberStatus::kFailed, info.status().ToString());
        const PsiMode mode = run->member->config.psi_mode;
        if (!info->Offers(mode)) {
          return Finish(
              s, run, MemberStatus::kFailed,
              "the member does not offer private-search mode " + std::string(PsiModeName(mode)));
        }
        PsiCache& cache = run->member->psi;
        if (cache.epoch != info->epoch) cache = PsiCache{info->epoch, {}};  // the key rotated
        auto p = std::make_shared<PsiSearch>();
        p->info = *std::move(info);
        if (!p->info.ready) AddNote(run, "the member's private index is still catching up");
        psi::QuerierOptions options;
        options.max_points_per_frame = p->info.max_points;
        options.max_labels_per_frame = p->info.max_labels;
        options.bucket_bits = std::min(16u, p->info.max_bucket_bits);
        RunCrypto(
            s,
            [s, p, options] {
              p->querier = std::make_unique<psi::Querier>(
                  s->request.indicators, p->info.declaration, p->info.epoch, options);
              p->requests = p->querier->Blind();
            },
            [this, s, run, p] { SendEvaluations(s, run, p); });
      },
      0);
}

void FederationImpl::SendEvaluations(const std::shared_ptr<SearchState>& s, MemberRun* run,
                                     const std::shared_ptr<PsiSearch>& p) {
  if (run->owner.finished) return;
  const size_t keys = p->querier->key_count();
  if (keys > p->info.evaluations_left_today) {
    return Finish(s, run, MemberStatus::kFailed,
                  "this search needs " + std::to_string(keys) +
                      " private-search evaluations; the member allows " +
                      std::to_string(p->info.evaluations_left_today) +
                      " more today for this portal");
  }
  if (!p->querier->incomplete().empty()) {
    const std::vector<size_t>& wide = p->querier->incomplete();
    std::string named;
    for (size_t i = 0; i < wide.size(); ++i) {
      run->reply.incomplete.push_back(static_cast<uint32_t>(wide[i]));
      if (i < 3) named += (i ? ", " : "") + s->request.indicators[wide[i]].value;
    }
    if (wide.size() > 3) named += ", ...";
    AddNote(run,
            std::to_string(wide.size()) +
                " queried networks are too wide for private in-range matching (" + named +
                "): hits inside them may be missing; search them without privacy or narrow them");
  }
  p->answers.assign(p->requests.size(), psi::Frame{});
  p->pending = p->requests.size();
  if (p->pending == 0) return Finish(s, run, MemberStatus::kDone, "");
  for (size_t i = 0; i < p->requests.size(); ++i) {
    ClientRequest req = MakeRequest(*run->member, "POST", "/grid/v1/psi/evaluate",
                                    psi::EncodeFrame(p->requests[i]));
    SetOctetStream(&req);
    Send(
        s, run->member, &run->owner, std::move(req),
        [this, s, run, p, i](Result<ClientResponse> r) {
          if (p->failed) return;
          if (!r.ok()) {
            p->failed = true;
            return FailFrom(s, run, r.status());
          }
          auto frame = psi::ParseFrameOf(psi::FrameKind::kPoints, r->body,
                                         LimitsFor(p->requests[i].points.size()));
          if (!frame.ok()) {
            p->failed = true;
            return Finish(s, run, MemberStatus::kFailed,
                          "private search: evaluate answer: " + frame.status().ToString());
          }
          p->answers[i] = *std::move(frame);
          if (--p->pending > 0) return;
          auto accepted = std::make_shared<Status>();
          RunCrypto(
              s, [p, accepted] { *accepted = p->querier->AcceptEvaluations(p->answers); },
              [this, s, run, p, accepted] {
                if (run->owner.finished) return;
                if (!accepted->ok()) {
                  return Finish(s, run, MemberStatus::kFailed,
                                "private search: the member's evaluations are invalid: " +
                                    accepted->ToString());
                }
                FetchMemberTags(s, run, p);
              });
        },
        0);
  }
}

void FederationImpl::FetchMemberTags(const std::shared_ptr<SearchState>& s, MemberRun* run,
                                     const std::shared_ptr<PsiSearch>& p) {
  if (run->member->config.psi_mode == PsiMode::kFullSet) {
    return SyncTags(s, run, p, /*below=*/false);
  }
  // Bucketed: the values class, then the below class when a queried network needs it.
  std::vector<std::pair<bool, psi::Frame>> requests;
  for (bool below : {false, true}) {
    if (below && !p->querier->needs_below()) continue;
    for (psi::Frame& f : SplitBuckets(p->querier->BucketRequest(below), p->info.max_buckets)) {
      requests.emplace_back(below, std::move(f));
    }
  }
  p->pending = requests.size();
  if (p->pending == 0) return SendLabelRequests(s, run, p);
  for (auto& [below, buckets] : requests) {
    ClientRequest req =
        MakeRequest(*run->member, "POST",
                    std::string("/grid/v1/psi/buckets?class=") + (below ? "below" : "values"),
                    psi::EncodeFrame(buckets));
    SetOctetStream(&req);
    Send(
        s, run->member, &run->owner, std::move(req),
        [this, s, run, p](Result<ClientResponse> r) {
          if (p->failed) return;
          if (!r.ok()) {
            p->failed = true;
            return FailFrom(s, run, r.status());
          }
          auto frame = psi::ParseFrameOf(psi::FrameKind::kTags, r->body, psi::FrameLimits{});
          if (!frame.ok()) {
            p->failed = true;
            return Finish(s, run, MemberStatus::kFailed,
                          "private search: buckets answer: " + frame.status().ToString());
          }
          if (p->bucket_tags.size() + frame->tags.size() > options_.max_private_tags) {
            p->failed = true;
            p->bucket_tags.clear();
            return Finish(s, run, MemberStatus::kFailed,
                          "private search: the member's buckets hold more than " +
                              std::to_string(options_.max_private_tags) +
                              " tags; search fewer values at a time");
          }
          for (const psi::Tag& t : frame->tags) p->bucket_tags.insert(TagBytes(t));
          if (--p->pending == 0) SendLabelRequests(s, run, p);
        },
        0);
  }
}

void FederationImpl::SyncTags(const std::shared_ptr<SearchState>& s, MemberRun* run,
                              const std::shared_ptr<PsiSearch>& p, bool below) {
  if (run->owner.finished) return;
  if (below && !p->querier->needs_below()) return SendLabelRequests(s, run, p);
  const PsiTagSet& current = run->member->psi.sets[below ? 1 : 0];
  // The first sync lists the live tags; later ones the changes since the cursor.
  const bool full = !current.complete;
  const uint64_t gen = current.cursor_generation;
  const uint64_t id = current.cursor_id;
  const std::string path =
      "/grid/v1/psi/tags?epoch=" + std::to_string(p->info.epoch) +
      "&class=" + (below ? "below" : "values") + "&full=" + (full ? "1" : "0") +
      "&after_generation=" + std::to_string(gen) + "&after_id=" + std::to_string(id);
  ClientRequest req = MakeRequest(*run->member, "GET", path, "");
  SetOctetStream(&req);
  Send(
      s, run->member, &run->owner, std::move(req),
      [this, s, run, p, below, full, gen, id](Result<ClientResponse> r) {
        if (!r.ok()) return FailFrom(s, run, r.status());
        PsiCache& cache = run->member->psi;
        PsiTagSet& set = cache.sets[below ? 1 : 0];
        if (cache.epoch != p->info.epoch || set.complete != !full || set.cursor_generation != gen ||
            set.cursor_id != id) {
          // Another search moved the cursor (or the key rotated) meanwhile: its pages are
          // applied already; go on from where the set is now, so changes apply in order.
          if (cache.epoch != p->info.epoch) {
            return Finish(s, run, MemberStatus::kFailed,
                          "private search: the member's key changed during the search; search "
                          "again");
          }
          return SyncTags(s, run, p, below);
        }
        auto frame = psi::ParseFrameOf(full ? psi::FrameKind::kTags : psi::FrameKind::kTagChanges,
                                       r->body, LimitsFor(p->info.max_tags_per_page));
        if (!frame.ok()) {
          return Finish(s, run, MemberStatus::kFailed,
                        "private search: tag page: " + frame.status().ToString());
        }
        // A page announcing more must move the cursor on, or the sync would never end.
        const bool forward = frame->cursor_generation > gen ||
                             (frame->cursor_generation == gen && frame->cursor_id >= id);
        const bool moved = frame->cursor_generation != gen || frame->cursor_id != id;
        if (frame->epoch != p->info.epoch || !forward || (frame->param != 0 && !moved)) {
          return Finish(s, run, MemberStatus::kFailed,
                        "private search: the member's tag page does not follow its cursor");
        }
        if (set.tags.size() + frame->tags.size() + frame->changes.size() >
            options_.max_private_tags) {
          set = PsiTagSet{};  // start over next time; free the memory now
          return Finish(s, run, MemberStatus::kFailed,
                        "private search: the member's tag set exceeds " +
                            std::to_string(options_.max_private_tags) +
                            " tags, more than the portal keeps per member; use psi_mode = "
                            "\"bucketed\" for this member");
        }
        for (const psi::Tag& t : frame->tags) set.tags.insert(TagBytes(t));
        for (const psi::TagChange& c : frame->changes) {
          if (c.removed) {
            set.tags.erase(TagBytes(c.tag));
          } else {
            set.tags.insert(TagBytes(c.tag));
          }
        }
        set.cursor_generation = frame->cursor_generation;
        set.cursor_id = frame->cursor_id;
        if (frame->param != 0) return SyncTags(s, run, p, below);  // more pages
        set.complete = true;
        if (full) return SyncTags(s, run, p, below);  // the changes since the listing began
        if (!below) return SyncTags(s, run, p, /*below=*/true);
        SendLabelRequests(s, run, p);
      },
      0);
}

void FederationImpl::SendLabelRequests(const std::shared_ptr<SearchState>& s, MemberRun* run,
                                       const std::shared_ptr<PsiSearch>& p) {
  if (run->owner.finished) return;
  const PsiCache& cache = run->member->psi;
  const bool bucketed = run->member->config.psi_mode == PsiMode::kBucketed;
  p->requests = p->querier->LabelRequests([&](const psi::Tag& t) {
    const std::string bytes = TagBytes(t);
    if (bucketed) return p->bucket_tags.count(bytes) > 0;
    return cache.sets[0].tags.count(bytes) > 0 || cache.sets[1].tags.count(bytes) > 0;
  });
  p->pending = p->requests.size();
  if (p->pending == 0) return FinishPrivate(s, run, p);
  for (const psi::Frame& f : p->requests) {
    ClientRequest req =
        MakeRequest(*run->member, "POST", "/grid/v1/psi/labels", psi::EncodeFrame(f));
    SetOctetStream(&req);
    const size_t asked = f.tags.size();
    Send(
        s, run->member, &run->owner, std::move(req),
        [this, s, run, p, asked](Result<ClientResponse> r) {
          if (p->failed) return;
          if (!r.ok()) {
            p->failed = true;
            return FailFrom(s, run, r.status());
          }
          auto frame = psi::ParseFrameOf(psi::FrameKind::kLabels, r->body, LimitsFor(asked));
          Status st = frame.ok() ? p->querier->AcceptLabels(*frame) : frame.status();
          if (!st.ok()) {
            p->failed = true;
            return Finish(s, run, MemberStatus::kFailed,
                          "private search: the member's labels are invalid: " + st.ToString());
          }
          if (--p->pending == 0) FinishPrivate(s, run, p);
        },
        0);
  }
}

void FederationImpl::FinishPrivate(const std::shared_ptr<SearchState>& s, MemberRun* run,
                                   const std::shared_ptr<PsiSearch>& p) {
  const SearchRequest& q = s->request;
  const auto& contents = p->querier->contents();
  index::MatchOptions match;
  match.relations = run->reply.relations;
  std::vector<MemberHit> entries;
  std::vector<index::Hit> found;
  bool undated = false;
  for (size_t i = 0; i < contents.size() && i < q.indicators.size(); ++i) {
    if (contents[i].empty()) continue;
    entries.clear();
    for (const std::string& content : contents[i]) {
      Status st = ParseLabelHits(content, static_cast<uint32_t>(i), &entries);
      if (!st.ok()) {
        return Finish(s, run, MemberStatus::kFailed, "private search: " + st.ToString());
      }
    }
    // One entry per attribute (several keys of one query can name it), then the relations.
    std::map<std::pair<std::string, std::string>, size_t> seen;
    index::MatchIndex::Builder builder;
    std::vector<size_t> record;
    for (size_t e = 0; e < entries.size(); ++e) {
      const MemberHit& h = entries[e];
      const std::string id = h.attribute_uuid.empty() ? h.matched : h.attribute_uuid;
      if (!seen.emplace(std::pair{id, h.type}, e).second) continue;
      std::optional<core::IndicatorType> type = core::TypeFromName(h.type);
      if (!type) {
        return Finish(s, run, MemberStatus::kFailed,
                      "private search: a label names the unknown type '" + h.type + "'");
      }
      Status added =
          builder.Add(core::Indicator{*type, h.matched}, static_cast<uint32_t>(record.size()));
      if (!added.ok()) {
        return Finish(s, run, MemberStatus::kFailed, "private search: " + added.ToString());
      }
      record.push_back(e);
    }
    found.clear();
    builder.Build()->Match(q.indicators[i], 0, match, &found);
    for (const index::Hit& h : found) {
      MemberHit hit = entries[record[h.record]];
      hit.relation = h.relation;
      if (q.since || q.until) {
        if (hit.timestamp == 0 && hit.first_seen.empty() && hit.last_seen.empty()) undated = true;
        if (!InTimeScope(hit, q.since, q.until)) continue;
      }
      run->reply.hits.push_back(std::move(hit));
    }
  }
  if (undated)
    AddNote(run, "time scope not applied to some hits: the member's labels carry no dates");
  Finish(s, run, MemberStatus::kDone, run->note);
}

}  // namespace iocgrid::federation::internal
