// The portal end to end in one process: real iocgrid nodes on loopback (one reached through
// the MISP connector), a member that is down, the real federation, the portal's HTTP API.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <chrono>
#include <filesystem>
#include <set>
#include <thread>

#include <nlohmann/json.hpp>

#include "net/http_client.h"
#include "net/http_server.h"
#include "node/node.h"
#include "portal/portal.h"

namespace iocgrid::portal {
namespace {

using json = nlohmann::json;
using namespace std::chrono_literals;

std::string TempDir() {
  std::string tmpl = (std::filesystem::temp_directory_path() / "iocgrid-portal-XXXXXX").string();
  EXPECT_NE(mkdtemp(tmpl.data()), nullptr);
  return tmpl;
}

// A real node with an admin key and some data.
struct TestNode {
  std::unique_ptr<node::Node> node;
  std::unique_ptr<net::HttpServer> server;
  std::string key;
  std::string url() const { return "http://127.0.0.1:" + std::to_string(server->port()); }
};

TestNode StartNode(const std::string& dir, const json& event) {
  TestNode t;
  node::NodeOptions options;
  options.data_dir = dir;
  auto n = node::Node::Open(options);
  EXPECT_TRUE(n.ok()) << n.status().ToString();
  t.node = std::move(*n);
  auto user = t.node->store().EnsureUser("portal@alliance.test", "Member", store::Role::kAdmin);
  t.key = t.node->store().CreateKey(user->id, store::KeyOptions{})->key;
  node::Node* raw = t.node.get();
  t.server = std::move(*net::HttpServer::Start(net::ServerOptions{}, [raw](net::Request& r) { return raw->Handle(r); }));
  net::ClientRequest req;
  req.method = "POST";
  req.url = t.url() + "/events/add";
  req.body = event.dump();
  req.headers = {{"Authorization", t.key}, {"Content-Type", "application/json"}};
  auto r = net::Fetch(req);
  EXPECT_TRUE(r.ok() && r->status == 200) << (r.ok() ? r->body : r.status().ToString());
  return t;
}

class PortalApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = TempDir();
    anonymity_ = StartNode(root_ + "/anonymity",
                           {{"info", "vpn-ipv4"}, {"date", "2026-03-01"},
                            {"Attribute", {{{"type", "ip-dst"}, {"value", "198.51.100.0/24"}},
                                           {{"type", "domain"}, {"value", "proxy.example"}},
                                           {{"type", "ip-dst"}, {"value", "45.61.187.0/24"}},
                                           {{"type", "domain"}, {"value", "relay-proxy.net"}}}},
                            {"Tag", {{{"name", "tlp:white"}}}}});
    honeypot_ = StartNode(root_ + "/honeypot",
                          {{"info", "attackers"}, {"date", "2026-04-01"},
                           {"Attribute", {{{"type", "ip-src"}, {"value", "198.51.100.7"},
                                           {"first_seen", "2026-04-01T00:00:00Z"},
                                           {"last_seen", "2026-04-02T00:00:00Z"}},
                                          {{"type", "md5"}, {"value", "d41d8cd98f00b204e9800998ecf8427e"}}}}});
    misp_ = StartNode(root_ + "/misp",
                      {{"info", "misp member event"}, {"date", "2025-01-01"},
                       {"Attribute", {{{"type", "domain"}, {"value", "evil.example"}},
                                      {{"type", "ip-dst"}, {"value", "203.0.113.0/24"}}}}});
    OpenPortal();
  }

  void OpenPortal() {
    server_.reset();
    portal_.reset();
    PortalConfig config;
    config.data = root_ + "/portal";
    config.search_timeout = 20s;
    auto member = [](std::string name, federation::MemberKind kind, std::string url, std::string key,
                     federation::Disclosure d) {
      federation::MemberConfig m;
      m.name = name;
      m.display_name = name + " member";
      m.kind = kind;
      m.url = std::move(url);
      m.key = std::move(key);
      m.disclosure = d;
      m.timeout = 5s;
      return m;
    };
    config.members.push_back(member("anonymity", federation::MemberKind::kIocgrid, anonymity_.url(),
                                    anonymity_.key, federation::Disclosure::kFull));
    config.members.push_back(member("honeypot", federation::MemberKind::kIocgrid, honeypot_.url(),
                                    honeypot_.key, disclosure_honeypot_));
    config.members.push_back(member("mispmember", federation::MemberKind::kMisp, misp_.url(), misp_.key,
                                    federation::Disclosure::kFull));
    // A member that is down: nothing listens on this port.
    config.members.push_back(member("down", federation::MemberKind::kIocgrid, "http://127.0.0.1:9",
                                    std::string(40, 'x'), federation::Disclosure::kFull));
    config.federation.retries = 0;
    auto p = Portal::Open(config);
    ASSERT_TRUE(p.ok()) << p.status().ToString();
    portal_ = std::move(*p);
    if (analyst_key_.empty()) {
      analyst_key_ = *portal_->store().CreateUserKey("alice", Role::kAnalyst);
      other_key_ = *portal_->store().CreateUserKey("bob", Role::kAnalyst);
      admin_key_ = *portal_->store().CreateUserKey("root", Role::kAdmin);
    }
    Portal* raw = portal_.get();
    server_ = std::move(*net::HttpServer::Start(net::ServerOptions{}, [raw](net::Request& r) { return raw->Handle(r); }));
  }

