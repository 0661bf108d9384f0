// Reputation of one indicator (issue 11): GET /api/v1/indicators/{value} against real nodes
// (tests/portal/portal_fixture.h), with the portal's clock set so that recency is known.
#include <cmath>
#include <set>

#include "tests/portal/portal_fixture.h"

namespace iocgrid::portal {
namespace {

// 2026-04-12T00:00:00Z: ten days after the honeypot member last saw 198.51.100.7.
constexpr int64_t kNow = 1775952000;

class PortalReputationTest : public PortalApiTest {
 protected:
  void SetUp() override {
    PortalApiTest::SetUp();
    if (IsSkipped()) return;  // PostgreSQL run without a server
    configure_ = [](PortalConfig& c) { c.clock = Clock::Manual(kNow); };
    OpenPortal();
  }

  json Reputation(const std::string& path, int status = 200) {
    auto r = Call("GET", path);
    EXPECT_EQ(r.status, status) << path << " " << r.body;
    return json::parse(r.body, nullptr, false);
  }
};

TEST_F(PortalReputationTest, HeldByRelationsClassesSightingsAndTheScore) {
  json rep = Reputation("/api/v1/indicators/198.51.100.7");
  EXPECT_EQ(rep["type"], "ip-dst");
  EXPECT_EQ(rep["held_by"], 2);
  EXPECT_EQ(rep["members_asked"], 4);
  EXPECT_EQ(rep["members_answered"], 3);  // the member that is down did not answer
  EXPECT_EQ(rep["relations"], json::array({"exact", "in-range"}));
  EXPECT_EQ(rep["classes"], json::array({"anonymizer", "noise"}));  // anonymizer, honeypot
  EXPECT_EQ(rep["class"], "noise");
  EXPECT_EQ(rep["first_seen"], "2026-04-01T00:00:00Z");
  EXPECT_EQ(rep["last_seen"], "2026-04-02T00:00:00Z");
  EXPECT_EQ(rep["members"].size(), 2u);
  // 100 x 2/3 x 0.5^(10/30) x 0.5 x 1 = 26.46
  EXPECT_NEAR(rep["score_parts"]["consensus"].get<double>(), 2.0 / 3, 1e-9);
  EXPECT_NEAR(rep["score_parts"]["recency"].get<double>(), std::pow(0.5, 10.0 / 30), 1e-9);
  EXPECT_EQ(rep["score"], 26);
  EXPECT_EQ(rep["half_life_days"], 30);

  // Confirmations raise it, a false positive lowers it.
  json d = Search({{"indicators", {"198.51.100.7"}}});
  auto sent = Call("POST", "/api/v1/searches/" + d["id"].get<std::string>() + "/sightings",
                   json{{"type", "true-positive"}, {"hits", "all"}}.dump());
  ASSERT_EQ(sent.status, 200) << sent.body;
  rep = Reputation("/api/v1/indicators/198.51.100.7");
  EXPECT_EQ(rep["sightings"]["confirmed"], 2);
  EXPECT_EQ(rep["score"], std::lround(100 * 2.0 / 3 * std::pow(0.5, 10.0 / 30) *
                                      (0.5 + 0.5 * std::log10(3.0) / 2)));
  sent =
      Call("POST", "/api/v1/searches/" + d["id"].get<std::string>() + "/sightings",
           json{{"type", "false-positive"}, {"hits", {{{"i", 0}, {"member", "honeypot"}}}}}.dump());
  ASSERT_EQ(sent.status, 200) << sent.body;
  rep = Reputation("/api/v1/indicators?value=198.51.100.7&type=ip-src");
  EXPECT_EQ(rep["type"], "ip-src");
  EXPECT_EQ(rep["sightings"]["false_positive"], 1);
  EXPECT_EQ(rep["score_parts"]["false_positive"], 0.5);
}

TEST_F(PortalReputationTest, UnknownValuesCountOnlyMembersAndHostileInput) {
  json rep = Reputation("/api/v1/indicators?value=hxxp%3A%2F%2Fnothing%5B.%5Dexample%2Fx");
  EXPECT_EQ(rep["type"], "url");
  EXPECT_EQ(rep["normalized"], "http://nothing.example/x");
  EXPECT_EQ(rep["held_by"], 0);
  EXPECT_EQ(rep["class"], "unknown");
  EXPECT_EQ(rep["score"], 0);
  EXPECT_EQ(rep["first_seen"], "");
  // A member that discloses counts only: held, its class the default member kind's.
  disclosure_honeypot_ = federation::Disclosure::kCount;
  OpenPortal();
  rep = Reputation("/api/v1/indicators/198.51.100.7");
  EXPECT_EQ(rep["held_by"], 2);
  EXPECT_EQ(rep["members"].size(), 1u);
  EXPECT_EQ(rep["classes"], json::array({"anonymizer", "threat"}));
  for (const std::string& path :
       {std::string("/api/v1/indicators"), std::string("/api/v1/indicators?value="),
        "/api/v1/indicators?value=" + std::string(5000, 'a'),
        std::string("/api/v1/indicators/not%20an%20ioc"),
        std::string("/api/v1/indicators?value=1.2.3.4&type=bogus")}) {
    json err = Reputation(path, 400);
    EXPECT_FALSE(err.value("message", "").empty()) << path;
  }
  EXPECT_EQ(Call("GET", "/api/v1/indicators/1.2.3.4", "", "none").status, 403);
}

}  // namespace
}  // namespace iocgrid::portal
