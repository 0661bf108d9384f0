// A sift through the portal (POST /api/v1/sifts) against `iocgrid sift --portal` on the same log
// and members, all real processes on loopback: per-observable classes and hits and the summary
// must be equal. Then the report survives a portal restart, and neither the portal's SQLite
// files nor its log hold any of the log's lines.
#include <gtest/gtest.h>
#include <signal.h>

#include <ctime>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>
#include <thread>

#include "net/http_client.h"
#include "tests/common/fetch.h"
#include "tests/e2e/process.h"

namespace iocgrid::e2e {
namespace {

using json = nlohmann::json;
using namespace std::chrono_literals;

const std::string kLog =
    std::string(IOCGRID_SHARED_DATA_DIR) + "/E_logs/apache/secrepo_access-2018-12-15.log";

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// value -> "class | hit; hit; ..." (hits sorted), from observables of either output.
std::map<std::string, std::string> ClassesAndHits(const std::vector<json>& observables) {
  std::map<std::string, std::string> out;
  for (const json& o : observables) {
    std::set<std::string> hits;
    for (const json& h : o["hits"]) {
      hits.insert(h.value("member", "") + " " + h.value("relation", "") + " " +
                  h.value("matched", "") + " " + h.value("name", ""));
    }
    std::string row = o["class"].get<std::string>() + " |";
    for (const std::string& h : hits) row += " " + h + ";";
    out[o["value"]] = row;
  }
  return out;
}

class SiftPortalTest : public ::testing::Test {
 protected:
  // A node serving `files`, as a portal member of `kind` with `disclosure`.
  std::string Member(const std::string& name, const std::vector<std::string>& files,
                     const std::string& kind, const std::string& disclosure) {
    std::string data = dir_.path() + "/" + name;
    std::string key = CreateNodeKey(data, name);
    EXPECT_EQ(key.size(), 40u);
    std::vector<std::string> args = {"node", "import", "--data", data, "-q"};
    args.insert(args.end(), files.begin(), files.end());
    EXPECT_EQ(RunIocgrid(args).exit_code, 0);
    nodes_.push_back(std::make_unique<Background>(
        std::vector<std::string>{"node", "serve", "--data", data, "--listen", "127.0.0.1:0"}));
    EXPECT_FALSE(nodes_.back()->url().empty()) << nodes_.back()->log();
    return "[[members]]\nname = \"" + name + "\"\nkind = \"iocgrid\"\nurl = \"" +
           nodes_.back()->url() + "\"\nkey = \"" + key + "\"\ndata_kind = \"" + kind +
           "\"\ndisclosure = \"" + disclosure + "\"\n";
  }

  net::ClientResponse Call(const std::string& base, const std::string& method,
                           const std::string& path, const std::string& body = "") {
    net::ClientRequest req;
    req.method = method;
    req.url = base + path;
    req.body = body;
    req.timeout = 120s;
    req.headers = {{"Authorization", key_}, {"Content-Type", "text/plain"}};
    return test::FetchOrFail(req);
  }