  void TearDown() override {
    server_.reset();
    portal_.reset();
    std::filesystem::remove_all(root_);
  }

  net::ClientResponse Call(const std::string& method, const std::string& path, const std::string& body = "",
                           std::string key = "") {
    net::ClientRequest req;
    req.method = method;
    req.url = "http://127.0.0.1:" + std::to_string(server_->port()) + path;
    req.body = body;
    req.headers = {{"Content-Type", "application/json"}};
    if (key.empty()) key = analyst_key_;
    if (key != "none") req.headers.emplace_back("Authorization", key);
    auto r = net::Fetch(req);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : net::ClientResponse{};
  }

  // Starts a search and waits for it to finish; returns its document.
  json Search(const json& body, const std::string& key = "") {
    auto created = Call("POST", "/api/v1/searches", body.dump(), key);
    EXPECT_EQ(created.status, 201) << created.body;
    std::string id = json::parse(created.body).value("id", "");
    for (int i = 0; i < 400; ++i) {
      json d = json::parse(Call("GET", "/api/v1/searches/" + id, "", key).body);
      if (d.value("status", "") != "running") return d;
      std::this_thread::sleep_for(25ms);
    }
    ADD_FAILURE() << "search did not finish";
    return {};
  }

  static const json* Indicator(const json& d, const std::string& value) {
    for (const auto& i : d["indicators"]) {
      if (i["value"] == value) return &i;
    }
    return nullptr;
  }

  static std::set<std::string> HitKeys(const json& ind) {
    std::set<std::string> out;
    for (const auto& h : ind["hits"]) out.insert(h["member"].get<std::string>() + ":" + h["relation"].get<std::string>());
    return out;
  }

  std::string root_;
  TestNode anonymity_, honeypot_, misp_;
  federation::Disclosure disclosure_honeypot_ = federation::Disclosure::kFull;
  std::unique_ptr<Portal> portal_;
  std::unique_ptr<net::HttpServer> server_;
  std::string analyst_key_, other_key_, admin_key_;
};

TEST_F(PortalApiTest, SearchMergesMembersAndReportsTheDeadOne) {
  json d = Search({{"indicators", {"198.51.100.7", "hxxp://a.evil[.]example/x", "203.0.113.50",
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
  EXPECT_EQ(HitKeys(*in_misp_range), std::set<std::string>{"mispmember:in-range"});  // from the CIDR cache
  EXPECT_EQ(HitKeys(*Indicator(d, "D41D8CD98F00B204E9800998ECF8427E")), std::set<std::string>{"honeypot:exact"});
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
  // Extraction drops documentation ranges and reserved names, so the report names real-looking ones.
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
  EXPECT_NE(csv.body.find("198.51.100.7,ip-dst,anonymity,in-range,198.51.100.0/24"), std::string::npos) << csv.body;
  json misp = json::parse(Call("GET", "/api/v1/searches/" + id + "/export?format=misp").body);
  ASSERT_TRUE(misp.contains("Event"));
  EXPECT_EQ(misp["Event"]["Attribute"].size(), 2u);
  bool tagged = false;
  for (const auto& a : misp["Event"]["Attribute"]) {
    for (const auto& t : a.value("Tag", json::array())) tagged |= t["name"] == "iocgrid:member=\"honeypot\"";
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
  EXPECT_EQ(Call("GET", "/api/v1/searches/" + shared["id"].get<std::string>(), "", other_key_).status, 200);
  EXPECT_EQ(Call("GET", "/api/v1/searches/" + id, "", admin_key_).status, 200);
  json history = json::parse(Call("GET", "/api/v1/searches", "", other_key_).body);
  ASSERT_EQ(history.size(), 1u);
  EXPECT_EQ(history[0]["id"], shared["id"]);
  EXPECT_EQ(Call("DELETE", "/api/v1/searches/" + shared["id"].get<std::string>(), "", other_key_).status, 403);
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
  EXPECT_EQ(Call("POST", "/api/v1/searches", json{{"indicators", {"1.2.3.4"}}, {"members", {"nobody"}}}.dump()).status, 400);
  EXPECT_EQ(Call("POST", "/api/v1/searches", json{{"indicators", {"1.2.3.4"}}, {"relations", {"near"}}}.dump()).status, 400);
  EXPECT_EQ(Call("POST", "/api/v1/searches", json{{"label", "x"}}.dump()).status, 400);
  EXPECT_EQ(Call("GET", "/api/v1/searches/nope").status, 404);
  json members = json::parse(Call("GET", "/api/v1/members").body);
  EXPECT_EQ(members.size(), 4u);
  EXPECT_FALSE(members[0].contains("url"));  // analysts do not see member URLs
}

}  // namespace
}  // namespace iocgrid::portal
