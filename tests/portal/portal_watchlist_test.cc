// Watchlists (issue 11): standing searches against real nodes over loopback, a real webhook
// receiver (an HTTP server that records what it gets and can be told to fail), data changed
// on a node while the watchlist is active, retries, restarts and hostile bodies.
#include <poll.h>
#include <sodium.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <mutex>
#include <set>

#include "tests/common/raw_http.h"
#include "tests/portal/portal_fixture.h"

namespace iocgrid::portal {
namespace {

constexpr const char* kSecret = "0123456789abcdef-secret";

// A webhook receiver: records every delivery; answers 500 to the first `fail_first`.
class Receiver {
 public:
  struct Delivery {
    std::string body;
    std::string signature;
    std::string event;
    std::string id;
  };

  explicit Receiver(int fail_first = 0) : fail_first_(fail_first) {
    server_ = std::move(*net::HttpServer::Start(net::ServerOptions{}, [this](net::Request& r) {
      std::lock_guard<std::mutex> lock(mu_);
      ++calls_;
      net::Response resp;
      if (calls_ <= fail_first_) {
        resp.status = 500;
        resp.body = "{}";
        return resp;
      }
      got_.push_back({r.body, std::string(r.Header("x-iocgrid-signature")),
                      std::string(r.Header("x-iocgrid-event")),
                      std::string(r.Header("x-iocgrid-delivery"))});
      resp.body = "{}";
      return resp;
    }));
  }

  std::string url() const {
    return "http://127.0.0.1:" + std::to_string(server_->port()) + "/hook";
  }
  std::vector<Delivery> got() {
    std::lock_guard<std::mutex> lock(mu_);
    return got_;
  }
  int calls() {
    std::lock_guard<std::mutex> lock(mu_);
    return calls_;
  }
  // Waits until `n` deliveries arrived (or 15 s passed).
  std::vector<Delivery> WaitFor(size_t n) {
    for (int i = 0; i < 300 && got().size() < n; ++i) std::this_thread::sleep_for(50ms);
    return got();
  }

 private:
  std::mutex mu_;
  int fail_first_;
  int calls_ = 0;
  std::vector<Delivery> got_;
  std::unique_ptr<net::HttpServer> server_;
};

std::string Hmac(const std::string& body) {
  unsigned char mac[crypto_auth_hmacsha256_BYTES];
  crypto_auth_hmacsha256_state st;
  crypto_auth_hmacsha256_init(&st, reinterpret_cast<const unsigned char*>(kSecret),
                              std::strlen(kSecret));
  crypto_auth_hmacsha256_update(&st, reinterpret_cast<const unsigned char*>(body.data()),
                                body.size());
  crypto_auth_hmacsha256_final(&st, mac);
  std::string hex = "sha256=";
  static const char* d = "0123456789abcdef";
  for (unsigned char c : mac) {
    hex.push_back(d[c >> 4]);
    hex.push_back(d[c & 15]);
  }
  return hex;
}

std::set<std::string> Keys(const json& hits) {
  std::set<std::string> out;
  for (const json& h : hits) {
    out.insert(h["indicator"].get<std::string>() + "@" + h["member"].get<std::string>() + ":" +
               h["relation"].get<std::string>());
  }
  return out;
}

class PortalWatchlistTest : public PortalApiTest {
 protected:
  void SetUp() override {
    PortalApiTest::SetUp();
    if (IsSkipped()) return;  // PostgreSQL run without a server
    configure_ = [](PortalConfig& c) {
      FastWatch(c);
      c.watch.webhook_backoff_ms = 50;
      c.watch.webhook_attempts = 3;
    };
    OpenPortal();
  }

  std::string Create(const json& body, const std::string& key = "") {
    auto r = Call("POST", "/api/v1/watchlists", body.dump(), key);
    EXPECT_EQ(r.status, 201) << r.body;
    return json::parse(r.body, nullptr, false).value("id", "");
  }

  json Runs(const std::string& id) {
    auto r = Call("GET", "/api/v1/watchlists/" + id + "/runs");
    EXPECT_EQ(r.status, 200) << r.body;
    return json::parse(r.body);
  }

  // Waits until the watchlist has run `n` times (or 15 s passed).
  json WaitRuns(const std::string& id, size_t n) {
    json runs;
    for (int i = 0; i < 300; ++i) {
      runs = Runs(id);
      if (runs.size() >= n) break;
      std::this_thread::sleep_for(50ms);
    }
    return runs;
  }

