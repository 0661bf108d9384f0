// Alliance sightings and trends end to end (issue 12): organisations report over real loopback
// HTTP (POST /api/v1/sightings, shared sifts), the portal matches them against the real member
// nodes, and GET /api/v1/trends/... answers with k-anonymity and without naming anyone. The
// member data is sift_test_util.h's: 185.220.101.7 and 45.61.187.3 on the honeypot (noise),
// 91.203.5.0/24 at the MISP member (threat).
#include <ctime>
#include <set>

#include "tests/portal/sift_test_util.h"

namespace iocgrid::portal {
namespace {

class PortalTrendsTest : public PortalSiftTest {
 protected:
  void SetUp() override {
    configure_ = [this](PortalConfig& c) {
      c.clock = clock_;
      c.orgs = {{"bank-a", "finance"},
                {"bank-b", "finance"},
                {"bank-c", "finance"},
                {"power-a", "energy"},
                {"nosector-org", "energy"}};
      c.trends.k_anonymity = 3;
    };
    PortalSiftTest::SetUp();
    for (const char* org : {"bank-a", "bank-b", "bank-c", "power-a"}) {
      keys_[org] = *portal_->store().CreateUserKey(std::string("analyst-") + org, Role::kAnalyst,
                                                   std::string(org));
    }
  }

  // Reports a batch as `org`'s analyst; waits until it is recorded. The 202 answer.
  json Report(const std::string& org, const json& body, const std::string& query = "") {
    auto r = Call("POST", "/api/v1/sightings" + query, body.dump(), keys_[org]);
    EXPECT_EQ(r.status, 202) << r.body;
    json a = json::parse(r.body, nullptr, false);
    if (!a.is_object() || !a.contains("id")) return a;
    json done = WaitForSift(a["id"], keys_[org]);
    EXPECT_EQ(done["status"], "done") << done.dump();
    return a;
  }

  json Trends(const std::string& path, const std::string& key = "") {
    auto r = Call("GET", "/api/v1/trends/" + path, "", key);
    EXPECT_EQ(r.status, 200) << path << ": " << r.body;
    json t = json::parse(r.body, nullptr, false);
    // No reporting organisation or user is named in any answer.
    for (const auto& [org, k] : keys_) {
      EXPECT_EQ(r.body.find(org), std::string::npos) << path << " names " << org;
    }
    return t;
  }

  static const json* Cell(const json& t, const std::string& sector) {
    for (const json& c : t["cells"]) {
      if (c["sector"] == sector) return &c;
    }
    return nullptr;
  }