  TempDir dir_;
  std::vector<std::unique_ptr<Background>> nodes_;
  std::string key_;
};

TEST_F(SiftPortalTest, ThePortalsReportEqualsTheCliAndKeepsNoLogLine) {
  const std::string log = ReadFile(kLog);
  ASSERT_GT(log.size(), 100000u) << kLog;
  // A count-disclosure member holding five of the log's clients: its hits are undisclosed.
  std::set<std::string> clients;
  std::istringstream lines(log);
  for (std::string line; std::getline(lines, line) && clients.size() < 5;) {
    clients.insert(line.substr(0, line.find(' ')));
  }
  std::string intel_list;
  for (const std::string& c : clients) intel_list += c + "\n";
  std::string members =
      Member(
          "hp",
          {std::string(IOCGRID_PROJECT_DATA_DIR) + "/members/honeypot/ipsum-level3.txt",
           std::string(IOCGRID_PROJECT_DATA_DIR) + "/members/honeypot/shadowwhisperer-probes.txt"},
          "honeypot", "full") +
      Member("tor",
             {std::string(IOCGRID_PROJECT_DATA_DIR) + "/members/anonymity/tor/tor-nodes.lst"},
             "tor", "existence") +
      Member("intel", {dir_.Write("intel.txt", intel_list)}, "threat", "count");
  std::string config =
      dir_.Write("portal.toml", "listen = \"127.0.0.1:0\"\ndata = \"pdata\"\n" + members);
  key_ = Line(RunIocgrid({"portal", "users", "create", "--config", config, "--name", "alice"}).out);
  ASSERT_EQ(key_.size(), 40u);

  std::string id;
  json report;
  {
    Background portal({"portal", "serve", "--config", config});
    ASSERT_FALSE(portal.url().empty()) << portal.log();
    auto cli = RunIocgrid(
        {"sift", "--portal", portal.url(), "--key", key_, "--format", "json", "--quiet", kLog});
    ASSERT_EQ(cli.exit_code, 0) << cli.err;
    std::vector<json> cli_observables;
    json cli_summary;
    std::istringstream out(cli.out);
    for (std::string line; std::getline(out, line);) {
      json j = json::parse(line);
      if (j["kind"] == "observable") cli_observables.push_back(j);
      if (j["kind"] == "summary") cli_summary = j;
    }
    auto created = Call(portal.url(), "POST", "/api/v1/sifts?label=secrepo", log);
    ASSERT_EQ(created.status, 201) << created.body;
    id = json::parse(created.body)["id"];
    for (int i = 0; i < 1200; ++i) {
      report = json::parse(Call(portal.url(), "GET", "/api/v1/sifts/" + id).body);
      if (report["status"] != "searching") break;
      std::this_thread::sleep_for(50ms);
    }
    ASSERT_EQ(report["status"], "done") << report.dump().substr(0, 500);
    std::vector<json> portal_observables(report["observables"].begin(),
                                         report["observables"].end());
    auto expected = ClassesAndHits(cli_observables);
    EXPECT_EQ(ClassesAndHits(portal_observables), expected);
    size_t classed = 0;
    for (const auto& [value, row] : expected) classed += row.rfind("unknown", 0) != 0;
    EXPECT_GE(classed, 5u) << "the members must hold some of the log's clients";
    for (const char* k :
         {"lines", "parsed", "malformed", "cut", "internal", "observables", "alerts"}) {
      EXPECT_EQ(report["summary"][k], cli_summary[k]) << k;
    }
    for (const auto& [cls, stats] : cli_summary["by_class"].items()) {
      EXPECT_EQ(report["summary"]["by_class"][cls]["observables"], stats["observables"]) << cls;
      EXPECT_EQ(report["summary"]["by_class"][cls]["lines"], stats["lines"]) << cls;
    }
    EXPECT_EQ(report["alert_cells"], cli_summary["alert_cells"]);
    portal.Stop(SIGTERM);
    portal.DrainLog();
    // No line of the log in the portal's log.
    for (const char* piece : {"SeznamBot/3.2", "Honeypot%20-%20Howto.pdf", "self.logs/access"}) {
      EXPECT_EQ(portal.log().find(piece), std::string::npos) << piece;
    }
  }
  // After a restart, the same report from the store.
  Background again({"portal", "serve", "--config", config});
  ASSERT_FALSE(again.url().empty()) << again.log();
  json stored = json::parse(Call(again.url(), "GET", "/api/v1/sifts/" + id).body);
  EXPECT_EQ(stored["status"], "done");
  EXPECT_EQ(stored["observables"], report["observables"]);
  EXPECT_EQ(stored["summary"], report["summary"]);
  // The portal's SQLite files hold the observables, never a line of the log: not its paths,
  // not its user agents.
  std::string files;
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir_.path() + "/pdata")) {
    if (e.is_regular_file()) files += ReadFile(e.path().string());
  }
  ASSERT_FALSE(files.empty());
  for (const char* piece :
       {"SeznamBot/3.2", "Honeypot%20-%20Howto.pdf", "self.logs/access", "[15/Dec/2018:02:18:31"}) {
    EXPECT_EQ(files.find(piece), std::string::npos) << piece << " is stored";
  }
  EXPECT_NE(files.find("77.75.78.160"), std::string::npos) << "the observables are stored";
}

