// Private members through the portal's federation (issue 10): the portal blinds, a real node
// answers, and the hits equal plain search's, relation for relation and field for field, in
// both retrieval modes; an eavesdropper between them sees no value of the query or of the
// member; the node keeps none of the queried values; a member whose answers are wrong or
// tampered with fails with a reason and never yields a hit.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "federation/federation.h"
#include "ingest/loader.h"
#include "net/http_client.h"
#include "psi/oprf.h"
#include "psi/wire.h"
#include "tests/common/derived_queries.h"
#include "tests/common/occurrences.h"
#include "tests/federation/test_members.h"

namespace iocgrid::federation::testing {
namespace {

using namespace std::chrono_literals;

const std::string kShared = IOCGRID_SHARED_DATA_DIR;

// (query, relation, attribute uuid, matched, type, event info, first tag, first seen)
using HitKey = std::tuple<uint32_t, std::string, std::string, std::string, std::string, std::string,
                          std::string, std::string>;

std::set<HitKey> Keys(const MemberReply& reply) {
  std::set<HitKey> out;
  for (const MemberHit& h : reply.hits) {
    out.emplace(h.query, std::string(index::RelationName(h.relation)), h.attribute_uuid, h.matched,
                h.type, h.event_info, h.tags.empty() ? "" : h.tags[0], h.first_seen);
  }
  return out;
}

std::string Show(const HitKey& k) {
  std::ostringstream o;
  o << "query " << std::get<0>(k) << " " << std::get<1>(k) << " " << std::get<3>(k) << " ("
    << std::get<4>(k) << ", " << std::get<2>(k) << ", tag '" << std::get<6>(k) << "', first seen '"
    << std::get<7>(k) << "')";
  return o.str();
}

// Empty when the two sets are equal; else the first differences, each side named.
std::string Difference(const std::set<HitKey>& got, const std::set<HitKey>& want) {
  std::string out;
  size_t shown = 0;
  for (const HitKey& k : got) {
    if (!want.count(k) && shown++ < 10) out += "\n  only private: " + Show(k);
  }
  for (const HitKey& k : want) {
    if (!got.count(k) && shown++ < 20) out += "\n  only plain:   " + Show(k);
  }
  if (shown > 20) out += "\n  ... " + std::to_string(shown - 20) + " more";
  return out;
}

// Asks /grid/v1/psi/info (which creates the node's key on first use) until the node's
// precompute has tagged everything imported.
void WaitReady(const TestNode& node) {
  const MemberConfig c = node.Config("probe");
  nlohmann::json info;
  for (int i = 0; i < 1200; ++i) {
    net::ClientRequest req;
    req.url = c.url + "/grid/v1/psi/info";
    req.headers = {{"Authorization", c.key}};
    auto r = net::Fetch(req);
    ASSERT_TRUE(r.ok() && r->status == 200) << (r.ok() ? r->body : r.status().ToString());
    info = nlohmann::json::parse(r->body);
    if (info.value("ready", false)) return;
    std::this_thread::sleep_for(50ms);
  }
  ADD_FAILURE() << "the node's private-search precompute never caught up: " << info.dump();
}

class PsiConnectorTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    stored_ = new std::vector<core::Indicator>();
    events_ = new std::vector<core::Event>();
    queries_ = new std::vector<core::Indicator>();
    for (const std::string path :
         {"/C_member_anonymity/misp-warninglists/microsoft-azure/list.json",
          "/C_member_anonymity/tor/tor-exit-nodes.lst",
          "/G_misp/events/existing_event_sednit_bare.json",
          "/G_misp/feed_circl_osint_sample/5a0ac036-6fbc-4855-83af-422b950d210f.json"}) {
      auto loaded = ingest::LoadFile(
          kShared + path, {},
          [&](core::Event&& e) {
            for (const core::Attribute& a : e.attributes) stored_->push_back(a.indicator);
            events_->push_back(std::move(e));
          },
          [](const ingest::LoadIssue&) {});
      ASSERT_TRUE(loaded.ok()) << path << ": " << loaded.status().ToString();
    }
    auto blacktech = ingest::LoadFile(
        kShared + "/A_query_blacktech/blacktech_iocs.csv", {},
        [&](core::Event&& e) {
          for (const core::Attribute& a : e.attributes) queries_->push_back(a.indicator);
        },
        [](const ingest::LoadIssue&) {});
    ASSERT_TRUE(blacktech.ok()) << blacktech.status().ToString();
    test::LogClients(kShared + "/E_logs/apache/secrepo_access-2018-12-15.log", 200, queries_);
    test::DeriveQueries(*stored_, 89, queries_);
  }
  static void TearDownTestSuite() {
    delete stored_;
    delete events_;
    delete queries_;
  }

