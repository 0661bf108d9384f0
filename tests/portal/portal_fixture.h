// Test fixture: the portal end to end in one process: real iocgrid nodes on loopback (one
// reached through the MISP connector), a member that is down, the real federation, the
// portal's HTTP API behind the real HTTP server with the portal's own admission check.
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "net/http_client.h"
#include "net/http_server.h"
#include "node/node.h"
#include "portal/portal.h"
#include "tests/common/fetch.h"
#include "tests/common/temp_dir.h"
#include "tests/common/test_database.h"

namespace iocgrid::portal {

using json = nlohmann::json;
using namespace std::chrono_literals;

inline std::string TempDir() { return test::MakeTempDir("iocgrid-portal"); }

// A real node with an admin key and some data.
struct TestNode {
  std::unique_ptr<node::Node> node;
  std::unique_ptr<net::HttpServer> server;
  std::string key;
  std::string url() const { return "http://127.0.0.1:" + std::to_string(server->port()); }
};

// A JSON POST to the node's MISP API with its admin key.
inline net::ClientResponse NodePost(const TestNode& node, const std::string& path,
                                    const json& body) {
  net::ClientRequest req;
  req.method = "POST";
  req.url = node.url() + path;
  req.body = body.dump();
  req.headers = {{"Authorization", node.key}, {"Content-Type", "application/json"}};
  return test::FetchOrFail(req);
}

// POST /events/add on the node; a test failure unless it answers 200.
inline void AddEvent(const TestNode& node, const json& event) {
  auto r = NodePost(node, "/events/add", event);
  EXPECT_EQ(r.status, 200) << r.body;
}

inline TestNode StartNode(const std::string& dir, const json& event) {
  TestNode t;
  node::NodeOptions options;
  options.data_dir = dir;
  auto n = node::Node::Open(options);
  EXPECT_TRUE(n.ok()) << n.status().ToString();
  t.node = std::move(*n);
  auto user = t.node->store().EnsureUser("portal@alliance.test", "Member", store::Role::kAdmin);
  t.key = t.node->store().CreateKey(user->id, store::KeyOptions{})->key;
  node::Node* raw = t.node.get();
  t.server = std::move(*net::HttpServer::Start(net::ServerOptions{},
                                               [raw](net::Request& r) { return raw->Handle(r); }));
  AddEvent(t, event);
  return t;
}

class PortalApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (std::string why = test::PostgresMissing(); !why.empty()) GTEST_SKIP() << why;
    root_ = TempDir();
    database_ = test::TestDatabase();  // SQLite run: ""; PostgreSQL run: a schema of its own
    anonymity_ =
        StartNode(root_ + "/anonymity", {{"info", "vpn-ipv4"},
                                         {"date", "2026-03-01"},
                                         {"Attribute",
                                          {{{"type", "ip-dst"}, {"value", "198.51.100.0/24"}},
                                           {{"type", "domain"}, {"value", "proxy.example"}},
                                           {{"type", "ip-dst"}, {"value", "45.61.187.0/24"}},
                                           {{"type", "domain"}, {"value", "relay-proxy.net"}}}},
                                         {"Tag", {{{"name", "tlp:white"}}}}});
    honeypot_ = StartNode(root_ + "/honeypot",
                          {{"info", "attackers"},
                           {"date", "2026-04-01"},
                           {"Attribute",
                            {{{"type", "ip-src"},
                              {"value", "198.51.100.7"},
                              {"first_seen", "2026-04-01T00:00:00Z"},
                              {"last_seen", "2026-04-02T00:00:00Z"}},
                             {{"type", "md5"}, {"value", "d41d8cd98f00b204e9800998ecf8427e"}}}}});
    misp_ = StartNode(root_ + "/misp", {{"info", "misp member event"},
                                        {"date", "2025-01-01"},
                                        {"Attribute",
                                         {{{"type", "domain"}, {"value", "evil.example"}},
                                          {{"type", "ip-dst"}, {"value", "203.0.113.0/24"}}}}});
    OpenPortal();
  }

  void OpenPortal() {
    server_.reset();
    portal_.reset();
    PortalConfig config = Config();
    auto p = Portal::Open(config);
    ASSERT_TRUE(p.ok()) << p.status().ToString();
    portal_ = std::move(*p);
    if (analyst_key_.empty()) {
      analyst_key_ = *portal_->store().CreateUserKey("alice", Role::kAnalyst);
      other_key_ = *portal_->store().CreateUserKey("bob", Role::kAnalyst);
      admin_key_ = *portal_->store().CreateUserKey("root", Role::kAdmin);
    }
    Portal* raw = portal_.get();
    net::ServerOptions options;
    options.admit = [raw](const net::Request& head, size_t* limit) {
      return raw->Admit(head, limit);
    };
    options.stream_body = [raw](const net::Request& head) { return raw->StreamBody(head); };
    if (configure_server_) configure_server_(options);
    server_ = std::move(
        *net::HttpServer::Start(options, [raw](net::Request& r) { return raw->Handle(r); }));
  }

  // The portal's config: the test's members and database, then configure_.
  PortalConfig Config() {
    PortalConfig config;
    config.data = root_ + "/portal";
    config.database = database_;
    config.search_timeout = 20s;
    auto member = [](std::string name, federation::MemberKind kind, std::string url,
                     std::string key, federation::Disclosure d) {
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
    config.members.push_back(member("mispmember", federation::MemberKind::kMisp, misp_.url(),
                                    misp_.key, federation::Disclosure::kFull));
    // A member that is down: nothing listens on this port.
    config.members.push_back(member("down", federation::MemberKind::kIocgrid, "http://127.0.0.1:9",
                                    std::string(40, 'x'), federation::Disclosure::kFull));
    config.federation.retries = 0;
    // What each member's data is (sifts class hits by it).
    config.members[0].data_kind = "anonymizer";
    config.members[1].data_kind = "honeypot";
    config.members[2].data_kind = "threat";
    if (configure_) configure_(config);
    return config;
  }

  void TearDown() override {
    server_.reset();
    portal_.reset();
    std::filesystem::remove_all(root_);
  }

  net::ClientResponse Call(const std::string& method, const std::string& path,
                           const std::string& body = "", std::string key = "") {
    net::ClientRequest req;
    req.method = method;
    req.url = "http://127.0.0.1:" + std::to_string(server_->port()) + path;
    req.body = body;
    req.headers = {{"Content-Type", "application/json"}};
    if (key.empty()) key = analyst_key_;
    if (key != "none") req.headers.emplace_back("Authorization", key);
    return test::FetchOrFail(req);
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

  // Watchlists that react within a second: members checked every second, intervals from one
  // second, webhooks to loopback allowed, and the member that is down left out (it would slow
  // every run).
  static void FastWatch(PortalConfig& c) {
    c.watch.poll_seconds = 1;
    c.watch.min_interval_s = 1;
    c.watch.allow_internal_webhooks = true;  // the tests' receivers are on loopback
    c.members[3].enabled = false;
  }

  static const json* Indicator(const json& d, const std::string& value) {
    for (const auto& i : d["indicators"]) {
      if (i["value"] == value) return &i;
    }
    return nullptr;
  }

  static std::set<std::string> HitKeys(const json& ind) {
    std::set<std::string> out;
    for (const auto& h : ind["hits"])
      out.insert(h["member"].get<std::string>() + ":" + h["relation"].get<std::string>());
    return out;
  }

  std::string root_;
  std::string database_;  // config.database: "" (SQLite) or the test's PostgreSQL schema
  TestNode anonymity_, honeypot_, misp_;
  federation::Disclosure disclosure_honeypot_ = federation::Disclosure::kFull;
  // Changes to the portal's config and server options, applied by OpenPortal.
  std::function<void(PortalConfig&)> configure_;
  std::function<void(net::ServerOptions&)> configure_server_;
  std::unique_ptr<Portal> portal_;
  std::unique_ptr<net::HttpServer> server_;
  std::string analyst_key_, other_key_, admin_key_;
};

}  // namespace iocgrid::portal
