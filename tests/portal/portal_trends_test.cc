// Alliance sightings and trends end to end (issue 12): organisations report over real loopback
// HTTP (POST /api/v1/sightings, shared sifts), the portal matches them against the real member
// nodes, and GET /api/v1/trends/... answers with k-anonymity and without naming anyone. The
// member data is sift_test_util.h's: 185.220.101.7 and 45.61.187.3 on the honeypot (noise),
// 91.203.5.0/24 at the MISP member (threat).
#include <ctime>
#include <mutex>
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
      FastWatch(c);
    };
    PortalSiftTest::SetUp();
    if (IsSkipped()) return;  // PostgreSQL run without a server
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

// A watchlist of rising trends: its first run finds nothing; once three finance organisations
// report four observables over an empty baseline, the next run finds finance rising, tells the
// webhook (signed, naming no organisation) and keeps the cell as its current item.
TEST_F(PortalTrendsTest, AWatchlistFollowsRisingCellsAndTellsTheWebhook) {
  std::mutex mu;
  std::vector<std::string> bodies;
  auto hook = std::move(*net::HttpServer::Start(net::ServerOptions{}, [&](net::Request& r) {
    std::lock_guard<std::mutex> lock(mu);
    if (r.Header("x-iocgrid-event") == "watchlist.rising") bodies.push_back(r.body);
    net::Response resp;
    resp.body = "{}";
    return resp;
  }));
  const json spec = {{"name", "finance rising"},
                     {"rising", {{"window", "7d"}, {"sectors", {"finance"}}}},
                     {"webhook", "http://127.0.0.1:" + std::to_string(hook->port()) + "/hook"},
                     {"secret", "0123456789abcdef-secret"},
                     {"interval", 1}};
  auto created = Call("POST", "/api/v1/watchlists", spec.dump(), keys_["bank-a"]);
  ASSERT_EQ(created.status, 201) << created.body;
  const std::string id = json::parse(created.body)["id"];
  auto runs = [&] {
    return json::parse(Call("GET", "/api/v1/watchlists/" + id + "/runs", "", keys_["bank-a"]).body);
  };
  json r;
  for (int i = 0; i < 300 && (r = runs()).empty(); ++i) std::this_thread::sleep_for(50ms);
  ASSERT_EQ(r.size(), 1u) << r.dump();
  EXPECT_EQ(r[0]["hits"], 0);
  const json four = json::array({{{"value", "8.8.4.4"}},
                                 {{"value", "1.0.0.1"}},
                                 {{"value", "9.9.9.9"}},
                                 {{"value", "208.67.222.222"}}});
  for (const char* org : {"bank-a", "bank-b", "bank-c"}) Report(org, four, "?share=public");
  Report("power-a", four, "?share=public");
  clock_.Advance(2);  // the interval is due
  for (int i = 0; i < 300 && (r = runs()).size() < 2; ++i) std::this_thread::sleep_for(50ms);
  ASSERT_GE(r.size(), 2u) << r.dump();
  ASSERT_EQ(r[0]["new"].size(), 1u) << r[0].dump();
  EXPECT_EQ(r[0]["new"][0]["sector"], "finance");
  EXPECT_EQ(r[0]["new"][0]["observables"], 4);
  EXPECT_LT(r[0]["new"][0]["p_value"].get<double>(), 0.001);
  json w = json::parse(Call("GET", "/api/v1/watchlists/" + id, "", keys_["bank-a"]).body);
  EXPECT_EQ(w["kind"], "rising");
  EXPECT_EQ(w["current_hits"].size(), 1u) << w.dump();
  for (int i = 0; i < 300; ++i) {
    {
      std::lock_guard<std::mutex> lock(mu);
      if (!bodies.empty()) break;
    }
    std::this_thread::sleep_for(50ms);
  }
  std::lock_guard<std::mutex> lock(mu);
  ASSERT_EQ(bodies.size(), 1u);
  json event = json::parse(bodies[0]);
  EXPECT_EQ(event["event"], "watchlist.rising");
  EXPECT_EQ(event["new"][0]["sector"], "finance");
  for (const auto& [org, k] : keys_) EXPECT_EQ(bodies[0].find(org), std::string::npos) << org;
  // Energy has one organisation: never a cell, whatever it reports.
  EXPECT_EQ(bodies[0].find("energy"), std::string::npos);
}

