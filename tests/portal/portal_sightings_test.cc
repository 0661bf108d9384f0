// Sightings back to members (issue 11): POST /api/v1/searches/{id}/sightings sends the chosen
// hits' sightings to the real nodes that hold them (one reached through the MISP connector, so
// through MISP's /sightings/add as a plain MISP member would be), and the nodes show them in
// their MISP API (/sightings/restSearch). The portal fixture: tests/portal/portal_fixture.h.
#include <unistd.h>

#include <map>
#include <set>

#include "tests/common/raw_http.h"
#include "tests/portal/portal_fixture.h"

namespace iocgrid::portal {
namespace {

class PortalSightingsTest : public PortalApiTest {
 protected:
  // The search every test sights: hits at anonymity (in-range, exact), honeypot (exact) and
  // mispmember (exact), and a miss.
  json SearchCase(const std::string& key = "") {
    return Search(
        {{"indicators", {"198.51.100.7", "proxy.example", "evil.example", "nothing.example"}}},
        key);
  }

  static int Position(const json& d, const std::string& value) {
    const json* ind = Indicator(d, value);
    EXPECT_NE(ind, nullptr) << value;
    return ind == nullptr ? -1 : (*ind)["i"].get<int>();
  }

  // The node's sightings through its MISP API.
  static json NodeSightings(const TestNode& node, const json& filters = json::object()) {
    auto r = NodePost(node, "/sightings/restSearch", filters);
    EXPECT_EQ(r.status, 200) << r.body;
    json j = json::parse(r.body, nullptr, false);
    EXPECT_TRUE(j.is_object() && j.contains("response")) << r.body;
    return j.is_object() ? j.value("response", json::array()) : json::array();
  }

  static std::map<std::string, json> ByMember(const json& answer) {
    std::map<std::string, json> out;
    for (const json& m : answer["members"]) out[m["member"].get<std::string>()] = m;
    return out;
  }

