// The MISP connector against a real node reached only through its MISP API
// (restSearch): batching, paging, in-range from the local CIDR cache and its
// incremental refresh.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "federation/federation.h"
#include "tests/federation/test_members.h"

namespace iocgrid::federation {
namespace {

using namespace std::chrono_literals;
using json = nlohmann::json;
using testing::Attr;
using testing::Ind;
using testing::MakeEvent;
using testing::RunSearch;
using testing::TestNode;

std::vector<json> RestSearchBodies(const TestNode& node) {
  std::vector<json> out;
  for (const std::string& b : node.bodies()) {
    const std::string prefix = "/attributes/restSearch ";
    if (b.rfind(prefix, 0) != 0) continue;
    out.push_back(json::parse(b.substr(prefix.size())));
  }
  return out;
}

class MispConnectorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    node_ = TestNode::Start();
    ASSERT_NE(node_, nullptr);
    std::vector<core::Attribute> attrs;
    for (int k = 0; k < 200; ++k)
      attrs.push_back(Attr("ip-dst", "10.1." + std::to_string(k) + ".1"));
    attrs.push_back(Attr("ip-src", "203.0.113.0/24"));
    attrs.push_back(Attr("ip-dst|port", "192.0.2.5|443"));
    attrs.push_back(Attr("domain", "evil.example"));
    node_->Import({MakeEvent("22222222-2222-4222-8222-222222222222", "misp member data", attrs)});
  }

  MemberConfig Misp() const {
    MemberConfig c = node_->Config("misp", MemberKind::kMisp);
    c.batch_size = 100;
    return c;
  }

  std::unique_ptr<TestNode> node_;
};

TEST_F(MispConnectorTest, ThousandValuesGoOutInTenBatches) {
  auto fed = Federation::Create({Misp()}, {});
  ASSERT_TRUE(fed.ok());
  ASSERT_TRUE((*fed)->RefreshCidrCache("misp").ok());
  node_->ResetCounts();
  SearchRequest req;
  for (int k = 0; k < 1000; ++k) {
    std::string ip =
        k < 200 ? "10.1." + std::to_string(k) + ".1"
                : "10.2." + std::to_string((k - 200) / 250) + "." + std::to_string((k - 200) % 250);
    req.indicators.push_back(Ind("ip-dst", ip));
  }
  auto out = RunSearch(**fed, req);
  const MemberReply& r = out.replies["misp"];
  ASSERT_EQ(r.status, MemberStatus::kDone) << r.error;
  EXPECT_EQ(r.requests, 10u);
  EXPECT_EQ(node_->requests(), 10u);
  auto bodies = RestSearchBodies(*node_);
  ASSERT_EQ(bodies.size(), 10u);
  for (const json& b : bodies) {
    EXPECT_EQ(b["value"].size(), 100u);
    EXPECT_EQ(b["returnFormat"], "json");
    EXPECT_EQ(b["page"], 1);
    EXPECT_TRUE(b.contains("limit"));
  }
  // 10.1.0.1 .. 10.1.199.1 are held; 10.2.x.y are not.
  ASSERT_EQ(r.hits.size(), 200u);
  for (size_t k = 0; k < r.hits.size(); ++k) {
    EXPECT_EQ(r.hits[k].query, k);
    EXPECT_EQ(r.hits[k].relation, index::Relation::kExact);
    EXPECT_EQ(r.hits[k].event_info, "misp member data");
    EXPECT_EQ(r.hits[k].event_date, "2024-03-01");
  }
}

TEST_F(MispConnectorTest, FullPagesAreFollowedByTheNextPage) {
  MemberConfig c = Misp();
  c.page_limit = 30;
  auto fed = Federation::Create({c}, {});
  ASSERT_TRUE(fed.ok());
  node_->ResetCounts();
  SearchRequest req;
  req.relations = index::RelationBit(index::Relation::kExact);  // no CIDR cache involved
  for (int k = 0; k < 70; ++k)
    req.indicators.push_back(Ind("ip-dst", "10.1." + std::to_string(k) + ".1"));
  auto out = RunSearch(**fed, req);
  const MemberReply& r = out.replies["misp"];
  ASSERT_EQ(r.status, MemberStatus::kDone) << r.error;
  EXPECT_EQ(r.hits.size(), 70u);
  EXPECT_EQ(r.requests, 3u);  // pages of 30, 30, 10
  auto bodies = RestSearchBodies(*node_);
  ASSERT_EQ(bodies.size(), 3u);
  std::set<int> pages;
  for (const json& b : bodies) {
    EXPECT_EQ(b["limit"], 30);
    pages.insert(b["page"].get<int>());
  }
  EXPECT_EQ(pages, (std::set<int>{1, 2, 3}));
}

