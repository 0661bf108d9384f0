// The stored form of a sift (portal/internal/sift_job.h): what an upload leaves round-trips
// through the store's JSON and binary line groups, and a damaged row is kDataLoss, never a
// crash or a silently wrong report.
#include "portal/internal/sift_job.h"

#include <gtest/gtest.h>

namespace iocgrid::portal::internal {
namespace {

SiftResult Example() {
  SiftResult r;
  r.format = "combined";
  r.bytes = 1234;
  r.counts.lines = 10;
  r.counts.parsed = 9;
  r.counts.malformed = 1;
  r.counts.internal = 2;
  r.counts.alerts = 3;
  r.malformed.push_back({"upload", 7, "no [timestamp]"});
  sift::Observable a;
  a.value = "185.220.101.7";
  a.type = core::IndicatorType::kIpSrc;
  a.field = sift::Field::kClient;
  a.fields = sift::FieldBit(sift::Field::kClient);
  a.lines = 6;
  a.first_seen = 1709287200;
  a.last_seen = 1709287300;
  a.alerts = 2;
  sift::Observable b = a;
  b.value = "evil-c2.net";
  b.type = core::IndicatorType::kDomain;
  b.field = sift::Field::kHost;
  b.fields = sift::FieldBit(sift::Field::kHost);
  b.lines = 302;
  b.alerts = 0;
  r.observables = {a, b};
  r.groups = {{{}, 3}, {{0}, 4}, {{0, 1}, 2}, {{1}, 300}};
  return r;
}

TEST(SiftResultTest, RoundTripsThroughTheStore) {
  SiftResult r = Example();
  auto back = DecodeSiftResult(EncodeSiftResult(r), EncodeLineGroups(r.groups));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->format, "combined");
  EXPECT_EQ(back->bytes, 1234u);
  EXPECT_EQ(back->counts.malformed, 1u);
  EXPECT_EQ(back->counts.alerts, 3u);
  ASSERT_EQ(back->malformed.size(), 1u);
  EXPECT_EQ(back->malformed[0].line, 7u);
  ASSERT_EQ(back->observables.size(), 2u);
  EXPECT_EQ(back->observables[1].value, "evil-c2.net");
  EXPECT_EQ(back->observables[1].type, core::IndicatorType::kDomain);
  EXPECT_EQ(back->observables[0].first_seen, 1709287200);
  EXPECT_EQ(back->observables[0].alerts, 2u);
  ASSERT_EQ(back->groups.size(), 4u);
  EXPECT_EQ(back->groups[2].ids, (std::vector<uint32_t>{0, 1}));
  EXPECT_EQ(back->groups[3].lines, 300u);
}

TEST(SiftResultTest, DamagedRowsAreDataLoss) {
  SiftResult r = Example();
  std::string text = EncodeSiftResult(r);
  std::string groups = EncodeLineGroups(r.groups);
  EXPECT_EQ(DecodeSiftResult("not json", groups).status().code(), StatusCode::kDataLoss);
  EXPECT_EQ(DecodeSiftResult("{}", "").status().code(), StatusCode::kDataLoss);
  std::string bad_type = text;
  bad_type.replace(bad_type.find("ip-src"), 6, "ip-xyz");
  EXPECT_EQ(DecodeSiftResult(bad_type, groups).status().code(), StatusCode::kDataLoss);
  // A group naming an observable that does not exist, a cut varint, a count past the end.
  EXPECT_EQ(DecodeSiftResult(text, std::string("\x01\x01\x05", 3)).status().code(),
            StatusCode::kDataLoss);
  EXPECT_EQ(DecodeSiftResult(text, std::string("\x81", 1)).status().code(), StatusCode::kDataLoss);
  EXPECT_EQ(DecodeSiftResult(text, std::string("\x01\x7f\x00", 3)).status().code(),
            StatusCode::kDataLoss);
}

TEST(SiftReportTest, WithoutASearchEverythingIsUnknownAndCounted) {
  SiftResult r = Example();
  SiftMeta meta{"id1", "alice", "web", "amber", false, 5, nlohmann::json::object(), "", ""};
  nlohmann::json report =
      SiftReport(meta, "done", r, "", nullptr, {}, sift::DefaultRules(), 1, true);
  EXPECT_EQ(report["summary"]["by_class"]["unknown"]["observables"], 2);
  EXPECT_EQ(report["summary"]["by_class"]["unknown"]["lines"], 4 + 2 + 300);
  EXPECT_EQ(report["summary"]["clients"], 1);
  EXPECT_EQ(report["alert_cells"]["alerted_unknown"], 1);
  EXPECT_TRUE(report["search"].is_null());
  EXPECT_EQ(report["top"]["unknown"].size(), 1u);
  EXPECT_EQ(report["top"]["unknown"][0]["value"], "evil-c2.net");  // most lines first
  EXPECT_EQ(report["observables"].size(), 2u);
}

}  // namespace
}  // namespace iocgrid::portal::internal
