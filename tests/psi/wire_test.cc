// The binary frames (src/psi/wire.h): every kind round-trips, the header layout is the one
// docs/private-search.md specifies, and malformed or oversized input is refused with a Status.
#include "psi/wire.h"

#include <gtest/gtest.h>

#include <string>

namespace iocgrid::psi {
namespace {

Frame PointsFrame(size_t n) {
  Frame f;
  f.kind = FrameKind::kPoints;
  f.epoch = 3;
  for (size_t i = 0; i < n; ++i) {
    Point p;
    p.fill(static_cast<uint8_t>(i));
    f.points.push_back(p);
  }
  return f;
}

Tag TagOf(uint8_t b) {
  Tag t;
  t.fill(b);
  return t;
}

TEST(WireTest, HeaderLayout) {
  Frame f = PointsFrame(2);
  f.cursor_generation = 0x0102030405060708ull;
  f.cursor_id = 9;
  std::string bytes = EncodeFrame(f);
  ASSERT_EQ(bytes.size(), kFrameHeaderBytes + 2 * kPointBytes);
  EXPECT_EQ(bytes.substr(0, 4), "IGP1");
  EXPECT_EQ(bytes[4], 1);                                      // kind
  EXPECT_EQ(bytes.substr(5, 3), std::string(3, '\0'));         // param, reserved
  EXPECT_EQ(bytes.substr(8, 4), std::string("\0\0\0\3", 4));   // epoch
  EXPECT_EQ(bytes.substr(12, 4), std::string("\0\0\0\2", 4));  // count
  EXPECT_EQ(bytes.substr(16, 8), "\1\2\3\4\5\6\7\x08");
  EXPECT_EQ(bytes.substr(24, 8), std::string("\0\0\0\0\0\0\0\x09", 8));
}

TEST(WireTest, EveryKindRoundTrips) {
  std::vector<Frame> frames;
  frames.push_back(PointsFrame(3));
  Frame tags;
  tags.kind = FrameKind::kTags;
  tags.tags = {TagOf(1), TagOf(2)};
  tags.param = 1;  // a full-set page after which more may follow
  tags.cursor_generation = 3;
  tags.cursor_id = 4;
  frames.push_back(tags);
  Frame changes;
  changes.kind = FrameKind::kTagChanges;
  changes.param = 1;
  changes.cursor_generation = 12;
  changes.cursor_id = 34;
  changes.changes = {{TagOf(1), false}, {TagOf(2), true}};
  frames.push_back(changes);
  Frame buckets;
  buckets.kind = FrameKind::kBuckets;
  buckets.param = 16;
  buckets.buckets = {0, 65535, 77};
  frames.push_back(buckets);
  Frame labels;
  labels.kind = FrameKind::kLabels;
  labels.labels = {{TagOf(5), "sealed-bytes"}, {TagOf(6), ""}, {TagOf(7), std::string(300, 'x')}};
  frames.push_back(labels);
  Frame empty;
  empty.kind = FrameKind::kTags;
  frames.push_back(empty);
  for (const Frame& f : frames) {
    Result<Frame> back = ParseFrame(EncodeFrame(f), FrameLimits{});
    ASSERT_TRUE(back.ok()) << FrameKindName(f.kind) << ": " << back.status().ToString();
    EXPECT_EQ(*back, f) << FrameKindName(f.kind);
  }
}

TEST(WireTest, RefusesMalformedFrames) {
  const std::string good = EncodeFrame(PointsFrame(2));
  auto code = [](std::string_view bytes) {
    return ParseFrame(bytes, FrameLimits{}).status().code();
  };
  EXPECT_EQ(code(""), StatusCode::kInvalidArgument);
  EXPECT_EQ(code(good.substr(0, 31)), StatusCode::kInvalidArgument);
  EXPECT_EQ(code(good.substr(0, good.size() - 1)), StatusCode::kInvalidArgument);
  EXPECT_EQ(code(good + "x"), StatusCode::kInvalidArgument);
  std::string bad = good;
  bad[0] = 'X';
  EXPECT_EQ(code(bad), StatusCode::kInvalidArgument);  // magic
  bad = good;
  bad[4] = 9;
  EXPECT_EQ(code(bad), StatusCode::kInvalidArgument);  // kind
  bad = good;
  bad[6] = 1;
  EXPECT_EQ(code(bad), StatusCode::kInvalidArgument);  // reserved
  bad = good;
  bad[5] = 1;
  EXPECT_EQ(code(bad), StatusCode::kInvalidArgument);  // param on a points frame
  bad = good;
  bad[15] = 3;  // count 3, bytes for 2
  EXPECT_EQ(code(bad), StatusCode::kInvalidArgument);
}

TEST(WireTest, RefusesHugeCountsBeforeAllocating) {
  std::string bytes = EncodeFrame(PointsFrame(0));
  bytes[12] = '\xff';  // count 0xff000000, no items
  EXPECT_EQ(ParseFrame(bytes, FrameLimits{}).status().code(), StatusCode::kResourceExhausted);
  FrameLimits small;
  small.max_items = 1;
  EXPECT_EQ(ParseFrame(EncodeFrame(PointsFrame(2)), small).status().code(),
            StatusCode::kResourceExhausted);
}

TEST(WireTest, RefusesBadLabelsAndBuckets) {
  Frame labels;
  labels.kind = FrameKind::kLabels;
  labels.labels = {{TagOf(1), std::string(100, 'a')}};
  std::string bytes = EncodeFrame(labels);
  FrameLimits limits;
  limits.max_label_bytes = 99;
  EXPECT_EQ(ParseFrame(bytes, limits).status().code(), StatusCode::kResourceExhausted);
  // A length that runs past the end.
  bytes[kFrameHeaderBytes + kTagBytes + 2] = '\x10';  // 4,096 + 100 bytes
  EXPECT_EQ(ParseFrame(bytes, FrameLimits{}).status().code(), StatusCode::kInvalidArgument);

  Frame buckets;
  buckets.kind = FrameKind::kBuckets;
  buckets.param = 8;
  buckets.buckets = {256};
  EXPECT_EQ(ParseFrame(EncodeFrame(buckets), FrameLimits{}).status().code(),
            StatusCode::kInvalidArgument);
  buckets.param = 25;
  buckets.buckets = {1};
  EXPECT_EQ(ParseFrame(EncodeFrame(buckets), FrameLimits{}).status().code(),
            StatusCode::kInvalidArgument);

  Frame changes;
  changes.kind = FrameKind::kTagChanges;
  changes.changes = {{TagOf(1), false}};
  std::string c = EncodeFrame(changes);
  c.back() = 2;
  EXPECT_EQ(ParseFrame(c, FrameLimits{}).status().code(), StatusCode::kInvalidArgument);
}

TEST(WireTest, ParseFrameOfChecksTheKind) {
  Result<Frame> f = ParseFrameOf(FrameKind::kTags, EncodeFrame(PointsFrame(1)), FrameLimits{});
  ASSERT_FALSE(f.ok());
  EXPECT_EQ(f.status().message(), "expected a tags frame, got points");
}

}  // namespace
}  // namespace iocgrid::psi
