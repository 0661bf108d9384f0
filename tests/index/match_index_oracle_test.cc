// Oracle tests: the index's hits against a straightforward linear scan (containment by masking)
// over real member data (MISP warninglists, honeypot lists) and real log client IPs, and over
// random nested IPv4/IPv6 networks.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <iterator>
#include <nlohmann/json.hpp>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <tuple>
#include <vector>

#include "core/indicator.h"
#include "core/ip.h"
#include "index/match_index.h"

namespace iocgrid::index {
namespace {

namespace fs = std::filesystem;

// An IP network as the oracle sees it: 128-bit start (IPv4 in the low 32 bits) and a prefix.
struct Net {
  bool v6 = false;
  uint64_t hi = 0;
  uint64_t lo = 0;
  unsigned prefix = 0;
};

Net ToNet(const core::IpNetwork& n) {
  Net net;
  net.v6 = n.v6;
  net.prefix = n.prefix;
  if (n.v6) {
    net.hi = n.v6_hi();
    net.lo = n.v6_lo();
  } else {
    net.lo = n.v4();
  }
  return net;
}

// True when `outer` contains the address `addr` (given as a Net's start).
bool Contains(const Net& outer, const Net& addr) {
  if (outer.v6 != addr.v6) return false;
  if (!outer.v6) {
    uint64_t mask = outer.prefix == 0 ? 0 : (~uint64_t{0} << (32 - outer.prefix)) & 0xFFFFFFFFu;
    return (addr.lo & mask) == outer.lo;
  }
  uint64_t mask_hi = outer.prefix >= 64
                         ? ~uint64_t{0}
                         : (outer.prefix == 0 ? 0 : ~uint64_t{0} << (64 - outer.prefix));
  uint64_t mask_lo =
      outer.prefix <= 64
          ? 0
          : (outer.prefix == 128 ? ~uint64_t{0} : ~uint64_t{0} << (128 - outer.prefix));
  return (addr.hi & mask_hi) == outer.hi && (addr.lo & mask_lo) == outer.lo;
}

bool SameNet(const Net& a, const Net& b) {
  return a.v6 == b.v6 && a.hi == b.hi && a.lo == b.lo && a.prefix == b.prefix;
}

bool Overlap(const Net& a, const Net& b) {
  return (a.prefix <= b.prefix && Contains(a, b)) || (b.prefix <= a.prefix && Contains(b, a));
}

using Triple = std::tuple<uint32_t, RecordId, Relation>;  // (query, record, relation)

// The oracle for stored plain IPs/CIDRs and queries whose IP part is `query_ip` in a query of
// the given relation-on-equality (exact for a plain IP, component for a composite half, url-host
// for a URL's host).
std::set<Triple> OracleHits(const std::vector<Net>& stored, const std::vector<Net>& query_ips,
                            const std::vector<Relation>& equal_relation, RelationMask mask) {
  std::set<Triple> hits;
  for (uint32_t q = 0; q < query_ips.size(); ++q) {
    for (RecordId r = 0; r < stored.size(); ++r) {
      std::vector<Relation> holding;
      if (SameNet(query_ips[q], stored[r])) holding.push_back(equal_relation[q]);
      if (Overlap(query_ips[q], stored[r])) holding.push_back(Relation::kInRange);
      for (Relation rel : holding) {
        if ((mask & RelationBit(rel)) != 0) {
          hits.emplace(q, r, rel);
          break;
        }
      }
    }
  }
  return hits;
}

std::set<Triple> IndexHits(const MatchIndex& index, const std::vector<core::Indicator>& queries,
                           const MatchOptions& options) {
  std::set<Triple> hits;
  for (const Hit& h : index.MatchAll(queries, options)) {
    bool inserted = hits.emplace(h.query, h.record, h.relation).second;
    EXPECT_TRUE(inserted) << "duplicate hit for query " << h.query << " record " << h.record;
  }
  return hits;
}

std::string Describe(const std::set<Triple>& only, const std::vector<core::Indicator>& queries,
                     const std::vector<std::string>& stored_text) {
  std::ostringstream s;
  int shown = 0;
  for (const auto& [q, r, rel] : only) {
    if (++shown > 10) break;
    s << "  " << queries[q].value << " ~ " << stored_text[r] << " (" << RelationName(rel) << ")\n";
  }
  return s.str();
}

void ExpectSameHits(const std::set<Triple>& index_hits, const std::set<Triple>& oracle_hits,
                    const std::vector<core::Indicator>& queries,
                    const std::vector<std::string>& stored_text) {
  std::set<Triple> only_index;
  std::set<Triple> only_oracle;
  std::set_difference(index_hits.begin(), index_hits.end(), oracle_hits.begin(), oracle_hits.end(),
                      std::inserter(only_index, only_index.end()));
  std::set_difference(oracle_hits.begin(), oracle_hits.end(), index_hits.begin(), index_hits.end(),
                      std::inserter(only_oracle, only_oracle.end()));
  EXPECT_TRUE(only_index.empty()) << only_index.size() << " hits only in the index:\n"
                                  << Describe(only_index, queries, stored_text);
  EXPECT_TRUE(only_oracle.empty()) << only_oracle.size() << " hits only in the oracle:\n"
                                   << Describe(only_oracle, queries, stored_text);
}

// ---- real data -----------------------------------------------------------------------------

const fs::path kData = IOCGRID_SHARED_DATA_DIR;

std::vector<std::string> ReadLines(const fs::path& path) {
  std::ifstream in(path);
  EXPECT_TRUE(in.good()) << path;
  std::vector<std::string> lines;
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    lines.push_back(line);
  }
  return lines;
}

std::string FirstField(const std::string& line, char sep) { return line.substr(0, line.find(sep)); }

struct StoredIps {
  std::vector<std::string> text;  // by record
  std::vector<Net> nets;          // by record
};

void AddStored(std::string_view raw, MatchIndex::Builder* builder, StoredIps* stored) {
  Result<core::Indicator> ind = core::ParseIndicator(core::IndicatorType::kIpDst, raw);
  if (!ind.ok()) return;  // warninglists also hold domains; lists have headers and comments
  Result<core::IpNetwork> net = core::ParseIpNetwork(ind->value);
  ASSERT_TRUE(net.ok()) << ind->value;
  ASSERT_TRUE(builder->Add(*ind, static_cast<RecordId>(stored->nets.size())).ok());
  stored->text.push_back(ind->value);
  stored->nets.push_back(ToNet(*net));
}

TEST(MatchIndexOracleTest, MemberListsAgainstLogClientsMatchLinearScan) {
  MatchIndex::Builder builder;
  StoredIps stored;
  size_t lists = 0;
  for (const auto& dir : fs::directory_iterator(kData / "C_member_anonymity/misp-warninglists")) {
    fs::path file = dir.path() / "list.json";
    if (!fs::exists(file)) continue;
    std::ifstream in(file);
    std::stringstream buf;
    buf << in.rdbuf();
    nlohmann::json doc = nlohmann::json::parse(buf.str(), nullptr, false);
    ASSERT_FALSE(doc.is_discarded()) << file;
    ASSERT_TRUE(doc.contains("list")) << file;
    for (const auto& v : doc["list"]) {
      if (v.is_string()) AddStored(v.get<std::string>(), &builder, &stored);
    }
    ++lists;
  }
  EXPECT_GE(lists, 20u);
  for (const char* csv : {"Scanners.csv", "Threats.csv"}) {
    for (const std::string& line : ReadLines(kData / "D_member_honeypot/shadowwhisperer" / csv)) {
      AddStored(FirstField(line, ','), &builder, &stored);
    }
  }
  for (const std::string& line : ReadLines(kData / "D_member_honeypot/ipsum/levels_3.txt")) {
    AddStored(line, &builder, &stored);
  }
  ASSERT_GT(stored.nets.size(), 100000u);
  auto index = builder.Build();
  ASSERT_EQ(index->size(), stored.nets.size());

  // Queries: distinct client IPs of two access logs, and the BlackTech ip:port and URL rows.
  std::vector<core::Indicator> queries;
  std::vector<Net> query_ips;
  std::vector<Relation> equal_relation;
  std::set<std::string> seen;
  for (const char* log : {"secrepo_access-2018-12-15.log", "secrepo_access.log.2021-10-22"}) {
    for (const std::string& line : ReadLines(kData / "E_logs/apache" / log)) {
      std::string client = FirstField(line, ' ');
      if (!seen.insert(client).second) continue;
      Result<core::Indicator> ind = core::ParseIndicator(core::IndicatorType::kIpSrc, client);
      if (!ind.ok()) continue;
      queries.push_back(*ind);
      query_ips.push_back(ToNet(*core::ParseIpNetwork(ind->value)));
      equal_relation.push_back(Relation::kExact);
    }
  }
  size_t blacktech = 0;
  for (const std::string& line : ReadLines(kData / "A_query_blacktech/blacktech_iocs.csv")) {
    std::string type = FirstField(line, ',');
    if (type != "ip-port" && type != "url") continue;
    std::string rest = line.substr(type.size() + 1);
    std::string value = FirstField(rest, ',');
    Result<core::Indicator> ind = core::ParseIndicator(type, value);
    ASSERT_TRUE(ind.ok()) << line;
    std::string ip_text;
    if (ind->type == core::IndicatorType::kUrl) {
      ip_text = std::string(core::UrlHost(ind->value));
      equal_relation.push_back(Relation::kUrlHost);
    } else {
      core::Component parts[2];
      ASSERT_EQ(core::Components(*ind, parts), 2) << ind->value;
      ip_text = std::string(parts[0].value);
      equal_relation.push_back(Relation::kComponent);
    }
    Result<core::IpNetwork> net = core::ParseIpNetwork(ip_text);
    ASSERT_TRUE(net.ok()) << ip_text;
    queries.push_back(*ind);
    query_ips.push_back(ToNet(*net));
    ++blacktech;
  }
  EXPECT_EQ(blacktech, 8u);  // 5 ip:port rows and 3 URLs, 7 distinct IPs
  ASSERT_GT(queries.size(), 400u);

  for (RelationMask mask : {kAllRelations, RelationMask{RelationBit(Relation::kInRange)}}) {
    MatchOptions options;
    options.relations = mask;
    std::set<Triple> expected = OracleHits(stored.nets, query_ips, equal_relation, mask);
    std::set<Triple> actual = IndexHits(*index, queries, options);
    if (mask == kAllRelations) {
      EXPECT_GT(expected.size(), 100u);
    }
    ExpectSameHits(actual, expected, queries, stored.text);
  }
}

// ---- random networks ----------------------------------------------------------------------------

class RandomNets {
 public:
  explicit RandomNets(uint64_t seed) : rng_(seed) {}