  net::ClientResponse Sight(const std::string& id, const json& body, const std::string& key = "") {
    return Call("POST", "/api/v1/searches/" + id + "/sightings", body.dump(), key);
  }
};

TEST_F(PortalSightingsTest, AllHitsReachEveryHoldingMemberAndShowInItsMispApi) {
  json d = SearchCase();
  const std::string id = d["id"];
  auto r = Sight(id, {{"type", "true-positive"}, {"hits", "all"}, {"source", "ACME CERT"}});
  ASSERT_EQ(r.status, 200) << r.body;
  json answer = json::parse(r.body);
  EXPECT_EQ(answer["type"], "true-positive");
  EXPECT_EQ(answer["source"], "ACME CERT");
  auto members = ByMember(answer);
  ASSERT_EQ(members.size(), 3u) << r.body;  // the dead member held nothing; no sighting for it
  EXPECT_EQ(members["anonymity"]["sent"], 2)
      << r.body;  // 198.51.100.0/24 (in-range), proxy.example
  EXPECT_EQ(members["honeypot"]["sent"], 1);
  EXPECT_EQ(members["mispmember"]["sent"], 1);
  for (const auto& [name, m] : members) {
    EXPECT_EQ(m["refused"], 0) << name;
    EXPECT_EQ(m["failed"], 0) << name;
  }

  // At the nodes: one sighting per held value, type 0, the analyst's source, the member's value.
  json at_anonymity = NodeSightings(anonymity_);
  std::set<std::string> values;
  for (const json& s : at_anonymity) {
    EXPECT_EQ(s["Sighting"]["type"], "0");
    EXPECT_EQ(s["Sighting"]["source"], "ACME CERT");
    values.insert(s["Sighting"]["value"].get<std::string>());
  }
  EXPECT_EQ(values, (std::set<std::string>{"198.51.100.0/24", "proxy.example"}));
  json at_honeypot = NodeSightings(honeypot_);
  ASSERT_EQ(at_honeypot.size(), 1u);
  EXPECT_EQ(at_honeypot[0]["Sighting"]["value"], "198.51.100.7");
  json at_misp = NodeSightings(misp_, {{"includeAttribute", 1}, {"includeEvent", 1}});
  ASSERT_EQ(at_misp.size(), 1u);
  EXPECT_EQ(at_misp[0]["Sighting"]["Attribute"]["value"], "evil.example");
  EXPECT_EQ(at_misp[0]["Sighting"]["Event"]["info"], "misp member event");

  // The portal keeps what it sent beside the search.
  auto listed = Call("GET", "/api/v1/searches/" + id + "/sightings");
  ASSERT_EQ(listed.status, 200) << listed.body;
  json rows = json::parse(listed.body);
  ASSERT_EQ(rows.size(), 4u) << listed.body;
  for (const json& row : rows) {
    EXPECT_EQ(row["outcome"], "sent");
    EXPECT_EQ(row["user"], "alice");
  }
}

TEST_F(PortalSightingsTest, ChosenHitsOnlyAsFalsePositivesWithTheUsersOrganisation) {
  const std::string key = *portal_->store().CreateUserKey("carol", Role::kAnalyst, "ACME CERT");
  json d = SearchCase(key);
  const int ip = Position(d, "198.51.100.7");
  auto r = Sight(
      d["id"], {{"type", "false-positive"}, {"hits", {{{"i", ip}, {"member", "honeypot"}}}}}, key);
  ASSERT_EQ(r.status, 200) << r.body;
  auto members = ByMember(json::parse(r.body));
  ASSERT_EQ(members.size(), 1u) << r.body;
  EXPECT_EQ(members["honeypot"]["sent"], 1);
  json at_honeypot = NodeSightings(honeypot_, {{"type", 1}});
  ASSERT_EQ(at_honeypot.size(), 1u);
  EXPECT_EQ(at_honeypot[0]["Sighting"]["source"], "ACME CERT");  // the user's organisation
  EXPECT_TRUE(NodeSightings(honeypot_, {{"type", 0}}).empty());
  EXPECT_TRUE(NodeSightings(anonymity_).empty());  // it holds the IP too, but was not chosen
}

TEST_F(PortalSightingsTest, MemberConfigRefusesOrHidesTheSource) {
  configure_ = [](PortalConfig& c) {
    c.members[0].accept_sightings = false;     // anonymity
    c.members[1].hide_sighting_source = true;  // honeypot
  };
  OpenPortal();
  json d = SearchCase();
  auto r = Sight(d["id"], {{"type", "true-positive"}, {"hits", "all"}, {"source", "ACME CERT"}});
  ASSERT_EQ(r.status, 200) << r.body;
  auto members = ByMember(json::parse(r.body));
  EXPECT_EQ(members["anonymity"]["sent"], 0);
  EXPECT_EQ(members["anonymity"]["refused"], 2);
  EXPECT_NE(members["anonymity"]["reasons"].dump().find("accept_sightings = false"),
            std::string::npos)
      << r.body;
  EXPECT_TRUE(NodeSightings(anonymity_).empty());
  EXPECT_EQ(members["honeypot"]["sent"], 1);
  json at_honeypot = NodeSightings(honeypot_);
  ASSERT_EQ(at_honeypot.size(), 1u);
  EXPECT_EQ(at_honeypot[0]["Sighting"]["source"], "");
}

TEST_F(PortalSightingsTest, AMemberThatHangsOrRefusesIsReportedNotFatal) {
  uint16_t port = 0;
  const int silent = testutil::ListenLoopback(&port);  // accepts, never answers
  ASSERT_GE(silent, 0);
  configure_ = [port](PortalConfig& c) {
    c.members[2].url = "http://127.0.0.1:" + std::to_string(port);  // mispmember now hangs
    c.members[2].timeout = 1s;
    c.members[1].key = std::string(40, 'k');  // honeypot: a key the node refuses
  };
  // Search first with the working config, then sight through the broken one.
  json d = SearchCase();
  OpenPortal();
  const auto start = std::chrono::steady_clock::now();
  auto r = Sight(d["id"], {{"type", "true-positive"}, {"hits", "all"}});
  const auto took = std::chrono::steady_clock::now() - start;
  ::close(silent);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_LT(took, 10s);
  auto members = ByMember(json::parse(r.body));
  EXPECT_EQ(members["anonymity"]["sent"], 2);
  EXPECT_EQ(members["mispmember"]["failed"], 1) << r.body;
  EXPECT_NE(members["mispmember"]["reasons"].dump().find("no answer"), std::string::npos);
  EXPECT_EQ(members["honeypot"]["refused"], 1) << r.body;
  EXPECT_NE(members["honeypot"]["reasons"].dump().find("refused the portal's key"),
            std::string::npos);
  // Each outcome is kept.
  json rows = json::parse(
      Call("GET", "/api/v1/searches/" + d["id"].get<std::string>() + "/sightings").body);
  std::multiset<std::string> outcomes;
  for (const json& row : rows) outcomes.insert(row["outcome"].get<std::string>());
  EXPECT_EQ(outcomes, (std::multiset<std::string>{"sent", "sent", "failed", "refused"}));
}

TEST_F(PortalSightingsTest, ExistenceOnlyMembersGetExactHitsAndNameTheRest) {
  disclosure_honeypot_ = federation::Disclosure::kExistence;
  configure_ = [](PortalConfig& c) {
    c.members[0].disclosure = federation::Disclosure::kExistence;
  };
  OpenPortal();
  json d = SearchCase();
  auto r = Sight(d["id"], {{"type", "true-positive"}, {"hits", "all"}});
  ASSERT_EQ(r.status, 200) << r.body;
  auto members = ByMember(json::parse(r.body));
  // honeypot: an exact hit, so the queried value is the member's.
  EXPECT_EQ(members["honeypot"]["sent"], 1);
  // anonymity: proxy.example exact is sent; the in-range hit names no member value.
  EXPECT_EQ(members["anonymity"]["sent"], 1);
  EXPECT_EQ(members["anonymity"]["refused"], 1);
  EXPECT_NE(members["anonymity"]["reasons"].dump().find("existence only"), std::string::npos);
}

TEST_F(PortalSightingsTest, HostileBodiesAreNamedAndNothingIsSent) {
  json d = SearchCase();
  const std::string id = d["id"];
  const std::string deep = std::string(30000, '[') + std::string(30000, ']');
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"{}", "'type'"},
      {"[]", "JSON object"},
      {deep, "deeper"},
      {"not json", "JSON object"},
      {R"({"type":"maybe","hits":"all"})", "'type'"},
      {R"({"type":"true-positive"})", "'hits'"},
      {R"({"type":"true-positive","hits":"some"})", "'hits'"},
      {R"({"type":"true-positive","hits":[]})", "'hits'"},
      {R"({"type":"true-positive","hits":[{"i":-1,"member":"honeypot"}]})", "hits[0].i"},
      {R"({"type":"true-positive","hits":[{"i":99999999999999999999,"member":"honeypot"}]})",
       "hits[0].i"},
      {R"({"type":"true-positive","hits":[{"i":"0","member":"honeypot"}]})", "hits[0].i"},
      {R"({"type":"true-positive","hits":[{"i":0}]})", "hits[0]"},
      {R"({"type":"true-positive","hits":[{"i":0,"member":"honeypot","x":1}]})", "hits[0]"},
      {R"({"type":"true-positive","hits":[{"i":3,"member":"honeypot"}]})", "no hit"},
      {R"({"type":"true-positive","hits":[{"i":0,"member":"nobody"}]})", "no hit"},
      {R"({"type":"true-positive","hits":"all","source":""})", "'source'"},
      {R"({"type":"true-positive","hits":"all","source":7})", "'source'"},
      {"{\"type\":\"true-positive\",\"hits\":\"all\",\"source\":\"a\\u0001b\"}", "'source'"},
      {"{\"type\":\"true-positive\",\"hits\":\"all\",\"source\":\"\xff\xfe\"}", "JSON object"},
      {R"({"type":"true-positive","hits":"all","extra":1})", "Unknown field 'extra'"},
  };
  for (const auto& [body, expect] : cases) {
    auto r = Call("POST", "/api/v1/searches/" + id + "/sightings", body);
    EXPECT_EQ(r.status, 400) << body.substr(0, 80) << " -> " << r.body;
    json err = json::parse(r.body, nullptr, false);
    ASSERT_TRUE(err.is_object()) << r.body;
    EXPECT_NE(err.value("message", "").find(expect), std::string::npos)
        << body.substr(0, 80) << " -> " << r.body;
    EXPECT_EQ(err.value("url", ""), "/api/v1/searches/" + id + "/sightings");
  }
  // Two picks of the same hit.
  const int ip = Position(d, "198.51.100.7");
  auto twice = Sight(
      id, {{"type", "true-positive"},
           {"hits", {{{"i", ip}, {"member", "honeypot"}}, {{"i", ip}, {"member", "honeypot"}}}}});
  EXPECT_EQ(twice.status, 400) << twice.body;
  // Another analyst's private search is as unknown as a missing one; no key is a 403.
  EXPECT_EQ(Sight(id, {{"type", "true-positive"}, {"hits", "all"}}, other_key_).status, 404);
  EXPECT_EQ(Sight("0000000000000000", {{"type", "true-positive"}, {"hits", "all"}}).status, 404);
  EXPECT_EQ(Sight(id, {{"type", "true-positive"}, {"hits", "all"}}, "none").status, 403);
  EXPECT_EQ(Call("GET", "/api/v1/searches/" + id + "/sightings", "", other_key_).status, 404);
  // Nothing reached any member.
  EXPECT_TRUE(NodeSightings(anonymity_).empty());
  EXPECT_TRUE(NodeSightings(honeypot_).empty());
  EXPECT_TRUE(NodeSightings(misp_).empty());
  EXPECT_EQ(json::parse(Call("GET", "/api/v1/searches/" + id + "/sightings").body).size(), 0u);
}

}  // namespace
}  // namespace iocgrid::portal
