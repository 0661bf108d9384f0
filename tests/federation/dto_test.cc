// The connectors' wire parsing on edge cases (cut-short answers, MISP's string
// ids, ISO times).
#include "federation/internal/dto.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

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

// A node's stats carry the searchable data generation that watchlists re-run on (issue 11);
// an older node's answer has none, and a wrong type is not taken for one.
TEST(ParseGridStatsTest, ReadsTheDataGenerationWhenThere) {
  auto s = ParseGridStats(R"({"attributes": 7, "first_date": "2026-01-01", "generation": 42})");
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->attributes, 7u);
  EXPECT_EQ(s->generation, 42u);
  EXPECT_FALSE(ParseGridStats(R"({"attributes": 7})")->generation.has_value());
  EXPECT_FALSE(ParseGridStats(R"({"generation": "42"})")->generation.has_value());
  EXPECT_FALSE(ParseGridStats(R"({"generation": -1})")->generation.has_value());
  auto huge = ParseGridStats(R"({"generation": 99999999999999999999})");
  EXPECT_TRUE(!huge.ok() || !huge->generation.has_value());
  EXPECT_FALSE(ParseGridStats("[1,2").ok());
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

// What a private member says of itself (psi/info) and what its opened labels hold: the
// shapes a node sends parse, and hostile ones (fuzz/corpus/member_reply/*psi*) are kDataLoss
// naming the field, never a default.
TEST(ParsePsiInfoTest, ReadsANodesInfoAndRefusesUnusableLimits) {
  const std::string limits =
      R"("limits":{"evaluations_left_today":999,"max_points_per_request":65536,)"
      R"("max_labels_per_request":4096,"max_buckets_per_request":65536,)"
      R"("max_tags_per_page":262144,"max_bucket_bits":24})";
  const std::string head =
      R"({"version":1,"tag_bytes":11,"epoch":3,)"
      R"("ranges":{"v4":[16,24,32],"v6":[48,128]},"below":{"v4":[16],"v6":[]},)"
      R"("ready":true,"tags":12,"modes":["full-set"],"label_context":"full",)";
  auto info = ParsePsiInfo(head + limits + "}");
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  EXPECT_EQ(info->epoch, 3u);
  EXPECT_TRUE(info->Offers(PsiMode::kFullSet));
  EXPECT_FALSE(info->Offers(PsiMode::kBucketed));
  EXPECT_EQ(info->max_points, 65536u);
  EXPECT_EQ(info->evaluations_left_today, 999u);
  for (const std::string& bad : {
           std::string(R"({"version":2,"tag_bytes":11})"),
           head + "}",  // no limits
           std::string(head).replace(head.find("\"epoch\":3"), 9, "\"epoch\":0") + limits + "}",
           std::string(head).replace(head.find("\"epoch\":3"), 9,
                                     "\"epoch\":123456789012345678901") +
               limits + "}",
           std::string(head).replace(head.find("[16,24,32]"), 10, "\"16\"") + limits + "}",
           head +
               std::string(limits).replace(limits.find("\"max_bucket_bits\":24"), 20,
                                           "\"max_bucket_bits\":25") +
               "}",
           head + std::string(limits).replace(limits.find("262144"), 6, "0") + "}",
           std::string(30000, '[') + std::string(30000, ']'),
           std::string("{\"version\":1,\"tag_bytes\":11,\"epoch\":\"\xff\"}"),
       }) {
    auto r = ParsePsiInfo(bad);
    EXPECT_FALSE(r.ok()) << bad.substr(0, 200);
    if (!r.ok()) {
      EXPECT_EQ(r.status().code(), StatusCode::kDataLoss);
    }
  }
}

TEST(ParseLabelHitsTest, HitsCarryTheirQueryAndBadLabelsAreRefused) {
  std::vector<MemberHit> hits;
  ASSERT_TRUE(
      ParseLabelHits(R"({"v":1,"hits":[{"matched":"evil.example","type":"domain"}]})", 7, &hits)
          .ok());
  ASSERT_EQ(hits.size(), 1u);
  EXPECT_EQ(hits[0].query, 7u);
  EXPECT_EQ(hits[0].matched, "evil.example");
  for (const std::string& bad :
       {std::string(R"({"v":2,"hits":[]})"), std::string(R"({"v":1})"), std::string("[]"),
        std::string("{\"v\":1,\"hits\":[{\"matched\":\"\xff\xfe\"}]}"),
        "{\"v\":1,\"hits\":" + std::string(30000, '[') + std::string(30000, ']') + "}"}) {
    std::vector<MemberHit> none;
    EXPECT_FALSE(ParseLabelHits(bad, 0, &none).ok()) << bad.substr(0, 100);
  }
}

}  // namespace
}  // namespace iocgrid::federation::internal
