// `iocgrid node` as an operator runs it: real processes, a real SQLite file, real HTTP.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "net/http_client.h"
#include "store/store.h"
#include "tests/common/fetch.h"
#include "tests/e2e/process.h"

namespace iocgrid::e2e {
namespace {

using json = nlohmann::json;
using namespace std::chrono_literals;

const std::string kShared = IOCGRID_SHARED_DATA_DIR;

// A `node serve` child process; its port is read from the "listening on" line.
// `node serve` on an ephemeral port, as the other e2e tests run servers (process.h).
std::unique_ptr<Background> Serve(const std::string& data_dir) {
  return std::make_unique<Background>(
      std::vector<std::string>{"node", "serve", "--data", data_dir, "--listen", "127.0.0.1:0"});
}

net::ClientResponse Post(const Background& s, const std::string& path, const std::string& key,
                         const std::string& body) {
  net::ClientRequest req;
  req.method = "POST";
  req.url = s.url() + path;
  req.body = body;
  req.headers = {
      {"Authorization", key}, {"Accept", "application/json"}, {"Content-Type", "application/json"}};
  return test::FetchOrFail(req);
}

TEST(NodeCliTest, ImportServeSearchAndStopGracefully) {
  TempDir dir;
  std::string data = dir.path() + "/node";
  auto key = RunIocgrid(
      {"node", "keys", "create", "--data", data, "--org", "Honeypot", "--role", "admin"});
  ASSERT_EQ(key.exit_code, 0) << key.err;
  std::string api_key = Line(key.out);
  ASSERT_EQ(api_key.size(), 40u) << key.out;
  auto import =
      RunIocgrid({"node", "import", "--data", data, "--tag", "tlp:white",
                  kShared + "/D_member_honeypot/sequoia/Unauthorized_Access_Blocklist.txt",
                  kShared + "/C_member_anonymity/misp-warninglists/amazon-aws/list.json"});
  ASSERT_EQ(import.exit_code, 0) << import.err;
  EXPECT_NE(import.err.find("2 event(s) added"), std::string::npos) << import.err;
  // Idempotent: the same files again change nothing.
  auto again = RunIocgrid({"node", "import", "--data", data, "--tag", "tlp:white",
                           kShared + "/D_member_honeypot/sequoia/Unauthorized_Access_Blocklist.txt",
                           kShared + "/C_member_anonymity/misp-warninglists/amazon-aws/list.json"});
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_NE(again.err.find("0 event(s) added, 0 updated, 2 unchanged"), std::string::npos)
      << again.err;

  auto serve_process = Serve(data);
  Background& serve = *serve_process;
  ASSERT_FALSE(serve.url().empty()) << serve.log();
  EXPECT_NE(serve.log().find("indicators indexed"), std::string::npos);
  // A honeypot IP by exact value through the MISP API.
  auto search =
      Post(serve, "/attributes/restSearch", api_key, json{{"value", "14.63.160.31"}}.dump());
  ASSERT_EQ(search.status, 200) << search.body;
  json found = json::parse(search.body);
  ASSERT_EQ(found["response"]["Attribute"].size(), 1u);
  EXPECT_EQ(found["response"]["Attribute"][0]["Event"]["info"],
            "Unauthorized_Access_Blocklist.txt");
  // An AWS address inside a range only through the grid API.
  auto match = Post(serve, "/grid/v1/match", api_key, "[\"3.5.140.10\", \"14.63.160.31\"]");
  ASSERT_EQ(match.status, 200);
  EXPECT_NE(match.body.find("\"relation\":\"in-range\""), std::string::npos) << match.body;
  EXPECT_NE(match.body.find("\"relation\":\"exact\""), std::string::npos) << match.body;
  auto bad_key = Post(serve, "/attributes/restSearch", std::string(40, 'z'), "{\"value\":\"x\"}");
  EXPECT_EQ(bad_key.status, 403);

  int status = serve.Stop(SIGTERM);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << serve.log();
  EXPECT_NE(serve.log().find("SIGTERM received"), std::string::npos) << serve.log();
  EXPECT_NE(serve.log().find("stopped"), std::string::npos) << serve.log();
}

TEST(NodeCliTest, ImportWhileServingIsPickedUpByTheGridApi) {
  TempDir dir;
  std::string data = dir.path() + "/node";
  std::string api_key = CreateNodeKey(data, "Acme");
  ASSERT_EQ(api_key.size(), 40u);
  auto serve_process = Serve(data);
  Background& serve = *serve_process;
  ASSERT_FALSE(serve.url().empty()) << serve.log();
  EXPECT_EQ(Post(serve, "/grid/v1/match", api_key, "[\"late.example\"]").body.find("\"hits\":[{"),
            std::string::npos);
  std::string file = dir.Write("late.txt", "late.example\n");
  ASSERT_EQ(RunIocgrid({"node", "import", "--data", data, file}).exit_code, 0);
  // The next grid request notices the new data and a background rebuild swaps it in.
  bool found = false;
  for (int i = 0; i < 100 && !found; ++i) {
    found = Post(serve, "/grid/v1/match", api_key, "[\"late.example\"]")
                .body.find("\"relation\":\"exact\"") != std::string::npos;
    if (!found) std::this_thread::sleep_for(50ms);
  }
  EXPECT_TRUE(found);
}

TEST(NodeCliTest, KeysListShowsNoSecretsAndRevokeWorks) {
  TempDir dir;
  std::string data = dir.path() + "/node";
  auto key = RunIocgrid(
      {"node", "keys", "create", "--data", data, "--org", "Acme", "--comment", "portal"});
  ASSERT_EQ(key.exit_code, 0) << key.err;
  std::string api_key = Line(key.out);
  auto list = RunIocgrid({"node", "keys", "list", "--data", data});
  ASSERT_EQ(list.exit_code, 0);
  EXPECT_EQ(list.out.find(api_key), std::string::npos) << "the clear key must never be listed";
  EXPECT_NE(list.out.find(api_key.substr(0, 4) + "..." + api_key.substr(36)), std::string::npos)
      << list.out;
  EXPECT_NE(list.out.find("portal"), std::string::npos);
  EXPECT_EQ(RunIocgrid({"node", "keys", "revoke", "--data", data, "1"}).exit_code, 0);
  EXPECT_NE(RunIocgrid({"node", "keys", "list", "--data", data}).out.find("revoked"),
            std::string::npos);
  EXPECT_EQ(RunIocgrid({"node", "keys", "revoke", "--data", data, "99"}).exit_code, 2);
  EXPECT_EQ(
      RunIocgrid({"node", "keys", "create", "--data", data, "--org", "Acme", "--role", "root"})
          .exit_code,
      2);
}

json GetJson(const Background& s, const std::string& path, const std::string& key) {
  net::ClientRequest req;
  req.url = s.url() + path;
  req.headers = {{"Authorization", key}, {"Accept", "application/json"}};
  net::ClientResponse r = test::FetchOrFail(req);
  EXPECT_EQ(r.status, 200) << r.body;
  return json::parse(r.body, nullptr, false);
}

// `node psi rotate` beside a serving node (another process): the node re-tags, switches to the
// new epoch without a restart, and `node psi status` tells the operator where it is.
TEST(NodeCliTest, PsiRotateBesideAServingNodeSwitchesEpochs) {
  TempDir dir;
  std::string data = dir.path() + "/node";
  std::string api_key = CreateNodeKey(data, "Acme");
  auto status = RunIocgrid({"node", "psi", "status", "--data", data});
  ASSERT_EQ(status.exit_code, 0) << status.err;
  EXPECT_NE(status.out.find("no key yet"), std::string::npos) << status.out;
  auto early = RunIocgrid({"node", "psi", "rotate", "--data", data});
  EXPECT_EQ(early.exit_code, 2);
  EXPECT_NE(early.err.find("no key yet"), std::string::npos) << early.err;
  EXPECT_EQ(std::count(early.err.begin(), early.err.end(), '\n'), 1) << early.err;
  auto missing = RunIocgrid({"node", "psi", "status", "--data", dir.path() + "/nowhere"});
  EXPECT_EQ(missing.exit_code, 2) << missing.out;

  std::string file = dir.Write("list.txt", "evil.example\n198.51.100.7\n");
  ASSERT_EQ(RunIocgrid({"node", "import", "--data", data, file}).exit_code, 0);
  auto serve_process = std::make_unique<Background>(std::vector<std::string>{
      "node", "serve", "--data", data, "--listen", "127.0.0.1:0", "--psi-key-grace", "1h"});
  Background& serve = *serve_process;
  ASSERT_FALSE(serve.url().empty()) << serve.log();
  json info = GetJson(serve, "/grid/v1/psi/info", api_key);  // the first key
  ASSERT_EQ(info["epoch"], 1) << info.dump();
  for (int i = 0; i < 200 && !info.value("ready", false); ++i) {
    std::this_thread::sleep_for(50ms);
    info = GetJson(serve, "/grid/v1/psi/info", api_key);
  }
  ASSERT_TRUE(info.value("ready", false)) << info.dump();

  auto rotate = RunIocgrid({"node", "psi", "rotate", "--data", data});
  ASSERT_EQ(rotate.exit_code, 0) << rotate.err;
  EXPECT_NE(rotate.err.find("key epoch 2 created"), std::string::npos) << rotate.err;
  auto twice = RunIocgrid({"node", "psi", "rotate", "--data", data});
  // Refused while the first prepares or while its old key is in its grace.
  EXPECT_EQ(twice.exit_code, 2) << twice.err;
  for (int i = 0; i < 200 && info["epoch"] != 2; ++i) {
    std::this_thread::sleep_for(50ms);
    info = GetJson(serve, "/grid/v1/psi/info", api_key);
  }
  ASSERT_EQ(info["epoch"], 2) << info.dump() << serve.log();
  EXPECT_EQ(info["previous_epoch"]["epoch"], 1) << info.dump();
  status = RunIocgrid({"node", "psi", "status", "--data", data});
  ASSERT_EQ(status.exit_code, 0) << status.err;
  EXPECT_NE(status.out.find("key epoch 2: active"), std::string::npos) << status.out;
  EXPECT_NE(status.out.find("key epoch 1: retired"), std::string::npos) << status.out;

  auto bad_grace = RunIocgrid(
      {"node", "serve", "--data", data, "--listen", "127.0.0.1:0", "--psi-key-grace", "forever"});
  EXPECT_EQ(bad_grace.exit_code, 2);
  EXPECT_NE(bad_grace.err.find("--psi-key-grace"), std::string::npos) << bad_grace.err;
  serve.Stop(SIGTERM);
  EXPECT_NE(serve.log().find("switched to key epoch 2"), std::string::npos) << serve.log();
}

// A node beside a MISP (issue 14): `node mirror` copies the source's events once, then
// `node serve --mirror` keeps following it in the background, and answers relations the MISP
// API cannot (in-range on a mirrored CIDR). The source is another node's MISP API.
TEST(NodeCliTest, MirrorOnceThenServeFollowingTheMisp) {
  TempDir dir;
  const std::string source = dir.path() + "/misp";
  const std::string mirror = dir.path() + "/mirror";
  const std::string source_key = CreateNodeKey(source, "Acme");
  const std::string key_file = dir.Write("misp.key", source_key + "\n");
  std::string first = dir.Write("first.txt", "203.0.113.0/24\nfirst-c2.example\n");
  ASSERT_EQ(
      RunIocgrid({"node", "import", "--data", source, "--distribution", "3", first}).exit_code, 0);
  std::string org_only = dir.Write("org-only.txt", "private-only.example\n");
  ASSERT_EQ(
      RunIocgrid({"node", "import", "--data", source, "--distribution", "0", org_only}).exit_code,
      0);
  auto served = Serve(source);
  ASSERT_FALSE(served->url().empty()) << served->log();

  const std::string mirror_key = CreateNodeKey(mirror, "Alliance");
  auto no_key = RunIocgrid({"node", "mirror", "--data", mirror, "--misp", served->url()});
  EXPECT_EQ(no_key.exit_code, 2);
  EXPECT_NE(no_key.err.find("--key-file"), std::string::npos) << no_key.err;
  auto once = RunIocgrid(
      {"node", "mirror", "--data", mirror, "--misp", served->url(), "--key-file", key_file});
  ASSERT_EQ(once.exit_code, 0) << once.err;
  EXPECT_NE(once.err.find("2 events listed, 2 fetched: 1 written, 1 left out by distribution"),
            std::string::npos)
      << once.err;

  auto stray = RunIocgrid({"node", "serve", "--data", mirror, "--mirror-key", "x"});
  EXPECT_EQ(stray.exit_code, 2);
  EXPECT_NE(stray.err.find("need --mirror"), std::string::npos) << stray.err;
  auto following = std::make_unique<Background>(std::vector<std::string>{
      "node", "serve", "--data", mirror, "--listen", "127.0.0.1:0", "--mirror", served->url(),
      "--mirror-key-file", key_file, "--mirror-interval", "1s"});
  ASSERT_FALSE(following->url().empty()) << following->log();
  auto match = Post(*following, "/grid/v1/match", mirror_key, "[\"203.0.113.9\"]");
  EXPECT_NE(match.body.find("\"relation\":\"in-range\""), std::string::npos) << match.body;
  EXPECT_EQ(Post(*following, "/grid/v1/match", mirror_key, "[\"private-only.example\"]")
                .body.find("\"hits\":[{"),
            std::string::npos);

  std::string later = dir.Write("later.txt", "later-c2.example\n");
  ASSERT_EQ(
      RunIocgrid({"node", "import", "--data", source, "--distribution", "2", later}).exit_code, 0);
  bool found = false;
  for (int i = 0; i < 200 && !found; ++i) {
    found = Post(*following, "/grid/v1/match", mirror_key, "[\"later-c2.example\"]")
                .body.find("\"relation\":\"exact\"") != std::string::npos;
    if (!found) std::this_thread::sleep_for(50ms);
  }
  EXPECT_TRUE(found) << following->log();
  // One serving node and one mirror sweep per data directory: the others are refused.
  auto second = RunIocgrid({"node", "serve", "--data", mirror, "--listen", "127.0.0.1:0"});
  EXPECT_EQ(second.exit_code, 2);
  EXPECT_NE(second.err.find("another `iocgrid node serve` is using"), std::string::npos)
      << second.err;
  auto sweep = RunIocgrid(
      {"node", "mirror", "--data", mirror, "--misp", served->url(), "--key-file", key_file});
  EXPECT_EQ(sweep.exit_code, 2);
  EXPECT_NE(sweep.err.find("another mirror sweep is running"), std::string::npos) << sweep.err;
  json stats = GetJson(*following, "/grid/v1/stats", mirror_key);
  ASSERT_TRUE(stats.contains("mirror")) << stats.dump();
  EXPECT_EQ(stats["mirror"]["source"], served->url());
  EXPECT_GE(stats["mirror"]["lag_seconds"].get<int64_t>(), 0);
  EXPECT_EQ(stats["mirror"]["error"], "");
  EXPECT_EQ(stats["mirror"]["events"], 2);
  following->Stop(SIGTERM);
  EXPECT_NE(following->log().find("stopped"), std::string::npos) << following->log();
  // Stopped, it holds nothing: a sweep runs again.
  EXPECT_EQ(RunIocgrid({"node", "mirror", "--data", mirror, "--misp", served->url(), "--key-file",
                        key_file, "--quiet"})
                .exit_code,
            0);
}

// kill -9 a serving node, start it again: it serves the index it kept, without a rebuild, and
// answers as before (issue 14: restart without a rebuild, none needed for correctness).
TEST(NodeCliTest, AKilledNodeRestartsFromItsKeptIndex) {
  TempDir dir;
  std::string data = dir.path() + "/node";
  std::string api_key = CreateNodeKey(data, "Acme");
  std::string list = dir.Write("list.txt", "203.0.113.0/24\nkept.example\n");
  ASSERT_EQ(RunIocgrid({"node", "import", "--data", data, list}).exit_code, 0);
  auto first = Serve(data);
  ASSERT_FALSE(first->url().empty()) << first->log();
  auto hit_line = [&](const Background& s) {  // the done line after it carries the time taken
    const std::string body = Post(s, "/grid/v1/match", api_key, "[\"203.0.113.9\"]").body;
    return body.substr(0, body.find('\n'));
  };
  const std::string before = hit_line(*first);
  ASSERT_NE(before.find("\"relation\":\"in-range\""), std::string::npos) << before;
  // The background thread keeps the index shortly after the start.
  for (int i = 0; i < 200 && !std::filesystem::exists(data + "/index.snapshot"); ++i) {
    std::this_thread::sleep_for(50ms);
  }
  ASSERT_TRUE(std::filesystem::exists(data + "/index.snapshot"));
  first->Stop(SIGKILL);
  EXPECT_NE(first->log().find("indicators indexed"), std::string::npos) << first->log();
  auto second = Serve(data);
  ASSERT_FALSE(second->url().empty()) << second->log();
  EXPECT_EQ(hit_line(*second), before);
  second->Stop(SIGTERM);
  EXPECT_NE(second->log().find("loaded from the kept index"), std::string::npos) << second->log();
}

TEST(NodeCliTest, ServeRefusesBadListenAddress) {
  TempDir dir;
  auto r = RunIocgrid({"node", "serve", "--data", dir.path(), "--listen", "nowhere"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--listen"), std::string::npos) << r.err;
}

// kill -9 in the middle of a large import: the node keeps its previous data and opens cleanly.
TEST(NodeCliTest, KilledImportLeavesPreviousDataIntact) {
  TempDir dir;
  std::string data = dir.path() + "/node";
  std::string small = dir.Write("small.txt", "198.51.100.1\n198.51.100.2\nevil.example\n");
  ASSERT_EQ(RunIocgrid({"node", "import", "--data", data, small}).exit_code, 0);
  {
    std::ofstream big(dir.path() + "/big.txt");
    for (uint32_t i = 0; i < 2000000; ++i) {
      big << ((i >> 16) & 0xff) + 11 << '.' << ((i >> 8) & 0xff) << '.' << (i & 0xff) << ".7\n";
    }
  }
  pid_t pid = fork();
  if (pid == 0) {
    int devnull = open("/dev/null", O_WRONLY);
    dup2(devnull, 2);
    execl(IOCGRID_BINARY, IOCGRID_BINARY, "node", "import", "--data", data.c_str(),
          (dir.path() + "/big.txt").c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  // Wait until the import is writing (its WAL grows), or at most a few seconds.
  std::string wal = data + "/" + std::string(store::Store::kFileName) + "-wal";
  auto start = std::chrono::steady_clock::now();
  while (std::chrono::steady_clock::now() - start < 6s) {
    struct stat st {};
    if (stat(wal.c_str(), &st) == 0 && st.st_size > 8 * 1024 * 1024) break;
    std::this_thread::sleep_for(10ms);
  }
  ASSERT_EQ(kill(pid, SIGKILL), 0);
  int status = 0;
  waitpid(pid, &status, 0);
  ASSERT_TRUE(WIFSIGNALED(status)) << "the import finished before it could be killed";

  store::StoreOptions options;
  options.create_if_missing = false;
  auto reopened = store::Store::Open(data, options);
  ASSERT_TRUE(reopened.ok()) << reopened.status().ToString();
  EXPECT_TRUE((*reopened)->CheckIntegrity().ok());
  auto stats = (*reopened)->Stats();
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ(stats->attributes, 3u);
  EXPECT_EQ(stats->events, 1u);
}

}  // namespace
}  // namespace iocgrid::e2e
