// `iocgrid sift` as a real process (issue 9): every class and the four alert cells on hand-made
// logs and data, the NDJSON and annotation shapes, exit codes, errors; an oracle against
// `iocgrid match` of the same distinct IPs; and a sift through a real portal and node.
#include <gtest/gtest.h>
#include <zlib.h>

#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>

#include "tests/e2e/process.h"

namespace iocgrid::e2e {
namespace {

using json = nlohmann::json;

std::vector<json> Ndjson(const std::string& text) {
  std::vector<json> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty()) out.push_back(json::parse(line));
  }
  return out;
}

const char kAccessLog[] =
    "45.33.32.156 - - [10/Oct/2023:13:55:36 +0000] \"GET / HTTP/1.1\" 200 1 \"-\" \"x\"\n"
    "45.33.32.156 - - [10/Oct/2023:13:55:37 +0000] \"GET /wp-login.php HTTP/1.1\" 404 1 \"-\" "
    "\"x\"\n"
    "185.220.101.4 - - [10/Oct/2023:13:56:00 +0000] \"GET / HTTP/1.1\" 200 1 \"-\" \"x\"\n"
    "81.2.69.142 - - [10/Oct/2023:13:57:00 +0000] \"GET / HTTP/1.1\" 200 1 \"-\" \"x\"\n"
    "81.2.69.142 - - [10/Oct/2023:13:58:00 +0000] \"GET /a HTTP/1.1\" 200 1 \"-\" \"x\"\n"
    "81.2.69.142 - - [10/Oct/2023:13:59:00 +0000] \"GET /b HTTP/1.1\" 200 1 \"-\" \"x\"\n"
    "104.16.5.5 - - [10/Oct/2023:14:00:00 +0000] \"GET / HTTP/1.1\" 200 1 \"-\" \"x\"\n"
    "2a02:c207::1 - - [10/Oct/2023:14:01:00 +0000] \"GET / HTTP/1.1\" 200 1 \"-\" \"x\"\n"
    "81.2.69.200 - - [10/Oct/2023:14:02:00 +0000] \"GET /x HTTP/1.1\" 404 1 \"-\" \"x\"\n"
    "192.168.1.1 - - [10/Oct/2023:14:03:00 +0000] \"GET / HTTP/1.1\" 200 1 \"-\" \"x\"\n"
    "garbage line\n";

const char kEve[] =
    R"({"timestamp":"2023-10-10T13:55:36.000000+0000","event_type":"alert","src_ip":"45.33.32.156","dest_ip":"192.168.1.5","alert":{"signature":"ET SCAN"}})"
    "\n"
    R"({"timestamp":"2023-10-10T13:57:00.000000+0000","event_type":"alert","src_ip":"81.2.69.142","dest_ip":"192.168.1.5","alert":{"signature":"ET EXPLOIT"}})"
    "\n"
    R"({"timestamp":"2023-10-10T14:02:00.000000+0000","event_type":"alert","src_ip":"81.2.69.200","dest_ip":"192.168.1.5","alert":{"signature":"ET WEB"}})"
    "\n";

struct Alliance {
  explicit Alliance(const TempDir& dir) {
    dir.Write("honeypot/ips.txt", "45.33.32.156\n185.100.87.0/24\n");
    dir.Write("tor/exits.txt", "185.220.101.4\n");
    dir.Write("threat-iocs.txt", "81.2.69.142\nmalicious-site.co.uk\n");
    dir.Write(
        "cdn/list.json",
        R"({"name":"Known CDN ranges","type":"cidr","list":["104.16.0.0/13"],"matching_attributes":["ip-src","ip-dst"],"version":1})");
    log = dir.Write("access.log", kAccessLog);
    eve = dir.Write("eve.json", kEve);
    data = {dir.path() + "/honeypot", dir.path() + "/tor", dir.path() + "/threat-iocs.txt",
            dir.path() + "/cdn"};
  }
  std::vector<std::string> Args(std::vector<std::string> extra) const {
    std::vector<std::string> args = {"sift", "--against"};
    args.insert(args.end(), data.begin(), data.end());
    args.insert(args.end(), extra.begin(), extra.end());
    return args;
  }
  std::string log, eve;
  std::vector<std::string> data;
};

