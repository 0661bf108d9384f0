// POST /api/v1/sifts and GET /api/v1/sifts[/{id}] end to end in one process: real member nodes,
// the real federation, the real HTTP server streaming the upload into the sift parsers.
// Expected classes and counts are written from reading the logs below.
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <map>
#include <set>

#include "tests/common/raw_http.h"
#include "tests/portal/sift_test_util.h"

namespace iocgrid::portal {
namespace {

// Clients: 185.220.101.7 honeypot (noise); 45.61.187.3 honeypot + anonymity range (noise wins
// by precedence); 45.61.187.9 anonymity range (anonymizer); 91.203.5.77 in the MISP member's
// range (threat); 8.8.4.4 nobody (unknown); 10.1.2.3 private (internal, never sent).
std::string AccessLog() {
  return Combined("185.220.101.7", "/wp-login.php") + Combined("185.220.101.7", "/xmlrpc.php") +
         Combined("45.61.187.3", "/.env") + Combined("45.61.187.9", "/account") +
         Combined("91.203.5.77", "/admin", "curl/8.1") + Combined("91.203.5.77", "/admin/x") +
         Combined("91.203.5.77", "/admin/y") + Combined("8.8.4.4", "/index.html") +
         Combined("10.1.2.3", "/health") + "this line is not a log line\n";
}

TEST_F(PortalSiftTest, AnAccessLogIsSortedIntoClasses) {
  json r = SiftOf(AccessLog(), "?label=web%20frontend");
  ASSERT_EQ(r["status"], "done") << r.dump();
  EXPECT_EQ(r["label"], "web frontend");
  EXPECT_EQ(r["owner"], "alice");
  const json& s = r["summary"];
  EXPECT_EQ(s["format"], "combined");
  EXPECT_EQ(s["lines"], 10);
  EXPECT_EQ(s["parsed"], 9);
  EXPECT_EQ(s["malformed"], 1);
  ASSERT_EQ(s["malformed_examples"].size(), 1u);
  EXPECT_EQ(s["malformed_examples"][0]["line"], 10);
  EXPECT_EQ(s["internal"], 1);
  EXPECT_EQ(s["observables"], 5);
  EXPECT_EQ(s["clients"], 5);
  EXPECT_EQ(Classes(r), (std::map<std::string, std::string>{{"185.220.101.7", "noise"},
                                                            {"45.61.187.3", "noise"},
                                                            {"45.61.187.9", "anonymizer"},
                                                            {"91.203.5.77", "threat"},
                                                            {"8.8.4.4", "unknown"}}));
  const json& c = s["by_class"];
  EXPECT_EQ(c["threat"]["lines"], 3);
  EXPECT_EQ(c["noise"]["lines"], 3);
  EXPECT_EQ(c["noise"]["clients"], 2);
  EXPECT_EQ(c["anonymizer"]["lines"], 1);
  EXPECT_EQ(c["unknown"]["lines"], 1);
  EXPECT_EQ(c["benign"]["observables"], 0);
  // No alerts in an access log: threat and anonymizer clients were all let through.
  EXPECT_EQ(r["alert_cells"]["not_alerted_threat_or_anonymizer"], 2);
  EXPECT_EQ(r["alert_cells"]["alerted_threat"], 0);
  // Top per class, most lines first, with the member hits for drill-down.
  ASSERT_EQ(r["top"]["noise"].size(), 2u);
  EXPECT_EQ(r["top"]["noise"][0]["value"], "185.220.101.7");
  EXPECT_EQ(r["top"]["threat"][0]["hits"][0]["member"], "mispmember");
  EXPECT_EQ(r["top"]["threat"][0]["hits"][0]["relation"], "in-range");
  EXPECT_EQ(r["top"]["threat"][0]["first_seen"], "2024-03-01T10:00:00Z");
  // The one search behind it, labelled as a sift, for drill-down in the search view.
  std::string search_id = r["search"]["id"];
  EXPECT_EQ(r["search"]["status"], "done");
  json search = json::parse(Call("GET", "/api/v1/searches/" + search_id).body);
  EXPECT_EQ(search["label"], "sift: web frontend");
  EXPECT_EQ(search["sift"], r["id"]);
  EXPECT_EQ(search["indicators"].size(), 5u);
}

TEST_F(PortalSiftTest, GzipUploadGivesTheSameReport) {
  json plain = SiftOf(AccessLog());
  json gz = SiftOf(Gzip(AccessLog()));
  ASSERT_EQ(gz["status"], "done") << gz.dump();
  EXPECT_EQ(Classes(gz), Classes(plain));
  EXPECT_EQ(gz["summary"]["by_class"], plain["summary"]["by_class"]);
  EXPECT_EQ(gz["summary"]["lines"], plain["summary"]["lines"]);
  EXPECT_LT(gz["summary"]["bytes"].get<uint64_t>(), plain["summary"]["bytes"].get<uint64_t>());
  // Two gzip members one after the other (as `cat a.gz b.gz`) are one log.
  json twice = SiftOf(Gzip(AccessLog()) + Gzip(AccessLog()));
  EXPECT_EQ(twice["summary"]["lines"], 20);
}

TEST_F(PortalSiftTest, AlertsJoinTrafficInTheFourCells) {
  auto eve = [](const std::string& type, const std::string& src) {
    std::string line = R"({"timestamp":"2024-03-01T10:00:00.000000+0000","event_type":")" + type +
                       R"(","src_ip":")" + src +
                       R"(","src_port":40000,"dest_ip":"10.0.0.5","dest_port":443,"proto":"TCP")";
    if (type == "alert") line += R"(,"alert":{"signature":"ET SCAN","signature_id":1})";
    return line + "}\n";
  };
  std::string log = eve("alert", "91.203.5.77") + eve("flow", "91.203.5.77") +
                    eve("alert", "185.220.101.7") + eve("alert", "8.8.4.4") +
                    eve("flow", "45.61.187.9") + eve("flow", "45.61.187.3");
  json r = SiftOf(log, "?format=eve");
  ASSERT_EQ(r["status"], "done") << r.dump();
  EXPECT_EQ(r["summary"]["alerts"], 3);
  EXPECT_EQ(r["alert_cells"], json({{"alerted_threat", 1},
                                    {"alerted_noise", 1},
                                    {"alerted_unknown", 1},
                                    {"not_alerted_threat_or_anonymizer", 1}}));
}