  json Deliveries(const std::string& id) {
    auto r = Call("GET", "/api/v1/watchlists/" + id + "/deliveries");
    EXPECT_EQ(r.status, 200) << r.body;
    return json::parse(r.body);
  }

  json Watch(const Receiver& receiver) {
    return {{"name", "case 42"},
            {"indicators", {"198.51.100.7", "fresh.example"}},
            {"webhook", receiver.url()},
            {"secret", kSecret},
            {"interval", "1h"}};
  }
};

TEST_F(PortalWatchlistTest, ANodeImportTriggersExactlyOneSignedDeliveryOfTheNewHits) {
  Receiver receiver;
  const std::string id = Create(Watch(receiver));
  // The first run reports what is held now.
  auto got = receiver.WaitFor(1);
  ASSERT_EQ(got.size(), 1u);
  json baseline = json::parse(got[0].body);
  EXPECT_EQ(got[0].event, "watchlist.hits");
  EXPECT_EQ(got[0].signature, Hmac(got[0].body));
  EXPECT_EQ(baseline["watchlist"]["id"], id);
  EXPECT_EQ(baseline["run"]["reason"], "created");
  EXPECT_EQ(Keys(baseline["new"]), (std::set<std::string>{"198.51.100.7@anonymity:in-range",
                                                          "198.51.100.7@honeypot:exact"}));
  EXPECT_TRUE(baseline["removed"].empty());
  // Let the watcher record each member's data marker, then change one member's data.
  std::this_thread::sleep_for(1500ms);
  AddEvent(honeypot_, {{"info", "new today"},
                       {"Attribute", {{{"type", "domain"}, {"value", "fresh.example"}}}}});
  got = receiver.WaitFor(2);
  ASSERT_EQ(got.size(), 2u);
  json change = json::parse(got[1].body);
  EXPECT_EQ(got[1].signature, Hmac(got[1].body));
  EXPECT_EQ(change["run"]["reason"], "data-changed");
  EXPECT_EQ(Keys(change["new"]), std::set<std::string>{"fresh.example@honeypot:exact"});
  EXPECT_TRUE(change["removed"].empty());
  // Nothing else changed: no further delivery, though the watcher keeps checking.
  std::this_thread::sleep_for(2500ms);
  EXPECT_EQ(receiver.got().size(), 2u);
  json runs = Runs(id);
  ASSERT_GE(runs.size(), 2u);
  EXPECT_EQ(runs[0]["hits"], 3);
  // The watchlist shows its current hits, never its secret.
  json w = json::parse(Call("GET", "/api/v1/watchlists/" + id).body);
  EXPECT_EQ(w["current_hits"].size(), 3u);
  EXPECT_EQ(w["secret_set"], true);
  EXPECT_EQ(w.dump().find(kSecret), std::string::npos);
}

// Two portal instances on one database (on PostgreSQL the way to scale out; here also two
// processes' worth of threads on one SQLite file): both watchers see the watchlist and both
// notice the node's new data, yet each run is made and delivered once.
TEST_F(PortalWatchlistTest, TwoInstancesOnOneDatabaseRunAndDeliverOnce) {
  // A member that takes 1.2 s to fail: the first run spans ticks of the other instance's
  // watcher, which sees a watchlist that has never run.
  auto slow = std::move(*net::HttpServer::Start(net::ServerOptions{}, [](net::Request&) {
    std::this_thread::sleep_for(1200ms);
    net::Response r;
    r.status = 503;
    r.body = "{}";
    return r;
  }));
  configure_ = [port = slow->port()](PortalConfig& c) {
    FastWatch(c);
    c.members[3].url = "http://127.0.0.1:" + std::to_string(port);
    c.members[3].enabled = true;
  };
  OpenPortal();
  auto second = Portal::Open(Config());
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  Receiver receiver;
  const std::string id = Create(Watch(receiver));
  auto got = receiver.WaitFor(1);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(json::parse(got[0].body)["run"]["reason"], "created");
  std::this_thread::sleep_for(2000ms);  // both deliverers poll every 100 ms
  EXPECT_EQ(receiver.got().size(), 1u);
  EXPECT_EQ(receiver.calls(), 1);
  json runs = Runs(id);
  EXPECT_EQ(runs.size(), 1u) << runs.dump();
  second->reset();
}

TEST_F(PortalWatchlistTest, RemovedHitsAreReportedAndAFailedMemberKeepsItsHits) {
  Receiver receiver;
  const std::string id = Create(Watch(receiver));
  ASSERT_EQ(receiver.WaitFor(1).size(), 1u);
  // The honeypot member stops answering: its hit is kept, nothing is reported removed.
  configure_ = [](PortalConfig& c) {
    FastWatch(c);
    c.members[1].url = "http://127.0.0.1:9";
    c.members[1].timeout = 1s;
  };
  OpenPortal();
  auto patched =
      Call("PATCH", "/api/v1/watchlists/" + id, json{{"relations", {"exact", "in-range"}}}.dump());
  ASSERT_EQ(patched.status, 200) << patched.body;
  json runs = WaitRuns(id, 2);
  ASSERT_GE(runs.size(), 2u);
  EXPECT_EQ(runs[0]["reason"], "patched");
  EXPECT_TRUE(runs[0]["removed"].empty()) << runs[0].dump();
  EXPECT_EQ(runs[0]["hits"], 2);
  // Back, asking anonymity alone: honeypot's hit is removed.
  configure_ = &FastWatch;
  OpenPortal();
  patched = Call("PATCH", "/api/v1/watchlists/" + id, json{{"members", {"anonymity"}}}.dump());
  ASSERT_EQ(patched.status, 200) << patched.body;
  auto got = receiver.WaitFor(2);
  ASSERT_EQ(got.size(), 2u);
  json change = json::parse(got[1].body);
  EXPECT_TRUE(change["new"].empty()) << change.dump();
  EXPECT_EQ(Keys(change["removed"]), std::set<std::string>{"198.51.100.7@honeypot:exact"});
}

TEST_F(PortalWatchlistTest, AFailingReceiverGetsRetriesAndTheLogSaysSo) {
  Receiver flaky(/*fail_first=*/2);
  const std::string id = Create(Watch(flaky));
  ASSERT_EQ(flaky.WaitFor(1).size(), 1u);
  json d = Deliveries(id);
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(d[0]["state"], "delivered");
  EXPECT_EQ(d[0]["attempts"], 3);
  ASSERT_EQ(d[0]["log"].size(), 3u);
  EXPECT_EQ(d[0]["log"][0]["status"], 500);
  EXPECT_NE(d[0]["log"][0]["error"].get<std::string>().find("HTTP 500"), std::string::npos);
  EXPECT_EQ(d[0]["log"][2]["status"], 200);

  // A receiver that never takes it: given up after webhook_attempts, and said so.
  Receiver dead(/*fail_first=*/1000);
  const std::string second = Create(Watch(dead));
  json log;
  for (int i = 0; i < 200; ++i) {
    log = Deliveries(second);
    if (!log.empty() && log[0]["state"] == "failed") break;
    std::this_thread::sleep_for(50ms);
  }
  ASSERT_EQ(log.size(), 1u);
  EXPECT_EQ(log[0]["state"], "failed");
  EXPECT_EQ(log[0]["attempts"], 3);
  EXPECT_EQ(dead.calls(), 3);
}

TEST_F(PortalWatchlistTest, AWatchlistSurvivesARestartAndStreamsItsEvents) {
  Receiver receiver;
  const std::string id = Create(Watch(receiver));
  ASSERT_EQ(receiver.WaitFor(1).size(), 1u);
  OpenPortal();  // a restart: the same data directory
  auto listed = Call("GET", "/api/v1/watchlists");
  ASSERT_EQ(listed.status, 200);
  ASSERT_EQ(json::parse(listed.body).size(), 1u);
  EXPECT_GE(Runs(id).size(), 1u);
  // An event stream sees the next change.
  int fd = testutil::ConnectLoopback(static_cast<uint16_t>(server_->port()));
  ASSERT_GE(fd, 0);
  testutil::SendAll(fd, "GET /api/v1/watchlists/" + id +
                            "/events HTTP/1.1\r\nHost: x\r\nAuthorization: " + analyst_key_ +
                            "\r\n\r\n");
  std::string stream = testutil::ReadUntilClosed(fd, 1);
  EXPECT_NE(stream.find("text/event-stream"), std::string::npos) << stream;
  std::this_thread::sleep_for(1200ms);  // the restarted watcher records the markers first
  AddEvent(anonymity_,
           {{"info", "more"}, {"Attribute", {{{"type", "domain"}, {"value", "fresh.example"}}}}});
  for (int i = 0; i < 15 && stream.find("event: watchlist.hits") == std::string::npos; ++i) {
    stream += testutil::ReadUntilClosed(fd, 1);
  }
  ::close(fd);
  EXPECT_NE(stream.find("event: watchlist.hits"), std::string::npos) << stream;
  EXPECT_NE(stream.find("fresh.example"), std::string::npos);
  auto got = receiver.WaitFor(2);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(Keys(json::parse(got[1].body)["new"]),
            std::set<std::string>{"fresh.example@anonymity:exact"});
}

// A member that hangs: it accepts connections and never answers; counts how many of them were
// open at the same time.
class HangingMember {
 public:
  HangingMember() : fd_(testutil::ListenLoopback(&port_)) {
    thread_ = std::thread([this] {
      std::vector<int> open;
      while (!stop_) {
        pollfd p{fd_, POLLIN, 0};
        if (::poll(&p, 1, 20) > 0) {
          int c = ::accept(fd_, nullptr, nullptr);
          if (c >= 0) open.push_back(c);
        }
        std::erase_if(open, [](int c) {
          char b;
          ssize_t n = ::recv(c, &b, 1, MSG_PEEK | MSG_DONTWAIT);
          if (n == 0) {
            ::close(c);
            return true;
          }
          return false;
        });
        max_open_ = std::max<int>(max_open_, static_cast<int>(open.size()));
      }
      for (int c : open) ::close(c);
    });
  }
  ~HangingMember() {
    stop_ = true;
    thread_.join();
    ::close(fd_);
  }
  uint16_t port() const { return port_; }
  int max_open() const { return max_open_; }

