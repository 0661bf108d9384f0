#include "index/match_index.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

#include "core/indicator.h"
#include "tests/common/builders.h"

namespace iocgrid::index {
namespace {

struct Stored {
  std::string_view type;
  std::string_view value;
  RecordId record;
};

using ::iocgrid::test::Ind;  // tests/common/builders.h

std::shared_ptr<const MatchIndex> BuildIndex(const std::vector<Stored>& stored) {
  MatchIndex::Builder builder;
  for (const Stored& s : stored) EXPECT_TRUE(builder.Add(Ind(s.type, s.value), s.record).ok());
  return builder.Build();
}

// (record, relation) of each hit, in the order Match returned them.
using Pair = std::pair<RecordId, Relation>;

std::vector<Pair> Hits(const MatchIndex& index, std::string_view type, std::string_view raw,
                       const MatchOptions& options = {}) {
  std::vector<Hit> hits;
  index.Match(Ind(type, raw), 7, options, &hits);
  std::vector<Pair> pairs;
  for (const Hit& h : hits) {
    EXPECT_EQ(h.query, 7u);
    EXPECT_EQ(h.record, index.entry_record(h.entry));
    pairs.emplace_back(h.record, h.relation);
  }
  return pairs;
}

constexpr Relation kExact = Relation::kExact;
constexpr Relation kComponent = Relation::kComponent;
constexpr Relation kUrlHost = Relation::kUrlHost;
constexpr Relation kSubdomain = Relation::kSubdomain;
constexpr Relation kInRange = Relation::kInRange;

using P = std::vector<Pair>;

// ---- exact ----------------------------------------------------------------------------

TEST(MatchIndexTest, SameValueIsExact) {
  auto index = BuildIndex({{"md5", "0123456789abcdef0123456789abcdef", 10}});
  EXPECT_EQ(Hits(*index, "md5", "0123456789abcdef0123456789abcdef"), (P{{10, kExact}}));
}

TEST(MatchIndexTest, UpperCaseHashQueryIsNormalizedAndExact) {
  auto index = BuildIndex({{"sha1", "da39a3ee5e6b4b0d3255bfef95601890afd80709", 1}});
  EXPECT_EQ(Hits(*index, "sha1", "DA39A3EE5E6B4B0D3255BFEF95601890AFD80709"), (P{{1, kExact}}));
}

TEST(MatchIndexTest, DifferentValueMisses) {
  auto index = BuildIndex({{"domain", "evil.example", 1}, {"ip-dst", "1.2.3.4", 2}});
  EXPECT_TRUE(Hits(*index, "domain", "good.example").empty());
  EXPECT_TRUE(Hits(*index, "ip-dst", "1.2.3.5").empty());
}

TEST(MatchIndexTest, DuplicateValuesWithDifferentRecordsAllHit) {
  auto index = BuildIndex({{"domain", "evil.example", 5},
                           {"domain", "other.example", 6},
                           {"domain", "evil.example", 3},
                           {"hostname", "evil.example", 9}});
  EXPECT_EQ(Hits(*index, "domain", "evil.example"), (P{{5, kExact}, {3, kExact}, {9, kExact}}));
}

TEST(MatchIndexTest, IpSrcAndIpDstShareTheIpFamily) {
  auto index = BuildIndex({{"ip-src", "1.2.3.4", 1}});
  EXPECT_EQ(Hits(*index, "ip-dst", "1.2.3.4"), (P{{1, kExact}}));
}

TEST(MatchIndexTest, EmailTypesShareTheEmailFamily) {
  auto index = BuildIndex({{"email-src", "Bad@Evil.Example", 1}});
  EXPECT_EQ(Hits(*index, "email-dst", "Bad@evil.example"), (P{{1, kExact}}));
}

TEST(MatchIndexTest, OtherFamilyValuesCompareOnlyWithinTheirType) {
  auto index = BuildIndex({{"port", "443", 1}, {"AS", "AS443", 2}});
  EXPECT_EQ(Hits(*index, "port", "443"), (P{{1, kExact}}));
  EXPECT_EQ(Hits(*index, "AS", "443"), (P{{2, kExact}}));
}

TEST(MatchIndexTest, SameTextInDifferentFamiliesDoesNotMatch) {
  auto index = BuildIndex({{"filename", "evil.example", 1}});
  EXPECT_TRUE(Hits(*index, "domain", "evil.example").empty());
}

TEST(MatchIndexTest, TrailingDotDomainIsExact) {
  auto index = BuildIndex({{"domain", "Evil.Example.", 1}});
  EXPECT_EQ(Hits(*index, "domain", "evil.example"), (P{{1, kExact}}));
  EXPECT_EQ(Hits(*index, "hostname", "EVIL.example."), (P{{1, kExact}}));
}

TEST(MatchIndexTest, IdnQueryMatchesPunycodeStoredDomain) {
  auto index = BuildIndex({{"domain", "xn--bcher-kva.example", 1}});
  EXPECT_EQ(Hits(*index, "domain",
                 "b\xC3\xBC"
                 "cher.example"),
            (P{{1, kExact}}));
}

TEST(MatchIndexTest, UrlEqualsUrlIsExact) {
  auto index = BuildIndex({{"url", "http://evil.example/a?b=c", 1}});
  EXPECT_EQ(Hits(*index, "url", "HTTP://EVIL.example/a?b=c"), (P{{1, kExact}}));
  EXPECT_TRUE(Hits(*index, "url", "http://evil.example/b").empty());
}

// ---- composites ----------------------------------------------------------------------------

TEST(MatchIndexTest, Md5HitsFilenameMd5HashHalfAsExact) {
  auto index = BuildIndex({{"filename|md5", "x.exe|0123456789ABCDEF0123456789ABCDEF", 1}});
  EXPECT_EQ(Hits(*index, "md5", "0123456789abcdef0123456789abcdef"), (P{{1, kExact}}));
}

TEST(MatchIndexTest, FilenameMd5HashHalfHitsStoredMd5AsExact) {
  auto index = BuildIndex({{"md5", "0123456789abcdef0123456789abcdef", 1}});
  EXPECT_EQ(Hits(*index, "filename|md5", "y.dll|0123456789abcdef0123456789abcdef"),
            (P{{1, kExact}}));
}

TEST(MatchIndexTest, FilenameMd5WithOtherFilenameButSameDigestIsExact) {
  auto index = BuildIndex({{"filename|md5", "x.exe|0123456789abcdef0123456789abcdef", 1}});
  EXPECT_EQ(Hits(*index, "filename|md5", "y.exe|0123456789abcdef0123456789abcdef"),
            (P{{1, kExact}}));
}

TEST(MatchIndexTest, FilenameHalfIsComponent) {
  auto index = BuildIndex({{"filename|md5", "x.exe|0123456789abcdef0123456789abcdef", 1}});
  EXPECT_EQ(Hits(*index, "filename", "x.exe"), (P{{1, kComponent}}));
}

TEST(MatchIndexTest, QueriedIpHitsDomainIpHalfAsComponent) {
  auto index = BuildIndex({{"domain|ip", "evil.example|1.2.3.4", 1}});
  EXPECT_EQ(Hits(*index, "ip-dst", "1.2.3.4"), (P{{1, kComponent}}));
  EXPECT_EQ(Hits(*index, "domain", "evil.example"), (P{{1, kComponent}}));
}

TEST(MatchIndexTest, QueriedIpHitsIpDstPortHalfAsComponent) {
  auto index = BuildIndex({{"ip-dst|port", "1.2.3.4|443", 1}});
  EXPECT_EQ(Hits(*index, "ip-src", "1.2.3.4"), (P{{1, kComponent}}));
}

TEST(MatchIndexTest, PortHalfAloneMatchesNothing) {
  auto index = BuildIndex({{"ip-dst|port", "1.2.3.4|443", 1}, {"port", "443", 2}});
  EXPECT_EQ(Hits(*index, "port", "443"), (P{{2, kExact}}));
  EXPECT_TRUE(Hits(*index, "ip-dst|port", "5.6.7.8|443").empty());
}

TEST(MatchIndexTest, SameCompositeIsExactOnce) {
  auto index = BuildIndex({{"domain|ip", "evil.example|1.2.3.4", 1}});
  EXPECT_EQ(Hits(*index, "domain|ip", "evil.example|1.2.3.4"), (P{{1, kExact}}));
}

TEST(MatchIndexTest, CompositesOfTheSameShapeCompareWhole) {
  auto index = BuildIndex({{"ip-src|port", "1.2.3.4|8080", 1}});
  EXPECT_EQ(Hits(*index, "ip-dst|port", "1.2.3.4|8080"), (P{{1, kExact}}));
  EXPECT_EQ(Hits(*index, "ip-dst|port", "1.2.3.4|80"), (P{{1, kComponent}}));
}

TEST(MatchIndexTest, CompositeQueryHalfHitsStoredPlainValueAsComponent) {
  auto index = BuildIndex({{"ip-dst", "1.2.3.4", 1}, {"domain", "evil.example", 2}});
  EXPECT_EQ(Hits(*index, "domain|ip", "evil.example|1.2.3.4"),
            (P{{1, kComponent}, {2, kComponent}}));
}

TEST(MatchIndexTest, CompositeHalvesMatchAcrossCompositeTypes) {
  auto index = BuildIndex({{"ip-dst|port", "1.2.3.4|443", 1}});
  EXPECT_EQ(Hits(*index, "domain|ip", "evil.example|1.2.3.4"), (P{{1, kComponent}}));
}

// ---- url-host ------------------------------------------------------------------------------

TEST(MatchIndexTest, QueriedUrlHostHitsStoredDomainAsUrlHost) {
  auto index = BuildIndex({{"domain", "evil.example", 1}, {"hostname", "other.example", 2}});
  EXPECT_EQ(Hits(*index, "url", "https://evil.example:8443/path"), (P{{1, kUrlHost}}));
}

TEST(MatchIndexTest, QueriedDomainHitsStoredUrlHostAsUrlHost) {
  auto index = BuildIndex({{"url", "http://evil.example/x.php", 1}});
  EXPECT_EQ(Hits(*index, "domain", "evil.example"), (P{{1, kUrlHost}}));
  EXPECT_TRUE(Hits(*index, "domain", "a.evil.example").empty());
}

TEST(MatchIndexTest, QueriedUrlIpHostHitsStoredIpAsUrlHost) {
  auto index = BuildIndex({{"ip-dst", "1.2.3.4", 1}, {"domain|ip", "x.example|1.2.3.4", 2}});
  EXPECT_EQ(Hits(*index, "url", "http://1.2.3.4/a"), (P{{1, kUrlHost}, {2, kUrlHost}}));
}

TEST(MatchIndexTest, QueriedIpHitsStoredUrlIpHostAsUrlHost) {
  auto index = BuildIndex(
      {{"url", "http://1.2.3.4:8080/gate.php", 1}, {"url", "http://[2001:DB8:0::1]/x", 2}});
  EXPECT_EQ(Hits(*index, "ip-dst", "1.2.3.4"), (P{{1, kUrlHost}}));
  EXPECT_EQ(Hits(*index, "ip-dst", "2001:db8::1"), (P{{2, kUrlHost}}));
}

TEST(MatchIndexTest, QueriedUrlIpv6HostHitsStoredIpv6) {
  auto index = BuildIndex({{"ip-dst", "2001:db8::1", 1}});
  EXPECT_EQ(Hits(*index, "url", "http://[2001:db8::1]:8080/"), (P{{1, kUrlHost}}));
}

TEST(MatchIndexTest, QueriedUrlIpHostInsideStoredCidrIsInRange) {
  auto index = BuildIndex({{"ip-dst", "1.2.3.0/24", 1}});
  EXPECT_EQ(Hits(*index, "url", "http://1.2.3.4/a"), (P{{1, kInRange}}));
}

TEST(MatchIndexTest, TwoUrlsOnOneHostAreNotRelated) {
  auto index = BuildIndex({{"url", "http://evil.example/a", 1}});
  EXPECT_TRUE(Hits(*index, "url", "http://evil.example/b").empty());
}

// ---- subdomain ---------------------------------------------------------------------------

TEST(MatchIndexTest, QueriedSubdomainHitsStoredDomain) {
  auto index = BuildIndex({{"domain", "evil.example", 1}});
  EXPECT_EQ(Hits(*index, "hostname", "a.b.evil.example"), (P{{1, kSubdomain}}));
}

TEST(MatchIndexTest, QueriedParentDomainDoesNotHitStoredSubdomain) {
  auto index = BuildIndex({{"hostname", "a.evil.example", 1}});
  EXPECT_TRUE(Hits(*index, "domain", "evil.example").empty());
}

TEST(MatchIndexTest, SuffixThatIsNotALabelBoundaryIsNoSubdomain) {
  auto index = BuildIndex({{"domain", "evil.example", 1}});
  EXPECT_TRUE(Hits(*index, "domain", "notevil.example").empty());
}

TEST(MatchIndexTest, EveryStoredParentDomainIsHit) {
  auto index = BuildIndex({{"domain", "example", 1}, {"domain", "evil.example", 2}});
  EXPECT_EQ(Hits(*index, "hostname", "a.evil.example"), (P{{1, kSubdomain}, {2, kSubdomain}}));
}

TEST(MatchIndexTest, QueriedUrlHostSubdomainHitsStoredDomain) {
  auto index = BuildIndex({{"domain", "evil.example", 1}});
  EXPECT_EQ(Hits(*index, "url", "http://cdn.evil.example/x"), (P{{1, kSubdomain}}));
}

TEST(MatchIndexTest, QueriedSubdomainHitsDomainIpHostHalf) {
  auto index = BuildIndex({{"domain|ip", "evil.example|1.2.3.4", 1}});
  EXPECT_EQ(Hits(*index, "hostname", "www.evil.example"), (P{{1, kSubdomain}}));
}

TEST(MatchIndexTest, StoredUrlHostIsNoParentDomain) {
  auto index = BuildIndex({{"url", "http://evil.example/", 1}});
  EXPECT_TRUE(Hits(*index, "hostname", "www.evil.example").empty());
}

// ---- in-range ------------------------------------------------------------------------------

TEST(MatchIndexTest, QueriedIpInsideStoredCidrIsInRange) {
  auto index = BuildIndex({{"ip-dst", "10.0.0.0/8", 1}});
  EXPECT_EQ(Hits(*index, "ip-src", "10.200.3.4"), (P{{1, kInRange}}));
}

TEST(MatchIndexTest, QueriedIpOutsideStoredCidrMisses) {
  auto index = BuildIndex({{"ip-dst", "10.0.0.0/8", 1}});
  EXPECT_TRUE(Hits(*index, "ip-src", "11.0.0.0").empty());
  EXPECT_TRUE(Hits(*index, "ip-src", "9.255.255.255").empty());
}

TEST(MatchIndexTest, CidrBoundariesAreInside) {
  auto index = BuildIndex({{"ip-dst", "192.0.2.0/24", 1}});
  EXPECT_EQ(Hits(*index, "ip-dst", "192.0.2.0"), (P{{1, kInRange}}));
  EXPECT_EQ(Hits(*index, "ip-dst", "192.0.2.255"), (P{{1, kInRange}}));
  EXPECT_TRUE(Hits(*index, "ip-dst", "192.0.3.0").empty());
}

TEST(MatchIndexTest, SlashZeroContainsEveryIpv4AddressButNoIpv6) {
  auto index = BuildIndex({{"ip-dst", "0.0.0.0/0", 1}});
  EXPECT_EQ(Hits(*index, "ip-dst", "0.0.0.0"), (P{{1, kInRange}}));
  EXPECT_EQ(Hits(*index, "ip-dst", "255.255.255.255"), (P{{1, kInRange}}));
  EXPECT_TRUE(Hits(*index, "ip-dst", "2001:db8::1").empty());
}

TEST(MatchIndexTest, Ipv6SlashZeroContainsEveryIpv6Address) {
  auto index = BuildIndex({{"ip-dst", "::/0", 1}});
  EXPECT_EQ(Hits(*index, "ip-dst", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"), (P{{1, kInRange}}));
  EXPECT_EQ(Hits(*index, "ip-dst", "::"), (P{{1, kInRange}}));
  EXPECT_TRUE(Hits(*index, "ip-dst", "1.2.3.4").empty());
}

TEST(MatchIndexTest, Slash32CidrIsTheAddressAndExact) {
  auto index = BuildIndex({{"ip-dst", "1.2.3.4/32", 1}});
  EXPECT_EQ(index->entry_value(0), "1.2.3.4");
  EXPECT_EQ(Hits(*index, "ip-dst", "1.2.3.4"), (P{{1, kExact}}));
  EXPECT_TRUE(Hits(*index, "ip-dst", "1.2.3.5").empty());
}

TEST(MatchIndexTest, Slash128CidrIsTheAddressAndExact) {
  auto index = BuildIndex({{"ip-dst", "2001:db8::1/128", 1}});
  EXPECT_EQ(Hits(*index, "ip-dst", "2001:DB8:0:0::1"), (P{{1, kExact}}));
  EXPECT_TRUE(Hits(*index, "ip-dst", "2001:db8::2").empty());
}

TEST(MatchIndexTest, NestedRangesAreAllReportedInEntryOrder) {
  auto index = BuildIndex({{"ip-dst", "10.1.2.0/24", 1},
                           {"ip-dst", "10.0.0.0/8", 2},
                           {"ip-dst", "10.1.0.0/16", 3},
                           {"ip-dst", "10.1.2.128/25", 4}});
  EXPECT_EQ(Hits(*index, "ip-dst", "10.1.2.3"), (P{{1, kInRange}, {2, kInRange}, {3, kInRange}}));
  EXPECT_EQ(Hits(*index, "ip-dst", "10.1.9.9"), (P{{2, kInRange}, {3, kInRange}}));
  EXPECT_EQ(Hits(*index, "ip-dst", "10.1.2.200"),
            (P{{1, kInRange}, {2, kInRange}, {3, kInRange}, {4, kInRange}}));
}

TEST(MatchIndexTest, NetworkAfterANestedOneStillFindsTheOuterContainer) {
  // The last network starting before 10.5.0.0 is 10.1.0.0/16, which does not contain it; the
  // parent chain leads to 10.0.0.0/8.
  auto index = BuildIndex({{"ip-dst", "10.0.0.0/8", 1}, {"ip-dst", "10.1.0.0/16", 2}});
  EXPECT_EQ(Hits(*index, "ip-dst", "10.5.0.1"), (P{{1, kInRange}}));
}

TEST(MatchIndexTest, SameNetworkWithDifferentRecordsHitsEach) {
  auto index = BuildIndex({{"ip-dst", "198.51.100.0/24", 4},
                           {"ip-src", "198.51.100.0/24", 2},
                           {"ip-dst", "198.51.100.7/24", 8}});
  EXPECT_EQ(Hits(*index, "ip-dst", "198.51.100.9"),
            (P{{4, kInRange}, {2, kInRange}, {8, kInRange}}));
}

TEST(MatchIndexTest, QueriedCidrContainingStoredIpIsInRange) {
  auto index = BuildIndex({{"ip-dst", "1.2.3.4", 1}, {"ip-dst", "1.2.4.4", 2}});
  EXPECT_EQ(Hits(*index, "ip-dst", "1.2.3.0/24"), (P{{1, kInRange}}));
}

TEST(MatchIndexTest, QueriedCidrInsideStoredCidrIsInRange) {
  auto index = BuildIndex({{"ip-dst", "1.2.0.0/16", 1}});
  EXPECT_EQ(Hits(*index, "ip-dst", "1.2.3.0/24"), (P{{1, kInRange}}));
}

TEST(MatchIndexTest, QueriedCidrContainingStoredCidrIsInRange) {
  auto index = BuildIndex({{"ip-dst", "1.2.3.0/24", 1}, {"ip-dst", "1.3.0.0/24", 2}});
  EXPECT_EQ(Hits(*index, "ip-dst", "1.2.0.0/16"), (P{{1, kInRange}}));
}

TEST(MatchIndexTest, QueriedCidrEqualToStoredCidrIsExact) {
  auto index = BuildIndex({{"ip-dst", "1.2.3.0/24", 1}});
  EXPECT_EQ(Hits(*index, "ip-dst", "1.2.3.0/24"), (P{{1, kExact}}));
}

TEST(MatchIndexTest, DisjointCidrsDoNotOverlap) {
  auto index = BuildIndex({{"ip-dst", "1.2.3.0/25", 1}});
  EXPECT_TRUE(Hits(*index, "ip-dst", "1.2.3.128/25").empty());
}

TEST(MatchIndexTest, Ipv6QueriedAddressInsideStoredNetworkIsInRange) {
  auto index = BuildIndex({{"ip-dst", "2001:db8::/32", 1},
                           {"ip-dst", "2001:db8:1::/48", 2},
                           {"ip-dst", "2001:db8:1:2::/64", 3},
                           {"ip-dst", "2001:db9::/32", 4}});
  EXPECT_EQ(Hits(*index, "ip-dst", "2001:db8:1:2::99"),
            (P{{1, kInRange}, {2, kInRange}, {3, kInRange}}));
  EXPECT_EQ(Hits(*index, "ip-dst", "2001:db8:ffff::1"), (P{{1, kInRange}}));
}

TEST(MatchIndexTest, Ipv6QueriedNetworkContainsStoredAddressesAndNetworks) {
  auto index = BuildIndex({{"ip-dst", "2001:db8::1", 1},
                           {"ip-dst", "2001:db8:0:1::/64", 2},
                           {"ip-dst", "2001:db9::1", 3}});
  EXPECT_EQ(Hits(*index, "ip-dst", "2001:db8::/32"), (P{{1, kInRange}, {2, kInRange}}));
}

TEST(MatchIndexTest, Ipv4MappedIpv6QueryMatchesIpv4) {
  auto index = BuildIndex({{"ip-dst", "1.2.3.4", 1}, {"ip-dst", "1.2.3.0/24", 2}});
  EXPECT_EQ(Hits(*index, "ip-dst", "::ffff:1.2.3.4"), (P{{1, kExact}, {2, kInRange}}));
}

TEST(MatchIndexTest, IpHalfOfStoredCompositeTakesPartInRange) {
  auto index =
      BuildIndex({{"domain|ip", "evil.example|1.2.3.4", 1}, {"ip-dst|port", "1.2.3.9|443", 2}});
  EXPECT_EQ(Hits(*index, "ip-dst", "1.2.3.0/24"), (P{{1, kInRange}, {2, kInRange}}));
}

TEST(MatchIndexTest, IpHalfOfQueriedCompositeTakesPartInRange) {
  auto index = BuildIndex({{"ip-dst", "1.2.3.0/24", 1}});
  EXPECT_EQ(Hits(*index, "ip-dst|port", "1.2.3.4|443"), (P{{1, kInRange}}));
}

// ---- one hit per pair, ordering, options --------------------------------------------------

TEST(MatchIndexTest, HitsComeGroupedByRelationThenEntry) {
  auto index = BuildIndex({{"ip-dst", "1.2.0.0/16", 1},
                           {"domain|ip", "evil.example|1.2.3.4", 2},
                           {"ip-dst", "1.2.3.4", 3},
                           {"url", "http://1.2.3.4/", 4},
                           {"ip-dst", "1.0.0.0/8", 5}});
  EXPECT_EQ(Hits(*index, "ip-dst", "1.2.3.4"),
            (P{{3, kExact}, {2, kComponent}, {4, kUrlHost}, {1, kInRange}, {5, kInRange}}));
}

TEST(MatchIndexTest, RelationMaskDropsExcludedRelations) {
  auto index = BuildIndex({{"ip-dst", "1.2.3.4", 1}, {"ip-dst", "1.2.3.0/24", 2}});
  MatchOptions options;
  options.relations = RelationBit(Relation::kExact);
  EXPECT_EQ(Hits(*index, "ip-dst", "1.2.3.4", options), (P{{1, kExact}}));
  options.relations = RelationBit(Relation::kSubdomain);
  EXPECT_TRUE(Hits(*index, "ip-dst", "1.2.3.4", options).empty());
  options.relations = 0;
  EXPECT_TRUE(Hits(*index, "ip-dst", "1.2.3.4", options).empty());
}

TEST(MatchIndexTest, ExcludedStrongerRelationFallsBackToWeakerOneThatHolds) {
  auto index = BuildIndex({{"ip-dst", "1.2.3.4", 1},
                           {"ip-dst", "1.2.3.0/24", 2},
                           {"filename|md5", "x.exe|0123456789abcdef0123456789abcdef", 3}});
  MatchOptions options;
  options.relations = RelationBit(Relation::kInRange);
  // An address lies in itself (a /32), and an equal network overlaps itself.
  EXPECT_EQ(Hits(*index, "ip-dst", "1.2.3.4", options), (P{{1, kInRange}, {2, kInRange}}));
  EXPECT_EQ(Hits(*index, "ip-dst", "1.2.3.0/24", options), (P{{1, kInRange}, {2, kInRange}}));
  options.relations = RelationBit(Relation::kComponent);
  EXPECT_EQ(Hits(*index, "md5", "0123456789abcdef0123456789abcdef", options), (P{{3, kComponent}}));
}

TEST(MatchIndexTest, UrlHostExcludedFallsBackToInRangeForEqualAddress) {
  auto index = BuildIndex({{"ip-dst", "1.2.3.4", 1}});
  MatchOptions options;
  options.relations = kAllRelations & ~RelationBit(Relation::kUrlHost);
  EXPECT_EQ(Hits(*index, "url", "http://1.2.3.4/", options), (P{{1, kInRange}}));
}

TEST(MatchIndexTest, MaxHitsCutsTheListAndReportsIt) {
  auto index = BuildIndex({{"ip-dst", "1.2.3.4", 1},
                           {"ip-dst", "1.0.0.0/8", 2},
                           {"ip-dst", "1.2.0.0/16", 3},
                           {"ip-dst", "1.2.3.0/24", 4}});
  MatchOptions options;
  options.max_hits_per_query = 2;
  std::vector<Hit> hits;
  EXPECT_FALSE(index->Match(Ind("ip-dst", "1.2.3.4"), 0, options, &hits));
  ASSERT_EQ(hits.size(), 2u);
  EXPECT_EQ(hits[0].record, 1u);
  EXPECT_EQ(hits[0].relation, kExact);
  EXPECT_EQ(hits[1].record, 2u);  // the lowest entry among the in-range ones
  EXPECT_EQ(hits[1].relation, kInRange);

  options.max_hits_per_query = 4;
  hits.clear();
  EXPECT_TRUE(index->Match(Ind("ip-dst", "1.2.3.4"), 0, options, &hits));
  EXPECT_EQ(hits.size(), 4u);
}

TEST(MatchIndexTest, MaxHitsKeepsTheFirstEntriesOfAHugeRange) {
  MatchIndex::Builder builder;
  for (uint32_t i = 0; i < 1000; ++i) {
    std::string ip =
        "10." + std::to_string((999 - i) / 256) + "." + std::to_string((999 - i) % 256) + ".1";
    EXPECT_TRUE(builder.Add(Ind("ip-dst", ip), i).ok());
  }
  auto index = builder.Build();
  MatchOptions options;
  options.max_hits_per_query = 3;
  std::vector<Hit> hits;
  EXPECT_FALSE(index->Match(Ind("ip-dst", "0.0.0.0/0"), 0, options, &hits));
  ASSERT_EQ(hits.size(), 3u);
  EXPECT_EQ(hits[0].entry, 0u);
  EXPECT_EQ(hits[1].entry, 1u);
  EXPECT_EQ(hits[2].entry, 2u);
}

TEST(MatchIndexTest, MaxHitsWhenStrongHitsFillTheListReportsCutRanges) {
  auto index = BuildIndex({{"ip-dst", "1.2.3.4", 1}, {"ip-dst", "1.2.3.0/24", 2}});
  MatchOptions options;
  options.max_hits_per_query = 1;
  std::vector<Hit> hits;
  EXPECT_FALSE(index->Match(Ind("ip-dst", "1.2.3.4"), 0, options, &hits));
  ASSERT_EQ(hits.size(), 1u);
  EXPECT_EQ(hits[0].relation, kExact);
}

TEST(MatchIndexTest, MatchAppendsAfterExistingHits) {
  auto index = BuildIndex({{"domain", "evil.example", 1}});
  std::vector<Hit> hits = {Hit{99, 0, 42, kInRange}};
  EXPECT_TRUE(index->Match(Ind("domain", "evil.example"), 3, {}, &hits));
  ASSERT_EQ(hits.size(), 2u);
  EXPECT_EQ(hits[0], (Hit{99, 0, 42, kInRange}));
  EXPECT_EQ(hits[1], (Hit{3, 0, 1, kExact}));
}

TEST(MatchIndexTest, MatchAllNumbersQueriesByPosition) {
  auto index = BuildIndex({{"domain", "evil.example", 1}, {"ip-dst", "10.0.0.0/8", 2}});
  std::vector<core::Indicator> queries = {Ind("ip-dst", "10.1.1.1"), Ind("domain", "x.example"),
                                          Ind("hostname", "www.evil.example")};
  std::vector<Hit> hits = index->MatchAll(queries);
  ASSERT_EQ(hits.size(), 2u);
  EXPECT_EQ(hits[0], (Hit{0, 1, 2, kInRange}));
  EXPECT_EQ(hits[1], (Hit{2, 0, 1, kSubdomain}));
}

// ---- index surface ---------------------------------------------------------------------------

TEST(MatchIndexTest, EmptyIndexMatchesNothing) {
  MatchIndex::Builder builder;
  auto index = builder.Build();
  EXPECT_EQ(index->size(), 0u);
  EXPECT_EQ(index->ValueBytes(), 0u);
  EXPECT_TRUE(Hits(*index, "ip-dst", "0.0.0.0/0").empty());
  EXPECT_TRUE(Hits(*index, "domain", "a.b.example").empty());
}

TEST(MatchIndexTest, EntryAccessorsReturnWhatWasAdded) {
  auto index = BuildIndex(
      {{"domain|ip", "Evil.Example|1.2.3.4", 17}, {"md5", "0123456789ABCDEF0123456789ABCDEF", 4}});
  ASSERT_EQ(index->size(), 2u);
  EXPECT_EQ(index->entry_type(0), core::IndicatorType::kDomainIp);
  EXPECT_EQ(index->entry_value(0), "evil.example|1.2.3.4");
  EXPECT_EQ(index->entry_record(0), 17u);
  EXPECT_EQ(index->entry_type(1), core::IndicatorType::kMd5);
  EXPECT_EQ(index->entry_value(1), "0123456789abcdef0123456789abcdef");
  EXPECT_EQ(index->ValueBytes(), index->entry_value(0).size() + index->entry_value(1).size());
  EXPECT_GT(index->MemoryUsage(), 0u);
}

TEST(MatchIndexTest, BuilderIsEmptyAfterBuildAndReusable) {
  MatchIndex::Builder builder;
  EXPECT_TRUE(builder.Add(Ind("domain", "a.example"), 1).ok());
  EXPECT_EQ(builder.size(), 1u);
  auto first = builder.Build();
  EXPECT_EQ(builder.size(), 0u);
  EXPECT_TRUE(builder.Add(Ind("domain", "b.example"), 2).ok());
  auto second = builder.Build();
  EXPECT_EQ(first->size(), 1u);
  EXPECT_EQ(second->size(), 1u);
  EXPECT_EQ(Hits(*second, "domain", "b.example"), (P{{2, kExact}}));
  EXPECT_TRUE(Hits(*second, "domain", "a.example").empty());
}

// A full index refuses the next indicator with an error (it used to abort the process), adds
// nothing of it, and still builds and answers for what it holds.
TEST(MatchIndexTest, AFullIndexRefusesWithAnErrorInsteadOfAborting) {
  MatchIndex::Builder builder;
  builder.set_max_entries(3);
  EXPECT_TRUE(builder.Add(Ind("domain", "a.example"), 1).ok());
  EXPECT_TRUE(builder.Add(Ind("ip-dst", "10.0.0.0/8"), 2).ok());
  EXPECT_TRUE(builder.Add(Ind("url", "http://c.example/x"), 3).ok());
  Status full = builder.Add(Ind("domain", "d.example"), 4);
  EXPECT_EQ(full.code(), StatusCode::kResourceExhausted);
  EXPECT_NE(full.message().find("at most 3 indicators"), std::string::npos) << full.ToString();
  EXPECT_EQ(builder.Add(Ind("ip-dst", "192.0.2.1"), 5).code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(builder.size(), 3u);
  auto index = builder.Build();
  EXPECT_EQ(index->size(), 3u);
  EXPECT_EQ(Hits(*index, "ip-dst", "10.1.2.3"), (P{{2, kInRange}}));
  EXPECT_TRUE(Hits(*index, "domain", "d.example").empty());
  // The limit is the builder's own and cannot be raised past what the index can address.
  builder.set_max_entries(size_t{1} << 40);
  EXPECT_TRUE(builder.Add(Ind("domain", "d.example"), 4).ok());
  static_assert(MatchIndex::kMaxEntries == (size_t{1} << 30) - 1);
}

TEST(RelationNameTest, RoundTripsEveryRelation) {
  for (int i = 0; i < kRelationCount; ++i) {
    auto relation = static_cast<Relation>(i);
    Relation parsed = Relation::kExact;
    EXPECT_TRUE(ParseRelation(RelationName(relation), &parsed));
    EXPECT_EQ(parsed, relation);
  }
  EXPECT_EQ(RelationName(Relation::kUrlHost), "url-host");
  EXPECT_EQ(RelationName(Relation::kInRange), "in-range");
  Relation parsed = Relation::kExact;
  EXPECT_FALSE(ParseRelation("inrange", &parsed));
}

}  // namespace
}  // namespace iocgrid::index