  // A node holding the shared member data, its precompute caught up.
  std::unique_ptr<TestNode> StartNode(TestNode::Front front = nullptr) {
    node::NodeOptions options;
    options.psi.precompute_threads = 2;
    auto n = TestNode::Start(std::move(front), options);
    n->Import(*events_);
    WaitReady(*n);
    return n;
  }

  static MemberConfig Private(const TestNode& node, std::string name, PsiMode mode) {
    MemberConfig c = node.Config(std::move(name));
    c.disclosure = Disclosure::kPrivate;
    c.psi_mode = mode;
    return c;
  }

  static SearchRequest Request(const std::vector<core::Indicator>& queries) {
    SearchRequest r;
    r.indicators = queries;
    return r;
  }

  static std::vector<core::Indicator>* stored_;
  static std::vector<core::Event>* events_;
  static std::vector<core::Indicator>* queries_;
};

std::vector<core::Indicator>* PsiConnectorTest::stored_ = nullptr;
std::vector<core::Event>* PsiConnectorTest::events_ = nullptr;
std::vector<core::Indicator>* PsiConnectorTest::queries_ = nullptr;

TEST_F(PsiConnectorTest, PrivateMembersAnswerWhatPlainSearchAnswersInBothModes) {
  auto node = StartNode();
  auto fed = Federation::Create({node->Config("plain"), Private(*node, "full", PsiMode::kFullSet),
                                 Private(*node, "bucketed", PsiMode::kBucketed)},
                                FederationOptions{});
  ASSERT_TRUE(fed.ok()) << fed.status().ToString();
  SearchOutcome out = RunSearch(**fed, Request(*queries_));
  ASSERT_EQ(out.replies.size(), 3u);
  for (const auto& [name, reply] : out.replies) {
    EXPECT_EQ(reply.status, MemberStatus::kDone) << name << ": " << reply.error;
  }
  std::set<HitKey> plain = Keys(out.replies["plain"]);
  std::set<std::string> relations;
  for (const HitKey& k : plain) relations.insert(std::get<1>(k));
  ASSERT_GT(plain.size(), 300u);
  EXPECT_GE(relations.size(), 4u);  // exact, in-range, subdomain, url-host and more
  // Queried IPv6 networks wider than the range budget are reported as incomplete and may miss
  // in-range hits inside them (docs/private-search.md "In-range"): each private reply names
  // them, and everything else is equal.
  std::set<uint32_t> wide(out.replies["full"].incomplete.begin(),
                          out.replies["full"].incomplete.end());
  EXPECT_FALSE(wide.empty());
  EXPECT_EQ(std::set<uint32_t>(out.replies["bucketed"].incomplete.begin(),
                               out.replies["bucketed"].incomplete.end()),
            wide);
  EXPECT_TRUE(out.replies["plain"].incomplete.empty());
  for (uint32_t q : wide) {
    const std::string& v = (*queries_)[q].value;
    EXPECT_TRUE(v.find(':') != std::string::npos && v.find('/') != std::string::npos)
        << "not an IPv6 network: " << v;
  }
  EXPECT_NE(out.replies["full"].error.find("too wide for private in-range"), std::string::npos)
      << out.replies["full"].error;
  auto complete = [&](std::set<HitKey> keys) {
    std::erase_if(keys, [&](const HitKey& k) { return wide.count(std::get<0>(k)) > 0; });
    return keys;
  };
  plain = complete(plain);
  EXPECT_EQ(Difference(complete(Keys(out.replies["full"])), plain), "");
  EXPECT_EQ(Difference(complete(Keys(out.replies["bucketed"])), plain), "");

  // A second search reuses the synced tag set: no full listing again, only a change page.
  node->ResetCounts();
  SearchOutcome again = RunSearch(**fed, Request(*queries_));
  EXPECT_EQ(Difference(complete(Keys(again.replies["full"])), plain), "");
  size_t listings = 0;
  size_t change_pages = 0;
  for (const std::string& b : node->bodies()) {
    if (b.rfind("/grid/v1/psi/tags?", 0) != 0) continue;
    listings += b.find("full=1") != std::string::npos;
    change_pages += b.find("full=0") != std::string::npos;
  }
  EXPECT_EQ(listings, 0u);
  EXPECT_GE(change_pages, 1u);
}

