// `iocgrid search --private` against a real portal process and a real node process: the
// queries are blinded by the CLI, the portal relays frames, and the hits equal plain search's
// (issue 10, "CLI-blinded"); the portal's files keep no queried value; the relay refuses what
// it must not forward.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>
#include <thread>

#include "net/http_client.h"
#include "net/http_server.h"
#include "tests/e2e/process.h"

namespace iocgrid::e2e {
namespace {

using json = nlohmann::json;
using namespace std::chrono_literals;

// (query as written, relation, matched, type) of every hit line of `search --format json`.
std::set<std::string> HitKeys(const std::string& ndjson, std::string* members) {
  std::set<std::string> out;
  std::istringstream in(ndjson);
  std::string line;
  while (std::getline(in, line)) {
    json j = json::parse(line, nullptr, false);
    if (j.value("kind", "") == "hit") {
      out.insert(j.value("query", "") + " " + j.value("relation", "") + " " +
                 j.value("matched", "") + " " + j.value("type", ""));
    } else if (j.value("kind", "") == "member") {
      *members += j.value("member", "") + "=" + j.value("status", "") + " ";
    }
  }
  return out;
}

std::string FilesUnder(const std::string& dir) {
  std::string all;
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir)) {
    if (!e.is_regular_file()) continue;
    std::ifstream in(e.path(), std::ios::binary);
    all += std::string(std::istreambuf_iterator<char>(in), {});
  }
  return all;
}

net::ClientResponse Call(const std::string& url, const std::string& key,
                         const std::string& method = "GET") {
  net::ClientRequest req;
  req.method = method;
  req.url = url;
  req.headers = {{"Authorization", key}};
  auto r = net::Fetch(req);
  EXPECT_TRUE(r.ok()) << url << ": " << r.status().ToString();
  return r.ok() ? *r : net::ClientResponse{};
}

TEST(PrivateSearchCliTest, BlindedOnTheAnalystsMachineTheHitsArePlainSearchs) {
  TempDir dir;
  const std::string node_data = dir.path() + "/node";
  const std::string node_key = CreateNodeKey(node_data, "member");
  ASSERT_EQ(node_key.size(), 40u);
  const std::string member_file =
      dir.Write("member.txt",
                "198.51.100.0/24\nevil-private.example\nhttp://c2-private.example/gate.php\n"
                "44d88612fea8a8f36de82e1278abb02f\n203.0.113.77\nphish-private.example\n");
  ASSERT_EQ(RunIocgrid({"node", "import", "--data", node_data, member_file}).exit_code, 0);
  Background node({"node", "serve", "--data", node_data, "--listen", "127.0.0.1:0"});
  ASSERT_FALSE(node.url().empty()) << node.log();
  // The node makes its key on the first private-search request and tags in the background.
  bool ready = false;
  for (int i = 0; i < 600 && !ready; ++i) {
    json info = json::parse(Call(node.url() + "/grid/v1/psi/info", node_key).body, nullptr, false);
    ready = info.is_object() && info.value("ready", false);
    if (!ready) std::this_thread::sleep_for(50ms);
  }
  ASSERT_TRUE(ready);
  const std::string member = "url = \"" + node.url() + "\"\nkey = \"" + node_key + "\"\n";
  const std::string config = dir.Write(
      "portal.toml", "listen = \"127.0.0.1:0\"\ndata = \"pdata\"\n[[members]]\nname = \"plain\"\n" +
                         member + "[[members]]\nname = \"secret\"\ndisclosure = \"private\"\n" +
                         member + "[[members]]\nname = \"bucket\"\ndisclosure = \"private\"\n" +
                         "psi_mode = \"bucketed\"\n" + member);
  const std::string key =
      Line(RunIocgrid({"portal", "users", "create", "--config", config, "--name", "alice"}).out);
  ASSERT_EQ(key.size(), 40u);
  Background portal({"portal", "serve", "--config", config});
  ASSERT_FALSE(portal.url().empty()) << portal.log();

  const std::string queries =
      "198.51.100.7\nsub.evil-private.example\nc2-private.example\nhttp://phish-private.example/x\n"
      "44D88612FEA8A8F36DE82E1278ABB02F\n203.0.113.77\nonly-asked-4711.example\n";
  auto plain = RunIocgrid({"search", "--portal", portal.url(), "--key", key, "--members", "plain",
                           "--format", "json", "-"},
                          queries);
  ASSERT_EQ(plain.exit_code, 0) << plain.err;
  std::string plain_members;
  std::set<std::string> want = HitKeys(plain.out, &plain_members);
  EXPECT_GE(want.size(), 6u) << plain.out;  // in-range, subdomain, url-host both ways, exact

  const std::string before = FilesUnder(dir.path() + "/pdata");
  for (const char* name : {"secret", "bucket"}) {
    SCOPED_TRACE(name);
    auto priv = RunIocgrid({"search", "--private", "--portal", portal.url(), "--key", key,
                            "--members", name, "--format", "json", "-"},
                           queries + "private-only-9931.example\n");
    ASSERT_EQ(priv.exit_code, 0) << priv.err;
    std::string members;
    EXPECT_EQ(HitKeys(priv.out, &members), want) << priv.out;
    EXPECT_EQ(members, std::string(name) + "=done ");
  }
  // The portal relayed frames and kept counts: its files hold the plain search's values (the
  // check can see them) and none that only the private searches asked.
  const std::string after = FilesUnder(dir.path() + "/pdata");
  EXPECT_NE(before.find("only-asked-4711.example"), std::string::npos);
  EXPECT_EQ(after.find("private-only-9931"), std::string::npos);
  json me = json::parse(Call(portal.url() + "/api/v1/me", key).body, nullptr, false);
  EXPECT_GT(me["private_relayed"].value("requests", 0), 4);

  // Table output, and what --private refuses.
  auto table = RunIocgrid({"search", "--private", "--portal", portal.url(), "--key", key, "-"},
                          "198.51.100.7\n");
  EXPECT_EQ(table.exit_code, 0) << table.err;
  EXPECT_NE(table.out.find("held by 2 of 2 members"), std::string::npos) << table.out;
  auto miss = RunIocgrid({"search", "--private", "--portal", portal.url(), "--key", key, "-"},
                         "only-asked-4711.example\n");
  EXPECT_EQ(miss.exit_code, 1) << miss.err;
  auto not_private = RunIocgrid(
      {"search", "--private", "--portal", portal.url(), "--key", key, "--members", "plain", "-"},
      "198.51.100.7\n");
  EXPECT_EQ(not_private.exit_code, 2);
  EXPECT_NE(not_private.err.find("plain does not answer private searches"), std::string::npos)
      << not_private.err;
  auto csv = RunIocgrid(
      {"search", "--private", "--portal", portal.url(), "--key", key, "--format", "csv", "-"},
      "198.51.100.7\n");
  EXPECT_EQ(csv.exit_code, 2);
  EXPECT_NE(csv.err.find("table or json"), std::string::npos) << csv.err;
  auto since = RunIocgrid(
      {"search", "--private", "--portal", portal.url(), "--key", key, "--since", "yesterday", "-"},
      "198.51.100.7\n");
  EXPECT_EQ(since.exit_code, 2);
  EXPECT_NE(since.err.find("--since"), std::string::npos) << since.err;
}