 private:
  uint16_t port_ = 0;
  int fd_;
  std::atomic<bool> stop_{false};
  std::atomic<int> max_open_{0};
  std::thread thread_;
};

// Runs wait for their slowest member; due watchlists run watch_concurrent_runs at a time, not
// one after the other.
TEST_F(PortalWatchlistTest, DueWatchlistsRunSideBySide) {
  HangingMember hanging;
  configure_ = [&hanging](PortalConfig& c) {
    FastWatch(c);
    c.watch.concurrent_runs = 4;
    c.members[1].url = "http://127.0.0.1:" + std::to_string(hanging.port());
    c.members[1].timeout = 2s;
    // On a loaded machine the last watchlist can fall due after the first three runs timed
    // out; the member's circuit breaker would then skip it. The breaker is not what this test
    // is about (federation_test.cc has it).
    c.federation.breaker_failures = 1000;
  };
  OpenPortal();
  std::vector<std::string> ids;
  for (int k = 0; k < 4; ++k) {
    ids.push_back(Create({{"name", "w" + std::to_string(k)},
                          {"indicators", {"198.51.100.7"}},
                          {"members", {"honeypot"}}}));
  }
  for (const std::string& id : ids) {
    json runs = WaitRuns(id, 1);
    ASSERT_EQ(runs.size(), 1u) << id;
    EXPECT_EQ(runs[0]["members"][0]["status"], "timed_out") << runs.dump();
  }
  EXPECT_GE(hanging.max_open(), 2);  // one after the other would never hold two at once
}

TEST_F(PortalWatchlistTest, HostileBodiesAndOtherPeoplesWatchlists) {
  Receiver receiver;
  const std::string deep = std::string(30000, '[') + std::string(30000, ']');
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"[]", "JSON object"},
      {deep, "deeper"},
      {R"({"indicators":["1.2.3.4"]})", "'name'"},
      {R"({"name":"x"})", "'indicators', 'csv' or 'text'"},
      {R"({"name":"","indicators":["1.2.3.4"]})", "'name'"},
      {R"({"name":7,"indicators":["1.2.3.4"]})", "'name'"},
      {R"({"name":"x","indicators":["1.2.3.4"],"interval":"0m"})", "'interval'"},
      {R"({"name":"x","indicators":["1.2.3.4"],"interval":99999999999999999999})", "'interval'"},
      {R"({"name":"x","indicators":["1.2.3.4"],"interval":-5})", "'interval'"},
      {R"({"name":"x","indicators":["1.2.3.4"],"interval":"soon"})", "'interval'"},
      {R"({"name":"x","indicators":["1.2.3.4"],"webhook":"ftp://a/b","secret":"0123456789abcdef"})",
       "'webhook'"},
      {R"({"name":"x","indicators":["1.2.3.4"],"webhook":"http://u:p@a/b","secret":"0123456789abcdef"})",
       "'webhook'"},
      {R"({"name":"x","indicators":["1.2.3.4"],"webhook":"http://a/b"})", "'secret'"},
      {R"({"name":"x","indicators":["1.2.3.4"],"webhook":"http://a/b","secret":"short"})",
       "'secret'"},
      {R"({"name":"x","indicators":["1.2.3.4"],"shared":true})", "Unknown field 'shared'"},
      {R"({"name":"x","indicators":["1.2.3.4"],"members":["nobody"]})", "Unknown member"},
      {R"({"name":"x","indicators":["1.2.3.4"],"since":"yesterday"})", "since"},
      {"{\"name\":\"a\\u0001b\",\"indicators\":[\"1.2.3.4\"]}", "'name'"},
  };
  for (const auto& [body, expect] : cases) {
    auto r = Call("POST", "/api/v1/watchlists", body);
    EXPECT_EQ(r.status, 400) << body.substr(0, 80) << " -> " << r.body;
    json err = json::parse(r.body, nullptr, false);
    ASSERT_TRUE(err.is_object()) << r.body;
    EXPECT_NE(err.value("message", "").find(expect), std::string::npos)
        << body.substr(0, 80) << " -> " << r.body;
  }
  EXPECT_TRUE(json::parse(Call("GET", "/api/v1/watchlists").body).empty());
  // The portal's floor for the interval.
  configure_ = [](PortalConfig& c) { c.watch.min_interval_s = 300; };
  OpenPortal();
  auto too_often =
      Call("POST", "/api/v1/watchlists",
           json{{"name", "x"}, {"indicators", {"1.2.3.4"}}, {"interval", "1m"}}.dump());
  EXPECT_EQ(too_often.status, 400);
  EXPECT_NE(too_often.body.find("at least 300 seconds"), std::string::npos) << too_often.body;
  // Webhooks into the portal's own network are refused unless the config allows them.
  for (const char* url : {"http://127.0.0.1:8080/admin", "http://localhost/x", "http://2130706433/",
                          "https://10.1.2.3/hook", "http://[::1]:9/x", "http://169.254.169.254/",
                          "http://intranet/hook", "http://printer.local/x"}) {
    auto r = Call("POST", "/api/v1/watchlists",
                  json{{"name", "x"},
                       {"indicators", {"1.2.3.4"}},
                       {"webhook", url},
                       {"secret", "0123456789abcdef"}}
                      .dump());
    EXPECT_EQ(r.status, 400) << url << " " << r.body;
    EXPECT_NE(r.body.find("webhook_allow_internal"), std::string::npos) << url << " " << r.body;
  }
  auto outside = Call("POST", "/api/v1/watchlists",
                      json{{"name", "x"},
                           {"indicators", {"1.2.3.4"}},
                           {"webhook", "https://hooks.soc-vendor.com/iocgrid"},
                           {"secret", "0123456789abcdef"}}
                          .dump());
  EXPECT_EQ(outside.status, 201) << outside.body;
  EXPECT_EQ(
      Call("DELETE", "/api/v1/watchlists/" + json::parse(outside.body).value("id", "")).status,
      200);
  // Someone else's watchlist is as unknown as a missing one; an admin sees it.
  const std::string id = Create({{"name", "mine"}, {"indicators", {"1.2.3.4"}}});
  for (const char* path : {"", "/runs", "/deliveries", "/events"}) {
    EXPECT_EQ(Call("GET", "/api/v1/watchlists/" + id + path, "", other_key_).status, 404) << path;
  }
  EXPECT_EQ(Call("PATCH", "/api/v1/watchlists/" + id, R"({"name":"theirs"})", other_key_).status,
            404);
  EXPECT_EQ(Call("DELETE", "/api/v1/watchlists/" + id, "", other_key_).status, 404);
  EXPECT_EQ(Call("GET", "/api/v1/watchlists/" + id, "", admin_key_).status, 200);
  EXPECT_EQ(Call("GET", "/api/v1/watchlists", "", "none").status, 403);
  EXPECT_EQ(Call("GET", "/api/v1/watchlists/" + id + "/runs?limit=0").status, 400);
  EXPECT_EQ(Call("GET", "/api/v1/watchlists/" + id + "/runs?limit=99999999999999999999").status,
            400);
  EXPECT_EQ(Call("PATCH", "/api/v1/watchlists/" + id, R"({"webhook":"http://a/b"})").status, 400);
  EXPECT_EQ(Call("PATCH", "/api/v1/watchlists/" + id, R"({"interval":"1m"})").status, 400);
  EXPECT_EQ(Call("DELETE", "/api/v1/watchlists/" + id).status, 200);
  EXPECT_EQ(Call("GET", "/api/v1/watchlists/" + id).status, 404);
}

}  // namespace
}  // namespace iocgrid::portal