TEST_F(PsiConnectorTest, WritesAfterTheFirstSyncAreFound) {
  auto node = StartNode();
  auto fed = Federation::Create({Private(*node, "full", PsiMode::kFullSet)}, FederationOptions{});
  ASSERT_TRUE(fed.ok());
  auto fresh = core::GuessIndicator("brand-new-c2.example");
  ASSERT_TRUE(fresh.ok());
  SearchOutcome before = RunSearch(**fed, Request({*fresh}));
  EXPECT_TRUE(before.replies["full"].hits.empty());
  node->Import({MakeEvent("7c0f9d5e-1111-4c44-9e0e-000000000001", "new c2",
                          {Attr("domain", "brand-new-c2.example")})});
  WaitReady(*node);
  SearchOutcome after = RunSearch(**fed, Request({*fresh}));
  ASSERT_EQ(after.replies["full"].hits.size(), 1u) << after.replies["full"].error;
  EXPECT_EQ(after.replies["full"].hits[0].matched, "brand-new-c2.example");
  EXPECT_EQ(after.replies["full"].hits[0].event_info, "new c2");
}

// A member rotates its key between two searches of the same federation: the connector sees
// the new epoch in info, drops its full-set cache of the old one, and answers as before.
TEST_F(PsiConnectorTest, AKeyRotationBetweenSearchesIsFollowed) {
  node::NodeOptions options;
  options.psi.poll = 50ms;
  auto node = TestNode::Start(nullptr, options);
  node->Import(
      {MakeEvent("7c0f9d5e-1111-4c44-9e0e-000000000002", "c2",
                 {Attr("domain", "rotated-c2.example"), Attr("ip-dst", "198.51.100.0/24")})});
  WaitReady(*node);
  auto fed = Federation::Create({node->Config("plain"), Private(*node, "full", PsiMode::kFullSet),
                                 Private(*node, "bucketed", PsiMode::kBucketed)},
                                FederationOptions{});
  ASSERT_TRUE(fed.ok()) << fed.status().ToString();
  std::vector<core::Indicator> queries;
  for (const char* q : {"a.rotated-c2.example", "198.51.100.9", "unrelated.example"}) {
    queries.push_back(*core::GuessIndicator(q));
  }
  SearchOutcome before = RunSearch(**fed, Request(queries));
  ASSERT_EQ(before.replies["plain"].hits.size(), 2u) << before.replies["plain"].error;
  for (const char* name : {"full", "bucketed"}) {
    EXPECT_EQ(Keys(before.replies[name]), Keys(before.replies["plain"])) << name;
  }
  ASSERT_TRUE(node->node().store().BeginPsiKeyRotation(psi::OprfKey::Generate().Serialize()).ok());
  for (int i = 0; i < 400 && node->node().store().GetPsiKeys()->preparing; ++i) {
    std::this_thread::sleep_for(10ms);
  }
  ASSERT_EQ((*node->node().store().GetPsiKey())->epoch, 2u);
  SearchOutcome after = RunSearch(**fed, Request(queries));
  for (const char* name : {"full", "bucketed"}) {
    EXPECT_EQ(after.replies[name].error, "") << name;
    EXPECT_EQ(Keys(after.replies[name]), Keys(before.replies["plain"])) << name;
  }
}

// What an eavesdropper between portal and member records holds no query value and no member
// value; through the same relay a plain member's traffic does (the recorder works).
TEST_F(PsiConnectorTest, TheWireCarriesNoValueOfEitherSide) {
  auto node = StartNode();
  RecordingRelay relay(node->port());
  MemberConfig full = Private(*node, "full", PsiMode::kFullSet);
  MemberConfig bucketed = Private(*node, "bucketed", PsiMode::kBucketed);
  MemberConfig plain = node->Config("plain");
  for (MemberConfig* c : {&full, &bucketed, &plain}) c->url = relay.url();
  auto fed = Federation::Create({full, bucketed}, FederationOptions{});
  ASSERT_TRUE(fed.ok());
  SearchOutcome out = RunSearch(**fed, Request(*queries_));
  ASSERT_GT(out.replies["full"].hits.size(), 300u) << out.replies["full"].error;
  ASSERT_EQ(out.replies["bucketed"].hits.size(), out.replies["full"].hits.size());

  const std::string wire = relay.recorded();
  ASSERT_GT(wire.size(), 100000u);
  std::set<std::string> values;
  for (const core::Indicator& q : *queries_) values.insert(q.value);
  for (const core::Indicator& s : *stored_) values.insert(s.value);
  // Values of 7 bytes or more (a 6-byte string can occur in random bytes by chance).
  const std::vector<std::string> looked_for(values.begin(), values.end());
  for (const std::string& v : test::Occurrences(wire, looked_for)) {
    ADD_FAILURE() << "on the wire: " << v;
  }
  EXPECT_GT(std::count_if(looked_for.begin(), looked_for.end(),
                          [](const std::string& v) { return v.size() >= test::kGram; }),
            2000);

  relay.Clear();
  auto plain_fed = Federation::Create({plain}, FederationOptions{});
  ASSERT_TRUE(plain_fed.ok());
  RunSearch(**plain_fed, Request({queries_->front()}));
  EXPECT_NE(relay.recorded().find(queries_->front().value), std::string::npos);
}

