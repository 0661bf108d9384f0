// `iocgrid search` against a real portal process and real node processes.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "net/http_client.h"
#include "tests/e2e/process.h"

namespace iocgrid::e2e {
namespace {

using json = nlohmann::json;

TEST(SearchCliTest, SearchesThroughThePortalWithNdjsonAndExports) {
  TempDir dir;
  std::string node_data = dir.path() + "/node";
  std::string node_key = CreateNodeKey(node_data, "hp");
  ASSERT_EQ(node_key.size(), 40u);
  std::string member_file = dir.Write("member.txt", "198.51.100.0/24\nevil.example\n");
  ASSERT_EQ(RunIocgrid({"node", "import", "--data", node_data, member_file}).exit_code, 0);
  Background node({"node", "serve", "--data", node_data, "--listen", "127.0.0.1:0"});
  ASSERT_FALSE(node.url().empty()) << node.log();
  std::string config = dir.Write(
      "portal.toml",
      "listen = \"127.0.0.1:0\"\ndata = \"pdata\"\n"
      "[[members]]\nname = \"hp\"\nkind = \"iocgrid\"\nurl = \"" +
          node.url() + "\"\nkey = \"" + node_key +
          "\"\n"
          "[[members]]\nname = \"gone\"\nkind = \"iocgrid\"\nurl = \"http://127.0.0.1:9\"\n"
          "key = \"" +
          std::string(40, 'x') + "\"\ntimeout_ms = 2000\n");
  std::string key =
      Line(RunIocgrid({"portal", "users", "create", "--config", config, "--name", "alice"}).out);
  ASSERT_EQ(key.size(), 40u);
  Background portal({"portal", "serve", "--config", config});
  ASSERT_FALSE(portal.url().empty()) << portal.log();

  auto r = RunIocgrid({"search", "--portal", portal.url(), "--key", key, "--format", "json", "-"},
                      "198.51.100.7\na.evil[.]example\nnothing.example\n");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::set<std::string> hits;
  std::map<std::string, std::string> members;
  std::istringstream in(r.out);
  std::string line;
  while (std::getline(in, line)) {
    json j = json::parse(line);
    if (j["kind"] == "hit") {
      for (const char* k : {"query", "member", "relation", "matched", "type", "category",
                            "event_info", "first_seen", "last_seen"}) {
        EXPECT_TRUE(j.contains(k)) << k;
      }
      hits.insert(j["query"].get<std::string>() + " " + j["relation"].get<std::string>());
    } else if (j["kind"] == "member") {
      for (const char* k : {"member", "status", "error", "elapsed_ms", "hits"})
        EXPECT_TRUE(j.contains(k)) << k;
      members[j["member"]] = j["status"];
    }
  }
  EXPECT_EQ(hits, (std::set<std::string>{"198.51.100.7 in-range", "a.evil[.]example subdomain"}));
  EXPECT_EQ(members["hp"], "done");
  EXPECT_EQ(members["gone"], "failed");

  auto table =
      RunIocgrid({"search", "--portal", portal.url(), "--key", key, "-"}, "198.51.100.7\n");
  EXPECT_EQ(table.exit_code, 0);
  EXPECT_NE(table.out.find("held by 1 of 2 members"), std::string::npos) << table.out;
  auto csv = RunIocgrid({"search", "--portal", portal.url(), "--key", key, "--format", "csv", "-"},
                        "evil.example\n");
  EXPECT_EQ(csv.exit_code, 0);
  EXPECT_EQ(csv.out.rfind("query,query_type,member,relation", 0), 0u) << csv.out;
  auto none =
      RunIocgrid({"search", "--portal", portal.url(), "--key", key, "-"}, "203.0.113.200\n");
  EXPECT_EQ(none.exit_code, 1) << none.err;
  auto badkey = RunIocgrid({"search", "--portal", portal.url(), "--key", std::string(40, 'b'), "-"},
                           "1.2.3.4\n");
  EXPECT_EQ(badkey.exit_code, 2);
  EXPECT_NE(badkey.err.find("Authentication failed"), std::string::npos) << badkey.err;

  // --confirm: every hit goes back to the member holding it as a sighting, and the node shows it
  // in its MISP API with the member's own value (the CIDR) and the source given.
  auto confirmed = RunIocgrid({"search", "--portal", portal.url(), "--key", key, "--confirm",
                               "true-positive", "--confirm-source", "ACME CERT", "-q", "-"},
                              "198.51.100.7\n");
  EXPECT_EQ(confirmed.exit_code, 0) << confirmed.err;
  EXPECT_NE(confirmed.err.find("true-positive to hp: 1 sent, 0 refused, 0 failed"),
            std::string::npos)
      << confirmed.err;
  net::ClientRequest sightings;
  sightings.method = "POST";
  sightings.url = node.url() + "/sightings/restSearch";
  sightings.body = "{}";
  sightings.headers = {{"Authorization", node_key}, {"Content-Type", "application/json"}};
  auto at_node = net::Fetch(sightings);
  ASSERT_TRUE(at_node.ok() && at_node->status == 200);
  json listed = json::parse(at_node->body)["response"];
  ASSERT_EQ(listed.size(), 1u) << at_node->body;
  EXPECT_EQ(listed[0]["Sighting"]["value"], "198.51.100.0/24");
  EXPECT_EQ(listed[0]["Sighting"]["source"], "ACME CERT");
  for (const auto& bad :
       std::vector<std::vector<std::string>>{{"--confirm", "maybe"},
                                             {"--confirm-source", "x"},
                                             {"--confirm", "true-positive", "--private"}}) {
    std::vector<std::string> args = {"search", "--portal", portal.url(), "--key", key};
    args.insert(args.end(), bad.begin(), bad.end());
    args.push_back("-");
    auto refused = RunIocgrid(args, "198.51.100.7\n");
    EXPECT_EQ(refused.exit_code, 2) << bad[0];
    EXPECT_NE(refused.err.find("--confirm"), std::string::npos) << refused.err;
  }

  // --explain: one value's reputation.
  auto explained =
      RunIocgrid({"search", "--portal", portal.url(), "--key", key, "--explain", "198.51.100.7"});
  EXPECT_EQ(explained.exit_code, 0) << explained.err;
  EXPECT_NE(explained.out.find("held by 1 of 1 member(s) that answered (relations: in-range)"),
            std::string::npos)
      << explained.out;
  EXPECT_NE(explained.out.find("score = 100 x consensus 1.00"), std::string::npos) << explained.out;
  auto explained_json = RunIocgrid({"search", "--portal", portal.url(), "--key", key, "--explain",
                                    "nothing.example", "--format", "json"});
  EXPECT_EQ(explained_json.exit_code, 1) << explained_json.err;
  EXPECT_EQ(json::parse(explained_json.out)["held_by"], 0);
  auto explain_and_file = RunIocgrid(
      {"search", "--portal", portal.url(), "--key", key, "--explain", "1.2.3.4", "-"}, "1.2.3.4\n");
  EXPECT_EQ(explain_and_file.exit_code, 2);
  EXPECT_NE(explain_and_file.err.find("--explain"), std::string::npos);

  auto check = RunIocgrid({"portal", "members", "check", "--config", config});
  EXPECT_EQ(check.exit_code, 1);  // one member is down
  EXPECT_NE(check.out.find("DOWN"), std::string::npos) << check.out;
}

}  // namespace
}  // namespace iocgrid::e2e
