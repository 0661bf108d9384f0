#include "psi/querier.h"

#include <algorithm>
#include <set>
#include <string>
#include <utility>

namespace iocgrid::psi {
namespace {

std::string TagBytes(const Tag& t) { return std::string(t.begin(), t.end()); }

// The top `bits` bits of a tag, as a bucket number. REQUIRES: bits <= 24.
uint32_t BucketOf(const Tag& t, unsigned bits) {
  const uint32_t top = uint32_t{t[0]} << 16 | uint32_t{t[1]} << 8 | t[2];
  return bits == 0 ? 0 : top >> (24 - bits);
}

}  // namespace

Querier::Querier(std::span<const core::Indicator> queries, const RangeDeclaration& declaration,
                 uint32_t epoch, const QuerierOptions& options)
    : epoch_(epoch), options_(options), contents_(queries.size()) {
  options_.bucket_bits = std::min(options_.bucket_bits, 24u);
  options_.max_points_per_frame = std::max<size_t>(options_.max_points_per_frame, 1);
  options_.max_labels_per_frame = std::max<size_t>(options_.max_labels_per_frame, 1);
  std::vector<std::string> inputs;
  for (size_t q = 0; q < queries.size(); ++q) {
    inputs.clear();
    if (!QueryKeys(queries[q], declaration, options_.keys, &inputs)) incomplete_.push_back(q);
    for (std::string& input : inputs) {
      Key k;
      k.query = q;
      k.below = KeyClass(input) == "below";
      needs_below_ = needs_below_ || k.below;
      k.input = std::move(input);
      keys_.push_back(std::move(k));
    }
  }
}

std::vector<Frame> Querier::Blind() {
  std::vector<Frame> frames;
  evaluated_ = false;
  by_tag_.clear();
  for (size_t start = 0; start < keys_.size(); start += options_.max_points_per_frame) {
    Frame f;
    f.kind = FrameKind::kPoints;
    f.epoch = epoch_;
    const size_t end = std::min(keys_.size(), start + options_.max_points_per_frame);
    f.points.reserve(end - start);
    for (size_t i = start; i < end; ++i) {
      Blinded b = psi::Blind(keys_[i].input);
      keys_[i].inverse = b.inverse;
      f.points.push_back(b.point);
    }
    frames.push_back(std::move(f));
  }
  return frames;
}

Status Querier::AcceptEvaluations(std::span<const Frame> answers) {
  size_t next = 0;
  for (const Frame& f : answers) {
    if (f.kind != FrameKind::kPoints || f.epoch != epoch_) {
      return InvalidArgumentError("the member answered with another frame kind or key epoch");
    }
    if (f.points.size() > keys_.size() - next) {
      return InvalidArgumentError("the member answered more points than were asked");
    }
    for (const Point& p : f.points) {
      Result<Point> prf = Finalize(p, keys_[next].inverse);
      if (!prf.ok()) {
        return InvalidArgumentError("answer point " + std::to_string(next) + ": " +
                                    std::string(prf.status().message()));
      }
      keys_[next].output = DeriveOutput(keys_[next].input, *prf);
      ++next;
    }
  }
  if (next != keys_.size()) {
    return InvalidArgumentError("the member answered " + std::to_string(next) + " of " +
                                std::to_string(keys_.size()) + " points");
  }
  for (size_t i = 0; i < keys_.size(); ++i) by_tag_.emplace(TagBytes(keys_[i].output.tag), i);
  evaluated_ = true;
  return Status();
}

Frame Querier::BucketRequest(bool below) const {
  Frame f;
  f.kind = FrameKind::kBuckets;
  f.param = static_cast<uint8_t>(options_.bucket_bits);
  f.epoch = epoch_;
  if (!evaluated_) return f;
  std::set<uint32_t> buckets;
  for (const Key& k : keys_) {
    if (k.below == below) buckets.insert(BucketOf(k.output.tag, options_.bucket_bits));
  }
  f.buckets.assign(buckets.begin(), buckets.end());
  return f;
}

std::vector<Frame> Querier::LabelRequests(const std::function<bool(const Tag&)>& member_has) const {
  std::vector<Frame> frames;
  if (!evaluated_) return frames;
  std::set<Tag> wanted;
  for (const Key& k : keys_) {
    if (member_has(k.output.tag)) wanted.insert(k.output.tag);
  }
  for (const Tag& t : wanted) {
    if (frames.empty() || frames.back().tags.size() >= options_.max_labels_per_frame) {
      Frame f;
      f.kind = FrameKind::kTags;
      f.epoch = epoch_;
      frames.push_back(std::move(f));
    }
    frames.back().tags.push_back(t);
  }
  return frames;
}

Status Querier::AcceptLabels(const Frame& labels) {
  if (labels.kind != FrameKind::kLabels || labels.epoch != epoch_) {
    return InvalidArgumentError("the member answered with another frame kind or key epoch");
  }
  // A tag two of the member's keys share (the birthday bound of 88-bit tags over ~10^9 keys)
  // comes with two labels, of which ours opens one: a tag fails only when none of its labels
  // opens under any of our keys with that tag.
  // All or nothing: what a failing answer carried is never kept.
  std::unordered_map<std::string, bool> opened;
  std::vector<std::pair<size_t, std::string>> found;
  for (const LabeledTag& l : labels.labels) {
    const std::string tag = TagBytes(l.tag);
    auto [first, last] = by_tag_.equal_range(tag);
    if (first == last) return InvalidArgumentError("the member sent a label for a tag not asked");
    bool& any = opened[tag];
    for (auto it = first; it != last; ++it) {
      const Key& k = keys_[it->second];
      Result<std::string> plain = OpenLabel(k.output, epoch_, l.label);
      if (!plain.ok()) continue;
      any = true;
      found.emplace_back(k.query, std::move(*plain));
    }
  }
  for (const auto& [tag, any] : opened) {
    if (!any) {
      return DataLossError("a label from the member does not authenticate (tampered or wrong)");
    }
  }
  for (auto& [query, plain] : found) {
    std::vector<std::string>& mine = contents_[query];
    if (std::find(mine.begin(), mine.end(), plain) == mine.end()) mine.push_back(std::move(plain));
  }
  return Status();
}

}  // namespace iocgrid::psi