// Private searches leave no queried value in the node's files (SQLite database, WAL, audit
// rows): a value absent from the files before the searches is absent after them. (A derived
// query such as a network text can already be in the member's own data; that is not a leak.)
TEST_F(PsiConnectorTest, TheNodeKeepsNoQueriedValue) {
  auto node = StartNode();
  auto fed = Federation::Create(
      {Private(*node, "full", PsiMode::kFullSet), Private(*node, "bucketed", PsiMode::kBucketed)},
      FederationOptions{});
  ASSERT_TRUE(fed.ok());
  std::vector<core::Indicator> queries = *queries_;
  for (const char* v : {"unseen-query-domain-4711.example", "http://unseen-4711.example/a/b"}) {
    queries.push_back(*core::GuessIndicator(v));
  }
  auto read_files = [&] {
    std::string files;
    for (const auto& entry : std::filesystem::recursive_directory_iterator(node->dir())) {
      if (!entry.is_regular_file()) continue;
      std::ifstream in(entry.path(), std::ios::binary);
      std::ostringstream bytes;
      bytes << in.rdbuf();
      files += bytes.str();
    }
    return files;
  };
  const std::string before = read_files();
  SearchOutcome out = RunSearch(**fed, Request(queries));
  EXPECT_EQ(out.replies["full"].status, MemberStatus::kDone) << out.replies["full"].error;
  EXPECT_EQ(out.replies["bucketed"].status, MemberStatus::kDone) << out.replies["bucketed"].error;
  const std::string after = read_files();
  ASSERT_GT(after.size(), 10000u);
  std::vector<std::string> values;
  for (const core::Indicator& q : queries) values.push_back(q.value);
  const std::set<std::string> there_before = test::Occurrences(before, values);
  size_t checked = 0;
  for (const std::string& v : values) checked += v.size() >= test::kGram && !there_before.count(v);
  EXPECT_FALSE(there_before.empty());  // derived queries such as the member's own networks
  for (const std::string& v : test::Occurrences(after, values)) {
    EXPECT_TRUE(there_before.count(v)) << "in the node's files: " << v;
  }
  EXPECT_GT(checked, 200u);
}

// A member whose tag listing never ends (every page says "more") or does not move on is cut
// off with a reason, and the portal keeps at most max_private_tags of its tags.
TEST_F(PsiConnectorTest, AnEndlessOrStuckTagListingFailsTheMember) {
  for (const bool endless : {true, false}) {
    SCOPED_TRACE(endless ? "endless" : "stuck");
    TestNode* self = nullptr;
    uint64_t page = 0;
    auto node = TestNode::Start([&](net::Request& r, net::Response* resp) {
      if (r.path != "/grid/v1/psi/tags" || self == nullptr) return false;
      *resp = self->node().Handle(r);
      if (resp->status != 200) return true;
      auto kind = r.target.find("full=1") != std::string::npos ? psi::FrameKind::kTags
                                                               : psi::FrameKind::kTagChanges;
      auto frame = psi::ParseFrameOf(kind, resp->body, psi::FrameLimits{});
      if (!frame.ok()) return true;
      frame->param = 1;  // "more follows", forever
      if (endless) {
        ++page;
        frame->cursor_generation += 1;  // moves on, with a thousand new tags each time
        for (uint32_t i = 0; i < 1000; ++i) {
          psi::Tag t{};
          std::memcpy(t.data(), &page, sizeof(page));
          std::memcpy(t.data() + sizeof(page), &i, 3);
          if (kind == psi::FrameKind::kTags) {
            frame->tags.push_back(t);
          } else {
            frame->changes.push_back({t, false});
          }
        }
      }
      resp->body = psi::EncodeFrame(*frame);
      return true;
    });
    self = node.get();
    node->Import({MakeEvent("7c0f9d5e-2222-4c44-9e0e-000000000001", "small",
                            {Attr("domain", "listing-test.example")})});
    WaitReady(*node);
    FederationOptions options;
    options.max_private_tags = 5000;
    auto fed = Federation::Create({Private(*node, "m", PsiMode::kFullSet)}, options);
    ASSERT_TRUE(fed.ok());
    SearchOutcome out = RunSearch(**fed, Request({*core::GuessIndicator("listing-test.example")}));
    const MemberReply& reply = out.replies["m"];
    EXPECT_EQ(reply.status, MemberStatus::kFailed);
    EXPECT_NE(reply.error.find(endless ? "exceeds 5000 tags" : "does not follow its cursor"),
              std::string::npos)
        << reply.error;
    EXPECT_TRUE(reply.hits.empty());
    if (endless) {
      EXPECT_LE(page, 7u);  // cut off at the cap, not at the deadline
    }
  }
}

