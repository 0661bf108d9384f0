// Live writes (issue 14; docs/index.md "Live writes"): writes land in a delta beside the
// immutable base instead of rebuilding it, are found by the next search (read-your-writes),
// hide what they replaced, and a merge (in the background past index_merge_at, or asked for)
// builds a new base while writes go on. The layered answers are checked against an index
// rebuilt from the store after random writes of every kind, relation for relation.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <nlohmann/json.hpp>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "core/indicator.h"
#include "index/match_index.h"
#include "tests/node/node_test_util.h"

namespace iocgrid::node {
namespace {

using json = nlohmann::json;

// (query, relation, attribute id): what a hit means, whichever layer it came from.
using Meaning = std::tuple<uint32_t, int, int64_t>;

class LiveWritesTest : public NodeFixture {
 protected:
  // Values that relate to one another in every way the index knows.
  static std::vector<core::Indicator> Pool() {
    std::vector<std::pair<std::string, std::string>> raw = {
        {"ip-dst", "198.51.100.7"},
        {"ip-dst", "198.51.100.0/24"},
        {"ip-src", "198.51.0.0/16"},
        {"ip-dst", "2001:db8::1"},
        {"ip-dst", "2001:db8::/32"},
        {"domain", "evil.example"},
        {"hostname", "a.evil.example"},
        {"domain", "b.a.evil.example"},
        {"url", "http://evil.example/x"},
        {"url", "http://198.51.100.7/y"},
        {"domain|ip", "evil.example|198.51.100.7"},
        {"ip-dst|port", "198.51.100.8|443"},
        {"md5", std::string(32, 'a')},
        {"sha1", std::string(40, 'b')},
        {"filename|md5", "x.exe|" + std::string(32, 'a')},
        {"email-src", "ops@evil.example"},
        {"domain", "other.example"}};
    std::vector<core::Indicator> out;
    for (const auto& [type, value] : raw) {
      auto parsed = core::ParseIndicator(type, value);
      EXPECT_TRUE(parsed.ok()) << value;
      if (parsed.ok()) out.push_back(*parsed);
    }
    return out;
  }

  static core::Attribute AttributeOf(const core::Indicator& indicator) {
    core::Attribute a;
    a.indicator = indicator;
    return a;
  }

  std::set<Meaning> Meanings(const std::vector<index::Hit>& hits,
                             const std::function<int64_t(index::RecordId)>& attribute) {
    std::set<Meaning> out;
    for (const index::Hit& h : hits) {
      EXPECT_TRUE(out.emplace(h.query, static_cast<int>(h.relation), attribute(h.record)).second)
          << "a (query, attribute) pair reported twice";
    }
    return out;
  }

  // The node's layered answers equal those of an index rebuilt from the store now.
  void ExpectSameAsARebuild(const std::vector<core::Indicator>& queries) {
    ASSERT_TRUE(node_->RefreshIndex().ok());
    auto snap = node_->snapshot();
    index::MatchIndex::Builder builder;
    std::vector<int64_t> ids;
    ASSERT_TRUE(node_->store()
                    .ForEachLiveAttribute([&](const store::LiveAttribute& a) {
                      core::Indicator i{a.type, std::string(a.value)};
                      IOCGRID_RETURN_IF_ERROR(
                          builder.Add(i, static_cast<index::RecordId>(ids.size())));
                      ids.push_back(a.id);
                      return Status();
                    })
                    .ok());
    auto fresh = builder.Build();
    const std::vector<index::Hit> layered = snap->MatchAll(queries);
    const std::vector<index::Hit> rebuilt = fresh->MatchAll(queries);
    EXPECT_EQ(Meanings(layered, [&](index::RecordId r) { return snap->AttributeOf(r); }),
              Meanings(rebuilt, [&](index::RecordId r) { return ids[r]; }));
    // Grouped by query, strongest relation first within each.
    for (size_t k = 1; k < layered.size(); ++k) {
      ASSERT_LE(layered[k - 1].query, layered[k].query);
      if (layered[k - 1].query == layered[k].query) {
        EXPECT_LE(static_cast<int>(layered[k - 1].relation), static_cast<int>(layered[k].relation));
      }
    }
    // A per-query cap counts only what is visible.
    index::MatchOptions capped;
    capped.max_hits_per_query = 2;
    std::vector<size_t> want(queries.size());
    for (const index::Hit& h : rebuilt) ++want[h.query];
    std::vector<size_t> got(queries.size());
    for (const index::Hit& h : snap->MatchAll(queries, capped)) ++got[h.query];
    for (size_t q = 0; q < queries.size(); ++q) EXPECT_EQ(got[q], std::min<size_t>(want[q], 2));
    // Match, one query at a time, agrees with MatchAll.
    for (uint32_t q = 0; q < queries.size(); ++q) {
      std::vector<index::Hit> one;
      snap->Match(queries[q], {}, &one);
      size_t all = 0;
      for (const index::Hit& h : layered) all += h.query == q;
      EXPECT_EQ(one.size(), all) << queries[q].value;
    }
  }