TEST_F(PortalTrendsTest, RisingWatchlistsRefuseWhatTheyCannotUse) {
  auto expect = [&](const json& body, const std::string& says) {
    auto r = Call("POST", "/api/v1/watchlists", body.dump());
    EXPECT_EQ(r.status, 400) << body.dump() << ": " << r.body;
    EXPECT_NE(r.body.find(says), std::string::npos) << r.body;
  };
  expect({{"name", "x"}, {"rising", "7d"}}, "must be an object");
  expect({{"name", "x"}, {"rising", {{"window", "0d"}}}}, "rising.window");
  expect({{"name", "x"}, {"rising", {{"window", "7d&x=1"}}}}, "rising.window");
  expect({{"name", "x"}, {"rising", {{"window", 7}}}}, "rising.window");
  expect({{"name", "x"}, {"rising", {{"types", {"not-a-type"}}}}}, "not a MISP attribute type");
  expect({{"name", "x"}, {"rising", {{"sectors", {""}}}}}, "rising.sectors");
  expect({{"name", "x"}, {"rising", {{"sectors", "finance"}}}}, "rising.sectors");
  expect({{"name", "x"}, {"rising", {{"org", "bank-a"}}}}, "rising.org");
  expect({{"name", "x"}, {"rising", json::object()}, {"indicators", {"8.8.4.4"}}}, "not both");
  expect({{"name", "x"}}, "'rising'");
  expect({{"name", "x"}, {"rising", {{"window", "99999999999999999999d"}}}}, "rising.window");
  expect({{"name", "x"}, {"rising", {{"sectors", json::array({std::string(201, 'a')})}}}},
         "rising.sectors");
  // Raw bodies: invalid UTF-8 in a name, and 30,000-deep nesting inside 'rising'.
  for (const std::string& raw :
       {std::string("{\"name\":\"x\",\"rising\":{\"sectors\":[\"\xff\xfe\"]}}"),
        "{\"name\":\"x\",\"rising\":" + std::string(30000, '[') + "}"}) {
    auto r = Call("POST", "/api/v1/watchlists", raw);
    EXPECT_EQ(r.status, 400) << r.body;
    EXPECT_TRUE(json::parse(r.body, nullptr, false).contains("message")) << r.body;
  }
  // A search watchlist does not turn into a rising one, nor the other way.
  auto search = Call("POST", "/api/v1/watchlists",
                     json({{"name", "s"}, {"indicators", {"8.8.4.4"}}, {"interval", "1h"}}).dump());
  ASSERT_EQ(search.status, 201) << search.body;
  auto rising = Call("POST", "/api/v1/watchlists",
                     json({{"name", "r"}, {"rising", json::object()}, {"interval", "1h"}}).dump());
  ASSERT_EQ(rising.status, 201) << rising.body;
  const std::string s = json::parse(search.body)["id"], r = json::parse(rising.body)["id"];
  auto patched = Call("PATCH", "/api/v1/watchlists/" + s, R"({"rising": {}})");
  EXPECT_EQ(patched.status, 400) << patched.body;
  patched = Call("PATCH", "/api/v1/watchlists/" + r, R"({"indicators": ["8.8.4.4"]})");
  EXPECT_EQ(patched.status, 400) << patched.body;
  patched = Call("PATCH", "/api/v1/watchlists/" + r, R"({"rising": {"window": "2w"}})");
  EXPECT_EQ(patched.status, 200) << patched.body;
  json got = json::parse(Call("GET", "/api/v1/watchlists/" + r).body);
  EXPECT_EQ(got["rising"]["window"], "2w");
  // TAXII lists no collection for it: it holds sector cells, not indicators.
  net::ClientRequest taxii;
  taxii.method = "GET";
  taxii.url = "http://127.0.0.1:" + std::to_string(server_->port()) + "/taxii2/api/collections/";
  taxii.headers = {{"Accept", "application/taxii+json;version=2.1"},
                   {"Authorization", analyst_key_}};
  auto collections = test::FetchOrFail(taxii);
  ASSERT_EQ(collections.status, 200) << collections.body;
  EXPECT_NE(collections.body.find(s), std::string::npos) << collections.body;
  EXPECT_EQ(collections.body.find(r), std::string::npos) << collections.body;
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
