// The private-search endpoints (docs/private-search.md "Node API"): /grid/v1/psi/info (JSON),
// evaluate, tags, buckets and labels (binary frames, psi/wire.h). Every one creates the node's
// OPRF key on first use. Audit rows record item counts, never values or points.
#include <algorithm>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "node/internal/node_impl.h"
#include "psi/keys.h"
#include "psi/oprf.h"
#include "psi/wire.h"
#include "store/number.h"

namespace iocgrid::node {

using namespace internal;  // the helpers of node_impl.h

namespace {

constexpr int64_t kSecondsPerDay = 86400;

net::Response Binary(const psi::Frame& frame) {
  net::Response r;
  r.content_type = "application/octet-stream";
  r.body = psi::EncodeFrame(frame);
  return r;
}

// A frame that does not parse: 413 when it holds more items than allowed, else 400.
net::Response FrameError(const Status& st, const net::Request& req) {
  return Error(st.code() == StatusCode::kResourceExhausted ? 413 : 400, st.message(), req);
}

net::Response EpochError(uint32_t asked, uint32_t epoch, const net::Request& req) {
  return Error(409,
               "Private-search key epoch " + std::to_string(asked) + " is not the node's (" +
                   std::to_string(epoch) +
                   ", or the previous one within its grace after a rotation); fetch "
                   "/grid/v1/psi/info and search again.",
               req);
}

psi::FrameLimits Limits(size_t max_items) {
  psi::FrameLimits limits;
  limits.max_items = max_items;
  return limits;
}

nlohmann::json LengthList(const psi::PrefixLengths& lengths, bool v6) {
  nlohmann::json list = nlohmann::json::array();
  for (unsigned length = 0; length <= (v6 ? 128u : 32u); ++length) {
    if (v6 ? lengths.v6.test(length) : lengths.v4.test(length)) list.push_back(length);
  }
  return list;
}

nlohmann::json Lengths(const psi::PrefixLengths& lengths) {
  return {{"v4", LengthList(lengths, false)}, {"v6", LengthList(lengths, true)}};
}

// The optional query parameters of tag listings and buckets.
struct ListQuery {
  uint32_t epoch = 0;
  bool below = false;
  bool full = false;
  int64_t after_generation = 0;
  int64_t after_id = 0;
  size_t limit = 0;
};

Result<ListQuery> ParseListQuery(const net::Request& req, uint32_t epoch, size_t max_limit) {
  ListQuery q;
  q.epoch = epoch;
  q.limit = max_limit;
  if (std::string v = req.QueryParam("epoch"); !v.empty()) {
    auto e = store::ParseDecimal<uint32_t>(v);
    if (!e) return InvalidArgumentError("epoch must be a number");
    q.epoch = *e;
  }
  const std::string cls = req.QueryParam("class");
  if (cls != "" && cls != "values" && cls != "below") {
    return InvalidArgumentError("class must be values or below");
  }
  q.below = cls == "below";
  const std::string full = req.QueryParam("full");
  q.full = full == "1" || full == "true";
  for (auto [name, target] :
       {std::pair{"after_generation", &q.after_generation}, std::pair{"after_id", &q.after_id}}) {
    std::string v = req.QueryParam(name);
    if (v.empty()) continue;
    auto n = store::ParseDecimal<int64_t>(v);
    if (!n || *n < 0) return InvalidArgumentError(std::string(name) + " must be a number >= 0");
    *target = *n;
  }
  if (std::string v = req.QueryParam("limit"); !v.empty()) {
    auto n = store::ParseDecimal<size_t>(v);
    if (!n || *n == 0) return InvalidArgumentError("limit must be a number > 0");
    q.limit = std::min(*n, max_limit);
  }
  return q;
}

// Bucket b of `bits` bits as a byte range [lo, hi) of tags (hi empty: to the end).
std::pair<std::string, std::string> BucketRange(uint32_t bucket, unsigned bits) {
  const unsigned bytes = (bits + 7) / 8;
  auto encode = [&](uint64_t v) {
    std::string s;
    for (unsigned i = 0; i < bytes; ++i) {
      s.push_back(static_cast<char>(v >> (8 * (bytes - 1 - i))));
    }
    return s;
  };
  const unsigned shift = 8 * bytes - bits;
  std::string lo = encode(uint64_t{bucket} << shift);
  std::string hi = uint64_t{bucket} + 1 == (uint64_t{1} << bits)
                       ? std::string()
                       : encode((uint64_t{bucket} + 1) << shift);
  return {std::move(lo), std::move(hi)};
}

psi::Tag ToTag(std::string_view s) {
  psi::Tag t{};
  std::copy_n(s.begin(), std::min(s.size(), t.size()), reinterpret_cast<char*>(t.data()));
  return t;
}

}  // namespace

net::Response Node::Impl::PsiInfo(net::Request& req, Call& call) {
  call.Note(0);
  auto key = EnsurePsiKey();
  if (!key.ok()) return StatusError(key.status(), req);
  const uint32_t epoch = key->second;
  std::shared_ptr<const IndexSnapshot> snap;
  {
    MutexLock lock(snapshot_mu);
    snap = current;
  }
  auto stats = store->GetPsiStats(epoch);
  if (!stats.ok()) return StatusError(stats.status(), req);
  auto stored_keys = store->GetPsiKeys();
  if (!stored_keys.ok()) return StatusError(stored_keys.status(), req);
  const store::PsiKeys& keys = *stored_keys;
  const PsiOptions& o = options.psi;
  auto used = store->PsiQuotaUsed(call.auth.org.id, options.store.clock.Now() / kSecondsPerDay);
  if (!used.ok()) return StatusError(used.status(), req);
  const psi::RangeDeclaration declaration = psi::DeclareRanges(snap->ip_prefix_lengths, o.ranges);
  json body = {
      {"version", 1},
      {"suite", "ristretto255-SHA512-2HashDH"},
      {"tag_bytes", psi::kTagBytes},
      {"epoch", epoch},
      {"key_created", keys.active ? keys.active->created : 0},
      {"ranges", Lengths(declaration.lengths)},
      {"below", Lengths(declaration.below)},
      {"max_rounding_bits", psi::kMaxRoundingBits},
      {"generation", stats->generation},
      {"tags", stats->tags},
      {"below_tags", stats->below_tags},
      {"pending", stats->pending},
      {"ready", stats->pending == 0},
      {"modes", {"full-set", "bucketed"}},
      {"label_context", o.label_context ? "full" : "value"},
      {"label_max_entries", o.max_label_entries},
      {"limits",
       {{"evaluations_per_day", o.evaluations_per_org_per_day},
        {"evaluations_left_today",
         *used >= o.evaluations_per_org_per_day ? 0 : o.evaluations_per_org_per_day - *used},
        {"max_points_per_request", o.max_points_per_request},
        {"max_labels_per_request", o.max_labels_per_request},
        {"max_buckets_per_request", o.max_buckets_per_request},
        {"max_tags_per_page", o.max_tags_per_page},
        {"max_bucket_tags", o.max_bucket_tags},
        {"max_bucket_bits", psi::FrameLimits{}.max_bucket_bits}}}};
  // A rotation under way (its tags so far) and the previous key while it still answers.
  if (keys.preparing) {
    auto next = store->GetPsiStats(keys.preparing->epoch);
    if (!next.ok()) return StatusError(next.status(), req);
    body["rotation"] = {{"epoch", keys.preparing->epoch},
                        {"started", keys.preparing->created},
                        {"tags", next->tags},
                        {"below_tags", next->below_tags}};
  }
  if (keys.retired) {
    body["previous_epoch"] = {
        {"epoch", keys.retired->epoch},
        {"answered_until", keys.retired->changed + o.previous_key_grace.count()}};
  }
  return JsonResponse(body.dump());
}

net::Response Node::Impl::PsiEvaluate(net::Request& req, Call& call) {
  auto key = EnsurePsiKey();
  if (!key.ok()) return StatusError(key.status(), req);
  const PsiOptions& o = options.psi;
  auto frame =
      psi::ParseFrameOf(psi::FrameKind::kPoints, req.body, Limits(o.max_points_per_request));
  if (!frame.ok()) return FrameError(frame.status(), req);
  call.Note(frame->points.size());
  const std::optional<psi::OprfKey> oprf = PsiKeyOf(frame->epoch);
  if (!oprf) return EpochError(frame->epoch, key->second, req);
  // Counted before any work, invalid points included: the quota bounds what a querier can
  // learn about small domains (IPv4) by asking, whatever it sends.
  const int64_t now = options.store.clock.Now();
  auto left = store->ConsumePsiQuota(call.auth.org.id, now / kSecondsPerDay, frame->points.size(),
                                     o.evaluations_per_org_per_day);
  if (!left.ok()) {
    if (left.status().code() != StatusCode::kResourceExhausted) {
      return StatusError(left.status(), req);
    }
    net::Response r = Error(429, left.status().message(), req);
    r.headers.emplace_back("X-Rate-Limit-Limit", std::to_string(o.evaluations_per_org_per_day));
    r.headers.emplace_back("X-Rate-Limit-Remaining", "0");
    r.headers.emplace_back("X-Rate-Limit-Reset",
                           std::to_string(kSecondsPerDay - now % kSecondsPerDay));
    return r;
  }
  psi::Frame answer;
  answer.kind = psi::FrameKind::kPoints;
  answer.epoch = frame->epoch;
  answer.points.reserve(frame->points.size());
  for (size_t i = 0; i < frame->points.size(); ++i) {
    Result<psi::Point> p = oprf->Evaluate(frame->points[i]);
    if (!p.ok()) {
      return Error(400, "point " + std::to_string(i) + ": " + std::string(p.status().message()),
                   req);
    }
    answer.points.push_back(*p);
  }
  net::Response r = Binary(answer);
  r.headers.emplace_back("X-Rate-Limit-Limit", std::to_string(o.evaluations_per_org_per_day));
  r.headers.emplace_back("X-Rate-Limit-Remaining", std::to_string(*left));
  return r;
}

net::Response Node::Impl::PsiTags(net::Request& req, Call& call) {
  call.Note(0);
  auto key = EnsurePsiKey();
  if (!key.ok()) return StatusError(key.status(), req);
  auto q = ParseListQuery(req, key->second, options.psi.max_tags_per_page);
  if (!q.ok()) return Error(400, q.status().message(), req);
  if (!PsiKeyOf(q->epoch)) return EpochError(q->epoch, key->second, req);
  auto rows =
      store->ListPsiTags(q->epoch, q->below, q->full, q->after_generation, q->after_id, q->limit);
  if (!rows.ok()) return StatusError(rows.status(), req);
  psi::Frame f;
  f.kind = q->full ? psi::FrameKind::kTags : psi::FrameKind::kTagChanges;
  f.epoch = q->epoch;
  f.param = rows->size() == q->limit ? 1 : 0;  // more may follow
  f.cursor_generation = static_cast<uint64_t>(q->after_generation);
  f.cursor_id = static_cast<uint64_t>(q->after_id);
  if (!rows->empty()) {
    f.cursor_generation = static_cast<uint64_t>(rows->back().generation);
    f.cursor_id = static_cast<uint64_t>(rows->back().id);
  }
  for (const store::PsiTagListing& row : *rows) {
    if (q->full) {
      f.tags.push_back(ToTag(row.tag));
    } else {
      f.changes.push_back(psi::TagChange{ToTag(row.tag), !row.live});
    }
  }
  call.Note(rows->size());
  return Binary(f);
}

net::Response Node::Impl::PsiBuckets(net::Request& req, Call& call) {
  auto key = EnsurePsiKey();
  if (!key.ok()) return StatusError(key.status(), req);
  const PsiOptions& o = options.psi;
  auto q = ParseListQuery(req, key->second, o.max_tags_per_page);
  if (!q.ok()) return Error(400, q.status().message(), req);
  auto frame =
      psi::ParseFrameOf(psi::FrameKind::kBuckets, req.body, Limits(o.max_buckets_per_request));
  if (!frame.ok()) return FrameError(frame.status(), req);
  call.Note(frame->buckets.size());
  if (!PsiKeyOf(frame->epoch)) return EpochError(frame->epoch, key->second, req);
  std::vector<uint32_t> buckets = frame->buckets;
  std::sort(buckets.begin(), buckets.end());
  buckets.erase(std::unique(buckets.begin(), buckets.end()), buckets.end());
  std::vector<std::pair<std::string, std::string>> ranges;
  ranges.reserve(buckets.size());
  for (uint32_t b : buckets) ranges.push_back(BucketRange(b, frame->param));
  auto tags = store->PsiTagsInRanges(frame->epoch, q->below, ranges, o.max_bucket_tags);
  if (!tags.ok()) {
    if (tags.status().code() == StatusCode::kResourceExhausted) {
      return Error(413, tags.status().message(), req);
    }
    return StatusError(tags.status(), req);
  }
  psi::Frame f;
  f.kind = psi::FrameKind::kTags;
  f.epoch = frame->epoch;
  f.tags.reserve(tags->size());
  for (const std::string& t : *tags) f.tags.push_back(ToTag(t));
  return Binary(f);
}

net::Response Node::Impl::PsiLabels(net::Request& req, Call& call) {
  auto key = EnsurePsiKey();
  if (!key.ok()) return StatusError(key.status(), req);
  auto frame = psi::ParseFrameOf(psi::FrameKind::kTags, req.body,
                                 Limits(options.psi.max_labels_per_request));
  if (!frame.ok()) return FrameError(frame.status(), req);
  call.Note(frame->tags.size());
  if (!PsiKeyOf(frame->epoch)) return EpochError(frame->epoch, key->second, req);
  std::vector<std::string> tags;
  tags.reserve(frame->tags.size());
  for (const psi::Tag& t : frame->tags) {
    tags.emplace_back(reinterpret_cast<const char*>(t.data()), t.size());
  }
  std::sort(tags.begin(), tags.end());
  tags.erase(std::unique(tags.begin(), tags.end()), tags.end());
  auto labels = store->GetPsiLabels(frame->epoch, tags);
  if (!labels.ok()) return StatusError(labels.status(), req);
  psi::Frame f;
  f.kind = psi::FrameKind::kLabels;
  f.epoch = frame->epoch;
  for (auto& [tag, label] : *labels) f.labels.push_back(psi::LabeledTag{ToTag(tag), label});
  return Binary(f);
}

}  // namespace iocgrid::node