TEST(SiftCliTest, EveryClassAndTheFourAlertCells) {
  TempDir dir;
  Alliance a(dir);
  auto r = RunIocgrid(a.Args({"--format", "json", "--", a.log, a.eve}));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::vector<json> lines = Ndjson(r.out);
  ASSERT_FALSE(lines.empty());
  std::map<std::string, json> by_value;
  for (size_t i = 0; i + 1 < lines.size(); ++i) {
    ASSERT_EQ(lines[i]["kind"], "observable");
    for (const char* k : {"value", "type", "field", "lines", "first_seen", "last_seen", "alerts",
                          "class", "hits"}) {
      EXPECT_TRUE(lines[i].contains(k)) << k;
    }
    by_value[lines[i]["value"]] = lines[i];
  }
  std::map<std::string, std::string> classes;
  for (const auto& [v, j] : by_value) classes[v] = j["class"];
  EXPECT_EQ(classes, (std::map<std::string, std::string>{{"45.33.32.156", "noise"},
                                                         {"185.220.101.4", "anonymizer"},
                                                         {"81.2.69.142", "threat"},
                                                         {"104.16.5.5", "benign"},
                                                         {"2a02:c207::1", "unknown"},
                                                         {"81.2.69.200", "unknown"}}));
  const json& threat = by_value["81.2.69.142"];
  EXPECT_EQ(threat["lines"], 4);  // three access lines and one alert
  EXPECT_EQ(threat["alerts"], 1);
  EXPECT_EQ(threat["first_seen"], "2023-10-10T13:57:00Z");
  EXPECT_EQ(threat["last_seen"], "2023-10-10T13:59:00Z");
  EXPECT_EQ(threat["field"], "client");
  ASSERT_EQ(threat["hits"].size(), 1u);
  EXPECT_EQ(threat["hits"][0]["relation"], "exact");
  EXPECT_EQ(threat["hits"][0]["matched"], "81.2.69.142");
  EXPECT_NE(threat["hits"][0]["source"].get<std::string>().find("threat-iocs.txt"),
            std::string::npos);
  EXPECT_EQ(by_value["104.16.5.5"]["hits"][0]["relation"], "in-range");

  const json& s = lines.back();
  ASSERT_EQ(s["kind"], "summary");
  EXPECT_EQ(s["lines"], 14);
  EXPECT_EQ(s["parsed"], 13);
  EXPECT_EQ(s["malformed"], 1);
  EXPECT_EQ(s["internal"], 2);  // 192.168.1.1 and the alerts' 192.168.1.5
  EXPECT_EQ(s["observables"], 6);
  EXPECT_EQ(s["by_class"]["threat"], (json{{"observables", 1}, {"lines", 4}}));
  EXPECT_EQ(s["by_class"]["noise"], (json{{"observables", 1}, {"lines", 3}}));
  EXPECT_EQ(s["by_class"]["anonymizer"], (json{{"observables", 1}, {"lines", 1}}));
  EXPECT_EQ(s["by_class"]["benign"], (json{{"observables", 1}, {"lines", 1}}));
  EXPECT_EQ(s["by_class"]["unknown"], (json{{"observables", 2}, {"lines", 3}}));
  EXPECT_EQ(s["alert_cells"], (json{{"alerted_threat", 1},
                                    {"alerted_noise", 1},
                                    {"alerted_unknown", 1},
                                    {"not_alerted_threat_or_anonymizer", 1}}));
  EXPECT_TRUE(s.contains("elapsed_ms"));
  EXPECT_NE(r.err.find("access.log:11: no [timestamp]"), std::string::npos) << r.err;
}