TEST_F(PortalSiftTest, AnotherAnalystsSiftIsNotFoundAndSharedOnesAreSeen) {
  json mine = SiftOf(AccessLog());
  std::string id = mine["id"];
  auto other = Call("GET", "/api/v1/sifts/" + id, "", other_key_);
  EXPECT_EQ(other.status, 404) << other.body;
  auto missing = Call("GET", "/api/v1/sifts/0123456789abcdef", "", other_key_);
  EXPECT_EQ(json::parse(other.body)["message"], json::parse(missing.body)["message"]);
  EXPECT_EQ(json::parse(Call("GET", "/api/v1/sifts", "", other_key_).body).size(), 0u);
  EXPECT_EQ(Call("GET", "/api/v1/sifts/" + id, "", admin_key_).status, 200);
  json shared = SiftOf(AccessLog(), "?shared=true&tlp=green");
  auto seen = Call("GET", "/api/v1/sifts/" + shared["id"].get<std::string>(), "", other_key_);
  EXPECT_EQ(seen.status, 200) << seen.body;
  EXPECT_EQ(json::parse(seen.body)["tlp"], "green");
}

TEST_F(PortalSiftTest, TheReportSurvivesARestart) {
  json before = SiftOf(AccessLog(), "?label=kept");
  ASSERT_EQ(before["status"], "done");
  OpenPortal();
  json after = json::parse(Call("GET", "/api/v1/sifts/" + before["id"].get<std::string>()).body);
  EXPECT_EQ(after["status"], "done");
  EXPECT_EQ(after["observables"], before["observables"]);
  EXPECT_EQ(after["summary"], before["summary"]);
  EXPECT_EQ(after["alert_cells"], before["alert_cells"]);
  json list = json::parse(Call("GET", "/api/v1/sifts").body);
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(list[0]["label"], "kept");
  EXPECT_EQ(list[0]["lines"], 10);
  // ?top and ?observables reshape the stored report.
  json small = json::parse(
      Call("GET", "/api/v1/sifts/" + after["id"].get<std::string>() + "?top=1&observables=false")
          .body);
  EXPECT_EQ(small["top"]["noise"].size(), 1u);
  EXPECT_FALSE(small.contains("observables"));
  EXPECT_EQ(Call("GET", "/api/v1/sifts/" + after["id"].get<std::string>() + "?top=99999").status,
            400);
}

