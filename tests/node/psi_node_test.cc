// Private search against a real node over loopback HTTP (issue 10): the key made on first use,
// the querier's whole protocol (expand, blind, evaluate, unblind, tags, full set or buckets,
// labels, relations by MatchIndex over the decrypted entries) giving exactly what
// /grid/v1/match gives on the same data, tags kept current after API writes and after another
// process's import, and hostile input: bad points, wrong frames, oversized batches and bodies,
// unauthenticated huge bodies, the daily quota per organisation, audit rows without values;
// key rotation without downtime, and its resumption after a restart.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <tuple>
#include <unordered_map>
#include <vector>

#include "common/time.h"
#include "core/indicator.h"
#include "index/match_index.h"
#include "ingest/loader.h"
#include "psi/keys.h"
#include "psi/oprf.h"
#include "psi/querier.h"
#include "psi/wire.h"
#include "tests/common/derived_queries.h"
#include "tests/common/raw_http.h"
#include "tests/node/node_test_util.h"

namespace iocgrid::node {
namespace {

using json = nlohmann::json;
// (query position, attribute uuid, relation name)
using HitSet = std::set<std::tuple<size_t, std::string, std::string>>;

std::string Bytes(const psi::Tag& t) { return std::string(t.begin(), t.end()); }

psi::PrefixLengths LengthsFrom(const json& j) {
  psi::PrefixLengths out;
  for (unsigned v : j["v4"]) out.v4.set(v);
  for (unsigned v : j["v6"]) out.v6.set(v);
  return out;
}

class PsiNodeTest : public NodeFixture {
 protected:
  void Seed() {
    AddEvent(
        {{"info", "c2 infrastructure"},
         {"date", "2024-03-01"},
         {"Attribute",
          {{{"type", "ip-dst"}, {"value", "198.51.100.0/24"}},
           {{"type", "ip-src"}, {"value", "203.0.112.0/22"}},
           {{"type", "ip-dst"}, {"value", "192.0.2.77"}},
           {{"type", "ip-dst"}, {"value", "2001:db8:40::/42"}},
           {{"type", "domain"}, {"value", "evil.example"}},
           {{"type", "hostname"}, {"value", "www.phish.example"}},
           {{"type", "url"}, {"value", "http://bad.example/gate.php"}},
           {{"type", "url"}, {"value", "http://192.0.2.200/drop"}},
           {{"type", "domain|ip"}, {"value", "mixed.example|203.0.113.9"}},
           {{"type", "ip-dst|port"}, {"value", "192.0.2.10|8443"}},
           {{"type", "md5"}, {"value", "d41d8cd98f00b204e9800998ecf8427e"}},
           {{"type", "filename|sha256"},
            {"value",
             "drop.exe|" + std::string("a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c"
                                       "6d7e8f90")}}}},
         {"Tag", {{{"name", "tlp:amber"}}}}});
  }

  std::vector<std::string> Queries() {
    return {"198.51.100.7",
            "198.51.0.0/16",
            "198.51.100.0/25",
            "203.0.113.200",
            "203.0.112.0/23",
            "203.0.0.0/16",
            "192.0.2.77",
            "192.0.2.0/24",
            "2001:db8:40:1::9",
            "2001:db8::/32",
            "a.evil.example",
            "evil.example",
            "phish.example",
            "x.www.phish.example",
            "http://evil.example/x",
            "bad.example",
            "http://bad.example/gate.php",
            "192.0.2.200",
            "203.0.113.9",
            "mixed.example",
            "192.0.2.10",
            "d41d8cd98f00b204e9800998ecf8427e",
            "a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90",
            "unrelated.example",
            "8.8.8.8",
            "10.0.0.0/8"};
  }