TEST(SiftCliTest, TableShowsSummaryCellsAndTopPerClass) {
  TempDir dir;
  Alliance a(dir);
  auto r = RunIocgrid(a.Args({"--top", "1", "--", a.log, a.eve}));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("alerted & known threat                 1"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("NOT alerted & threat/anonymizer        1"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("top unknown\n  81.2.69.200 "), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("2a02:c207::1"), std::string::npos) << "--top 1 shows one per class";
}

TEST(SiftCliTest, KindFlagOverridesListMetadata) {
  TempDir dir;
  Alliance a(dir);
  auto r = RunIocgrid(a.Args({"--kind", dir.path() + "/tor=threat", "--format", "csv", a.log}));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out.rfind("value,type,field,lines,first_seen,last_seen,alerts,class,hits\n", 0), 0u);
  EXPECT_NE(
      r.out.find(
          "185.220.101.4,ip-src,client,1,2023-10-10T13:56:00Z,2023-10-10T13:56:00Z,0,threat,"),
      std::string::npos)
      << r.out;
  auto bad = RunIocgrid(a.Args({"--kind", dir.path() + "/tor=fish", a.log}));
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.err.find("unknown data kind 'fish'"), std::string::npos) << bad.err;
}

TEST(SiftCliTest, AnnotateWritesEveryLineWithItsClasses) {
  TempDir dir;
  Alliance a(dir);
  std::string out = dir.path() + "/annotations.ndjson";
  auto r = RunIocgrid(a.Args({"--annotate", out, "--format", "json", a.log}));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::ifstream in(out);
  std::stringstream ss;
  ss << in.rdbuf();
  std::vector<json> lines = Ndjson(ss.str());
  ASSERT_EQ(lines.size(), 11u);
  EXPECT_EQ(lines[0], (json{{"file", a.log}, {"line", 1}, {"classes", {"noise"}}}));
  EXPECT_EQ(lines[3]["classes"], json({"threat"}));
  EXPECT_EQ(lines[9]["classes"], json::array());  // internal only
  EXPECT_EQ(lines[10]["line"], 11);
}