  Clock clock_ = Clock::Manual(UnixNow());
  std::map<std::string, std::string> keys_;
};

TEST_F(PortalTrendsTest, SectorCellsAppearAtKOrganisationsAndNameNobody) {
  json a = Report(
      "bank-a", json::array({{{"value", "185.220.101.7"}, {"count", 2}}, {{"value", "8.8.4.4"}}}));
  EXPECT_EQ(a["received"], 2);
  EXPECT_EQ(a["share"], "matched");
  Report("bank-b", json::array({{{"value", "185.220.101.7"}, {"alerted", true}}}));
  Report("power-a", json::array({{{"value", "91.203.5.77"}}}));
  // Two finance organisations: k-1.
  json t = Trends("sectors?window=7d");
  ASSERT_NE(Cell(t, "finance"), nullptr) << t.dump();
  EXPECT_EQ((*Cell(t, "finance"))["suppressed"], true);
  EXPECT_FALSE(Cell(t, "finance")->contains("sightings"));
  ASSERT_NE(Cell(t, "energy"), nullptr) << t.dump();
  EXPECT_EQ((*Cell(t, "energy"))["suppressed"], true);
  // The third: k.
  Report("bank-c", {{"sightings", {{{"value", "185.220.101.7"}, {"count", 3}}}}});
  t = Trends("sectors?window=7d");
  ASSERT_NE(Cell(t, "finance"), nullptr) << t.dump();
  const json& finance = *Cell(t, "finance");
  EXPECT_EQ(finance["suppressed"], false) << t.dump();
  EXPECT_EQ(finance["organisations"], 3);
  EXPECT_EQ(finance["observables"], 1);  // 8.8.4.4 matched nobody: not shared (matched mode)
  EXPECT_EQ(finance["sightings"], 6);
  EXPECT_EQ(finance["alerted"], 1);
  EXPECT_EQ(finance["by_class"]["noise"]["organisations"], 3);
  EXPECT_EQ(t["k_anonymity"], 3);
  // Every endpoint answers without a name, for any user.
  Trends("scanners?window=7d&min_orgs=2");
  Trends("rising?window=7d");
  Trends("actors?window=30d");
  Trends("sectors?window=28d&bucket=7d", other_key_);
}

TEST_F(PortalTrendsTest, PublicSharingFindsScannersAcrossOrganisations) {
  Report("bank-a", json::array({{{"value", "8.8.4.4"}}, {{"value", "10.9.8.7"}}}), "?share=public");
  Report("power-a", {{"share", "public"}, {"sightings", {{{"value", "8.8.4.4"}, {"count", 5}}}}});
  Report("bank-b", json::array({{{"value", "185.220.101.7"}}}));  // matched mode, one org
  json s = Trends("scanners?window=7d&min_orgs=2");
  ASSERT_EQ(s["scanners"].size(), 1u) << s.dump();
  const json& x = s["scanners"][0];
  EXPECT_EQ(x["value"], "8.8.4.4");
  EXPECT_EQ(x["organisations"], 2);
  EXPECT_EQ(x["sectors"], 2);
  EXPECT_EQ(x["sightings"], 6);
  EXPECT_EQ(x["classes"], json({"unknown"}));
  EXPECT_TRUE(Trends("scanners?window=7d&min_orgs=3")["scanners"].empty());
}

TEST_F(PortalTrendsTest, ASharedSiftReportsItsObservablesAsSightings) {
  // Today's lines (sightings are recorded on the day of their last line), and one of last
  // year, past retention: not recorded.
  std::time_t now = clock_.Now(), old = now - 400 * 86400;
  char today[64], last_year[64];
  std::tm tm{};
  std::strftime(today, sizeof today, "%d/%b/%Y:%H:%M:%S +0000", gmtime_r(&now, &tm));
  std::strftime(last_year, sizeof last_year, "%d/%b/%Y:%H:%M:%S +0000", gmtime_r(&old, &tm));
  const std::string agent = "Mozilla/5.0";
  const std::string log = Combined("185.220.101.7", "/wp-login.php", agent, today) +
                          Combined("185.220.101.7", "/xmlrpc.php", agent, today) +
                          Combined("91.203.5.77", "/admin", agent, today) +
                          Combined("8.8.4.4", "/", agent, today) +
                          Combined("45.61.187.3", "/", agent, last_year);
  for (const char* org : {"bank-a", "bank-b", "bank-c"}) {
    auto r = Upload("?share=matched", log, "text/plain", keys_[org]);
    ASSERT_EQ(r.status, 201) << r.body;
    json done = WaitForSift(json::parse(r.body)["id"], keys_[org]);
    ASSERT_EQ(done["status"], "done");
  }
  json t = Trends("sectors?window=1d");
  ASSERT_NE(Cell(t, "finance"), nullptr) << t.dump();
  const json& finance = *Cell(t, "finance");
  ASSERT_EQ(finance["suppressed"], false) << t.dump();
  EXPECT_EQ(finance["observables"], 2);  // the honeypot's and the MISP member's addresses
  EXPECT_EQ(finance["sightings"], 9);    // 2 + 1 lines, three times
  EXPECT_EQ(finance["by_class"]["threat"]["sightings"], 3);
  EXPECT_EQ(finance["by_class"]["noise"]["sightings"], 6);
}

TEST_F(PortalTrendsTest, RetentionLeavesOldSightingsOutAndPurgesThem) {
  const int64_t now = clock_.Now();
  json old =
      Report("bank-a", json::array({{{"value", "185.220.101.7"}},
                                    {{"value", "45.61.187.3"}, {"last_seen", now - 100 * 86400}}}));
  EXPECT_EQ(old["expired"], 1);
  EXPECT_EQ(old["observables"], 1);
  Report("bank-b", json::array({{{"value", "185.220.101.7"}}}));
  Report("bank-c", json::array({{{"value", "185.220.101.7"}}}));
  json before = Trends("sectors?window=1d");
  ASSERT_NE(Cell(before, "finance"), nullptr) << before.dump();
  EXPECT_EQ((*Cell(before, "finance"))["suppressed"], false);
  // 91 days later the next report purges them: a 366-day window finds nothing of finance.
  clock_.Advance(91 * 86400);
  Report("power-a", json::array({{{"value", "91.203.5.77"}}}));
  json t = Trends("sectors?window=366d&bucket=366d");
  EXPECT_EQ(Cell(t, "finance"), nullptr) << t.dump();
}

TEST_F(PortalTrendsTest, BadReportsAndQueriesAreClearErrors) {
  auto expect = [&](const net::ClientResponse& r, int status, const std::string& says) {
    EXPECT_EQ(r.status, status) << r.body;
    json e = json::parse(r.body, nullptr, false);
    ASSERT_TRUE(e.is_object()) << r.body;
    EXPECT_TRUE(e.contains("name") && e.contains("message") && e.contains("url")) << r.body;
    EXPECT_NE(r.body.find(says), std::string::npos) << r.body;
  };
  const std::string one = R"([{"value":"185.220.101.7"}])";
  // alice has no organisation; a user of an organisation without a sector.
  expect(Call("POST", "/api/v1/sightings", one), 400, "--org");
  std::string stray =
      *portal_->store().CreateUserKey("stray", Role::kAnalyst, std::string("ghost"));
  expect(Call("POST", "/api/v1/sightings", one, stray), 400, "[[orgs]]");
  expect(Call("POST", "/api/v1/sightings", one, "none"), 403, "Authentication");
  const std::string& key = keys_["bank-a"];
  expect(Call("POST", "/api/v1/sightings", "{\"sightings\": 5}", key), 400, "list");
  expect(Call("POST", "/api/v1/sightings", R"([{"value":"185.220.101.7","count":"2"}])", key), 400,
         "sightings[0].count");
  expect(Call("POST", "/api/v1/sightings?share=all", one, key), 400, "share");
  expect(Call("POST", "/api/v1/sightings?format=eve", one, key), 400, "one query parameter");
  expect(Call("POST", "/api/v1/sightings?share=public",
              R"({"share":"matched","sightings":[{"value":"185.220.101.7"}]})", key),
         400, "differs");
  expect(Call("POST", "/api/v1/sightings", "[" + std::string(30000, '[') + "]", key), 400, "deep");
  auto internal_only = Call("POST", "/api/v1/sightings", R"([{"value":"10.1.2.3"}])", key);
  EXPECT_EQ(internal_only.status, 200) << internal_only.body;
  EXPECT_EQ(json::parse(internal_only.body)["internal"], 1);
  expect(Call("GET", "/api/v1/trends/sectors?window=2y"), 400, "window");
  expect(Call("GET", "/api/v1/trends/sectors?org=bank-a"), 400, "org");
  expect(Call("GET", "/api/v1/trends/scanners?min_orgs=1"), 400, "min_orgs");
  expect(Call("GET", "/api/v1/trends/sectors", "", "none"), 403, "Authentication");
  auto sift = Upload("?share=matched", Combined("185.220.101.7", "/"));
  expect(sift, 400, "--org");
}

}  // namespace
}  // namespace iocgrid::portal
