// The portal end to end in one process (tests/portal/portal_fixture.h).
#include <map>
#include <set>

#include "tests/portal/portal_fixture.h"

namespace iocgrid::portal {
namespace {

TEST_F(PortalApiTest, SearchMergesMembersAndReportsTheDeadOne) {
  json d = Search({{"indicators",
                    {"198.51.100.7", "hxxp://a.evil[.]example/x", "203.0.113.50",
                     "D41D8CD98F00B204E9800998ECF8427E", "nothing.example", "not an ioc"}},
                   {"label", "case 42"}});
  EXPECT_EQ(d["status"], "done");
  const json* ip = Indicator(d, "198.51.100.7");
  ASSERT_NE(ip, nullptr);
  EXPECT_EQ(HitKeys(*ip), (std::set<std::string>{"anonymity:in-range", "honeypot:exact"}));
  EXPECT_EQ((*ip)["held_by"], 2);
  const json* url = Indicator(d, "hxxp://a.evil[.]example/x");
  ASSERT_NE(url, nullptr);
  EXPECT_EQ((*url)["type"], "url");
  // The MISP member answers exact values only; the URL's host is not a value it holds.
  EXPECT_TRUE((*url)["hits"].empty());
  const json* in_misp_range = Indicator(d, "203.0.113.50");
  ASSERT_NE(in_misp_range, nullptr);
  EXPECT_EQ(HitKeys(*in_misp_range),
            std::set<std::string>{"mispmember:in-range"});  // from the CIDR cache
  EXPECT_EQ(HitKeys(*Indicator(d, "D41D8CD98F00B204E9800998ECF8427E")),
            std::set<std::string>{"honeypot:exact"});
  ASSERT_EQ(d["invalid"].size(), 1u);
  EXPECT_EQ(d["invalid"][0]["value"], "not an ioc");
  std::map<std::string, std::string> status;
  for (const auto& m : d["members"]) status[m["member"]] = m["status"];
  EXPECT_EQ(status["anonymity"], "done");
  EXPECT_EQ(status["honeypot"], "done");
  EXPECT_EQ(status["mispmember"], "done");
  EXPECT_EQ(status["down"], "failed");
  for (const auto& m : d["members"]) {
    if (m["member"] == "down") {
      EXPECT_FALSE(m["error"].get<std::string>().empty());
    }
  }
  // Context of a full-disclosure hit.
  for (const auto& h : (*ip)["hits"]) {
    if (h["member"] != "anonymity") continue;
    EXPECT_EQ(h["matched"], "198.51.100.0/24");
    EXPECT_EQ(h["event_info"], "vpn-ipv4");
    EXPECT_EQ(h["tags"], json::array({"tlp:white"}));
  }
  EXPECT_EQ(d["summary"]["by_member"]["honeypot"], 2);
  EXPECT_EQ(d["summary"]["by_relation"]["in-range"], 2);
}

TEST_F(PortalApiTest, DisclosureExistenceAndCount) {
  disclosure_honeypot_ = federation::Disclosure::kExistence;
  OpenPortal();
  json d = Search({{"indicators", {"198.51.100.7"}}, {"members", {"honeypot"}}});
  const json& h = (*Indicator(d, "198.51.100.7"))["hits"][0];
  EXPECT_EQ(h["member"], "honeypot");
  EXPECT_EQ(h["relation"], "exact");
  EXPECT_FALSE(h.contains("matched"));
  EXPECT_FALSE(h.contains("event_info"));
  disclosure_honeypot_ = federation::Disclosure::kCount;
  OpenPortal();
  json c = Search({{"indicators", {"198.51.100.7"}}, {"members", {"honeypot", "anonymity"}}});
  const json* ind = Indicator(c, "198.51.100.7");
  EXPECT_EQ((*ind)["held_by"], 2);
  EXPECT_EQ(HitKeys(*ind), std::set<std::string>{"anonymity:in-range"});  // honeypot never named
  EXPECT_FALSE(c["summary"]["by_member"].contains("honeypot"));
}

TEST_F(PortalApiTest, TimeGapIsFlaggedAgainstTheIndicatorsOwnDate) {
  json d = Search({{"indicators", {{{"value", "198.51.100.7"}, {"date", "2019-05-01"}}}},
                   {"members", {"honeypot"}}});
  EXPECT_TRUE((*Indicator(d, "198.51.100.7"))["hits"][0]["time_gap"].get<bool>());
  json recent = Search({{"indicators", {{{"value", "198.51.100.7"}, {"date", "2026-03-15"}}}},
                        {"members", {"honeypot"}}});
  EXPECT_FALSE((*Indicator(recent, "198.51.100.7"))["hits"][0]["time_gap"].get<bool>());
}

TEST_F(PortalApiTest, CsvAndFreeTextInput) {
  json csv = Search({{"csv", "type,value\nip-dst,198.51.100.7\ndomain,proxy.example\n"}});
  EXPECT_EQ(csv["summary"]["matched"], 2);
  // Extraction drops documentation ranges and reserved names, so the report names real-looking
  // ones.
  json text = Search({{"text", "The actor used relay-proxy[.]net and 45.61.187[.]248 for C2."}});
  EXPECT_EQ(text["summary"]["matched"], 2);
}

TEST_F(PortalApiTest, EventStreamCarriesMembersHitsAndDone) {
  json d = Search({{"indicators", {"198.51.100.7"}}});
  auto r = Call("GET", "/api/v1/searches/" + d["id"].get<std::string>() + "/events");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.Header("content-type"), "text/event-stream");
  EXPECT_NE(r.body.find("event: member\n"), std::string::npos);
  EXPECT_NE(r.body.find("event: hits\n"), std::string::npos);
  EXPECT_NE(r.body.find("event: done\n"), std::string::npos);
}

TEST_F(PortalApiTest, ExportsCsvMispAndStix) {
  json d = Search({{"indicators", {"198.51.100.7", "proxy.example"}}, {"label", "exp"}});
  std::string id = d["id"];
  auto csv = Call("GET", "/api/v1/searches/" + id + "/export?format=csv");
  ASSERT_EQ(csv.status, 200);
  EXPECT_EQ(csv.body.rfind("query,query_type,member,relation,matched", 0), 0u);
  EXPECT_NE(csv.body.find("198.51.100.7,ip-dst,anonymity,in-range,198.51.100.0/24"),
            std::string::npos)
      << csv.body;
  json misp = json::parse(Call("GET", "/api/v1/searches/" + id + "/export?format=misp").body);
  ASSERT_TRUE(misp.contains("Event"));
  EXPECT_EQ(misp["Event"]["Attribute"].size(), 2u);
  bool tagged = false;
  for (const auto& a : misp["Event"]["Attribute"]) {
    for (const auto& t : a.value("Tag", json::array()))
      tagged |= t["name"] == "iocgrid:member=\"honeypot\"";
  }
  EXPECT_TRUE(tagged);
  json stix = json::parse(Call("GET", "/api/v1/searches/" + id + "/export?format=stix").body);
  EXPECT_EQ(stix["type"], "bundle");
  std::set<std::string> types;
  for (const auto& o : stix["objects"]) types.insert(o["type"]);
  EXPECT_TRUE(types.count("indicator") && types.count("sighting"));
  EXPECT_EQ(Call("GET", "/api/v1/searches/" + id + "/export?format=pdf").status, 400);
}

TEST_F(PortalApiTest, HistoryVisibilityRolesAndDelete) {
  json mine = Search({{"indicators", {"198.51.100.7"}}});
  json shared = Search({{"indicators", {"proxy.example"}}, {"shared", true}});
  std::string id = mine["id"];
  EXPECT_EQ(Call("GET", "/api/v1/searches/" + id, "", other_key_).status, 404);
  EXPECT_EQ(
      Call("GET", "/api/v1/searches/" + shared["id"].get<std::string>(), "", other_key_).status,
      200);
  EXPECT_EQ(Call("GET", "/api/v1/searches/" + id, "", admin_key_).status, 200);
  json history = json::parse(Call("GET", "/api/v1/searches", "", other_key_).body);
  ASSERT_EQ(history.size(), 1u);
  EXPECT_EQ(history[0]["id"], shared["id"]);
  // Another analyst's search cannot be deleted, and the answer does not tell it exists.
  EXPECT_EQ(
      Call("DELETE", "/api/v1/searches/" + shared["id"].get<std::string>(), "", other_key_).status,
      404);
  EXPECT_EQ(Call("DELETE", "/api/v1/searches/" + id).status, 200);
  EXPECT_EQ(Call("GET", "/api/v1/searches/" + id).status, 404);
  EXPECT_EQ(Call("POST", "/api/v1/members/check", "", analyst_key_).status, 403);
}

TEST_F(PortalApiTest, FinishedSearchesSurviveARestart) {
  json d = Search({{"indicators", {"198.51.100.7"}}});
  OpenPortal();
  json again = json::parse(Call("GET", "/api/v1/searches/" + d["id"].get<std::string>()).body);
  EXPECT_EQ(again["status"], "done");
  EXPECT_EQ(again["summary"]["hits"], d["summary"]["hits"]);
}

TEST_F(PortalApiTest, BadRequestsAndAuth) {
  EXPECT_EQ(Call("GET", "/api/v1/me", "", "none").status, 403);
  EXPECT_EQ(Call("GET", "/api/v1/me", "", std::string(40, 'q')).status, 403);
  EXPECT_EQ(json::parse(Call("GET", "/api/v1/me").body)["name"], "alice");
  EXPECT_EQ(Call("POST", "/api/v1/searches", "{oops").status, 400);
  EXPECT_EQ(Call("POST", "/api/v1/searches", json{{"indicators", "1.2.3.4"}}.dump()).status, 400);
  EXPECT_EQ(Call("POST", "/api/v1/searches",
                 json{{"indicators", {"1.2.3.4"}}, {"members", {"nobody"}}}.dump())
                .status,
            400);
  EXPECT_EQ(Call("POST", "/api/v1/searches",
                 json{{"indicators", {"1.2.3.4"}}, {"relations", {"near"}}}.dump())
                .status,
            400);
  EXPECT_EQ(Call("POST", "/api/v1/searches", json{{"label", "x"}}.dump()).status, 400);
  EXPECT_EQ(Call("GET", "/api/v1/searches/nope").status, 404);
  json members = json::parse(Call("GET", "/api/v1/members").body);
  EXPECT_EQ(members.size(), 4u);
  EXPECT_FALSE(members[0].contains("url"));  // analysts do not see member URLs
}

}  // namespace
}  // namespace iocgrid::portal
