// The querier's state machine (src/psi/querier.h) against an in-memory member that tags and
// labels its values as a node does: the hits come back per query, in both modes, and a wrong or
// hostile member (bad points, missing or extra points, another epoch, a tampered or unasked
// label) fails the search instead of producing hits.
#include "psi/querier.h"

#include <gtest/gtest.h>

#include <map>
#include <set>
#include <string>
#include <vector>

#include "core/indicator.h"

namespace iocgrid::psi {
namespace {

core::Indicator I(std::string_view type, std::string_view value) {
  return *core::ParseIndicator(type, value);
}

// A member: for each key string of its values, a tag and a label naming the values.
class Member {
 public:
  explicit Member(const std::vector<core::Indicator>& values) : key_(OprfKey::Generate()) {
    PrefixLengths lengths;
    std::map<std::string, std::string> names;
    for (const core::Indicator& v : values) {
      CollectPrefixLengths(v, &lengths);
      std::vector<std::string> keys;
      MemberKeys(v, RangeOptions{}, &keys);
      for (const std::string& k : keys) names[k] += v.value + ";";
    }
    declaration_ = DeclareRanges(lengths, RangeOptions{});
    for (const auto& [k, content] : names) {
      OprfOutput out = DeriveOutput(k, key_.EvaluateInput(k));
      labels_[out.tag] = SealLabel(out, kEpoch, content);
    }
  }

  static constexpr uint32_t kEpoch = 3;

  Frame Evaluate(const Frame& in) const {
    Frame out;
    out.kind = FrameKind::kPoints;
    out.epoch = in.epoch;
    for (const Point& p : in.points) out.points.push_back(*key_.Evaluate(p));
    return out;
  }
  bool Has(const Tag& t) const { return labels_.count(t) > 0; }
  Frame Labels(const Frame& in) const {
    Frame out;
    out.kind = FrameKind::kLabels;
    out.epoch = in.epoch;
    for (const Tag& t : in.tags) {
      if (auto it = labels_.find(t); it != labels_.end()) out.labels.push_back({t, it->second});
    }
    return out;
  }
  Frame Buckets(const Frame& in) const {
    Frame out;
    out.kind = FrameKind::kTags;
    std::set<uint32_t> wanted(in.buckets.begin(), in.buckets.end());
    for (const auto& [t, label] : labels_) {
      const uint32_t top = uint32_t{t[0]} << 16 | uint32_t{t[1]} << 8 | t[2];
      if (wanted.count(top >> (24 - in.param))) out.tags.push_back(t);
    }
    return out;
  }
  const RangeDeclaration& declaration() const { return declaration_; }

