// Federation fan-out against real loopback members: iocgrid nodes, and servers
// that hang, answer 500, send invalid JSON, reset, send too much, or are not
// there. No timing assertions: deadlines only keep a broken build from hanging.
#include "federation/federation.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <future>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "common/time.h"
#include "tests/federation/test_members.h"

namespace iocgrid::federation {
namespace {

using namespace std::chrono_literals;
using testing::Attr;
using testing::HandlerServer;
using testing::Ind;
using testing::MakeEvent;
using testing::RawServer;
using testing::RunSearch;
using testing::TestNode;

// Member A: a /24 and two IPs; the search asks for one IP in the range and one
// exact.
void SeedA(TestNode& n) {
  n.Import({MakeEvent("11111111-1111-4111-8111-111111111111", "anonymity ranges",
                      {Attr("ip-dst", "203.0.113.0/24"), Attr("ip-dst", "198.51.100.7"),
                       Attr("domain", "evil.example")})});
}

SearchRequest BasicRequest() {
  SearchRequest r;
  r.indicators = {Ind("ip-dst", "203.0.113.77"), Ind("ip-dst", "198.51.100.7"),
                  Ind("hostname", "a.evil.example"), Ind("ip-dst", "192.0.2.1")};
  return r;
}

void ExpectHealthyHits(const MemberReply& r) {
  ASSERT_EQ(r.status, MemberStatus::kDone) << r.error;
  ASSERT_EQ(r.hits.size(), 3u);
  EXPECT_EQ(r.hits[0].query, 0u);
  EXPECT_EQ(r.hits[0].relation, index::Relation::kInRange);
  EXPECT_EQ(r.hits[0].matched, "203.0.113.0/24");
  EXPECT_EQ(r.hits[1].query, 1u);
  EXPECT_EQ(r.hits[1].relation, index::Relation::kExact);
  EXPECT_EQ(r.hits[2].query, 2u);
  EXPECT_EQ(r.hits[2].relation, index::Relation::kSubdomain);
}

TEST(FederationTest, IocgridMemberReturnsHitsWithContext) {
  auto node = TestNode::Start();
  SeedA(*node);
  auto fed = Federation::Create({node->Config("a")}, FederationOptions{});
  ASSERT_TRUE(fed.ok()) << fed.status().ToString();
  auto out = RunSearch(**fed, BasicRequest());
  EXPECT_EQ(out.done_calls, 1);
  ASSERT_EQ(out.replies.size(), 1u);
  const MemberReply& r = out.replies["a"];
  ExpectHealthyHits(r);
  EXPECT_EQ(r.requests, 1u);
  EXPECT_EQ(r.relations, index::kAllRelations);
  const MemberHit& h = r.hits[1];
  EXPECT_EQ(h.type, "ip-dst");
  EXPECT_EQ(h.event_info, "anonymity ranges");
  EXPECT_EQ(h.event_uuid, "11111111-1111-4111-8111-111111111111");
  EXPECT_EQ(h.event_date, "2024-03-01");
  EXPECT_TRUE(h.to_ids);
  EXPECT_EQ(h.comment, "seen 198.51.100.7");
  EXPECT_EQ(h.timestamp, 1709251200);
  EXPECT_FALSE(h.attribute_uuid.empty());
  EXPECT_NE(std::find(h.tags.begin(), h.tags.end(), "tlp:amber"), h.tags.end());
  // Status sequence: queued, running, done.
  ASSERT_EQ(out.statuses.size(), 3u);
  EXPECT_EQ(out.statuses[0].second, MemberStatus::kQueued);
  EXPECT_EQ(out.statuses[1].second, MemberStatus::kRunning);
  EXPECT_EQ(out.statuses[2].second, MemberStatus::kDone);
}

TEST(FederationTest, RelationsFilterIsPassedToTheNode) {
  auto node = TestNode::Start();
  SeedA(*node);
  auto fed = Federation::Create({node->Config("a")}, FederationOptions{});
  ASSERT_TRUE(fed.ok());
  SearchRequest req = BasicRequest();
  req.relations = index::RelationBit(index::Relation::kExact);
  auto out = RunSearch(**fed, req);
  const MemberReply& r = out.replies["a"];
  ASSERT_EQ(r.status, MemberStatus::kDone) << r.error;
  EXPECT_EQ(r.relations, index::RelationBit(index::Relation::kExact));
  ASSERT_EQ(r.hits.size(), 1u);
  EXPECT_EQ(r.hits[0].matched, "198.51.100.7");
}

TEST(FederationTest, CreateRejectsInvalidMembers) {
  MemberConfig a;
  a.name = "a";
  a.url = "http://127.0.0.1:1";
  EXPECT_EQ(Federation::Create({a, a}, {}).status().code(), StatusCode::kInvalidArgument);
  MemberConfig bad = a;
  bad.name = "Bad Name";
  EXPECT_EQ(Federation::Create({bad}, {}).status().code(), StatusCode::kInvalidArgument);
  MemberConfig ftp = a;
  ftp.url = "ftp://127.0.0.1";
  EXPECT_EQ(Federation::Create({ftp}, {}).status().code(), StatusCode::kInvalidArgument);
}

TEST(FederationTest, UnknownAndDisabledMembersEachGetOneReply) {
  auto node = TestNode::Start();
  SeedA(*node);
  MemberConfig off = node->Config("off");
  off.enabled = false;
  auto fed = Federation::Create({node->Config("a"), off}, {});
  ASSERT_TRUE(fed.ok());
  SearchRequest req = BasicRequest();
  req.members = {"a", "off", "nobody"};
  auto out = RunSearch(**fed, req);
  ASSERT_EQ(out.replies.size(), 3u);
  ExpectHealthyHits(out.replies["a"]);
  EXPECT_EQ(out.replies["off"].status, MemberStatus::kSkipped);
  EXPECT_EQ(out.replies["off"].error, "disabled");
  EXPECT_EQ(out.replies["nobody"].status, MemberStatus::kFailed);
  EXPECT_EQ(out.replies["nobody"].error, "unknown member");
  // Empty member list: every enabled member only.
  auto all = RunSearch(**fed, BasicRequest());
  EXPECT_EQ(all.replies.size(), 1u);
}

// Every kind of broken member in one search, next to a healthy one.
TEST(ReliabilityTest, BrokenMembersFailWithReasonsAndHealthyHitsStay) {
  auto node = TestNode::Start();
  SeedA(*node);
  RawServer hang(RawServer::Mode::kHang);
  RawServer reset(RawServer::Mode::kReset);
  HandlerServer err500([](net::Request&) {
    net::Response r;
    r.status = 500;
    r.body =
        R"({"name":"An Internal Error Has Occurred.","message":"An Internal Error Has Occurred.","url":"/grid/v1/match"})";
    return r;
  });
  HandlerServer badjson([](net::Request&) {
    net::Response r;
    r.content_type = "application/x-ndjson";
    r.body = "{\"i\":0,\"hits\":[{\"relation\":\"exact\",\"matched\":\n";
    return r;
  });
  HandlerServer huge([](net::Request&) {
    net::Response r;
    r.content_type = "application/x-ndjson";
    r.body = std::string(2 * 1024 * 1024, ' ');
    return r;
  });
  std::vector<MemberConfig> members = {node->Config("healthy")};
  auto add = [&](std::string name, std::string url) {
    MemberConfig c = node->Config(std::move(name));
    c.url = std::move(url);
    c.timeout = 1500ms;
    c.max_response_bytes = 64 * 1024;
    members.push_back(c);
  };
  add("hang", hang.url());
  add("reset", reset.url());
  add("err500", err500.url());
  add("badjson", badjson.url());
  add("huge", huge.url());
  add("refused", testing::ClosedPortUrl());
  FederationOptions options;
  options.retry_backoff = 10ms;
  auto fed = Federation::Create(members, options);
  ASSERT_TRUE(fed.ok()) << fed.status().ToString();
  SearchRequest req = BasicRequest();
  req.deadline = std::chrono::steady_clock::now() + 20s;
  auto out = RunSearch(**fed, req);
  EXPECT_LE(std::chrono::steady_clock::now(), req.deadline);
  EXPECT_EQ(out.done_calls, 1);
  ASSERT_EQ(out.replies.size(), members.size());
  ExpectHealthyHits(out.replies["healthy"]);

  const MemberReply& h = out.replies["hang"];
  EXPECT_EQ(h.status, MemberStatus::kTimedOut) << h.error;
  EXPECT_NE(h.error.find("timed out"), std::string::npos) << h.error;

  const MemberReply& rs = out.replies["reset"];
  EXPECT_EQ(rs.status, MemberStatus::kFailed) << rs.error;
  EXPECT_TRUE(rs.error.find("reset") != std::string::npos ||
              rs.error.find("Empty reply") != std::string::npos)
      << rs.error;
  EXPECT_EQ(rs.requests, 3u);  // retried: a reset is a connection error

  const MemberReply& e = out.replies["err500"];
  EXPECT_EQ(e.status, MemberStatus::kFailed);
  EXPECT_NE(e.error.find("HTTP 500"), std::string::npos) << e.error;
  EXPECT_NE(e.error.find("An Internal Error Has Occurred."), std::string::npos) << e.error;
  EXPECT_EQ(e.requests, 3u);
  EXPECT_EQ(err500.requests(), 3u);

  const MemberReply& j = out.replies["badjson"];
  EXPECT_EQ(j.status, MemberStatus::kFailed);
  EXPECT_NE(j.error.find("invalid JSON"), std::string::npos) << j.error;
  EXPECT_EQ(j.requests, 1u);

  const MemberReply& g = out.replies["huge"];
  EXPECT_EQ(g.status, MemberStatus::kFailed);
  EXPECT_NE(g.error.find("larger than 65536 bytes"), std::string::npos) << g.error;
  EXPECT_EQ(g.requests, 1u);

  const MemberReply& c = out.replies["refused"];
  EXPECT_EQ(c.status, MemberStatus::kFailed);
  EXPECT_NE(c.error.find("onnect"), std::string::npos) << c.error;
  EXPECT_EQ(c.requests, 3u);
}

// An alliance with more hung members than the old fixed connection cap (64): the hung ones
// hold a connection each until their timeout, and the healthy members listed after them still
// get connections of their own and answer (issue 14: 10 of 100 members hanging).
TEST(ReliabilityTest, ManyHungMembersDoNotStarveTheHealthyOnes) {
  auto node = TestNode::Start();
  SeedA(*node);
  RawServer hang(RawServer::Mode::kHang);
  std::vector<MemberConfig> members;
  for (int i = 0; i < 70; ++i) {
    MemberConfig c = node->Config("hung-" + std::to_string(i));
    c.url = hang.url();
    c.timeout = 1500ms;
    members.push_back(c);
  }
  for (const char* name : {"healthy-1", "healthy-2"}) {
    MemberConfig c = node->Config(name);
    c.timeout = 1500ms;
    members.push_back(c);
  }
  FederationOptions options;
  options.retries = 0;
  auto fed = Federation::Create(members, options);
  ASSERT_TRUE(fed.ok()) << fed.status().ToString();
  SearchRequest req = BasicRequest();
  req.deadline = std::chrono::steady_clock::now() + 20s;
  auto out = RunSearch(**fed, req);
  ASSERT_EQ(out.replies.size(), members.size());
  ExpectHealthyHits(out.replies["healthy-1"]);
  ExpectHealthyHits(out.replies["healthy-2"]);
  for (int i = 0; i < 70; ++i) {
    EXPECT_EQ(out.replies["hung-" + std::to_string(i)].status, MemberStatus::kTimedOut) << i;
  }
  EXPECT_EQ(hang.accepted(), 70);
}

TEST(ReliabilityTest, SearchDeadlineBoundsAHangingMember) {
  RawServer hang(RawServer::Mode::kHang);
  MemberConfig c;
  c.name = "hang";
  c.url = hang.url();
  c.timeout = 60s;  // the search deadline is the shorter one
  auto fed = Federation::Create({c}, {});
  ASSERT_TRUE(fed.ok());
  SearchRequest req = BasicRequest();
  req.deadline = std::chrono::steady_clock::now() + 500ms;
  auto out = RunSearch(**fed, req);
  EXPECT_EQ(out.replies["hang"].status, MemberStatus::kTimedOut);
}

TEST(ReliabilityTest, ClientErrorsAreNotRetried) {
  HandlerServer forbidden([](net::Request& r) {
    net::Response resp;
    resp.status = 403;
    resp.body = R"({"name":"Authentication failed.","message":"Authentication failed.","url":")" +
                r.path + "\"}";
    return resp;
  });
  MemberConfig c;
  c.name = "forbidden";
  c.url = forbidden.url();
  auto fed = Federation::Create({c}, {});
  ASSERT_TRUE(fed.ok());
  auto out = RunSearch(**fed, BasicRequest());
  const MemberReply& r = out.replies["forbidden"];
  EXPECT_EQ(r.status, MemberStatus::kFailed);
  EXPECT_NE(r.error.find("HTTP 403"), std::string::npos) << r.error;
  EXPECT_NE(r.error.find("Authentication failed."), std::string::npos) << r.error;
  EXPECT_EQ(r.requests, 1u);
  EXPECT_EQ(forbidden.requests(), 1u);
}

TEST(ReliabilityTest, TransientServerErrorIsRetriedAndSucceeds) {
  std::atomic<int> calls{0};
  auto node = TestNode::Start([&calls](net::Request&, net::Response* resp) {
    if (calls.fetch_add(1) > 0) return false;
    resp->status = 503;
    resp->body = R"({"name":"busy","message":"busy","url":"/"})";
    return true;
  });
  SeedA(*node);
  FederationOptions options;
  options.retry_backoff = 10ms;
  auto fed = Federation::Create({node->Config("a")}, options);
  ASSERT_TRUE(fed.ok());
  auto out = RunSearch(**fed, BasicRequest());
  ExpectHealthyHits(out.replies["a"]);
  EXPECT_EQ(out.replies["a"].requests, 2u);
}

TEST(ReliabilityTest, CancelEndsEveryMemberOnce) {
  RawServer hang(RawServer::Mode::kHang);
  MemberConfig c;
  c.name = "hang";
  c.url = hang.url();
  c.timeout = 60s;
  auto fed = Federation::Create({c}, {});
  ASSERT_TRUE(fed.ok());
  std::promise<MemberReply> got;
  SearchCallbacks cb;
  cb.on_reply = [&got](MemberReply r) { got.set_value(std::move(r)); };
  SearchRequest req = BasicRequest();
  req.deadline = std::chrono::steady_clock::now() + 60s;
  auto handle = (*fed)->Search(req, cb);
  while (hang.accepted() == 0) std::this_thread::sleep_for(5ms);
  handle->Cancel();
  handle->Wait();
  MemberReply r = got.get_future().get();
  EXPECT_EQ(r.status, MemberStatus::kFailed);
  EXPECT_EQ(r.error, "cancelled");
}

TEST(BreakerTest, OpensAfterFailuresAndClosesWhenTheMemberIsBack) {
  std::atomic<bool> healthy{false};
  auto node = TestNode::Start([&healthy](net::Request&, net::Response* resp) {
    if (healthy) return false;
    resp->status = 500;
    resp->body = R"({"name":"down","message":"down","url":"/"})";
    return true;
  });
  SeedA(*node);
  FederationOptions options;
  options.retries = 0;
  options.breaker_failures = 2;
  options.breaker_open_for = 300ms;
  auto fed = Federation::Create({node->Config("a")}, options);
  ASSERT_TRUE(fed.ok());
  auto breaker = [&fed] {
    std::vector<MemberBreaker> all = (*fed)->Breakers();
    EXPECT_EQ(all.size(), 1u);
    return all.empty() ? MemberBreaker{} : all[0];
  };
  EXPECT_EQ(breaker().member, "a");
  EXPECT_EQ(breaker().state, BreakerState::kClosed);
  EXPECT_EQ(RunSearch(**fed, BasicRequest()).replies["a"].status, MemberStatus::kFailed);
  EXPECT_EQ(breaker().state, BreakerState::kClosed);
  EXPECT_EQ(breaker().consecutive_failures, 1);
  EXPECT_EQ(RunSearch(**fed, BasicRequest()).replies["a"].status, MemberStatus::kFailed);
  EXPECT_EQ(node->requests(), 2u);
  MemberBreaker open = breaker();
  EXPECT_EQ(open.state, BreakerState::kOpen);
  EXPECT_EQ(BreakerStateName(open.state), "open");
  EXPECT_EQ(open.consecutive_failures, 2);
  EXPECT_GT(open.retry_in_ms, 0);
  EXPECT_LE(open.retry_in_ms, 300);
  auto skipped = RunSearch(**fed, BasicRequest()).replies["a"];
  EXPECT_EQ(skipped.status, MemberStatus::kSkipped);
  EXPECT_NE(skipped.error.find("circuit open"), std::string::npos) << skipped.error;
  EXPECT_EQ(skipped.requests, 0u);
  EXPECT_EQ(node->requests(), 2u);  // the open breaker sent nothing

  // Still down at the trial: the breaker opens again at once.
  std::this_thread::sleep_for(400ms);
  EXPECT_EQ(breaker().state, BreakerState::kHalfOpen);  // the next search is the trial
  EXPECT_EQ(breaker().retry_in_ms, 0);
  EXPECT_EQ(RunSearch(**fed, BasicRequest()).replies["a"].status, MemberStatus::kFailed);
  EXPECT_EQ(RunSearch(**fed, BasicRequest()).replies["a"].status, MemberStatus::kSkipped);

  // Back: the next trial after breaker_open_for uses it, and it stays in use.
  healthy = true;
  std::this_thread::sleep_for(400ms);
  ExpectHealthyHits(RunSearch(**fed, BasicRequest()).replies["a"]);
  ExpectHealthyHits(RunSearch(**fed, BasicRequest()).replies["a"]);
  EXPECT_EQ(breaker().state, BreakerState::kClosed);
  EXPECT_EQ(breaker().consecutive_failures, 0);
}

TEST(ProbeTest, ReportsVersionAndDataOfANode) {
  auto node = TestNode::Start();
  SeedA(*node);
  MemberConfig dead;
  dead.name = "dead";
  dead.url = testing::ClosedPortUrl();
  dead.timeout = 5s;
  auto fed = Federation::Create({node->Config("a"), dead}, {});
  ASSERT_TRUE(fed.ok());
  MemberProbe p = (*fed)->Probe("a");
  EXPECT_TRUE(p.ok) << p.error;
  EXPECT_EQ(p.version, "2.5.1");
  EXPECT_EQ(p.attributes, 3u);
  MemberProbe d = (*fed)->Probe("dead");
  EXPECT_FALSE(d.ok);
  EXPECT_FALSE(d.error.empty());
  EXPECT_FALSE((*fed)->Probe("nobody").ok);
  EXPECT_EQ(p.mirror, "");  // not a mirror
}

// A node mirroring a MISP says how far behind it is, and why its last sweep failed.
TEST(ProbeTest, AMirroringNodeShowsItsLagAndError) {
  auto node = TestNode::Start();
  store::MirrorState state;
  state.source = "https://misp.acme.example";
  state.last_success = UnixNow() - 42;
  state.last_attempt = UnixNow() - 2;
  state.error = "events/index page 1: HTTP 403 (Authentication failed.)";
  ASSERT_TRUE(node->node().store().SetMirrorState(state).ok());
  auto fed = Federation::Create({node->Config("a")}, {});
  ASSERT_TRUE(fed.ok());
  MemberProbe p = (*fed)->Probe("a");
  EXPECT_TRUE(p.ok) << p.error;
  EXPECT_NE(p.mirror.find("mirror of https://misp.acme.example, 4"), std::string::npos) << p.mirror;
  EXPECT_NE(p.mirror.find(" s behind; last sweep failed: events/index page 1: HTTP 403"),
            std::string::npos)
      << p.mirror;
}

// ---- load: 50 concurrent searches of 1,000 indicators against 3 members
// -----------------------

std::string Ip(int a, int b, int c) {
  return "10." + std::to_string(a) + "." + std::to_string(b) + "." + std::to_string(c);
}

// A comparable rendering of a reply: status and every hit.
std::vector<std::string> Render(const MemberReply& r) {
  std::vector<std::string> out = {std::string(MemberStatusName(r.status)) + " " + r.error};
  for (const MemberHit& h : r.hits) {
    out.push_back(std::to_string(h.query) + " " + std::string(index::RelationName(h.relation)) +
                  " " + h.matched + " " + h.attribute_uuid + " " + h.event_info);
  }
  return out;
}

TEST(LoadTest, FiftyConcurrentSearchesEqualTheSameSearchesOneAtATime) {
  std::vector<std::unique_ptr<TestNode>> nodes;
  for (int n = 0; n < 3; ++n) {
    nodes.push_back(TestNode::Start());
    std::vector<core::Attribute> attrs;
    for (int k = 0; k < 600; ++k) attrs.push_back(Attr("ip-dst", Ip(n, k / 250, k % 250)));
    attrs.push_back(Attr("ip-src", "10." + std::to_string(n) + ".9.0/24"));
    nodes.back()->Import({MakeEvent("", "member " + std::to_string(n), attrs)});
  }
  std::vector<MemberConfig> members = {nodes[0]->Config("m0"), nodes[1]->Config("m1"),
                                       nodes[2]->Config("m2", MemberKind::kMisp)};
  auto fed = Federation::Create(members, {});
  ASSERT_TRUE(fed.ok());
  std::vector<SearchRequest> requests;
  for (int s = 0; s < 50; ++s) {
    SearchRequest r;
    for (int i = 0; i < 1000; ++i) {
      int v = (s * 37 + i * 7) % 1200;
      r.indicators.push_back(Ind("ip-dst", Ip(v % 3, (v / 3) % 10, (v * 13) % 250)));
    }
    requests.push_back(std::move(r));
  }
  std::vector<std::map<std::string, std::vector<std::string>>> serial(requests.size());
  size_t total_hits = 0;
  for (size_t s = 0; s < requests.size(); ++s) {
    auto out = RunSearch(**fed, requests[s]);
    for (auto& [name, reply] : out.replies) {
      ASSERT_EQ(reply.status, MemberStatus::kDone) << name << ": " << reply.error;
      total_hits += reply.hits.size();
      serial[s][name] = Render(reply);
    }
  }
  EXPECT_GT(total_hits, 1000u);
  std::vector<std::future<testing::SearchOutcome>> futures;
  for (size_t s = 0; s < requests.size(); ++s) {
    futures.push_back(
        std::async(std::launch::async, [&, s] { return RunSearch(**fed, requests[s]); }));
  }
  for (size_t s = 0; s < futures.size(); ++s) {
    auto out = futures[s].get();
    ASSERT_EQ(out.replies.size(), 3u);
    EXPECT_EQ(out.done_calls, 1);
    for (auto& [name, reply] : out.replies) {
      EXPECT_EQ(Render(reply), serial[s][name]) << "search " << s << " member " << name;
    }
  }
}

}  // namespace
}  // namespace iocgrid::federation