TEST_F(PortalSiftTest, ASiftWhoseSearchWasCutShortIsInterruptedAfterARestart) {
  // A member that accepts connections and never answers keeps the search running.
  uint16_t hung_port = 0;
  int hung = testutil::ListenLoopback(&hung_port, 16);
  ASSERT_GE(hung, 0);
  const std::string hung_url = "http://127.0.0.1:" + std::to_string(hung_port);
  configure_ = [hung_url](PortalConfig& c) {
    c.search_timeout = 60s;
    c.members[3].url = hung_url;
    c.members[3].timeout = 60s;
  };
  OpenPortal();
  auto created = Upload("", AccessLog());
  ASSERT_EQ(created.status, 201) << created.body;
  std::string id = json::parse(created.body)["id"];
  json running = json::parse(Call("GET", "/api/v1/sifts/" + id).body);
  EXPECT_EQ(running["status"], "searching") << running.dump();
  OpenPortal();  // the portal stops with the search still waiting on the hung member
  json r = json::parse(Call("GET", "/api/v1/sifts/" + id).body);
  close(hung);
  EXPECT_EQ(r["status"], "interrupted") << r.dump();
  EXPECT_EQ(r["summary"]["observables"], 5);
  EXPECT_EQ(r["observables"].size(), 5u);
  EXPECT_EQ(r["search"]["status"], "interrupted");
}

TEST_F(PortalSiftTest, ProgressIsVisibleWhileUploading) {
  // A raw upload that stops halfway: the sift is listed as uploading with what was parsed.
  std::string log;
  for (int i = 0; i < 6000; ++i) log += Combined("185.220.101.7", "/p" + std::to_string(i));
  int fd = testutil::ConnectLoopback(server_->port());
  ASSERT_GE(fd, 0);
  std::string head =
      "POST /api/v1/sifts?label=slow HTTP/1.1\r\nHost: x\r\nAuthorization: " + analyst_key_ +
      "\r\nContent-Length: " + std::to_string(log.size()) + "\r\n\r\n";
  std::string first = head + log.substr(0, log.size() / 2);
  ASSERT_EQ(write(fd, first.data(), first.size()), static_cast<ssize_t>(first.size()));
  json uploading;
  for (int i = 0; i < 200; ++i) {
    json list = json::parse(Call("GET", "/api/v1/sifts").body);
    if (!list.empty() && list[0]["progress"]["lines"].get<uint64_t>() > 0) {
      uploading = list[0];
      break;
    }
    std::this_thread::sleep_for(20ms);
  }
  ASSERT_FALSE(uploading.is_null());
  EXPECT_EQ(uploading["status"], "uploading");
  EXPECT_EQ(uploading["label"], "slow");
  EXPECT_GT(uploading["progress"]["bytes"].get<uint64_t>(), 0u);
  json one = json::parse(Call("GET", "/api/v1/sifts/" + uploading["id"].get<std::string>()).body);
  EXPECT_EQ(one["status"], "uploading");
  std::string rest = log.substr(log.size() / 2);
  ASSERT_EQ(write(fd, rest.data(), rest.size()), static_cast<ssize_t>(rest.size()));
  std::string answer;
  char buf[4096];
  ssize_t n;
  while (answer.find("\r\n\r\n") == std::string::npos || answer.find('}') == std::string::npos) {
    if ((n = read(fd, buf, sizeof buf)) <= 0) break;
    answer.append(buf, static_cast<size_t>(n));
  }
  close(fd);
  EXPECT_NE(answer.find("201 Created"), std::string::npos) << answer;
  json done = WaitForSift(uploading["id"]);
  EXPECT_EQ(done["summary"]["lines"], 6000);
}

}  // namespace
}  // namespace iocgrid::portal
