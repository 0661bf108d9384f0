// A real portal process killed (SIGKILL) or stopped (SIGTERM) while a search waits on a member
// that never answers: after a restart the search keeps its indicators, member statuses and
// every hit already received, is "interrupted", exports what it has, and can be re-run.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

#include "net/http_client.h"
#include "tests/common/fetch.h"
#include "tests/common/raw_http.h"
#include "tests/e2e/process.h"

namespace iocgrid::e2e {
namespace {

using json = nlohmann::json;
using namespace std::chrono_literals;

// A member that accepts connections (into the kernel's backlog) and never answers.
class HungMember {
 public:
  HungMember() {
    fd_ = testutil::ListenLoopback(&port_);
    EXPECT_GE(fd_, 0);
  }
  ~HungMember() { close(fd_); }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }

 private:
  int fd_ = -1;
  uint16_t port_ = 0;
};

class PortalRestartTest : public ::testing::TestWithParam<int> {
 protected:
  void SetUp() override {
    node_data_ = dir_.path() + "/node";
    std::string node_key = CreateNodeKey(node_data_, "hp");
    ASSERT_EQ(node_key.size(), 40u);
    std::string member_file = dir_.Write("member.txt", "198.51.100.0/24\nevil.example\n");
    ASSERT_EQ(RunIocgrid({"node", "import", "--data", node_data_, member_file}).exit_code, 0);
    node_ = std::make_unique<Background>(
        std::vector<std::string>{"node", "serve", "--data", node_data_, "--listen", "127.0.0.1:0"});
    ASSERT_FALSE(node_->url().empty()) << node_->log();
    config_ = dir_.Write("portal.toml",
                         "listen = \"127.0.0.1:0\"\ndata = \"pdata\"\nsearch_timeout_ms = 120000\n"
                         "[[members]]\nname = \"hp\"\nkind = \"iocgrid\"\nurl = \"" +
                             node_->url() + "\"\nkey = \"" + node_key +
                             "\"\n"
                             "[[members]]\nname = \"slow\"\nkind = \"iocgrid\"\nurl = \"" +
                             hung_.url() + "\"\nkey = \"" + std::string(40, 'x') +
                             "\"\ntimeout_ms = 120000\n");
    key_ =
        Line(RunIocgrid({"portal", "users", "create", "--config", config_, "--name", "alice"}).out);
    ASSERT_EQ(key_.size(), 40u);
  }

  net::ClientResponse Call(const std::string& base, const std::string& method,
                           const std::string& path, const std::string& body = "") {
    net::ClientRequest req;
    req.method = method;
    req.url = base + path;
    req.body = body;
    req.headers = {{"Authorization", key_}, {"Content-Type", "application/json"}};
    return test::FetchOrFail(req);
  }

  TempDir dir_;
  HungMember hung_;
  std::string node_data_, config_, key_;
  std::unique_ptr<Background> node_;
};

TEST_P(PortalRestartTest, ARunningSearchKeepsWhatItReceived) {
  std::string id;
  {
    Background portal({"portal", "serve", "--config", config_});
    ASSERT_FALSE(portal.url().empty()) << portal.log();
    auto created = Call(portal.url(), "POST", "/api/v1/searches",
                        R"({"indicators":["198.51.100.7","a.evil.example","203.0.113.9"],)"
                        R"("label":"incident 7","since":"2020-01-01"})");
    ASSERT_EQ(created.status, 201) << created.body;
    id = json::parse(created.body)["id"];
    // Wait until the live member has answered; the other one never will.
    bool hp_done = false;
    for (int i = 0; i < 200 && !hp_done; ++i) {
      json d = json::parse(Call(portal.url(), "GET", "/api/v1/searches/" + id).body);
      for (const auto& m : d["members"]) hp_done |= m["member"] == "hp" && m["status"] == "done";
      if (!hp_done) std::this_thread::sleep_for(50ms);
    }
    ASSERT_TRUE(hp_done);
    std::this_thread::sleep_for(300ms);  // the checkpoint is written off the answer's thread
    int status = portal.Stop(GetParam());
    if (GetParam() == SIGTERM) {
      EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << portal.log();
    }
  }
  Background portal({"portal", "serve", "--config", config_});
  ASSERT_FALSE(portal.url().empty()) << portal.log();
  json d = json::parse(Call(portal.url(), "GET", "/api/v1/searches/" + id).body);
  EXPECT_EQ(d["status"], "interrupted") << d.dump();
  EXPECT_TRUE(d.contains("interrupted")) << "the reason";
  EXPECT_EQ(d["label"], "incident 7");
  ASSERT_EQ(d["indicators"].size(), 3u) << d.dump();
  std::map<std::string, std::string> status;
  for (const auto& m : d["members"]) status[m["member"]] = m["status"];
  EXPECT_EQ(status["hp"], "done");
  EXPECT_NE(status["slow"], "done");
  size_t hits = 0;
  for (const auto& ind : d["indicators"]) hits += ind["hits"].size();
  EXPECT_EQ(hits, 2u) << d.dump();  // 198.51.100.7 in-range, a.evil.example subdomain
  EXPECT_EQ(d["scope"]["since"], "2020-01-01T00:00:00Z");
  auto csv = Call(portal.url(), "GET", "/api/v1/searches/" + id + "/export?format=csv");
  EXPECT_NE(csv.body.find("198.51.100.7"), std::string::npos) << csv.body;
  json exported =
      json::parse(Call(portal.url(), "GET", "/api/v1/searches/" + id + "/export?format=json").body);
  EXPECT_EQ(exported["indicators"].size(), 3u);
  json history = json::parse(Call(portal.url(), "GET", "/api/v1/searches").body);
  ASSERT_EQ(history.size(), 1u);
  EXPECT_EQ(history[0]["status"], "interrupted");
  auto rerun = Call(portal.url(), "POST", "/api/v1/searches/" + id + "/rerun");
  EXPECT_EQ(rerun.status, 201) << rerun.body;
}

INSTANTIATE_TEST_SUITE_P(Signals, PortalRestartTest, ::testing::Values(SIGKILL, SIGTERM),
                         [](const auto& p) { return p.param == SIGKILL ? "Kill" : "Term"; });

}  // namespace
}  // namespace iocgrid::e2e
