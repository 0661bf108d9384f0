// Private search gives plain search's answer (issue 10): on the shared member data (MISP
// warninglists, Tor and proxy lists, honeypot lists, MISP events), with queries from the BlackTech
// list, real log clients and variations of the member's own values (neighbours, networks around
// and inside its IPs, subdomains, URLs, composites), every pair MatchIndex reports shares a key
// between psi::QueryKeys and psi::MemberKeys, and MatchIndex run over only the entries behind
// the shared keys (what a querier decrypts from labels) reports exactly the plain hits,
// relation for relation.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <tuple>
#include <unordered_map>
#include <vector>

#include "core/indicator.h"
#include "core/ip.h"
#include "index/match_index.h"
#include "ingest/loader.h"
#include "psi/keys.h"
#include "tests/common/derived_queries.h"

namespace iocgrid::psi {
namespace {

using core::Indicator;
using Triple = std::tuple<uint32_t, uint32_t, index::Relation>;  // (query, entry, relation)

const std::string kShared = IOCGRID_SHARED_DATA_DIR;

void LoadInto(const std::vector<std::string>& paths, std::vector<Indicator>* out) {
  auto files = ingest::ExpandPaths(paths);
  ASSERT_TRUE(files.ok()) << files.status().ToString();
  for (const std::string& file : *files) {
    if (file.find("describeTypes") != std::string::npos) continue;
    auto stats = ingest::LoadFile(
        file, ingest::LoadOptions{},
        [&](core::Event&& event) {
          for (core::Attribute& a : event.attributes) out->push_back(std::move(a.indicator));
        },
        [](const ingest::LoadIssue&) {});
    (void)stats;  // a file that is no member format (a README) adds nothing
  }
}

class RelationsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    stored_ = new std::vector<Indicator>();
    queries_ = new std::vector<Indicator>();
    LoadInto(
        {kShared + "/C_member_anonymity", kShared + "/D_member_honeypot/ipsum/levels_3.txt",
         kShared + "/D_member_honeypot/sequoia", kShared + "/D_member_honeypot/shadowwhisperer",
         kShared + "/G_misp/events", kShared + "/G_misp/feed_circl_osint_sample"},
        stored_);
    LoadInto({kShared + "/A_query_blacktech/blacktech_iocs.csv"}, queries_);
    test::LogClients(kShared + "/E_logs/apache/secrepo_access-2018-12-15.log", 500, queries_);
    test::DeriveQueries(*stored_, 97, queries_);
  }
  static void TearDownTestSuite() {
    delete stored_;
    delete queries_;
  }

  static std::vector<Indicator>* stored_;
  static std::vector<Indicator>* queries_;
};

std::vector<Indicator>* RelationsTest::stored_ = nullptr;
std::vector<Indicator>* RelationsTest::queries_ = nullptr;

