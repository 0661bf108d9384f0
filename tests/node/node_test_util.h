// A real node for API tests: a store in a temp dir, the Node, and an HttpServer on a loopback
// port, called with libcurl like any client.
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/event.h"
#include "core/indicator.h"
#include "net/http_client.h"
#include "net/http_server.h"
#include "node/node.h"
#include "tests/common/temp_dir.h"

namespace iocgrid::node {

class NodeFixture : public ::testing::Test {
 protected:
  void SetUp() override { StartNode(NodeOptions{}); }

  void StartNode(NodeOptions options) {
    server_.reset();
    node_.reset();
    if (dir_.empty()) {
      dir_ = ::iocgrid::test::MakeTempDir("iocgrid-node");
    }
    options.data_dir = dir_;
    auto node = Node::Open(options);
    ASSERT_TRUE(node.ok()) << node.status().ToString();
    node_ = std::move(*node);
    if (admin_key_.empty()) {
      auto user = node_->store().EnsureUser("admin@alliance.test", "Alliance", store::Role::kAdmin);
      ASSERT_TRUE(user.ok());
      auto key = node_->store().CreateKey(user->id, store::KeyOptions{});
      ASSERT_TRUE(key.ok());
      admin_key_ = key->key;
      auto reader = node_->store().EnsureUser("reader@partner.test", "Partner", store::Role::kUser);
      ASSERT_TRUE(reader.ok());
      auto rkey = node_->store().CreateKey(reader->id, store::KeyOptions{});
      ASSERT_TRUE(rkey.ok());
      user_key_ = rkey->key;
    }
    net::ServerOptions server_options;
    server_options.body_limit_bytes = body_limit_;
    server_options.worker_threads = 4;
    Node* raw = node_.get();
    // As `node serve` runs it: the key is checked on the head, before the body is read.
    server_options.admit = [raw](const net::Request& head, size_t* limit) {
      return raw->Admit(head, limit);
    };
    auto server =
        net::HttpServer::Start(server_options, [raw](net::Request& r) { return raw->Handle(r); });
    ASSERT_TRUE(server.ok()) << server.status().ToString();
    server_ = std::move(*server);
  }

  void TearDown() override {
    server_.reset();
    node_.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  // A request as PyMISP sends it: the key raw in Authorization, JSON both ways.
  net::ClientResponse Call(const std::string& method, const std::string& path,
                           const std::string& body = "", const std::string& key = "-",
                           std::vector<std::pair<std::string, std::string>> headers = {}) {
    net::ClientRequest req;
    req.method = method;
    req.url = "http://127.0.0.1:" + std::to_string(server_->port()) + path;
    req.body = body;
    req.headers = {{"Accept", "application/json"},
                   {"Content-Type", "application/json"},
                   {"User-Agent", "PyMISP 2.5.34.1 - Python 3.11"}};
    std::string k = key == "-" ? admin_key_ : key;
    if (!k.empty()) req.headers.emplace_back("Authorization", k);
    for (auto& h : headers) req.headers.push_back(h);
    auto resp = net::Fetch(req);
    EXPECT_TRUE(resp.ok()) << resp.status().ToString();
    return resp.ok() ? *resp : net::ClientResponse{};
  }

  // events/add with the admin key; the event must be accepted.
  void AddEvent(const nlohmann::json& event) {
    auto r = Call("POST", "/events/add", event.dump());
    ASSERT_EQ(r.status, 200) << r.body;
  }

  // What `node import` does beside the node: another Store on the same file writes one event
  // with one attribute.
  void ImportElsewhere(const std::string& info, const std::string& type, const std::string& value) {
    auto other = store::Store::Open(dir_, store::StoreOptions{});
    ASSERT_TRUE(other.ok()) << other.status().ToString();
    core::Event e;
    e.info = info;
    core::Attribute a;
    auto indicator = core::ParseIndicator(type, value);
    ASSERT_TRUE(indicator.ok()) << value;
    a.indicator = *indicator;
    e.attributes.push_back(a);
    ASSERT_TRUE((*other)->ImportEvents({&e, 1}, store::ImportOptions{}).ok());
  }

  nlohmann::json Json(const net::ClientResponse& r) {
    auto j = nlohmann::json::parse(r.body, nullptr, false);
    EXPECT_FALSE(j.is_discarded()) << r.body.substr(0, 500);
    return j;
  }

  std::string dir_;
  size_t body_limit_ = 64 * 1024 * 1024;
  std::unique_ptr<Node> node_;
  std::unique_ptr<net::HttpServer> server_;
  std::string admin_key_;
  std::string user_key_;
};

}  // namespace iocgrid::node