  size_t Stat(const char* field) {
    return Json(Call("GET", "/grid/v1/stats", "", user_key_))["index_delta"][field];
  }
  bool Hits(const std::string& value, const std::string& relation = "exact") {
    auto r = Call("POST", "/grid/v1/match", json::array({value}).dump(), user_key_);
    EXPECT_EQ(r.status, 200) << r.body;
    return r.body.substr(0, r.body.find('\n')).find("\"relation\":\"" + relation + "\"") !=
           std::string::npos;
  }
};

TEST_F(LiveWritesTest, RandomWritesAnswerAsARebuildWould) {
  // Folded into the older layer every few writes, so both layers hide and restate.
  NodeOptions options;
  options.index_fold_at = 5;
  StartNode(options);
  const std::vector<core::Indicator> pool = Pool();
  std::mt19937 rng(20261207);
  auto pick = [&](size_t n) { return std::uniform_int_distribution<size_t>(0, n - 1)(rng); };
  store::Store& store = node_->store();
  std::vector<std::string> events;
  for (int round = 0; round < 40; ++round) {
    const size_t op = pick(6);
    if (op <= 1 || events.empty()) {  // a new event of a few values
      core::Event e;
      e.info = "round " + std::to_string(round);
      for (size_t k = 0, n = 1 + pick(4); k < n; ++k) {
        e.attributes.push_back(AttributeOf(pool[pick(pool.size())]));
      }
      auto id = store.AddEvent(e, store::ImportOptions{});
      ASSERT_TRUE(id.ok()) << id.status().ToString();
      events.push_back(std::to_string(*id));
    } else if (op == 2) {  // values appended to an event
      core::Attribute a = AttributeOf(pool[pick(pool.size())]);
      (void)store.AddAttributes(events[pick(events.size())], {&a, 1}, store::AddAttributeOptions{});
    } else if (op == 3) {  // an attribute deleted, softly or for good
      // Ids are given in order: one of those written so far (maybe deleted already).
      (void)store.DeleteAttribute(std::to_string(1 + pick(4 * static_cast<size_t>(round) + 1)),
                                  pick(2) == 0);
    } else if (op == 4) {  // an event deleted, softly or for good
      const size_t k = pick(events.size());
      (void)store.DeleteEvent(events[k], pick(2) == 0);
      events.erase(events.begin() + static_cast<std::ptrdiff_t>(k));
    } else {  // an event edited: its values replaced
      core::Event e;
      e.info = "edited in round " + std::to_string(round);
      e.attributes.push_back(AttributeOf(pool[pick(pool.size())]));
      store::ImportOptions replace;
      replace.delete_missing = true;
      (void)store.EditEvent(events[pick(events.size())], e, replace);
    }
    ExpectSameAsARebuild(pool);
    if (round == 25) {  // a merge in the middle: the answers stay, the delta empties
      ASSERT_TRUE(node_->MergeIndex().ok());
      EXPECT_EQ(node_->snapshot()->delta_size(), 0u);
      ExpectSameAsARebuild(pool);
    }
  }
}

TEST_F(LiveWritesTest, AWriteIsFoundByTheNextSearchWithoutARebuild) {
  AddEvent({{"info", "base"}, {"Attribute", {{{"type", "domain"}, {"value", "base.example"}}}}});
  ASSERT_TRUE(node_->MergeIndex().ok());
  const size_t bases = Stat("bases_built");
  auto event = Json(Call(
      "POST", "/events/add",
      json({{"info", "live"}, {"Attribute", {{{"type", "ip-dst"}, {"value", "203.0.113.0/24"}}}}})
          .dump()));
  const std::string id = event["Event"]["id"];
  EXPECT_TRUE(Hits("203.0.113.9", "in-range"));
  auto added = Call("POST", "/attributes/add/" + id,
                    json({{"type", "domain"}, {"value", "live.example"}}).dump());
  ASSERT_EQ(added.status, 200) << added.body;
  EXPECT_TRUE(Hits("x.live.example", "subdomain"));
  EXPECT_TRUE(Hits("base.example"));
  EXPECT_EQ(Stat("entries"), 2u);
  // Deleting a base value hides it at once; so does deleting the live attribute.
  auto base_event =
      Json(Call("POST", "/attributes/restSearch", json({{"value", "base.example"}}).dump()));
  const std::string base_attr = base_event["response"]["Attribute"][0]["id"];
  ASSERT_EQ(Call("POST", "/attributes/delete/" + base_attr).status, 200);
  EXPECT_FALSE(Hits("base.example"));
  const std::string live_attr = Json(added)["Attribute"]["id"];
  ASSERT_EQ(Call("POST", "/attributes/delete/" + live_attr + "/1").status, 200);
  EXPECT_FALSE(Hits("x.live.example", "subdomain"));
  EXPECT_TRUE(Hits("203.0.113.9", "in-range"));
  ASSERT_EQ(Call("POST", "/events/delete/" + id).status, 200);
  EXPECT_FALSE(Hits("203.0.113.9", "in-range"));
  EXPECT_EQ(Stat("bases_built"), bases) << "no write rebuilt the base";
  EXPECT_EQ(Stat("changed"), 3u);
}

TEST_F(LiveWritesTest, TheBackgroundMergesPastTheThreshold) {
  NodeOptions options;
  options.index_merge_at = 10;
  StartNode(options);
  const size_t bases = Stat("bases_built");
  json attributes = json::array();
  for (int i = 0; i < 12; ++i) {
    attributes.push_back({{"type", "domain"}, {"value", "m" + std::to_string(i) + ".example"}});
  }
  AddEvent({{"info", "many"}, {"Attribute", attributes}});
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (Stat("bases_built") == bases && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_GT(Stat("bases_built"), bases);
  EXPECT_EQ(Stat("entries"), 0u);
  EXPECT_TRUE(Hits("m11.example"));
}

TEST_F(LiveWritesTest, WritesDuringMergesLandOnTheNewBase) {
  const std::vector<core::Indicator> pool = Pool();
  std::atomic<bool> done{false};
  std::thread merger([&] {
    while (!done.load()) EXPECT_TRUE(node_->MergeIndex().ok());
  });
  std::vector<core::Indicator> written;
  for (int i = 0; i < 200; ++i) {
    core::Event e;
    e.info = "during " + std::to_string(i);
    auto indicator = core::ParseIndicator("domain", "d" + std::to_string(i) + ".example");
    ASSERT_TRUE(indicator.ok());
    e.attributes.push_back(AttributeOf(*indicator));
    e.attributes.push_back(AttributeOf(pool[static_cast<size_t>(i) % pool.size()]));
    ASSERT_TRUE(node_->store().AddEvent(e, store::ImportOptions{}).ok());
    ASSERT_TRUE(node_->RefreshIndex().ok());
    written.push_back(*indicator);
    // Read-your-writes whatever the merge is doing.
    std::vector<index::Hit> hits;
    node_->snapshot()->Match(*indicator, {}, &hits);
    ASSERT_EQ(hits.size(), 1u) << indicator->value;
  }
  done.store(true);
  merger.join();
  written.insert(written.end(), pool.begin(), pool.end());
  ExpectSameAsARebuild(written);
}

}  // namespace
}  // namespace iocgrid::node
