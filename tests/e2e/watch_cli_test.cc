// `iocgrid watch` against real processes: a node process whose data changes through `iocgrid
// node import` (another process, on the node's data directory) while a watchlist is active, a
// portal process, and a webhook receiver in this process (issue 11).
#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "net/http_server.h"
#include "tests/e2e/process.h"

namespace iocgrid::e2e {
namespace {

using json = nlohmann::json;
using namespace std::chrono_literals;

TEST(WatchCliTest, ANodeImportWhileWatchingGivesExactlyOneDeliveryOfTheNewHits) {
  TempDir dir;
  const std::string node_data = dir.path() + "/node";
  const std::string node_key = CreateNodeKey(node_data, "hp");
  ASSERT_EQ(node_key.size(), 40u);
  ASSERT_EQ(
      RunIocgrid({"node", "import", "--data", node_data, dir.Write("first.txt", "198.51.100.7\n")})
          .exit_code,
      0);
  Background node({"node", "serve", "--data", node_data, "--listen", "127.0.0.1:0"});
  ASSERT_FALSE(node.url().empty()) << node.log();
  const std::string config =
      dir.Write("portal.toml",
                "listen = \"127.0.0.1:0\"\ndata = \"pdata\"\nwebhook_allow_internal = true\n"
                "[[members]]\nname = \"hp\"\n"
                "kind = \"iocgrid\"\nurl = \"" +
                    node.url() + "\"\nkey = \"" + node_key + "\"\n");
  const std::string key =
      Line(RunIocgrid({"portal", "users", "create", "--config", config, "--name", "alice"}).out);
  ASSERT_EQ(key.size(), 40u);
  Background portal({"portal", "serve", "--config", config, "--watch-poll-seconds", "1",
                     "--min-watch-interval-seconds", "1"});
  ASSERT_FALSE(portal.url().empty()) << portal.log();

  std::mutex mu;
  std::vector<json> got;
  auto receiver = std::move(*net::HttpServer::Start(net::ServerOptions{}, [&](net::Request& r) {
    std::lock_guard<std::mutex> lock(mu);
    got.push_back(json::parse(r.body, nullptr, false));
    return net::Response{};
  }));
  auto wait_for = [&](size_t n) {
    for (int i = 0; i < 300; ++i) {
      {
        std::lock_guard<std::mutex> lock(mu);
        if (got.size() >= n) return got;
      }
      std::this_thread::sleep_for(50ms);
    }
    std::lock_guard<std::mutex> lock(mu);
    return got;
  };

  const std::string secret = dir.Write("secret", "a-secret-of-some-length\n");
  auto added = RunIocgrid(
      {"watch", "add", "--portal", portal.url(), "--key", key, "--name", "case 42", "--interval",
       "1h", "--webhook", "http://127.0.0.1:" + std::to_string(receiver->port()) + "/hook",
       "--secret-file", secret, "-"},
      "198.51.100.7\nlater.example\n");
  ASSERT_EQ(added.exit_code, 0) << added.err;
  const std::string id = Line(added.out);
  ASSERT_EQ(id.size(), 16u) << added.out;
  auto first = wait_for(1);
  ASSERT_EQ(first.size(), 1u);
  ASSERT_EQ(first[0]["new"].size(), 1u) << first[0].dump();
  EXPECT_EQ(first[0]["new"][0]["indicator"], "198.51.100.7");

  std::this_thread::sleep_for(1500ms);  // the watcher records the node's data generation
  ASSERT_EQ(RunIocgrid(
                {"node", "import", "--data", node_data, dir.Write("second.txt", "later.example\n")})
                .exit_code,
            0);
  auto second = wait_for(2);
  ASSERT_EQ(second.size(), 2u);
  EXPECT_EQ(second[1]["run"]["reason"], "data-changed");
  ASSERT_EQ(second[1]["new"].size(), 1u) << second[1].dump();
  EXPECT_EQ(second[1]["new"][0]["indicator"], "later.example");
  EXPECT_TRUE(second[1]["removed"].empty());
  std::this_thread::sleep_for(2500ms);
  EXPECT_EQ(wait_for(2).size(), 2u);  // exactly one delivery for the import

  auto list = RunIocgrid({"watch", "list", "--portal", portal.url(), "--key", key});
  EXPECT_EQ(list.exit_code, 0) << list.err;
  EXPECT_NE(list.out.find("case 42"), std::string::npos) << list.out;
  auto runs = RunIocgrid({"watch", "runs", "--portal", portal.url(), "--key", key, id});
  EXPECT_EQ(runs.exit_code, 0) << runs.err;
  EXPECT_NE(runs.out.find("data-changed"), std::string::npos) << runs.out;
  EXPECT_NE(runs.out.find("+ later.example"), std::string::npos) << runs.out;
  // Errors name the problem; nothing is left behind by a refused add.
  auto no_secret = RunIocgrid({"watch", "add", "--portal", portal.url(), "--key", key, "--name",
                               "x", "--webhook", "http://127.0.0.1:9/", "-"},
                              "1.2.3.4\n");
  EXPECT_EQ(no_secret.exit_code, 2);
  EXPECT_NE(no_secret.err.find("--secret-file"), std::string::npos) << no_secret.err;
  auto bad_interval = RunIocgrid({"watch", "add", "--portal", portal.url(), "--key", key, "--name",
                                  "x", "--interval", "soon", "-"},
                                 "1.2.3.4\n");
  EXPECT_EQ(bad_interval.exit_code, 2);
  EXPECT_NE(bad_interval.err.find("interval"), std::string::npos) << bad_interval.err;
  auto rm = RunIocgrid({"watch", "rm", "--portal", portal.url(), "--key", key, id});
  EXPECT_EQ(rm.exit_code, 0) << rm.err;
  auto gone = RunIocgrid({"watch", "rm", "--portal", portal.url(), "--key", key, id});
  EXPECT_EQ(gone.exit_code, 2);
  EXPECT_NE(gone.err.find("404"), std::string::npos) << gone.err;
  auto bad_id = RunIocgrid({"watch", "runs", "--portal", portal.url(), "--key", key, "../me"});
  EXPECT_EQ(bad_id.exit_code, 2);
  EXPECT_NE(bad_id.err.find("not a watchlist id"), std::string::npos) << bad_id.err;
  auto empty = RunIocgrid({"watch", "list", "--portal", portal.url(), "--key", key});
  EXPECT_EQ(empty.exit_code, 1);
}

}  // namespace
}  // namespace iocgrid::e2e