// `iocgrid sift --portal --share public` from three finance organisations' analysts: each
// shares its log's observables as sightings (never a line), and the alliance's trends show
// finance at k = 3 organisations and the address all three saw as a scanner, naming nobody. A
// user without an organisation, and a --share that is neither mode, are one-line errors.
TEST_F(SiftPortalTest, SharedSiftsFromThreeOrganisationsMakeTheTrends) {
  char today[64];
  std::time_t now = std::time(nullptr);
  std::tm tm{};
  std::strftime(today, sizeof today, "%d/%b/%Y:%H:%M:%S +0000", gmtime_r(&now, &tm));
  auto line = [&](const std::string& ip, const std::string& path) {
    return ip + " - - [" + today + "] \"GET " + path + " HTTP/1.1\" 404 153 \"-\" \"zgrab/0.x\"\n";
  };
  std::string members = Member("hp", {dir_.Write("hp.txt", "185.220.101.7\n")}, "honeypot", "full");
  std::string config =
      dir_.Write("portal.toml", "listen = \"127.0.0.1:0\"\ndata = \"pdata\"\n" + members +
                                    "[[orgs]]\nname = \"bank-a\"\nsector = \"finance\"\n"
                                    "[[orgs]]\nname = \"bank-b\"\nsector = \"finance\"\n"
                                    "[[orgs]]\nname = \"bank-c\"\nsector = \"finance\"\n");
  Background portal({"portal", "serve", "--config", config});
  ASSERT_FALSE(portal.url().empty()) << portal.log();
  int n = 0;
  for (const char* org : {"bank-a", "bank-b", "bank-c"}) {
    const std::string key = Line(RunIocgrid({"portal", "users", "create", "--config", config,
                                             "--name", std::string("soc-") + org, "--org", org})
                                     .out);
    ASSERT_EQ(key.size(), 40u);
    key_ = key;
    const std::string log = dir_.Write(
        std::string(org) + ".log",
        line("185.220.101.7", "/wp-login.php") + line("185.220.101.7", "/.env") +
            line("45.61.187." + std::to_string(++n), "/") + line("10.1.2.3", "/intranet"));
    auto r = RunIocgrid({"sift", "--portal", portal.url(), "--key", key, "--share", "public",
                         "--format", "json", log});
    EXPECT_EQ(r.exit_code, 0) << r.err;  // 185.220.101.7 is held by the honeypot
    EXPECT_NE(r.err.find("shared 2 observable(s)"), std::string::npos) << r.err;
  }
  // The batches are matched and recorded in the background: wait for the third organisation.
  json sectors;
  for (int i = 0; i < 400; ++i) {
    sectors = json::parse(Call(portal.url(), "GET", "/api/v1/trends/sectors?window=7d").body);
    if (!sectors["cells"].empty() && sectors["cells"][0].value("organisations", 0) == 3) break;
    std::this_thread::sleep_for(50ms);
  }
  ASSERT_EQ(sectors["cells"].size(), 1u) << sectors.dump();
  const json& finance = sectors["cells"][0];
  EXPECT_EQ(finance["sector"], "finance");
  EXPECT_EQ(finance["suppressed"], false) << sectors.dump();
  EXPECT_EQ(finance["observables"], 4)
      << sectors.dump();               // the scanner and three addresses of one bank each
  EXPECT_EQ(finance["sightings"], 9);  // lines; the private address never left
  const std::string scanners =
      Call(portal.url(), "GET", "/api/v1/trends/scanners?window=7d&min_orgs=3").body;
  json s = json::parse(scanners);
  ASSERT_EQ(s["scanners"].size(), 1u) << scanners;
  EXPECT_EQ(s["scanners"][0]["value"], "185.220.101.7");
  EXPECT_EQ(s["scanners"][0]["organisations"], 3);
  for (const char* name : {"bank-a", "bank-b", "bank-c", "soc-bank"}) {
    EXPECT_EQ(scanners.find(name), std::string::npos) << name;
    EXPECT_EQ(sectors.dump().find(name), std::string::npos) << name;
  }
  // A user of no organisation, and a mode that is not one.
  const std::string alice =
      Line(RunIocgrid({"portal", "users", "create", "--config", config, "--name", "alice"}).out);
  const std::string log = dir_.Write("alice.log", line("185.220.101.7", "/"));
  auto r = RunIocgrid(
      {"sift", "--portal", portal.url(), "--key", alice, "--share", "public", "--quiet", log});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("--org"), std::string::npos) << r.err;
  r = RunIocgrid({"sift", "--portal", portal.url(), "--key", alice, "--share", "everything", log});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("--share"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace iocgrid::e2e