TEST_F(RelationsTest, PrivateCandidatesThenMatchIndexEqualPlainSearch) {
  const std::vector<Indicator>& stored = *stored_;
  const std::vector<Indicator>& queries = *queries_;
  ASSERT_GT(stored.size(), 100000u);
  ASSERT_GT(queries.size(), 5000u);

  // Plain search.
  index::MatchIndex::Builder builder;
  for (size_t e = 0; e < stored.size(); ++e)
    EXPECT_TRUE(builder.Add(stored[e], static_cast<uint32_t>(e)).ok());
  auto plain_index = builder.Build();
  std::set<Triple> plain;
  for (const index::Hit& h : plain_index->MatchAll(queries)) {
    plain.emplace(h.query, h.record, h.relation);
  }

  // The member's side: declaration and key -> entries.
  const RangeOptions options;
  PrefixLengths stored_lengths;
  std::unordered_map<std::string, std::vector<uint32_t>> member;
  std::vector<std::string> keys;
  for (size_t e = 0; e < stored.size(); ++e) {
    CollectPrefixLengths(stored[e], &stored_lengths);
    keys.clear();
    MemberKeys(stored[e], options, &keys);
    for (std::string& k : keys) member[std::move(k)].push_back(static_cast<uint32_t>(e));
  }
  const RangeDeclaration declaration = DeclareRanges(stored_lengths, options);

  // The querier's side: candidates per query through exact key (tag) equality.
  // A queried IPv6 network between /65 and /118 needs more sub-network keys than the budget
  // (the default below lengths stop at /64): QueryKeys says so, and such queries are left out
  // of the comparison. Nothing else may be incomplete.
  std::vector<std::vector<uint32_t>> candidates(queries.size());
  std::vector<bool> incomplete(queries.size(), false);
  size_t query_keys = 0;
  for (size_t q = 0; q < queries.size(); ++q) {
    keys.clear();
    if (!QueryKeys(queries[q], declaration, QueryKeyOptions{}, &keys)) {
      incomplete[q] = true;
      auto net = core::ParseIpNetwork(queries[q].value);
      EXPECT_TRUE(net.ok() && net->v6 && net->prefix > 64 && net->prefix <= 118)
          << "incomplete: " << queries[q].value;
    }
    query_keys += keys.size();
    for (const std::string& k : keys) {
      auto it = member.find(k);
      if (it == member.end()) continue;
      candidates[q].insert(candidates[q].end(), it->second.begin(), it->second.end());
    }
    std::sort(candidates[q].begin(), candidates[q].end());
    candidates[q].erase(std::unique(candidates[q].begin(), candidates[q].end()),
                        candidates[q].end());
  }

  // Every plain hit is a candidate.
  size_t missing = 0;
  for (const auto& [q, e, relation] : plain) {
    if (incomplete[q]) continue;
    if (!std::binary_search(candidates[q].begin(), candidates[q].end(), e)) {
      if (++missing <= 10) {
        ADD_FAILURE() << "no shared key: query " << core::TypeName(queries[q].type) << " "
                      << queries[q].value << " -> stored " << core::TypeName(stored[e].type) << " "
                      << stored[e].value << " (" << index::RelationName(relation) << ")";
      }
    }
  }
  EXPECT_EQ(missing, 0u);

  // The querier decides relations with MatchIndex over the candidates alone (in groups, as a
  // connector would per batch): the result is the plain one.
  std::set<Triple> private_hits;
  size_t candidate_pairs = 0;
  constexpr size_t kGroup = 512;
  for (size_t start = 0; start < queries.size(); start += kGroup) {
    const size_t end = std::min(queries.size(), start + kGroup);
    std::vector<uint32_t> group;
    for (size_t q = start; q < end; ++q) {
      group.insert(group.end(), candidates[q].begin(), candidates[q].end());
      candidate_pairs += candidates[q].size();
    }
    std::sort(group.begin(), group.end());
    group.erase(std::unique(group.begin(), group.end()), group.end());
    index::MatchIndex::Builder mini;
    for (uint32_t e : group) EXPECT_TRUE(mini.Add(stored[e], e).ok());
    auto mini_index = mini.Build();
    std::span<const Indicator> batch(queries.data() + start, end - start);
    for (const index::Hit& h : mini_index->MatchAll(batch)) {
      private_hits.emplace(static_cast<uint32_t>(start + h.query), h.record, h.relation);
    }
  }
  size_t left_out = 0;
  for (auto it = plain.begin(); it != plain.end();) {
    if (incomplete[std::get<0>(*it)]) {
      it = plain.erase(it);
      ++left_out;
    } else {
      ++it;
    }
  }
  for (auto it = private_hits.begin(); it != private_hits.end();) {
    it = incomplete[std::get<0>(*it)] ? private_hits.erase(it) : std::next(it);
  }
  EXPECT_EQ(private_hits.size(), plain.size());
  EXPECT_TRUE(private_hits == plain);

  std::map<index::Relation, size_t> by_relation;
  for (const auto& t : plain) ++by_relation[std::get<2>(t)];
  for (int r = 0; r < index::kRelationCount; ++r) {
    EXPECT_GT(by_relation[static_cast<index::Relation>(r)], 0u)
        << "no " << index::RelationName(static_cast<index::Relation>(r)) << " hit exercised";
  }
  std::printf(
      "stored %zu, member keys %zu, queries %zu, keys per query %.2f, plain hits %zu, "
      "candidate pairs %zu, v4 lengths %zu, v6 lengths %zu, incomplete queries %zu (%zu hits)\n",
      stored.size(), member.size(), queries.size(),
      static_cast<double>(query_keys) / static_cast<double>(queries.size()), plain.size(),
      candidate_pairs, declaration.lengths.v4.count(), declaration.lengths.v6.count(),
      static_cast<size_t>(std::count(incomplete.begin(), incomplete.end(), true)), left_out);
}

}  // namespace
}  // namespace iocgrid::psi

namespace iocgrid::psi {
namespace {

// A member finds the entries behind a key (to build its label) with ProbeForKey and MatchIndex:
// every entry that MemberKeys tags with the key is among the probe's hits.
TEST_F(RelationsTest, KeyProbesFindEveryEntryHoldingTheKey) {
  const std::vector<Indicator>& stored = *stored_;
  index::MatchIndex::Builder builder;
  for (size_t e = 0; e < stored.size(); ++e)
    EXPECT_TRUE(builder.Add(stored[e], static_cast<uint32_t>(e)).ok());
  auto idx = builder.Build();
  const RangeOptions options;
  std::unordered_map<std::string, std::vector<uint32_t>> member;
  std::vector<std::string> keys;
  for (size_t e = 0; e < stored.size(); e += 7) {
    keys.clear();
    MemberKeys(stored[e], options, &keys);
    for (std::string& k : keys) member[std::move(k)].push_back(static_cast<uint32_t>(e));
  }
  size_t checked = 0;
  for (const auto& [key, entries] : member) {
    Result<KeyProbe> probe = ProbeForKey(key);
    ASSERT_TRUE(probe.ok()) << KeyClass(key);
    index::MatchOptions match;
    match.relations = 0;
    if (probe->equal) {
      match.relations |= index::RelationBit(index::Relation::kExact) |
                         index::RelationBit(index::Relation::kComponent) |
                         index::RelationBit(index::Relation::kUrlHost);
    }
    if (probe->in_range) match.relations |= index::RelationBit(index::Relation::kInRange);
    std::vector<index::Hit> hits;
    idx->Match(probe->query, 0, match, &hits);
    std::set<uint32_t> found;
    for (const index::Hit& h : hits) found.insert(h.record);
    for (uint32_t e : entries) {
      ASSERT_TRUE(found.count(e)) << "probe for " << KeyClass(key) << " "
                                  << key.substr(key.find('\0') + 1) << " misses "
                                  << stored[e].value;
    }
    ++checked;
  }
  EXPECT_GT(checked, 50000u);
}

}  // namespace
}  // namespace iocgrid::psi