TEST_F(MispConnectorTest, InRangeAndComponentHitsAndTheRelationsMask) {
  auto fed = Federation::Create({Misp()}, {});
  ASSERT_TRUE(fed.ok());
  SearchRequest req;
  req.indicators = {Ind("ip-dst", "203.0.113.77"), Ind("ip-dst", "192.0.2.5"),
                    Ind("domain", "evil.example"), Ind("ip-dst", "198.18.0.1")};
  auto out = RunSearch(**fed, req);
  const MemberReply& r = out.replies["misp"];
  ASSERT_EQ(r.status, MemberStatus::kDone) << r.error;
  EXPECT_EQ(r.relations, index::RelationBit(index::Relation::kExact) |
                             index::RelationBit(index::Relation::kComponent) |
                             index::RelationBit(index::Relation::kInRange));
  ASSERT_EQ(r.hits.size(), 3u);
  EXPECT_EQ(r.hits[0].query, 0u);
  EXPECT_EQ(r.hits[0].relation, index::Relation::kInRange);
  EXPECT_EQ(r.hits[0].matched, "203.0.113.0/24");
  EXPECT_EQ(r.hits[0].type, "ip-src");
  EXPECT_EQ(r.hits[0].event_info, "misp member data");
  EXPECT_EQ(r.hits[1].query, 1u);
  EXPECT_EQ(r.hits[1].relation, index::Relation::kComponent);
  EXPECT_EQ(r.hits[1].matched, "192.0.2.5|443");
  EXPECT_EQ(r.hits[2].query, 2u);
  EXPECT_EQ(r.hits[2].relation, index::Relation::kExact);

  // Without in-range asked for, the cache is not consulted and the mask says
  // so.
  req.relations = index::RelationBit(index::Relation::kExact);
  auto exact = RunSearch(**fed, req).replies["misp"];
  EXPECT_EQ(exact.relations, index::RelationBit(index::Relation::kExact));
  ASSERT_EQ(exact.hits.size(), 1u);
  EXPECT_EQ(exact.hits[0].matched, "evil.example");
}

TEST_F(MispConnectorTest, CidrCacheRefreshesIncrementallyByTimestamp) {
  auto fed = Federation::Create({Misp()}, {});
  ASSERT_TRUE(fed.ok());
  ASSERT_TRUE((*fed)->RefreshCidrCache("misp").ok());
  SearchRequest req;
  req.indicators = {Ind("ip-dst", "198.18.5.5")};
  EXPECT_TRUE(RunSearch(**fed, req).replies["misp"].hits.empty());

  node_->Import({MakeEvent("33333333-3333-4333-8333-333333333333", "new range",
                           {Attr("ip-dst", "198.18.0.0/16", 1709251300)})});
  node_->ResetCounts();
  ASSERT_TRUE((*fed)->RefreshCidrCache("misp").ok());
  auto bodies = RestSearchBodies(*node_);
  ASSERT_EQ(bodies.size(), 1u);
  EXPECT_EQ(bodies[0]["timestamp"],
            1709251200);  // the newest attribute seen so far
  EXPECT_TRUE(bodies[0].contains("type"));

  auto r = RunSearch(**fed, req).replies["misp"];
  ASSERT_EQ(r.status, MemberStatus::kDone) << r.error;
  ASSERT_EQ(r.hits.size(), 1u);
  EXPECT_EQ(r.hits[0].relation, index::Relation::kInRange);
  EXPECT_EQ(r.hits[0].matched, "198.18.0.0/16");
  EXPECT_EQ(r.hits[0].event_info, "new range");
  // The older range is still cached.
  req.indicators = {Ind("ip-dst", "203.0.113.1")};
  EXPECT_EQ(RunSearch(**fed, req).replies["misp"].hits.size(), 1u);
}

TEST_F(MispConnectorTest, RefreshErrors) {
  auto fed = Federation::Create({Misp(), node_->Config("grid")}, {});
  ASSERT_TRUE(fed.ok());
  EXPECT_EQ((*fed)->RefreshCidrCache("nobody").code(), StatusCode::kNotFound);
  EXPECT_EQ((*fed)->RefreshCidrCache("grid").code(), StatusCode::kInvalidArgument);
}

TEST_F(MispConnectorTest, BrokenCidrFetchStillGivesValueHits) {
  // A MISP that fails only the CIDR type fetch: value matches arrive, in-range
  // is reported as not checked.
  auto node = TestNode::Start([](net::Request& r, net::Response* resp) {
    if (r.body.find("\"type\"") == std::string::npos) return false;
    resp->status = 404;
    resp->body = R"({"name":"Not Found","message":"Not Found","url":"/"})";
    return true;
  });
  node->Import({MakeEvent("", "x", {Attr("ip-dst", "192.0.2.9")})});
  auto fed = Federation::Create({node->Config("misp", MemberKind::kMisp)}, {});
  ASSERT_TRUE(fed.ok());
  SearchRequest req;
  req.indicators = {Ind("ip-dst", "192.0.2.9")};
  auto r = RunSearch(**fed, req).replies["misp"];
  ASSERT_EQ(r.status, MemberStatus::kDone) << r.error;
  EXPECT_EQ(r.hits.size(), 1u);
  EXPECT_EQ(r.relations & index::RelationBit(index::Relation::kInRange), 0);
  EXPECT_NE(r.error.find("in-range not checked"), std::string::npos) << r.error;
}

}  // namespace
}  // namespace iocgrid::federation
