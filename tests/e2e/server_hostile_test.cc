// Real node and portal processes against hostile clients on loopback: bodies announced before
// a key, thousands of idle sockets, ports out of range.
#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "net/http_client.h"
#include "tests/common/peak_rss.h"
#include "tests/common/raw_http.h"
#include "tests/e2e/process.h"

namespace iocgrid::e2e {
namespace {

using namespace std::chrono_literals;

uint16_t PortOf(const std::string& url) {
  return static_cast<uint16_t>(std::stoi(url.substr(url.rfind(':') + 1)));
}

class NodeProcessTest : public ::testing::Test {
 protected:
  void SetUp() override {
    data_ = dir_.path() + "/node";
    key_ = CreateNodeKey(data_, "hp");
    ASSERT_EQ(key_.size(), 40u);
    node_ = std::make_unique<Background>(
        std::vector<std::string>{"node", "serve", "--data", data_, "--listen", "127.0.0.1:0"});
    ASSERT_FALSE(node_->url().empty()) << node_->log();
  }
  TempDir dir_;
  std::string data_, key_;
  std::unique_ptr<Background> node_;
};

TEST_F(NodeProcessTest, BodiesWithoutAKeyAreRefusedOnTheirHeaders) {
  long before = test::PeakRssKib(std::to_string(node_->pid())) / 1024;
  std::vector<std::thread> senders;
  std::vector<std::string> answers(4);
  for (int i = 0; i < 4; ++i) {
    senders.emplace_back([&, i] {
      std::string req =
          "POST /events/add HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
          "Content-Length: 262144000\r\n\r\n" +
          std::string(1 << 20, '[');
      answers[i] = testutil::RawExchange(PortOf(node_->url()), req);
    });
  }
  for (auto& t : senders) t.join();
  for (const auto& a : answers) {
    EXPECT_NE(a.find("403 Forbidden"), std::string::npos) << a.substr(0, 200);
    EXPECT_NE(a.find("\"url\":\"/events/add\""), std::string::npos) << a.substr(0, 300);
  }
  EXPECT_LT(test::PeakRssKib(std::to_string(node_->pid())) / 1024 - before, 64)
      << "the unauthenticated bodies were buffered";
  // With the key the node answers as before.
  net::ClientRequest req;
  req.url = node_->url() + "/servers/getVersion";
  req.headers = {{"Authorization", key_}};
  auto r = net::Fetch(req);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 200);
}

TEST_F(NodeProcessTest, TwoThousandIdleSocketsDoNotLockOutTheKey) {
  std::vector<int> idle;
  for (int i = 0; i < 2000; ++i) {
    int fd = testutil::ConnectLoopback(PortOf(node_->url()));
    ASSERT_GE(fd, 0) << i;
    idle.push_back(fd);
  }
  for (int i = 0; i < 10; ++i) {
    net::ClientRequest req;
    req.url = node_->url() + "/servers/getVersion";
    req.headers = {{"Authorization", key_}};
    req.timeout = 10s;
    auto r = net::Fetch(req);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(r->status, 200) << r->body;
  }
  for (int fd : idle) close(fd);
}

TEST(ListenTest, PortsOutOfRangeAreErrorsNotWrapped) {
  TempDir dir;
  std::string data = dir.path() + "/node";
  ASSERT_EQ(RunIocgrid({"node", "keys", "create", "--data", data, "--org", "x"}).exit_code, 0);
  auto node = RunIocgrid({"node", "serve", "--data", data, "--listen", "127.0.0.1:70000"});
  EXPECT_NE(node.exit_code, 0);
  EXPECT_NE(node.err.find("65535"), std::string::npos) << node.err;
  std::string config = dir.Write("portal.toml", "listen = \"127.0.0.1:70000\"\ndata = \"p\"\n");
  auto portal = RunIocgrid({"portal", "serve", "--config", config});
  EXPECT_NE(portal.exit_code, 0);
  EXPECT_NE(portal.err.find("65535"), std::string::npos) << portal.err;
  auto flag = RunIocgrid({"portal", "serve", "--config", config, "--listen", "127.0.0.1:4464x"});
  EXPECT_NE(flag.exit_code, 0);
}

}  // namespace
}  // namespace iocgrid::e2e
