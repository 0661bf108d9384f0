// Helpers for the portal's sift tests (POST /api/v1/sifts): a fixture whose member nodes also
// hold public addresses and names (the fixture's documentation ranges are internal to a sift),
// uploads through real loopback HTTP, gzip, and peak memory.
#pragma once

#include <zlib.h>

#include <fstream>
#include <string>

#include "tests/common/fetch.h"
#include "tests/common/gzip.h"
#include "tests/common/peak_rss.h"
#include "tests/portal/portal_fixture.h"

namespace iocgrid::portal {

using test::Gzip;

// A combined log line.
inline std::string Combined(const std::string& client, const std::string& path,
                            const std::string& agent = "Mozilla/5.0 (X11; Linux x86_64)",
                            const std::string& time = "01/Mar/2024:10:00:00 +0000") {
  return client + " - - [" + time + "] \"GET " + path + " HTTP/1.1\" 200 512 \"-\" \"" + agent +
         "\"\n";
}

class PortalSiftTest : public PortalApiTest {
 protected:
  void SetUp() override {
    PortalApiTest::SetUp();
    if (IsSkipped()) return;  // PostgreSQL run without a server
    // Public values (a sift never sends documentation or private addresses).
    AddEvent(honeypot_, {{"info", "ssh scanners"},
                         {"date", "2026-04-01"},
                         {"Attribute",
                          {{{"type", "ip-src"}, {"value", "185.220.101.7"}},
                           {{"type", "ip-src"}, {"value", "45.61.187.3"}}}}});
    AddEvent(misp_, {{"info", "c2 infrastructure"},
                     {"date", "2026-02-01"},
                     {"Attribute",
                      {{{"type", "ip-dst"}, {"value", "91.203.5.0/24"}},
                       {{"type", "domain"}, {"value", "evil-c2.net"}}}}});
    OpenPortal();  // the MISP member's CIDR cache sees the new range
  }

  std::string Url(const std::string& path) const {
    return "http://127.0.0.1:" + std::to_string(server_->port()) + path;
  }

  net::ClientResponse Upload(const std::string& query, const std::string& body,
                             const std::string& content_type = "text/plain", std::string key = "") {
    net::ClientRequest req;
    req.method = "POST";
    req.url = Url("/api/v1/sifts" + query);
    req.body = body;
    req.timeout = std::chrono::seconds(120);
    if (!content_type.empty()) req.headers.emplace_back("Content-Type", content_type);
    req.headers.emplace_back("Authorization", key.empty() ? analyst_key_ : key);
    return test::FetchOrFail(req);
  }

  // Polls GET /api/v1/sifts/{id} until its search has ended.
  json WaitForSift(const std::string& id, const std::string& key = "") {
    for (int i = 0; i < 800; ++i) {
      auto r = Call("GET", "/api/v1/sifts/" + id, "", key);
      json d = json::parse(r.body, nullptr, false);
      if (r.status != 200) return d;
      std::string status = d.value("status", "");
      if (status != "searching" && status != "uploading") return d;
      std::this_thread::sleep_for(25ms);
    }
    ADD_FAILURE() << "sift did not finish";
    return {};
  }

  // Uploads and waits; the report.
  json SiftOf(const std::string& body, const std::string& query = "") {
    auto created = Upload(query, body);
    EXPECT_EQ(created.status, 201) << created.body;
    json c = json::parse(created.body, nullptr, false);
    if (!c.is_object()) return {};
    return WaitForSift(c.value("id", ""));
  }

  // "class" of each observable in a report.
  static std::map<std::string, std::string> Classes(const json& report) {
    std::map<std::string, std::string> out;
    for (const json& o : report["observables"]) out[o["value"]] = o["class"];
    return out;
  }
};

}  // namespace iocgrid::portal