  // A random network or address; nested inside an earlier one half of the time.
  Net Next(const std::vector<Net>& earlier) {
    Net net;
    if (!earlier.empty() && Coin()) {
      const Net& outer = earlier[Below(earlier.size())];
      net = outer;
      unsigned bits = outer.v6 ? 128 : 32;
      net.prefix = outer.prefix + static_cast<unsigned>(Below(bits - outer.prefix + 1));
      RandomizeHostBits(&net, outer.prefix);
    } else {
      net.v6 = Below(3) == 0;
      // A narrow space so that random networks overlap: 10.0.0.0/8, 2001:db8::/32.
      if (net.v6) {
        net.hi = 0x20010db800000000ull;
        net.prefix = 32 + static_cast<unsigned>(Below(97));
        RandomizeHostBits(&net, 32);
      } else {
        net.lo = 0x0A000000u;
        net.prefix =
            Below(20) == 0 ? static_cast<unsigned>(Below(9)) : 8 + static_cast<unsigned>(Below(25));
        RandomizeHostBits(&net, 8);
        if (net.prefix < 8) ClearFrom(&net, net.prefix);
      }
    }
    return net;
  }

  // `net` made an address: its host bits random, its prefix the full length.
  Net Address(Net net) {
    const unsigned from = net.prefix;
    net.prefix = net.v6 ? 128 : 32;
    RandomizeHostBits(&net, from);
    return net;
  }