 private:
  OprfKey key_;
  RangeDeclaration declaration_;
  std::map<Tag, std::string> labels_;
};

const std::vector<core::Indicator>& Stored() {
  static const std::vector<core::Indicator> stored = {
      I("ip-dst", "198.51.100.0/22"), I("domain", "evil.example"),
      I("md5", "d41d8cd98f00b204e9800998ecf8427e"), I("ip-src", "203.0.113.7")};
  return stored;
}

std::vector<core::Indicator> Queries() {
  return {I("ip-dst", "198.51.101.9"), I("hostname", "a.evil.example"),
          I("md5", "d41d8cd98f00b204e9800998ecf8427e"), I("ip-dst", "203.0.113.0/24"),
          I("domain", "clean.example")};
}

// Round 1 against `member`: every blinded frame evaluated and accepted.
Status Evaluate(Querier& q, const Member& member) {
  std::vector<Frame> answers;
  for (const Frame& f : q.Blind()) answers.push_back(member.Evaluate(f));
  return q.AcceptEvaluations(answers);
}

// Runs rounds 1 and 2 against `member`; `buckets` selects bucketed mode.
Status RunSearch(Querier& q, const Member& member, bool buckets) {
  Status st = Evaluate(q, member);
  if (!st.ok()) return st;
  std::set<Tag> seen;
  if (buckets) {
    for (bool below : {false, true}) {
      for (const Tag& t : member.Buckets(q.BucketRequest(below)).tags) seen.insert(t);
    }
  }
  auto has = [&](const Tag& t) { return buckets ? seen.count(t) > 0 : member.Has(t); };
  for (const Frame& f : q.LabelRequests(has)) {
    st = q.AcceptLabels(member.Labels(f));
    if (!st.ok()) return st;
  }
  return Status();
}

TEST(QuerierTest, HitsComeBackPerQueryInBothModes) {
  Member member(Stored());
  const std::vector<core::Indicator> queries = Queries();
  for (bool buckets : {false, true}) {
    QuerierOptions options;
    options.max_points_per_frame = 5;  // several frames
    options.max_labels_per_frame = 2;
    Querier q(queries, member.declaration(), Member::kEpoch, options);
    EXPECT_TRUE(q.needs_below());
    EXPECT_TRUE(q.incomplete().empty());
    ASSERT_TRUE(RunSearch(q, member, buckets).ok());
    const auto& c = q.contents();
    ASSERT_EQ(c.size(), queries.size());
    EXPECT_EQ(c[0], std::vector<std::string>{"198.51.100.0/22;"});
    EXPECT_EQ(c[1], std::vector<std::string>{"evil.example;"});
    EXPECT_EQ(c[2], std::vector<std::string>{"d41d8cd98f00b204e9800998ecf8427e;"});
    EXPECT_EQ(c[3], std::vector<std::string>{"203.0.113.7;"});  // through its /24 below key
    EXPECT_TRUE(c[4].empty());
  }
}

TEST(QuerierTest, BadOrMissingPointsFailTheSearch) {
  Member member(Stored());
  Querier q(Queries(), member.declaration(), Member::kEpoch, QuerierOptions{});
  std::vector<Frame> frames = q.Blind();
  Frame answer = member.Evaluate(frames[0]);
  answer.points[0] = Point{};
  EXPECT_EQ(q.AcceptEvaluations({&answer, 1}).code(), StatusCode::kInvalidArgument);
  answer = member.Evaluate(frames[0]);
  answer.points.pop_back();
  EXPECT_EQ(q.AcceptEvaluations({&answer, 1}).code(), StatusCode::kInvalidArgument);
  answer = member.Evaluate(frames[0]);
  answer.epoch = Member::kEpoch + 1;
  EXPECT_EQ(q.AcceptEvaluations({&answer, 1}).code(), StatusCode::kInvalidArgument);
  answer = member.Evaluate(frames[0]);
  answer.points.push_back(answer.points[0]);
  EXPECT_EQ(q.AcceptEvaluations({&answer, 1}).code(), StatusCode::kInvalidArgument);
}

TEST(QuerierTest, TamperedOrUnaskedLabelsFailTheSearch) {
  Member member(Stored());
  Querier q(Queries(), member.declaration(), Member::kEpoch, QuerierOptions{});
  ASSERT_TRUE(Evaluate(q, member).ok());
  std::vector<Frame> requests = q.LabelRequests([&](const Tag& t) { return member.Has(t); });
  ASSERT_EQ(requests.size(), 1u);
  Frame labels = member.Labels(requests[0]);
  ASSERT_FALSE(labels.labels.empty());
  Frame tampered = labels;
  tampered.labels[0].label.back() ^= 1;
  EXPECT_EQ(q.AcceptLabels(tampered).code(), StatusCode::kDataLoss);
  Frame unasked = labels;
  unasked.labels[0].tag.fill(0x42);
  EXPECT_EQ(q.AcceptLabels(unasked).code(), StatusCode::kInvalidArgument);
  // A label moved to another asked tag does not open either.
  if (labels.labels.size() >= 2) {
    Frame swapped = labels;
    std::swap(swapped.labels[0].label, swapped.labels[1].label);
    EXPECT_EQ(q.AcceptLabels(swapped).code(), StatusCode::kDataLoss);
  }
  for (const auto& c : q.contents()) EXPECT_TRUE(c.empty());
  EXPECT_TRUE(q.AcceptLabels(labels).ok());
}

// Two of the member's keys may share a tag (88 bits over 10^9 keys): both labels come back,
// ours opens, the other is ignored.
TEST(QuerierTest, ASharedTagsForeignLabelIsIgnored) {
  Member member(Stored());
  Querier q(Queries(), member.declaration(), Member::kEpoch, QuerierOptions{});
  ASSERT_TRUE(Evaluate(q, member).ok());
  std::vector<Frame> requests = q.LabelRequests([&](const Tag& t) { return member.Has(t); });
  Frame labels = member.Labels(requests[0]);
  OprfOutput stranger = DeriveOutput("another key", OprfKey::Generate().EvaluateInput("x"));
  labels.labels.insert(labels.labels.begin(),
                       {labels.labels[0].tag, SealLabel(stranger, Member::kEpoch, "theirs")});
  ASSERT_TRUE(q.AcceptLabels(labels).ok());
  size_t opened = 0;
  for (const auto& c : q.contents()) opened += c.size();
  EXPECT_EQ(opened, 4u);
}

TEST(QuerierTest, WideNetworksAreReportedIncomplete) {
  Member member(Stored());
  std::vector<core::Indicator> queries = {I("ip-dst", "10.0.0.0/4"), I("ip-dst", "1.2.3.4")};
  Querier q(queries, member.declaration(), Member::kEpoch, QuerierOptions{});
  EXPECT_EQ(q.incomplete(), std::vector<size_t>{0});
}

}  // namespace
}  // namespace iocgrid::psi
