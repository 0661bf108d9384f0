// The connectors' wire parsing on edge cases (cut-short answers, MISP's string
// ids, ISO times).
#include "federation/internal/dto.h"

#include <gtest/gtest.h>

namespace iocgrid::federation::internal {
namespace {

TEST(ParseGridAnswerTest, ReadsHitsAndNeedsTheSummaryLine) {
  std::string body =
      "{\"i\":1,\"query\":\"1.2.3.4\",\"hits\":[{\"relation\":"
      "\"in-range\",\"matched\":\"1.2.3.0/24\","
      "\"type\":\"ip-dst\",\"to_ids\":true,\"timestamp\":17,"
      "\"first_seen\":null,\"sightings\":2,"
      "\"event\":{\"uuid\":\"u\",\"info\":\"x\",\"date\":\"2024-"
      "01-02\",\"org\":\"O\"},\"tags\":[\"t\"]}]}\n"
      "{\"i\":0,\"query\":\"bad\",\"error\":\"no indicator\"}\n";
  std::vector<MemberHit> hits;
  EXPECT_EQ(ParseGridAnswer(body, 2, &hits).code(),
            StatusCode::kDataLoss);  // no done line
  hits.clear();
  ASSERT_TRUE(ParseGridAnswer(body + "{\"done\":true}\n", 2, &hits).ok());
  ASSERT_EQ(hits.size(), 1u);
  EXPECT_EQ(hits[0].query, 1u);
  EXPECT_EQ(hits[0].relation, index::Relation::kInRange);
  EXPECT_EQ(hits[0].org, "O");
  EXPECT_EQ(hits[0].sightings, 2u);
  EXPECT_EQ(hits[0].first_seen, "");
  EXPECT_EQ(hits[0].tags, std::vector<std::string>{"t"});
  hits.clear();
  EXPECT_EQ(ParseGridAnswer(body + "{\"done\":true}\n", 1, &hits).code(), StatusCode::kDataLoss);
}

TEST(ParseMispAttributesTest, ReadsMispShapes) {
  auto empty = ParseMispAttributes(R"({"response": []})");
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->empty());
  auto attrs = ParseMispAttributes(
      R"({"response":{"Attribute":[{"id":"1","type":"ip-dst","category":"Network activity",)"
      R"("to_ids":true,"uuid":"a","timestamp":"1700000000","deleted":false,"first_seen":null,)"
      R"("value":"1.2.3.0/24","Event":{"uuid":"e","info":"i","date":"2024-01-01","Orgc":{"name":"O"}},)"
      R"("Tag":[{"name":"tlp:green"},{"name":"x","inherited":1}]}]}})");
  ASSERT_TRUE(attrs.ok()) << attrs.status().ToString();
  ASSERT_EQ(attrs->size(), 1u);
  const MemberHit& h = (*attrs)[0].hit;
  EXPECT_EQ(h.timestamp, 1700000000);
  EXPECT_EQ(h.org, "O");
  EXPECT_EQ(h.tags.size(), 2u);
  EXPECT_EQ(ParseMispAttributes("{\"response\":{").status().code(), StatusCode::kDataLoss);
  EXPECT_EQ(ParseMispAttributes("[]").status().code(), StatusCode::kDataLoss);
}

TEST(ParseIsoSecondsTest, ParsesDatesTimesAndOffsets) {
  EXPECT_EQ(ParseIsoSeconds("1970-01-01"), 0);
  EXPECT_EQ(ParseIsoSeconds("2024-03-01T00:00:00Z"), 1709251200);
  EXPECT_EQ(ParseIsoSeconds("2024-03-01T01:00:00.123456+01:00"), 1709251200);
  EXPECT_FALSE(ParseIsoSeconds("yesterday").has_value());
}

TEST(InTimeScopeTest, UsesSeenWindowElseTimestamp) {
  MemberHit h;
  h.timestamp = 1000;
  EXPECT_TRUE(InTimeScope(h, 500, 1500));
  EXPECT_FALSE(InTimeScope(h, 1001, std::nullopt));
  h.first_seen = "1970-01-01T00:00:10Z";
  h.last_seen = "1970-01-01T00:00:20Z";
  EXPECT_TRUE(InTimeScope(h, 15, 16));
  EXPECT_FALSE(InTimeScope(h, 21, std::nullopt));
}

}  // namespace
}  // namespace iocgrid::federation::internal
