// The portal against hostile and careless requests (issue: hardening), through the real HTTP
// server with the portal's own admission check and real member nodes on loopback.
#include <set>

#include "tests/common/raw_http.h"
#include "tests/portal/portal_fixture.h"

namespace iocgrid::portal {
namespace {

uint16_t Port(const net::HttpServer& s) { return s.port(); }

TEST_F(PortalApiTest, NoFileOutsideTheWebRootIsServed) {
  // A secret beside the portal's data, as portal.toml or a member key file would be.
  std::string secret = root_ + "/portal/portal.toml";
  std::ofstream(secret) << "key = \"member-secret-key\"\n";
  for (std::string target :
       {std::string("//etc/passwd"), std::string("/%2Fetc%2Fpasswd"),
        std::string("//proc/self/environ"), "/" + secret, "/%2F" + secret.substr(1),
        std::string("/../../../../etc/passwd"), std::string("/%2e%2e/%2e%2e/etc/passwd"),
        std::string("/..%5c..%5cetc%5cpasswd"), std::string("/index.html%00.js")}) {
    std::string r = testutil::RawGet(Port(*server_), target);
    EXPECT_NE(r.find("404 Not Found"), std::string::npos) << target << "\n" << r.substr(0, 300);
    EXPECT_EQ(r.find("root:"), std::string::npos) << target;
    EXPECT_EQ(r.find("member-secret-key"), std::string::npos) << target;
  }
  std::string page = testutil::RawGet(Port(*server_), "/");
  EXPECT_NE(page.find("200 OK"), std::string::npos);
  EXPECT_NE(page.find("X-Content-Type-Options: nosniff"), std::string::npos);
}

TEST_F(PortalApiTest, CountMemberAddsToHeldByOnly) {
  disclosure_honeypot_ = federation::Disclosure::kCount;
  OpenPortal();
  json d = Search({{"indicators", {"198.51.100.7", "d41d8cd98f00b204e9800998ecf8427e"}},
                   {"members", {"honeypot"}}});
  ASSERT_EQ(d["status"], "done");
  EXPECT_EQ((*Indicator(d, "198.51.100.7"))["held_by"], 1);
  EXPECT_TRUE((*Indicator(d, "198.51.100.7"))["hits"].empty());
  EXPECT_EQ(d["summary"]["hits"], 0);
  EXPECT_EQ(d["summary"]["matched"], 2);  // "held by 1 of N", never how many rows
  EXPECT_EQ(d["progress"]["hits"], 0);
  EXPECT_TRUE(d["members"][0]["hits"].is_null());
  std::string id = d["id"];
  auto events = Call("GET", "/api/v1/searches/" + id + "/events");
  EXPECT_EQ(events.body.find("\"hits\":1"), std::string::npos) << events.body;
  EXPECT_EQ(events.body.find("\"hits\":2"), std::string::npos) << events.body;
  EXPECT_EQ(events.body.find("event: hits"), std::string::npos) << events.body;
  json history = json::parse(Call("GET", "/api/v1/searches").body);
  ASSERT_FALSE(history.empty());
  EXPECT_EQ(history[0]["hits"], 0);
  json exported = json::parse(Call("GET", "/api/v1/searches/" + id + "/export?format=json").body);
  EXPECT_EQ(exported["summary"]["hits"], 0);
  OpenPortal();  // and after a restart, from the store
  json stored = json::parse(Call("GET", "/api/v1/searches/" + id).body);
  EXPECT_EQ(stored["summary"]["hits"], 0);
  EXPECT_EQ(json::parse(Call("GET", "/api/v1/searches").body)[0]["hits"], 0);
}

TEST_F(PortalApiTest, EveryBadFieldIs400NamingIt) {
  struct Case {
    json body;
    std::string field;
  };
  std::vector<Case> cases = {
      {{{"indicators", {"1.2.3.4"}}, {"since", "d"}}, "since"},
      {{{"indicators", {"1.2.3.4"}}, {"since", "yesterday"}}, "since"},
      {{{"indicators", {"1.2.3.4"}}, {"since", "2024-13-45"}}, "since"},
      {{{"indicators", {"1.2.3.4"}}, {"since", "-5d"}}, "since"},
      {{{"indicators", {"1.2.3.4"}}, {"since", json::object()}}, "since"},
      {{{"indicators", {"1.2.3.4"}}, {"until", "2024-02-30"}}, "until"},
      {{{"indicators", {"1.2.3.4"}}, {"since", -1}}, "since"},
      {{{"indicators", {"1.2.3.4"}}, {"shared", "yes"}}, "shared"},
      {{{"indicators", {"1.2.3.4"}}, {"label", json::object()}}, "label"},
      {{{"indicators", {"1.2.3.4"}}, {"tlp", 3}}, "tlp"},
      {{{"indicators", {"1.2.3.4"}}, {"time_gap_days", 1000000000000LL}}, "time_gap_days"},
      {{{"indicators", {"1.2.3.4"}}, {"time_gap_days", 2.5}}, "time_gap_days"},
      {{{"indicators", {"1.2.3.4"}}, {"time_gap_days", "30"}}, "time_gap_days"},
      {{{"indicators", {{{"value", "1.2.3.4"}, {"date", "someday"}}}}}, "indicators"},
      {{{"indicators", {{{"value", 5}}}}}, "indicators"},
      {{{"indicators", {"1.2.3.4"}}, {"members", "honeypot"}}, "members"},
      {{{"indicators", {"1.2.3.4"}}, {"colour", "red"}}, "colour"},
  };
  for (const Case& c : cases) {
    auto r = Call("POST", "/api/v1/searches", c.body.dump());
    EXPECT_EQ(r.status, 400) << c.body.dump() << " -> " << r.body;
    json e = json::parse(r.body, nullptr, false);
    ASSERT_TRUE(e.is_object()) << r.body;
    EXPECT_TRUE(e.contains("name") && e.contains("message") && e.contains("url")) << r.body;
    EXPECT_NE(e.value("message", "").find(c.field), std::string::npos) << r.body;
    EXPECT_EQ(e.value("url", ""), "/api/v1/searches");
  }
  // A 20-digit number is refused, not wrapped.
  auto big = Call("POST", "/api/v1/searches",
                  R"({"indicators":["1.2.3.4"],"since":99999999999999999999})");
  EXPECT_EQ(big.status, 400) << big.body;
  // Nothing was started by any of them.
  EXPECT_TRUE(json::parse(Call("GET", "/api/v1/searches").body).empty());
}

TEST_F(PortalApiTest, TheScopeAppliedIsRecorded) {
  json d = Search({{"indicators", {"198.51.100.7"}}, {"since", "30d"}, {"until", "2030-01-01"}});
  ASSERT_EQ(d["status"], "done");
  ASSERT_TRUE(d["scope"].contains("since")) << d.dump();
  EXPECT_EQ(d["scope"]["until"], "2030-01-01T00:00:00Z");
  EXPECT_EQ(d["scope"]["since"].get<std::string>().size(), 20u);
  json history = json::parse(Call("GET", "/api/v1/searches").body);
  ASSERT_EQ(history.size(), 1u);
  EXPECT_EQ(history[0]["scope"], d["scope"]);
}

TEST_F(PortalApiTest, DeepJsonIsRefusedWithoutCrashing) {
  std::string deep = "{\"indicators\":[\"1.2.3.4\"],\"label\":";
  for (int i = 0; i < 30000; ++i) deep += "{\"a\":";
  deep += "1" + std::string(30000, '}') + "}";
  auto r = Call("POST", "/api/v1/searches", deep);
  EXPECT_EQ(r.status, 400) << r.body.substr(0, 200);
  EXPECT_NE(r.body.find("nested"), std::string::npos);
  EXPECT_EQ(Call("GET", "/api/v1/me").status, 200);  // still alive
}

TEST_F(PortalApiTest, BodiesAreNotReadBeforeTheKeyIsChecked) {
  std::string head =
      "POST /api/v1/searches HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
      "Content-Length: 262144000\r\n\r\n{\"indicators\":[";
  std::string r = testutil::RawExchange(Port(*server_), head);
  EXPECT_NE(r.find("403 Forbidden"), std::string::npos) << r;
  EXPECT_NE(r.find("Authentication failed"), std::string::npos) << r;
  // A page request with a body is refused on its head too.
  std::string put = testutil::RawExchange(
      Port(*server_), "PUT /index.html HTTP/1.1\r\nHost: x\r\nContent-Length: 100000000\r\n\r\n");
  EXPECT_NE(put.find("405"), std::string::npos) << put;
}

TEST_F(PortalApiTest, ASearchCanBeRerun) {
  json d = Search({{"indicators", {{{"value", "198.51.100.7"}, {"date", "2019-05-01"}}}},
                   {"members", {"honeypot"}},
                   {"label", "again"}});
  auto r = Call("POST", "/api/v1/searches/" + d["id"].get<std::string>() + "/rerun");
  ASSERT_EQ(r.status, 201) << r.body;
  std::string id = json::parse(r.body)["id"];
  EXPECT_NE(id, d["id"]);
  json again;
  for (int i = 0; i < 400; ++i) {
    again = json::parse(Call("GET", "/api/v1/searches/" + id).body);
    if (again["status"] != "running") break;
    std::this_thread::sleep_for(25ms);
  }
  EXPECT_EQ(again["status"], "done");
  EXPECT_EQ(again["label"], "again");
  EXPECT_EQ(again["request"], d["request"]);
  EXPECT_TRUE((*Indicator(again, "198.51.100.7"))["hits"][0]["time_gap"].get<bool>());
  // Another analyst cannot re-run (or learn of) a search that is not shared.
  EXPECT_EQ(Call("POST", "/api/v1/searches/" + id + "/rerun", "", other_key_).status, 404);
}

}  // namespace
}  // namespace iocgrid::portal