// A member whose answers do not verify fails with a reason, and nothing it sent is a hit.
TEST_F(PsiConnectorTest, WrongOrTamperedAnswersFailTheMember) {
  struct Case {
    std::string name;
    std::string path;  // the endpoint whose answer is altered
    std::function<void(std::string*)> alter;
    std::string reason;
  };
  const std::vector<Case> cases = {
      {"badpoint", "/grid/v1/psi/evaluate",
       [](std::string* body) {
         for (size_t i = 32; i < 64 && i < body->size(); ++i) (*body)[i] = '\xff';
       },
       "evaluations are invalid"},
      {"shortcount", "/grid/v1/psi/evaluate",
       [](std::string* body) {
         body->resize(body->size() - 32);
         (*body)[15] = static_cast<char>((*body)[15] - 1);
       },
       "evaluat"},
      {"flippedlabel", "/grid/v1/psi/labels",
       [](std::string* body) { (*body)[body->size() - 5] ^= 1; }, "labels are invalid"},
      {"garbage", "/grid/v1/psi/tags", [](std::string* body) { *body = "not a frame"; },
       "tag page"},
  };
  // One node for every case (its precompute is the slow part); the case in force picks the
  // answer to alter. A new federation per case starts with no cached tag set.
  std::atomic<const Case*> current{nullptr};
  TestNode* self = nullptr;
  auto node = StartNode([&self, &current](net::Request& r, net::Response* resp) {
    const Case* c = current.load();
    if (c == nullptr || r.path != c->path || self == nullptr) return false;
    *resp = self->node().Handle(r);
    if (resp->status == 200 && !resp->body.empty()) c->alter(&resp->body);
    return true;
  });
  self = node.get();
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    current = &c;
    auto fed = Federation::Create({Private(*node, "m", PsiMode::kFullSet)}, FederationOptions{});
    ASSERT_TRUE(fed.ok());
    SearchOutcome out = RunSearch(**fed, Request(*queries_));
    const MemberReply& reply = out.replies["m"];
    EXPECT_EQ(reply.status, MemberStatus::kFailed);
    EXPECT_NE(reply.error.find(c.reason), std::string::npos) << reply.error;
    EXPECT_TRUE(reply.hits.empty());
  }
}

TEST_F(PsiConnectorTest, QuotaAndConfigErrorsAreClear) {
  node::NodeOptions options;
  options.psi.evaluations_per_org_per_day = 10;
  auto node = TestNode::Start(nullptr, options);
  node->Import(*events_);
  auto fed = Federation::Create({Private(*node, "m", PsiMode::kFullSet)}, FederationOptions{});
  ASSERT_TRUE(fed.ok());
  SearchOutcome out = RunSearch(**fed, Request(*queries_));
  EXPECT_EQ(out.replies["m"].status, MemberStatus::kFailed);
  EXPECT_NE(out.replies["m"].error.find("evaluations"), std::string::npos)
      << out.replies["m"].error;

  MemberConfig misp = node->Config("misp", MemberKind::kMisp);
  misp.disclosure = Disclosure::kPrivate;
  auto refused = Federation::Create({misp}, FederationOptions{});
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find("cannot be private"), std::string::npos);
}

}  // namespace
}  // namespace iocgrid::federation::testing