TEST(PrivateSearchCliTest, TheRelayForwardsOnlyPrivateSearchToPrivateMembers) {
  TempDir dir;
  const std::string node_data = dir.path() + "/node";
  const std::string node_key = CreateNodeKey(node_data, "member");
  Background node({"node", "serve", "--data", node_data, "--listen", "127.0.0.1:0", "--create"});
  ASSERT_FALSE(node.url().empty()) << node.log();
  const std::string member = "url = \"" + node.url() + "\"\nkey = \"" + node_key + "\"\n";
  const std::string config =
      dir.Write("portal.toml",
                "listen = \"127.0.0.1:0\"\ndata = \"pdata\"\n"
                "private_evaluations_per_user_day = 20\n[[members]]\nname = \"plain\"\n" +
                    member + "[[members]]\nname = \"secret\"\ndisclosure = \"private\"\n" + member);
  const std::string key =
      Line(RunIocgrid({"portal", "users", "create", "--config", config, "--name", "bob"}).out);
  const std::string other =
      Line(RunIocgrid({"portal", "users", "create", "--config", config, "--name", "carol"}).out);
  auto portal =
      std::make_unique<Background>(std::vector<std::string>{"portal", "serve", "--config", config});
  ASSERT_FALSE(portal->url().empty()) << portal->log();
  const std::string base = portal->url() + "/api/v1/private/";
  EXPECT_EQ(Call(base + "secret/grid/v1/psi/info", key).status, 200);
  EXPECT_EQ(Call(base + "secret/grid/v1/psi/info", std::string(40, 'z')).status, 403);
  EXPECT_EQ(Call(base + "plain/grid/v1/psi/info", key).status, 400);
  EXPECT_EQ(Call(base + "nobody/grid/v1/psi/info", key).status, 404);
  EXPECT_EQ(Call(base + "secret/grid/v1/psi/keys", key).status, 404);
  EXPECT_EQ(Call(base + "secret/grid/v1/psi/evaluate", key).status, 405);
  EXPECT_EQ(Call(base + "secret/grid/v1/psi/%2e%2e%2fstats", key).status, 404);
  EXPECT_EQ(Call(base + "secret/grid/v1/match", key, "POST").status, 404);
  // The member's own errors come back as they are (a bad frame is the member's 400).
  net::ClientRequest bad;
  bad.method = "POST";
  bad.url = base + "secret/grid/v1/psi/evaluate";
  bad.headers = {{"Authorization", key}, {"Content-Type", "application/octet-stream"}};
  bad.body = "not a frame";
  auto r = net::Fetch(bad);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 400);
  json body = json::parse(r->body, nullptr, false);
  EXPECT_TRUE(body.contains("message")) << r->body;
  // A body larger than any frame is refused before it is read or forwarded.
  bad.body.assign(9u << 20, 'p');
  auto huge = net::Fetch(bad);
  ASSERT_TRUE(huge.ok()) << huge.status().ToString();
  EXPECT_EQ(huge->status, 413);

  // Each user has a daily share of the evaluations the member grants the portal: bob's search
  // of more values than his 20 is refused at the relay with the numbers; carol's share is whole.
  std::string many;
  for (int i = 1; i <= 10; ++i) many += "198.51.100." + std::to_string(i) + "\n";
  auto over =
      RunIocgrid({"search", "--private", "--portal", portal->url(), "--key", key, "-"}, many);
  EXPECT_EQ(over.exit_code, 1) << over.err;
  EXPECT_NE(over.err.find("of your 20 for today"), std::string::npos) << over.err;
  auto small = RunIocgrid({"search", "--private", "--portal", portal->url(), "--key", other, "-"},
                          "evil.example\n");
  EXPECT_EQ(small.exit_code, 1) << small.err;  // nothing held, but asked
  EXPECT_NE(small.err.find("secret"), std::string::npos) << small.err;
  EXPECT_EQ(small.err.find("failed"), std::string::npos) << small.err;

  // The shares are counted in the portal's store: after a restart carol's day is not new.
  portal.reset();
  portal =
      std::make_unique<Background>(std::vector<std::string>{"portal", "serve", "--config", config});
  ASSERT_FALSE(portal->url().empty()) << portal->log();
  auto after_restart =
      RunIocgrid({"search", "--private", "--portal", portal->url(), "--key", other, "-"}, many);
  EXPECT_EQ(after_restart.exit_code, 1) << after_restart.err;
  EXPECT_NE(after_restart.err.find("of your 20 for today"), std::string::npos) << after_restart.err;
  EXPECT_EQ(after_restart.err.find("you have used 0 of"), std::string::npos) << after_restart.err;
}

