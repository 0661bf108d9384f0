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

TEST_F(PortalApiTest, CreatedTimeAndRelativeWindowComeFromThePortalsClock) {
  const int64_t kMarch1st2026 = 1'772'323'200;
  configure_ = [&](PortalConfig& c) { c.clock = Clock::Manual(kMarch1st2026); };
  OpenPortal();
  json d = Search({{"indicators", {"198.51.100.7"}}, {"members", {"honeypot"}}, {"since", "30d"}});
  EXPECT_EQ(d["created"], kMarch1st2026);
  EXPECT_EQ(d["scope"]["since"], "2026-01-30T00:00:00Z");  // 30 days before the clock
  auto stix = json::parse(
      Call("GET", "/api/v1/searches/" + d["id"].get<std::string>() + "/export?format=stix").body);
  EXPECT_EQ(stix["objects"][0]["created"], "2026-03-01T00:00:00.000Z");
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
  // served from the store as it was written: the same document
  auto stored = Call("GET", "/api/v1/searches/" + d["id"].get<std::string>());
  EXPECT_EQ(stored.status, 200);
  json again = json::parse(stored.body);
  EXPECT_EQ(again, d);
  EXPECT_EQ(again["status"], "done");
  EXPECT_EQ(again["summary"]["hits"], d["summary"]["hits"]);
  // and only to those who may see it
  EXPECT_EQ(Call("GET", "/api/v1/searches/" + d["id"].get<std::string>(), "", other_key_).status,
            404);
  EXPECT_EQ(Call("GET", "/api/v1/searches/" + d["id"].get<std::string>(), "", admin_key_).status,
            200);
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

TEST_F(PortalApiTest, MembersShowTheLastSearchAndAdminsTheBreaker) {
  // Nothing asked yet: no last search; analysts never see URLs or breakers.
  json members = json::parse(Call("GET", "/api/v1/members").body);
  ASSERT_EQ(members.size(), 4u);
  for (const auto& m : members) {
    EXPECT_TRUE(m["last_search"].is_null()) << m.dump();
    EXPECT_FALSE(m.contains("breaker")) << m.dump();
    EXPECT_FALSE(m.contains("url")) << m.dump();
  }
  json admin = json::parse(Call("GET", "/api/v1/members", "", admin_key_).body);
  for (const auto& m : admin) {
    EXPECT_EQ(m["breaker"]["state"], "closed") << m.dump();
    EXPECT_EQ(m["breaker"]["consecutive_failures"], 0) << m.dump();
    EXPECT_EQ(m["breaker"]["retry_in_ms"], 0) << m.dump();
  }

  Search({{"indicators", {"198.51.100.7"}}});
  auto by_name = [](const json& list) {
    std::map<std::string, json> out;
    for (const auto& m : list) out[m["name"].get<std::string>()] = m;
    return out;
  };
  auto seen = by_name(json::parse(Call("GET", "/api/v1/members").body));
  EXPECT_EQ(seen["honeypot"]["last_search"]["status"], "done");
  EXPECT_EQ(seen["honeypot"]["last_search"]["error"], "");
  EXPECT_GE(seen["honeypot"]["last_search"]["elapsed_ms"].get<int64_t>(), 0);
  EXPECT_GT(seen["honeypot"]["last_search"]["at"].get<int64_t>(), 1700000000);
  EXPECT_EQ(seen["down"]["last_search"]["status"], "failed");
  EXPECT_FALSE(seen["down"]["last_search"]["error"].get<std::string>().empty());
  EXPECT_FALSE(seen["down"].contains("breaker"));

  // The member that is down fails twice more: its breaker opens (3 failures by default).
  auto admin_view = by_name(json::parse(Call("GET", "/api/v1/members", "", admin_key_).body));
  EXPECT_EQ(admin_view["down"]["breaker"]["state"], "closed");
  EXPECT_EQ(admin_view["down"]["breaker"]["consecutive_failures"], 1);
  EXPECT_EQ(admin_view["honeypot"]["breaker"]["consecutive_failures"], 0);
  Search({{"indicators", {"198.51.100.7"}}, {"members", {"down"}}});
  Search({{"indicators", {"198.51.100.7"}}, {"members", {"down"}}});
  admin_view = by_name(json::parse(Call("GET", "/api/v1/members", "", admin_key_).body));
  EXPECT_EQ(admin_view["down"]["breaker"]["state"], "open");
  EXPECT_EQ(admin_view["down"]["breaker"]["consecutive_failures"], 3);
  EXPECT_GT(admin_view["down"]["breaker"]["retry_in_ms"].get<int64_t>(), 0);
  EXPECT_EQ(admin_view["honeypot"]["breaker"]["state"], "closed");
  // The next search skips it, and its last search says so.
  Search({{"indicators", {"198.51.100.7"}}, {"members", {"down"}}});
  seen = by_name(json::parse(Call("GET", "/api/v1/members").body));
  EXPECT_EQ(seen["down"]["last_search"]["status"], "skipped");
  EXPECT_NE(seen["down"]["last_search"]["error"].get<std::string>().find("circuit open"),
            std::string::npos);
}

}  // namespace
}  // namespace iocgrid::portal