  // Polls /grid/v1/psi/info until the precompute has drained its queue.
  json WaitReady(const std::string& key = "-") {
    json info;
    for (int i = 0; i < 600; ++i) {
      auto r = Call("GET", "/grid/v1/psi/info", "", key);
      EXPECT_EQ(r.status, 200) << r.body;
      info = Json(r);
      if (info.value("ready", false)) return info;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    ADD_FAILURE() << "precompute never ready: " << info.dump();
    return info;
  }

  psi::Frame Parse(const net::ClientResponse& r, psi::FrameKind kind) {
    EXPECT_EQ(r.status, 200) << r.body.substr(0, 300);
    EXPECT_EQ(r.Header("content-type"), "application/octet-stream");
    auto f = psi::ParseFrameOf(kind, r.body, psi::FrameLimits{});
    EXPECT_TRUE(f.ok()) << f.status().ToString();
    return f.ok() ? *f : psi::Frame{};
  }

  // The OPRF output of one key string, through the node (one evaluation).
  psi::OprfOutput OutputOf(const std::string& key, const json& info) {
    psi::Blinded b = psi::Blind(key);
    psi::Frame request;
    request.kind = psi::FrameKind::kPoints;
    request.epoch = info["epoch"];
    request.points = {b.point};
    psi::Frame answer =
        Parse(Call("POST", "/grid/v1/psi/evaluate", psi::EncodeFrame(request), user_key_),
              psi::FrameKind::kPoints);
    EXPECT_EQ(answer.points.size(), 1u);
    auto prf = psi::Finalize(answer.points.empty() ? psi::Point{} : answer.points[0], b.inverse);
    EXPECT_TRUE(prf.ok());
    return psi::DeriveOutput(key, prf.ok() ? *prf : psi::Point{});
  }

  // Full-set mode: every page of one class.
  std::set<std::string> FullSet(uint32_t epoch, bool below, size_t page = 0) {
    std::set<std::string> tags;
    uint64_t gen = 0;
    uint64_t id = 0;
    while (true) {
      std::string path = "/grid/v1/psi/tags?full=1&epoch=" + std::to_string(epoch) +
                         "&class=" + (below ? "below" : "values") +
                         "&after_generation=" + std::to_string(gen) +
                         "&after_id=" + std::to_string(id);
      if (page) path += "&limit=" + std::to_string(page);
      psi::Frame f = Parse(Call("GET", path, "", user_key_), psi::FrameKind::kTags);
      for (const psi::Tag& t : f.tags) tags.insert(Bytes(t));
      gen = f.cursor_generation;
      id = f.cursor_id;
      if (f.param == 0) return tags;
    }
  }

  // A whole private search through psi::Querier over HTTP, in full-set or bucketed mode; then
  // MatchIndex over the entries the labels name decides the relations, query by query (what a
  // portal connector does). `incomplete` gets the queries over the range budget.
  HitSet PrivateSearch(const std::vector<core::Indicator>& queries, bool bucketed,
                       std::set<size_t>* incomplete = nullptr, const json* begun = nullptr) {
    // `begun`: the info a search read before (a search under way across a key rotation).
    const json info = begun ? *begun : Json(Call("GET", "/grid/v1/psi/info", "", user_key_));
    const uint32_t epoch = info["epoch"];
    psi::QuerierOptions options;
    options.max_points_per_frame = info["limits"]["max_points_per_request"];
    options.max_labels_per_frame = info["limits"]["max_labels_per_request"];
    psi::Querier q(queries, {LengthsFrom(info["ranges"]), LengthsFrom(info["below"])}, epoch,
                   options);
    if (incomplete) incomplete->insert(q.incomplete().begin(), q.incomplete().end());
    EXPECT_TRUE(incomplete || q.incomplete().empty());
    std::vector<psi::Frame> answers;
    for (const psi::Frame& f : q.Blind()) {
      answers.push_back(Parse(Call("POST", "/grid/v1/psi/evaluate", psi::EncodeFrame(f), user_key_),
                              psi::FrameKind::kPoints));
    }
    Status accepted = q.AcceptEvaluations(answers);
    EXPECT_TRUE(accepted.ok()) << accepted.ToString();
    std::set<std::string> member;
    for (bool below : {false, true}) {
      if (below && !q.needs_below()) continue;
      if (!bucketed) {
        std::set<std::string> page = FullSet(epoch, below, below ? 0 : 7);
        member.insert(page.begin(), page.end());
        continue;
      }
      psi::Frame got = Parse(
          Call("POST", std::string("/grid/v1/psi/buckets?class=") + (below ? "below" : "values"),
               psi::EncodeFrame(q.BucketRequest(below)), user_key_),
          psi::FrameKind::kTags);
      for (const psi::Tag& t : got.tags) member.insert(Bytes(t));
    }
    for (const psi::Frame& f :
         q.LabelRequests([&](const psi::Tag& t) { return member.count(Bytes(t)) > 0; })) {
      Status st =
          q.AcceptLabels(Parse(Call("POST", "/grid/v1/psi/labels", psi::EncodeFrame(f), user_key_),
                               psi::FrameKind::kLabels));
      EXPECT_TRUE(st.ok()) << st.ToString();
    }
    HitSet out;
    for (size_t i = 0; i < queries.size(); ++i) {
      std::map<std::string, json> hits;  // by attribute uuid
      for (const std::string& content : q.contents()[i]) {
        const json label = json::parse(content);
        for (const json& hit : label["hits"]) hits[hit["attribute_uuid"]] = hit;
      }
      if (hits.empty()) continue;
      index::MatchIndex::Builder builder;
      std::vector<std::string> uuids;
      for (const auto& [uuid, hit] : hits) {
        auto type = core::TypeFromName(hit["type"].get<std::string>());
        EXPECT_TRUE(type.has_value());
        EXPECT_TRUE(
            builder.Add(core::Indicator{*type, hit["matched"]}, static_cast<uint32_t>(uuids.size()))
                .ok());
        uuids.push_back(uuid);
      }
      std::vector<index::Hit> found;
      builder.Build()->Match(queries[i], 0, index::MatchOptions{}, &found);
      for (const index::Hit& h : found) {
        out.emplace(i, uuids[h.record], std::string(index::RelationName(h.relation)));
      }
    }
    return out;
  }

  HitSet Plain(const json& queries) {
    auto r = Call("POST", "/grid/v1/match",
                  json{{"indicators", queries}, {"max_hits_per_indicator", 0}}.dump(), user_key_);
    EXPECT_EQ(r.status, 200) << r.body;
    HitSet out;
    std::istringstream in(r.body);
    std::string line;
    while (std::getline(in, line)) {
      json l = json::parse(line);
      if (!l.contains("hits") || !l["hits"].is_array()) continue;
      for (const json& h : l["hits"]) {
        out.emplace(l["i"].get<size_t>(), h["attribute_uuid"], h["relation"]);
      }
    }
    return out;
  }

  std::vector<core::Indicator> Parsed(const std::vector<std::string>& raw) {
    std::vector<core::Indicator> out;
    for (const std::string& s : raw) {
      auto p = core::GuessIndicator(s);
      EXPECT_TRUE(p.ok()) << s;
      out.push_back(p.ok() ? *p : core::Indicator{});
    }
    return out;
  }

  psi::Frame Points(uint32_t epoch, size_t n) {
    psi::Frame f;
    f.kind = psi::FrameKind::kPoints;
    f.epoch = epoch;
    for (size_t i = 0; i < n; ++i) f.points.push_back(psi::Blind("x" + std::to_string(i)).point);
    return f;
  }
};

TEST_F(PsiNodeTest, InfoCreatesTheKeyOnFirstUse) {
  EXPECT_FALSE(node_->store().GetPsiKey()->has_value());
  auto r = Call("GET", "/grid/v1/psi/info", "", user_key_);
  ASSERT_EQ(r.status, 200) << r.body;
  json info = Json(r);
  EXPECT_EQ(info["epoch"], 1);
  EXPECT_EQ(info["tag_bytes"], 11);
  EXPECT_EQ(info["ranges"]["v4"], json::array({8, 12, 16, 20, 24, 28, 32}));
  EXPECT_EQ(info["below"]["v4"], json::array({16, 24}));
  EXPECT_EQ(info["modes"], json::array({"full-set", "bucketed"}));
  EXPECT_TRUE(node_->store().GetPsiKey()->has_value());
  EXPECT_EQ(Json(Call("GET", "/grid/v1/psi/info", "", user_key_))["epoch"], 1);
}

TEST_F(PsiNodeTest, PrivateSearchEqualsGridMatchInBothModes) {
  Seed();
  const json info = WaitReady(user_key_);
  EXPECT_GT(info["tags"].get<int>(), 12);
  const std::vector<std::string> raw = Queries();
  const std::vector<core::Indicator> queries = Parsed(raw);
  const HitSet plain = Plain(json(raw));
  ASSERT_GT(plain.size(), 20u);
  std::set<std::string> relations;
  for (const auto& h : plain) relations.insert(std::get<2>(h));
  EXPECT_EQ(relations.size(), 5u);

  EXPECT_EQ(PrivateSearch(queries, /*bucketed=*/false), plain);
  EXPECT_EQ(PrivateSearch(queries, /*bucketed=*/true), plain);
}

// The shared member data (cloud ranges v4 and v6, Tor exits, MISP events with composites, URLs
// and hashes) imported as a member would, queried with the BlackTech list, log clients and
// variations of the member's values: private search finds what /grid/v1/match finds.
TEST_F(PsiNodeTest, SharedMemberDataEqualsGridMatch) {
  NodeOptions options;
  options.psi.precompute_threads = 2;
  StartNode(options);
  const std::string shared = IOCGRID_SHARED_DATA_DIR;
  std::vector<core::Event> events;
  std::vector<core::Indicator> stored;
  for (const std::string path :
       {"/C_member_anonymity/misp-warninglists/amazon-aws/list.json",
        "/C_member_anonymity/misp-warninglists/microsoft-azure/list.json",
        "/C_member_anonymity/tor/tor-exit-nodes.lst",
        "/G_misp/events/existing_event_sednit_bare.json",
        "/G_misp/feed_circl_osint_sample/5a0ac036-6fbc-4855-83af-422b950d210f.json"}) {
    auto loaded = ingest::LoadFile(
        shared + path, {},
        [&](core::Event&& e) {
          for (const core::Attribute& a : e.attributes) stored.push_back(a.indicator);
          events.push_back(std::move(e));
        },
        [](const ingest::LoadIssue&) {});
    ASSERT_TRUE(loaded.ok()) << path << ": " << loaded.status().ToString();
  }
  ASSERT_TRUE(node_->store().ImportEvents(events, store::ImportOptions{}).ok());
  ASSERT_TRUE(node_->RefreshIndex().ok());
  WaitReady(user_key_);

  std::vector<core::Indicator> queries;
  auto blacktech = ingest::LoadFile(
      shared + "/A_query_blacktech/blacktech_iocs.csv", {},
      [&](core::Event&& e) {
        for (const core::Attribute& a : e.attributes) queries.push_back(a.indicator);
      },
      [](const ingest::LoadIssue&) {});
  ASSERT_TRUE(blacktech.ok()) << blacktech.status().ToString();
  test::LogClients(shared + "/E_logs/apache/secrepo_access-2018-12-15.log", 300, &queries);
  test::DeriveQueries(stored, 97, &queries);
  ASSERT_GT(queries.size(), 1000u);
  json typed = json::array();
  for (const core::Indicator& q : queries) {
    typed.push_back({{"value", q.value}, {"type", core::TypeName(q.type)}});
  }
  HitSet plain = Plain(typed);

  std::set<size_t> incomplete;
  HitSet found = PrivateSearch(queries, /*bucketed=*/false, &incomplete);
  // Queried IPv6 networks between /65 and /118 exceed the range budget by design
  // (docs/private-search.md "In-range"); they are reported, and left out here.
  for (HitSet* set : {&plain, &found}) {
    for (auto it = set->begin(); it != set->end();) {
      it = incomplete.count(std::get<0>(*it)) ? set->erase(it) : std::next(it);
    }
  }
  EXPECT_LT(incomplete.size(), queries.size() / 50);
  ASSERT_GT(plain.size(), 500u);
  EXPECT_EQ(found.size(), plain.size());
  EXPECT_TRUE(found == plain);
}

TEST_F(PsiNodeTest, LabelsCarryTheHitContext) {
  Seed();
  const json info = WaitReady(user_key_);
  const psi::OprfOutput stored = OutputOf(std::string("host\0evil.example", 17), info);
  const psi::OprfOutput parent = OutputOf(std::string("host\0example", 12), info);
  psi::Frame request;
  request.kind = psi::FrameKind::kTags;
  request.epoch = info["epoch"];
  request.tags = {stored.tag, parent.tag};
  psi::Frame labels =
      Parse(Call("POST", "/grid/v1/psi/labels", psi::EncodeFrame(request), user_key_),
            psi::FrameKind::kLabels);
  ASSERT_EQ(labels.labels.size(), 1u);  // "example" is no stored key
  EXPECT_EQ(labels.labels[0].tag, stored.tag);
  auto opened = psi::OpenLabel(stored, info["epoch"], labels.labels[0].label);
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  json content = json::parse(*opened);
  EXPECT_EQ(content["class"], "host");
  EXPECT_EQ(content["total"], 1);
  ASSERT_EQ(content["hits"].size(), 1u);
  EXPECT_EQ(content["hits"][0]["matched"], "evil.example");
  EXPECT_EQ(content["hits"][0]["event"]["info"], "c2 infrastructure");
  EXPECT_EQ(content["hits"][0]["tags"], json::array({"tlp:amber"}));
  // A flipped byte, or the other key's output, never opens.
  std::string bad = labels.labels[0].label;
  bad[bad.size() / 2] = static_cast<char>(bad[bad.size() / 2] ^ 1);
  EXPECT_EQ(psi::OpenLabel(stored, info["epoch"], bad).status().code(), StatusCode::kDataLoss);
  EXPECT_FALSE(psi::OpenLabel(parent, info["epoch"], labels.labels[0].label).ok());
}

TEST_F(PsiNodeTest, WritesReachTheTagsIncrementally) {
  Seed();
  json info = WaitReady();
  const uint32_t epoch = info["epoch"];
  // The querier's sync point after a full download.
  psi::Frame first = Parse(Call("GET", "/grid/v1/psi/tags?class=values", "", user_key_),
                           psi::FrameKind::kTagChanges);
  ASSERT_FALSE(first.changes.empty());
  const std::string added_tag = Bytes(OutputOf(std::string("host\0new.example", 16), info).tag);
  const std::string gone_tag = Bytes(OutputOf(std::string("host\0evil.example", 17), info).tag);

  AddEvent({{"info", "later"}, {"Attribute", {{{"type", "domain"}, {"value", "new.example"}}}}});
  auto evil = Json(Call("POST", "/attributes/restSearch", json{{"value", "evil.example"}}.dump()));
  const std::string evil_id = evil["response"]["Attribute"][0]["id"];
  ASSERT_EQ(Call("POST", "/attributes/delete/" + evil_id + "/1").status, 200);
  info = WaitReady();

  psi::Frame changes = Parse(Call("GET",
                                  "/grid/v1/psi/tags?class=values&after_generation=" +
                                      std::to_string(first.cursor_generation) +
                                      "&after_id=" + std::to_string(first.cursor_id),
                                  "", user_key_),
                             psi::FrameKind::kTagChanges);
  std::map<std::string, bool> removed;
  for (const psi::TagChange& c : changes.changes) removed[Bytes(c.tag)] = c.removed;
  ASSERT_TRUE(removed.count(added_tag));
  EXPECT_FALSE(removed[added_tag]);
  ASSERT_TRUE(removed.count(gone_tag));
  EXPECT_TRUE(removed[gone_tag]);
  EXPECT_EQ(FullSet(epoch, false).count(gone_tag), 0u);
  EXPECT_EQ(FullSet(epoch, false).count(added_tag), 1u);
}

TEST_F(PsiNodeTest, AnotherProcesssImportIsTaggedWithoutARequest) {
  NodeOptions options;
  options.psi.poll = std::chrono::milliseconds(100);
  StartNode(options);
  json info = WaitReady();
  // `node import` is another process holding its own Store on the same file.
  ImportElsewhere("imported elsewhere", "ip-dst", "100.64.1.2");
  const std::string want = Bytes(OutputOf(std::string("ip\0"
                                                      "100.64.1.2",
                                                      13),
                                          info)
                                     .tag);
  bool seen = false;
  for (int i = 0; i < 200 && !seen; ++i) {
    seen = FullSet(info["epoch"], false).count(want) > 0;
    if (!seen) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_TRUE(seen);
}

// Key rotation without downtime: `node psi rotate` (another process) stores the next key; the
// serving node re-tags under it in batches while the current key answers, keeps both current
// through a write, switches, answers searches begun before the switch during the grace, then
// deletes the old key and its tags.
TEST_F(PsiNodeTest, KeyRotationKeepsAnsweringAndSwitches) {
  NodeOptions options;
  options.psi.poll = std::chrono::milliseconds(50);
  options.psi.precompute_batch = 3;  // the re-tag takes several batches
  options.store.clock = Clock::Manual(UnixNow());
  const Clock clock = options.store.clock;
  StartNode(options);
  Seed();
  const json before = WaitReady(user_key_);
  ASSERT_EQ(before["epoch"], 1);
  std::vector<std::string> raw = Queries();
  const HitSet plain = Plain(json(raw));
  ASSERT_EQ(PrivateSearch(Parsed(raw), false), plain);
  const std::set<std::string> old_tags = FullSet(1, false);

  {
    auto other = store::Store::Open(dir_, store::StoreOptions{});
    ASSERT_TRUE(other.ok());
    ASSERT_TRUE((*other)->BeginPsiKeyRotation(psi::OprfKey::Generate().Serialize()).ok());
  }
  // A write while the rotation runs (before or after the switch: both keys must get it).
  AddEvent({{"info", "during"}, {"Attribute", {{{"type", "domain"}, {"value", "late.example"}}}}});
  raw.push_back("x.late.example");
  const HitSet plain_after = Plain(json(raw));
  ASSERT_EQ(plain_after.size(), plain.size() + 1);
  json info;
  for (int i = 0; i < 600; ++i) {
    // Every search while the rotation runs answers in full, under whichever key is active.
    info = WaitReady(user_key_);
    const HitSet got = PrivateSearch(Parsed(raw), (i % 2) != 0);
    if (info["epoch"] == 2 && got == plain_after) break;
    EXPECT_TRUE(got == plain || got == plain_after) << "search " << i << " during the rotation";
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ASSERT_EQ(info["epoch"], 2) << info.dump();
  EXPECT_FALSE(info.contains("rotation"));
  ASSERT_TRUE(info.contains("previous_epoch")) << info.dump();
  EXPECT_EQ(info["previous_epoch"]["epoch"], 1);
  EXPECT_EQ(PrivateSearch(Parsed(raw), false), plain_after);
  EXPECT_EQ(PrivateSearch(Parsed(raw), true), plain_after);
  // A new key: no tag in common with the old one's.
  std::set<std::string> new_tags = FullSet(2, false);
  EXPECT_EQ(new_tags.size(), old_tags.size() + 1);
  for (const std::string& t : old_tags) EXPECT_EQ(new_tags.count(t), 0u);
  // A search begun under the old key finishes on it during the grace, with the write.
  EXPECT_EQ(PrivateSearch(Parsed(raw), false, nullptr, &before), plain_after);

  // Past the grace the old key is gone with its tags: its frames are refused.
  clock.Advance(std::chrono::seconds(options.psi.previous_key_grace).count() + 1);
  for (int i = 0; i < 400 && node_->store().GetPsiKeys()->retired; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_FALSE(node_->store().GetPsiKeys()->retired.has_value());
  EXPECT_EQ(node_->store().GetPsiStats(1)->tags, 0u);
  auto refused = Call("POST", "/grid/v1/psi/evaluate", psi::EncodeFrame(Points(1, 1)), user_key_);
  EXPECT_EQ(refused.status, 409) << refused.body;
  EXPECT_NE(refused.body.find("fetch /grid/v1/psi/info"), std::string::npos) << refused.body;
  EXPECT_FALSE(Json(Call("GET", "/grid/v1/psi/info", "", user_key_)).contains("previous_epoch"));
}

// A rotation survives a restart half-way: the cursor is stored, the new node resumes and
// switches, and the answers equal plain search.
TEST_F(PsiNodeTest, ARotationResumesAfterARestart) {
  NodeOptions options;
  options.psi.precompute_batch = 2;
  options.psi.poll = std::chrono::milliseconds(50);
  StartNode(options);
  Seed();
  WaitReady(user_key_);
  // Stopped before the loop can re-tag much: the rotation begins, the node closes at once.
  ASSERT_TRUE(node_->store().BeginPsiKeyRotation(psi::OprfKey::Generate().Serialize()).ok());
  StartNode(options);
  json info;
  for (int i = 0; i < 600; ++i) {
    info = WaitReady(user_key_);
    if (info["epoch"] == 2) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ASSERT_EQ(info["epoch"], 2) << info.dump();
  const std::vector<std::string> raw = Queries();
  EXPECT_EQ(PrivateSearch(Parsed(raw), false), Plain(json(raw)));
}

TEST_F(PsiNodeTest, EvaluateRefusesHostileInput) {
  NodeOptions options;
  options.psi.max_points_per_request = 8;
  StartNode(options);
  const json info = Json(Call("GET", "/grid/v1/psi/info", "", user_key_));
  const uint32_t epoch = info["epoch"];
  auto error = [&](const net::ClientResponse& r, int status) {
    EXPECT_EQ(r.status, status) << r.body;
    json body = json::parse(r.body, nullptr, false);
    ASSERT_TRUE(body.is_object()) << r.body;
    EXPECT_TRUE(body.contains("name") && body.contains("message") && body.contains("url"));
    EXPECT_EQ(body["url"], "/grid/v1/psi/evaluate");
  };
  psi::Frame identity = Points(epoch, 2);
  identity.points[1] = psi::Point{};
  auto r = Call("POST", "/grid/v1/psi/evaluate", psi::EncodeFrame(identity), user_key_);
  error(r, 400);
  EXPECT_NE(r.body.find("point 1"), std::string::npos);
  psi::Frame junk = Points(epoch, 1);
  junk.points[0].fill(0xff);
  error(Call("POST", "/grid/v1/psi/evaluate", psi::EncodeFrame(junk), user_key_), 400);
  error(Call("POST", "/grid/v1/psi/evaluate", R"({"points":["AAAA"]})", user_key_), 400);
  psi::Frame tags;
  tags.kind = psi::FrameKind::kTags;
  tags.epoch = epoch;
  tags.tags.resize(3);
  error(Call("POST", "/grid/v1/psi/evaluate", psi::EncodeFrame(tags), user_key_), 400);
  std::string truncated = psi::EncodeFrame(Points(epoch, 2));
  truncated.pop_back();
  error(Call("POST", "/grid/v1/psi/evaluate", truncated, user_key_), 400);
  error(Call("POST", "/grid/v1/psi/evaluate", psi::EncodeFrame(Points(epoch, 9)), user_key_), 413);
  error(Call("POST", "/grid/v1/psi/evaluate", psi::EncodeFrame(Points(epoch + 1, 1)), user_key_),
        409);
  // More bytes than the largest frame: refused by the server before the handler.
  EXPECT_EQ(Call("POST", "/grid/v1/psi/evaluate", std::string(1 << 20, 'x'), user_key_).status,
            413);
  // Good points still work.
  psi::Frame ok =
      Parse(Call("POST", "/grid/v1/psi/evaluate", psi::EncodeFrame(Points(epoch, 8)), user_key_),
            psi::FrameKind::kPoints);
  EXPECT_EQ(ok.points.size(), 8u);
}

TEST_F(PsiNodeTest, UnauthenticatedHugeBodyIsRefusedBeforeItIsRead) {
  const auto start = std::chrono::steady_clock::now();
  std::string answer = testutil::RawExchange(
      server_->port(),
      "POST /grid/v1/psi/evaluate HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999\r\n"
      "Authorization: wrongwrongwrongwrongwrongwrongwrongwrong\r\n\r\nIGP1",
      5);
  EXPECT_EQ(answer.rfind("HTTP/1.1 403", 0), 0u) << answer.substr(0, 200);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(4));
}

TEST_F(PsiNodeTest, QuotaIsPerOrganisationPerDayAndAuditKeepsNoValues) {
  NodeOptions options;
  options.psi.evaluations_per_org_per_day = 10;
  options.store.audit_values = true;
  StartNode(options);
  const uint32_t epoch = Json(Call("GET", "/grid/v1/psi/info", "", user_key_))["epoch"];
  auto ok = Call("POST", "/grid/v1/psi/evaluate", psi::EncodeFrame(Points(epoch, 8)), user_key_);
  ASSERT_EQ(ok.status, 200);
  EXPECT_EQ(ok.Header("x-rate-limit-remaining"), "2");
  auto over = Call("POST", "/grid/v1/psi/evaluate", psi::EncodeFrame(Points(epoch, 3)), user_key_);
  EXPECT_EQ(over.status, 429);
  json body = Json(over);
  EXPECT_EQ(body["url"], "/grid/v1/psi/evaluate");
  EXPECT_NE(body["message"].get<std::string>().find("2 left"), std::string::npos);
  EXPECT_EQ(over.Header("x-rate-limit-remaining"), "0");
  // Another organisation has its own quota.
  EXPECT_EQ(Call("POST", "/grid/v1/psi/evaluate", psi::EncodeFrame(Points(epoch, 3))).status, 200);
  EXPECT_EQ(
      Json(Call("GET", "/grid/v1/psi/info", "", user_key_))["limits"]["evaluations_left_today"], 2);

  auto audit = node_->store().ListAudit(0);
  ASSERT_TRUE(audit.ok());
  size_t evaluations = 0;
  for (const store::AuditEntry& e : *audit) {
    if (e.endpoint != "/grid/v1/psi/evaluate") continue;
    ++evaluations;
    EXPECT_TRUE(e.values.empty());
    EXPECT_TRUE(e.value_count == 8 || e.value_count == 3);
  }
  EXPECT_EQ(evaluations, 3u);
}

TEST_F(PsiNodeTest, TagListingsAndBucketsRefuseBadParameters) {
  const uint32_t epoch = Json(Call("GET", "/grid/v1/psi/info", "", user_key_))["epoch"];
  EXPECT_EQ(Call("GET", "/grid/v1/psi/tags?class=secret", "", user_key_).status, 400);
  EXPECT_EQ(Call("GET", "/grid/v1/psi/tags?after_id=-1", "", user_key_).status, 400);
  EXPECT_EQ(Call("GET", "/grid/v1/psi/tags?limit=0", "", user_key_).status, 400);
  EXPECT_EQ(Call("GET", "/grid/v1/psi/tags?epoch=99999999999", "", user_key_).status, 400);
  EXPECT_EQ(Call("GET", "/grid/v1/psi/tags?epoch=2", "", user_key_).status, 409);
  psi::Frame buckets;
  buckets.kind = psi::FrameKind::kBuckets;
  buckets.epoch = epoch;
  buckets.param = 30;  // more bits than allowed
  buckets.buckets = {1};
  EXPECT_EQ(Call("POST", "/grid/v1/psi/buckets", psi::EncodeFrame(buckets), user_key_).status, 400);
  EXPECT_EQ(Call("POST", "/grid/v1/psi/labels", "not a frame", user_key_).status, 400);
  // The MISP API is untouched by private search being on.
  EXPECT_EQ(Call("GET", "/servers/getVersion").status, 200);
}

}  // namespace
}  // namespace iocgrid::node