 private:
  bool Coin() { return (rng_() & 1) != 0; }
  uint64_t Below(uint64_t n) { return rng_() % n; }

  // Random bits between `from` and the prefix, zero after it.
  void RandomizeHostBits(Net* net, unsigned from) {
    unsigned bits = net->v6 ? 128 : 32;
    for (unsigned b = from; b < bits; ++b) {
      bool set = b < net->prefix && Coin();
      SetBit(net, b, set);
    }
  }
  void ClearFrom(Net* net, unsigned from) {
    unsigned bits = net->v6 ? 128 : 32;
    for (unsigned b = from; b < bits; ++b) SetBit(net, b, false);
  }
  static void SetBit(Net* net, unsigned b, bool set) {
    if (!net->v6) {
      uint64_t m = uint64_t{1} << (31 - b);
      net->lo = set ? (net->lo | m) : (net->lo & ~m);
    } else if (b < 64) {
      uint64_t m = uint64_t{1} << (63 - b);
      net->hi = set ? (net->hi | m) : (net->hi & ~m);
    } else {
      uint64_t m = uint64_t{1} << (127 - b);
      net->lo = set ? (net->lo | m) : (net->lo & ~m);
    }
  }

  std::mt19937_64 rng_;
};

core::IpNetwork ToIpNetwork(const Net& net) {
  core::IpNetwork n;
  n.v6 = net.v6;
  n.prefix = static_cast<uint8_t>(net.prefix);
  if (net.v6) {
    for (int i = 0; i < 8; ++i) {
      n.bytes[static_cast<size_t>(i)] = static_cast<uint8_t>(net.hi >> (56 - 8 * i));
      n.bytes[static_cast<size_t>(8 + i)] = static_cast<uint8_t>(net.lo >> (56 - 8 * i));
    }
  } else {
    for (int i = 0; i < 4; ++i) {
      n.bytes[static_cast<size_t>(i)] = static_cast<uint8_t>(net.lo >> (24 - 8 * i));
    }
  }
  return n;
}

// 3,000 random stored values and 1,500 random queries (IPv4 and IPv6) against the linear scan
// under each mask. `addresses_only`: every stored value an address, so that the index has no
// network (it then skips in-range work for queried addresses), and a third of the queries
// addresses beside the stored ones.
void ExpectRandomValuesMatchLinearScan(uint64_t seed, bool addresses_only,
                                       std::initializer_list<RelationMask> masks) {
  RandomNets random(seed);
  std::vector<Net> stored;
  std::vector<std::string> stored_text;
  MatchIndex::Builder builder;
  for (int i = 0; i < 3000; ++i) {
    // Some values are stored twice, under another record.
    Net net = (i % 10 == 9) ? stored[static_cast<size_t>(i) / 2] : random.Next(stored);
    if (addresses_only) net = random.Address(net);
    Result<core::Indicator> ind =
        core::ParseIndicator(core::IndicatorType::kIpDst, core::FormatIpNetwork(ToIpNetwork(net)));
    ASSERT_TRUE(ind.ok());
    EXPECT_TRUE(builder.Add(*ind, static_cast<RecordId>(stored.size())).ok());
    stored.push_back(net);
    stored_text.push_back(ind->value);
  }
  auto index = builder.Build();

  std::vector<Net> query_ips;
  std::vector<core::Indicator> queries;
  for (int i = 0; i < 1500; ++i) {
    // Queries nest inside stored networks, inside earlier queries, or stand alone; or, against
    // addresses only, are stored addresses, addresses beside them, or networks over them.
    Net net = (i % 3 == 0) ? stored[static_cast<size_t>(i) % stored.size()]
                           : random.Next(i % 3 == 1 || addresses_only ? stored : query_ips);
    if (addresses_only && i % 3 == 1) net = random.Address(net);
    Result<core::Indicator> ind =
        core::ParseIndicator(core::IndicatorType::kIpSrc, core::FormatIpNetwork(ToIpNetwork(net)));
    ASSERT_TRUE(ind.ok());
    queries.push_back(*ind);
    query_ips.push_back(net);
  }
  std::vector<Relation> equal_relation(queries.size(), Relation::kExact);

  for (RelationMask mask : masks) {
    MatchOptions options;
    options.relations = mask;
    std::set<Triple> expected = OracleHits(stored, query_ips, equal_relation, mask);
    EXPECT_GT(expected.size(), mask == kAllRelations ? 3000u : 500u) << "mask " << mask;
    ExpectSameHits(IndexHits(*index, queries, options), expected, queries, stored_text);
  }
}

TEST(MatchIndexOracleTest, RandomNestedNetworksMatchLinearScan) {
  ExpectRandomValuesMatchLinearScan(20240611, /*addresses_only=*/false,
                                    {kAllRelations, RelationMask{RelationBit(Relation::kInRange)},
                                     RelationMask{RelationBit(Relation::kExact)}});
}

// Networks queried, and equal addresses wanted as in-range (a mask without a key relation).
TEST(MatchIndexOracleTest, AddressesOnlyIndexMatchesLinearScan) {
  ExpectRandomValuesMatchLinearScan(
      20261207, /*addresses_only=*/true,
      {kAllRelations, RelationMask{RelationBit(Relation::kInRange)},
       RelationMask{RelationBit(Relation::kExact)},
       RelationMask{RelationBit(Relation::kExact) | RelationBit(Relation::kInRange)},
       RelationMask{RelationBit(Relation::kComponent) | RelationBit(Relation::kInRange)}});
}

TEST(MatchIndexOracleTest, RandomQueriesWithMaxHitsReturnThePrefixOfTheFullList) {
  RandomNets random(7);
  std::vector<Net> stored;
  MatchIndex::Builder builder;
  for (int i = 0; i < 2000; ++i) {
    Net net = random.Next(stored);
    EXPECT_TRUE(builder
                    .Add(*core::ParseIndicator(core::IndicatorType::kIpDst,
                                               core::FormatIpNetwork(ToIpNetwork(net))),
                         static_cast<RecordId>(i))
                    .ok());
    stored.push_back(net);
  }
  auto index = builder.Build();
  std::vector<Net> queries;
  for (int i = 0; i < 500; ++i) {
    Net net = random.Next(stored);
    queries.push_back(net);
    core::Indicator query =
        *core::ParseIndicator(core::IndicatorType::kIpDst, core::FormatIpNetwork(ToIpNetwork(net)));
    std::vector<Hit> full;
    EXPECT_TRUE(index->Match(query, 0, {}, &full));
    for (uint32_t limit : {1u, 2u, 5u}) {
      MatchOptions options;
      options.max_hits_per_query = limit;
      std::vector<Hit> cut;
      bool complete = index->Match(query, 0, options, &cut);
      EXPECT_EQ(complete, full.size() <= limit) << query.value;
      size_t expected = std::min<size_t>(full.size(), limit);
      ASSERT_EQ(cut.size(), expected) << query.value;
      EXPECT_TRUE(std::equal(cut.begin(), cut.end(), full.begin())) << query.value;
    }
  }
}

}  // namespace
}  // namespace iocgrid::index
