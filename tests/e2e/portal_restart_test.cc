// A real portal process killed (SIGKILL) or stopped (SIGTERM) while a search waits on a member
// that never answers: after a restart the search keeps its indicators, member statuses and
// every hit already received, is "interrupted", exports what it has, and can be re-run.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <iterator>
#include <map>
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
    std::string member_file =
        dir_.Write("member.txt", "198.51.100.0/24\nevil.example\n185.220.101.7\nrelay-c2.net\n");
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

// Reports of alliance sightings are staged until a fold (docs/trends.md, Storage): three
// organisations' reports, answered and recorded but not yet folded when the portal is killed or
// stopped, are all counted after the restart.
TEST_P(PortalRestartTest, RecordedSightingsAreCountedAfterARestart) {
  // The live member only: a report is matched as a search, which would wait on the other.
  std::string text;
  {
    std::ifstream in(config_);
    text.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  text = text.substr(0, text.find("[[members]]\nname = \"slow\""));
  for (const char* org : {"bank-a", "bank-b", "bank-c"}) {
    text += "[[orgs]]\nname = \"" + std::string(org) + "\"\nsector = \"finance\"\n";
  }
  config_ = dir_.Write("sightings.toml", text);
  std::map<std::string, std::string> keys;
  for (const char* org : {"bank-a", "bank-b", "bank-c"}) {
    keys[org] = Line(RunIocgrid({"portal", "users", "create", "--config", config_, "--name",
                                 std::string("analyst-") + org, "--org", org})
                         .out);
    ASSERT_EQ(keys[org].size(), 40u) << org;
  }
  auto as = [&](const std::string& org) {
    key_ = keys[org];
    return org;
  };
  {
    Background portal({"portal", "serve", "--config", config_});
    ASSERT_FALSE(portal.url().empty()) << portal.log();
    for (const char* org : {"bank-a", "bank-b", "bank-c"}) {
      as(org);
      auto r = Call(portal.url(), "POST", "/api/v1/sightings",
                    R"([{"value":"185.220.101.7","count":2},{"value":"relay-c2.net"}])");
      ASSERT_EQ(r.status, 202) << r.body;
      const std::string id = json::parse(r.body)["id"];
      std::string status;
      for (int i = 0; i < 400 && status != "done"; ++i) {
        status = json::parse(Call(portal.url(), "GET", "/api/v1/sifts/" + id).body)["status"];
        if (status != "done") std::this_thread::sleep_for(25ms);
      }
      ASSERT_EQ(status, "done") << org;
    }
    int status = portal.Stop(GetParam());
    if (GetParam() == SIGTERM) {
      EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << portal.log();
    }
  }
  Background portal({"portal", "serve", "--config", config_});
  ASSERT_FALSE(portal.url().empty()) << portal.log();
  as("bank-a");
  auto r = Call(portal.url(), "GET", "/api/v1/trends/sectors?window=7d");
  ASSERT_EQ(r.status, 200) << r.body;
  const json answer = json::parse(r.body);
  json finance;
  for (const json& c : answer["cells"]) {
    if (c["sector"] == "finance") finance = c;
  }
  ASSERT_TRUE(finance.is_object()) << r.body;
  EXPECT_EQ(finance["suppressed"], false) << r.body;
  EXPECT_EQ(finance["organisations"], 3) << r.body;
  EXPECT_EQ(finance["observables"], 2) << r.body;
  EXPECT_EQ(finance["sightings"], 9) << r.body;  // 2 + 1 from each
}

INSTANTIATE_TEST_SUITE_P(Signals, PortalRestartTest, ::testing::Values(SIGKILL, SIGTERM),
                         [](const auto& p) { return p.param == SIGKILL ? "Kill" : "Term"; });

}  // namespace
}  // namespace iocgrid::e2e