TEST(SiftCliTest, ExitCodesAndErrors) {
  TempDir dir;
  Alliance a(dir);
  std::string quiet = dir.Write(
      "quiet.log", "81.2.69.77 - - [10/Oct/2023:13:55:36 +0000] \"GET / HTTP/1.1\" 200 1\n");
  EXPECT_EQ(RunIocgrid(a.Args({quiet})).exit_code, 1);
  // Standard input works like a file.
  EXPECT_EQ(RunIocgrid(a.Args({"-q", "-"}), kAccessLog).exit_code, 0);
  auto missing = RunIocgrid(a.Args({dir.path() + "/nope.log"}));
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_NE(missing.err.find("nope.log"), std::string::npos);
  auto neither = RunIocgrid({"sift", a.log});
  EXPECT_EQ(neither.exit_code, 2);
  EXPECT_NE(neither.err.find("--against"), std::string::npos);
  auto badfmt = RunIocgrid(a.Args({"--log-format", "syslog", a.log}));
  EXPECT_EQ(badfmt.exit_code, 2);
  EXPECT_NE(badfmt.err.find("unknown --log-format 'syslog'"), std::string::npos);
  // A truncated gzip log is an error that says how far it got.
  std::string text;
  for (int i = 0; i < 5000; ++i) text += kAccessLog;
  std::string gz_path = dir.path() + "/big.log.gz";
  gzFile gz = gzopen(gz_path.c_str(), "wb");
  gzwrite(gz, text.data(), static_cast<unsigned>(text.size()));
  gzclose(gz);
  std::ifstream in(gz_path, std::ios::binary);
  std::string whole((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::string cut = dir.Write("cut.log.gz", whole.substr(0, whole.size() / 2));
  auto truncated = RunIocgrid(a.Args({cut}));
  EXPECT_EQ(truncated.exit_code, 2);
  EXPECT_NE(truncated.err.find("truncated gzip stream after"), std::string::npos) << truncated.err;
}

// The oracle: sift's per-IP hits equal `iocgrid match` of the same distinct IPs.
// A plain combined log of 32 MB or more is read by two threads (--threads 2, the default): the
// report is the one-thread report in every format (the summary's elapsed_ms aside).
TEST(SiftCliTest, TwoThreadsGiveTheReportOfOne) {
  TempDir dir;
  Alliance a(dir);
  std::string big;
  const std::string lines[] = {
      "45.33.32.156 - - [15/Dec/2023:10:00:0", "185.220.101.4 - - [15/Dec/2023:11:00:0",
      "81.2.69.142 - - [15/Dec/2023:12:00:0",  "10.0.0.7 - - [15/Dec/2023:13:00:0",
      "unknown - - [15/Dec/2023:13:30:0",      "198.18.0.1 - - [15/Dec/2023:14:00:0"};
  for (int i = 0; big.size() < (size_t{33} << 20); ++i) {
    if (i % 1000 == 999) {
      big += "garbage " + std::to_string(i) + "\n";
      continue;
    }
    const std::string client =
        i % 7 == 0 ? "82." + std::to_string(i % 200) + "." + std::to_string(i % 250) + ".9" : "";
    const std::string& head = lines[static_cast<size_t>(i) % std::size(lines)];
    big += (client.empty() ? head : client + head.substr(head.find(' '))) + std::to_string(i % 10) +
           " +0000] \"GET /index.html?q=" + std::to_string(i) +
           " HTTP/1.1\" 200 512 \"-\" \"curl/8\"\n";
  }
  const std::string log = dir.Write("big.log", big);
  auto strip_elapsed = [](std::string out) {
    const size_t at = out.find("\"elapsed_ms\":");
    if (at != std::string::npos) out.erase(at, out.find('}', at) - at);
    const size_t ms = out.find(" ms\n");  // the table's first line
    if (ms != std::string::npos) out.erase(out.rfind(',', ms), ms - out.rfind(',', ms));
    return out;
  };
  for (const char* format : {"json", "csv", "table"}) {
    auto one = RunIocgrid(a.Args({"--threads", "1", "--format", format, log}));
    auto two = RunIocgrid(a.Args({"--format", format, log}));
    ASSERT_EQ(one.exit_code, 0) << one.err;
    EXPECT_EQ(two.exit_code, 0) << two.err;
    EXPECT_EQ(strip_elapsed(two.out), strip_elapsed(one.out)) << format;
    EXPECT_EQ(two.err, one.err) << format;
  }
  auto report = RunIocgrid(a.Args({"--format", "json", log}));
  std::vector<json> rows = Ndjson(report.out);
  ASSERT_FALSE(rows.empty());
  EXPECT_GT(rows.back()["malformed"].get<int>(), 100);
  EXPECT_GT(rows.back()["observables"].get<int>(), 1000);
}

// --against takes every path after it: a log given there by mistake is refused with the fix,
// never loaded as data while only the last log is sifted.
TEST(SiftCliTest, ALogAfterAgainstIsRefusedWithTheFix) {
  TempDir dir;
  Alliance a(dir);
  const std::string second = dir.Write("second.log", kAccessLog);
  auto r = RunIocgrid(a.Args({a.log, second}));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("looks like a web server log"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("put -- before the logs"), std::string::npos) << r.err;
  auto ok = RunIocgrid(a.Args({"--", a.log, second}));
  EXPECT_EQ(ok.exit_code, 0) << ok.err;
}

TEST(SiftCliTest, OracleAgreesWithMatchOnTheSharedLogs) {
  TempDir dir;
  const std::string shared = IOCGRID_SHARED_DATA_DIR;
  std::vector<std::string> data = {shared + "/C_member_anonymity/misp-warninglists",
                                   shared + "/D_member_honeypot"};
  std::vector<std::string> args = {"sift", "-q", "--format", "json", "--against"};
  args.insert(args.end(), data.begin(), data.end());
  args.push_back("--");
  args.push_back(shared + "/E_logs/apache/secrepo_access.log.2021-10-22");
  args.push_back(shared + "/E_logs/apache/elastic_examples_apache_logs.log.gz");
  auto sifted = RunIocgrid(args);
  ASSERT_EQ(sifted.exit_code, 0) << sifted.err;
  std::set<std::string> sift_hits;
  std::string ips;
  size_t n_ips = 0;
  for (const json& j : Ndjson(sifted.out)) {
    if (j["kind"] != "observable" || j["type"] != "ip-src") continue;
    ips += j["value"].get<std::string>() + "\n";
    ++n_ips;
    for (const json& h : j["hits"]) {
      sift_hits.insert(j["value"].get<std::string>() + " " + h["relation"].get<std::string>() +
                       " " + h["matched"].get<std::string>() + " " +
                       h["source"].get<std::string>());
    }
  }
  EXPECT_EQ(n_ips, 160u + 1753u - 1u) << "distinct clients of both logs (1 in both: comm -12)";
  std::vector<std::string> margs = {"match", "-q", "--format", "json", "--against"};
  margs.insert(margs.end(), data.begin(), data.end());
  margs.push_back(dir.Write("ips.txt", ips));
  auto matched = RunIocgrid(margs);
  ASSERT_EQ(matched.exit_code, 0) << matched.err;
  std::set<std::string> match_hits;
  for (const json& j : Ndjson(matched.out)) {
    match_hits.insert(j["query"].get<std::string>() + " " + j["relation"].get<std::string>() + " " +
                      j["matched"].get<std::string>() + " " + j["source"].get<std::string>());
  }
  EXPECT_GT(match_hits.size(), 100u);
  EXPECT_EQ(sift_hits, match_hits);
}

TEST(SiftCliTest, SiftsThroughAPortalWithMemberDataKinds) {
  TempDir dir;
  std::string node_data = dir.path() + "/node";
  std::string node_key = CreateNodeKey(node_data, "hp");
  ASSERT_EQ(node_key.size(), 40u);
  ASSERT_EQ(RunIocgrid({"node", "import", "--data", node_data,
                        dir.Write("hp.txt", "45.33.32.156\n185.100.87.0/24\n")})
                .exit_code,
            0);
  Background node({"node", "serve", "--data", node_data, "--listen", "127.0.0.1:0"});
  ASSERT_FALSE(node.url().empty()) << node.log();
  std::string member = "[[members]]\nname = \"hp\"\nkind = \"iocgrid\"\nurl = \"" + node.url() +
                       "\"\nkey = \"" + node_key + "\"\n";
  std::string bad = dir.Write("bad.toml", "listen = \"127.0.0.1:0\"\ndata = \"pdata\"\n" + member +
                                              "data_kind = \"fish\"\n");
  auto refused = RunIocgrid({"portal", "users", "create", "--config", bad, "--name", "x"});
  EXPECT_EQ(refused.exit_code, 2);
  EXPECT_NE(refused.err.find("data_kind must be one of"), std::string::npos) << refused.err;

  std::string config = dir.Write("portal.toml", "listen = \"127.0.0.1:0\"\ndata = \"pdata\"\n" +
                                                    member + "data_kind = \"honeypot\"\n");
  std::string key =
      Line(RunIocgrid({"portal", "users", "create", "--config", config, "--name", "alice"}).out);
  ASSERT_EQ(key.size(), 40u);
  Background portal({"portal", "serve", "--config", config});
  ASSERT_FALSE(portal.url().empty()) << portal.log();
  std::string log = dir.Write("access.log", kAccessLog);
  auto r = RunIocgrid({"sift", "--portal", portal.url(), "--key", key, "--format", "json", log});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::map<std::string, std::string> classes;
  for (const json& j : Ndjson(r.out)) {
    if (j["kind"] == "observable") classes[j["value"]] = j["class"];
  }
  EXPECT_EQ(classes["45.33.32.156"], "noise");
  EXPECT_EQ(classes["81.2.69.142"], "unknown");
  EXPECT_EQ(classes.size(), 6u);
  EXPECT_NE(r.err.find("member hp"), std::string::npos) << r.err;
  // The search is in the portal's history, labelled as a sift.
  EXPECT_NE(r.err.find("(sift: access.log)"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace iocgrid::e2e