// A private member that answers too much, or never, costs the relay one bounded request: the
// analyst gets a 502 naming the reason, and the portal stays up.
TEST(PrivateSearchCliTest, AMemberThatFloodsOrHangsIsA502) {
  TempDir dir;
  std::atomic<bool> release{false};
  auto member = net::HttpServer::Start(net::ServerOptions{}, [&release](net::Request& r) {
    net::Response resp;
    resp.content_type = "application/octet-stream";
    if (r.query.find("hang") != std::string::npos || r.path.find("evaluate") != std::string::npos) {
      for (int i = 0; i < 200 && !release.load(); ++i) std::this_thread::sleep_for(50ms);
      return resp;
    }
    resp.body.assign(8u << 20, 'x');  // 8 MiB against a 1 MiB cap
    return resp;
  });
  ASSERT_TRUE(member.ok());
  const std::string url = "http://127.0.0.1:" + std::to_string((*member)->port());
  const std::string config =
      dir.Write("portal.toml",
                "listen = \"127.0.0.1:0\"\ndata = \"pdata\"\n[[members]]\nname = \"big\"\n"
                "disclosure = \"private\"\nmax_response_mb = 1\ntimeout_ms = 1000\nurl = \"" +
                    url + "\"\nkey = \"" + std::string(40, 'k') + "\"\n");
  const std::string key =
      Line(RunIocgrid({"portal", "users", "create", "--config", config, "--name", "eve"}).out);
  Background portal({"portal", "serve", "--config", config});
  ASSERT_FALSE(portal.url().empty()) << portal.log();
  const std::string base = portal.url() + "/api/v1/private/big/grid/v1/psi/";
  net::ClientResponse flood = Call(base + "info", key);
  EXPECT_EQ(flood.status, 502);
  EXPECT_NE(flood.body.find("did not answer"), std::string::npos) << flood.body;
  const auto start = std::chrono::steady_clock::now();
  net::ClientResponse hung = Call(base + "info?hang=1", key);
  EXPECT_EQ(hung.status, 502);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 8s);  // the member's timeout, not ours
  release = true;
  EXPECT_EQ(Call(portal.url() + "/api/v1/me", key).status, 200);  // still serving
  auto search = RunIocgrid({"search", "--private", "--portal", portal.url(), "--key", key, "-"},
                           "198.51.100.7\n");
  EXPECT_EQ(search.exit_code, 1) << search.err;  // no hit: the member failed
  EXPECT_NE(search.err.find("big"), std::string::npos) << search.err;
  EXPECT_NE(search.err.find("failed"), std::string::npos) << search.err;
}

}  // namespace
}  // namespace iocgrid::e2e
