#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

#include "ingest/loader.h"
#include "tests/ingest/test_util.h"

namespace iocgrid::ingest {
namespace {

using core::IndicatorType;
using testing::LoadPath;
using testing::SharedData;
using testing::TestData;

// Entries of a list.json counted with nlohmann (independent of the loader's simdjson path).
size_t JsonListSize(const std::string& path) {
  nlohmann::json doc = nlohmann::json::parse(testing::ReadAll(path), nullptr, false);
  return doc.is_discarded() ? 0 : doc["list"].size();
}

class RealCidrListTest : public ::testing::TestWithParam<std::string> {};

TEST_P(RealCidrListTest, EveryEntryBecomesAnIpDstAttribute) {
  const std::string path = SharedData(GetParam());
  const size_t expected = JsonListSize(path);
  ASSERT_GT(expected, 0u);
  testing::Loaded loaded = LoadPath(path);
  ASSERT_TRUE(testing::OneEvent(loaded, InputFormat::kWarninglist));
  EXPECT_EQ(loaded.stats.events, 1u);
  EXPECT_EQ(loaded.stats.attributes, expected);
  EXPECT_EQ(loaded.events[0].attributes.size(), expected);
  EXPECT_TRUE(loaded.issues.empty()) << loaded.issues.front().message;
  EXPECT_EQ(loaded.events[0].source, path);
  for (const Attribute& a : loaded.events[0].attributes) {
    ASSERT_EQ(a.indicator.type, IndicatorType::kIpDst) << a.indicator.value;
    ASSERT_GT(a.line, 1u);
  }
}

INSTANTIATE_TEST_SUITE_P(
    SharedData, RealCidrListTest,
    ::testing::Values("C_member_anonymity/misp-warninglists/amazon-aws/list.json",
                      "C_member_anonymity/misp-warninglists/vpn-ipv4/list.json",
                      "C_member_anonymity/misp-warninglists/vpn-ipv6/list.json",
                      "C_member_anonymity/misp-warninglists/public-dns-v4/list.json",
                      "C_member_anonymity/misp-warninglists/icloud-private-relay/list.json",
                      "C_member_anonymity/tor/misp-warninglist-format/tor-exit-nodes/list.json",
                      "H_warninglists_fp/ipv6-linklocal/list.json"));

TEST(WarninglistTest, KnownListSizesFromTheDataReadme) {
  EXPECT_EQ(LoadPath(SharedData("C_member_anonymity/misp-warninglists/vpn-ipv4/list.json"))
                .attribute_count(),
            42426u);
  EXPECT_EQ(LoadPath(SharedData("C_member_anonymity/misp-warninglists/amazon-aws/list.json"))
                .attribute_count(),
            3847u);
}

TEST(WarninglistTest, EventIsNamedAfterTheList) {
  testing::Loaded loaded =
      LoadPath(SharedData("C_member_anonymity/misp-warninglists/amazon-aws/list.json"));
  ASSERT_EQ(loaded.events.size(), 1u);
  EXPECT_EQ(loaded.events[0].info, "List of known Amazon AWS IP address ranges");
  // The first entry sits on line 4 of the file ("list": [ is on line 3).
  EXPECT_EQ(loaded.events[0].attributes[0].line, 4u);
  EXPECT_EQ(loaded.events[0].attributes[0].indicator.value, "1.178.1.0/24");
}

TEST(WarninglistTest, CidrEntriesAreNormalizedAndBadOnesReportedWithLines) {
  testing::Loaded loaded = LoadPath(TestData("cidr_list.json"));
  ASSERT_TRUE(testing::OneEvent(loaded));
  const auto& attributes = loaded.events[0].attributes;
  ASSERT_EQ(attributes.size(), 4u);
  EXPECT_EQ(attributes[1].indicator.value, "192.168.1.0/24");  // host bits cleared
  EXPECT_EQ(attributes[2].indicator.value, "2001:db8::/32");
  EXPECT_EQ(attributes[3].indicator.value, "1.2.3.4");
  EXPECT_EQ(attributes[3].line, 5u);
  ASSERT_EQ(testing::IssueLines(loaded), (std::vector<uint32_t>{6, 7}));
  EXPECT_NE(loaded.issues[0].message.find("1.2.3.256"), std::string::npos);
  EXPECT_EQ(loaded.stats.skipped, 2u);
}

TEST(WarninglistTest, HostnameEntriesTypedByLabelCount) {
  testing::Loaded loaded = LoadPath(TestData("hostname_list.json"));
  ASSERT_TRUE(testing::OneEvent(loaded));
  EXPECT_EQ(loaded.events[0].info, "Test hostnames");
  const auto& attributes = loaded.events[0].attributes;
  ASSERT_EQ(attributes.size(), 3u);
  EXPECT_EQ(attributes[0].indicator, (core::Indicator{IndicatorType::kDomain, "example.com"}));
  EXPECT_EQ(attributes[1].indicator,
            (core::Indicator{IndicatorType::kHostname, "www.example.org"}));
  EXPECT_EQ(attributes[2].indicator,
            (core::Indicator{IndicatorType::kHostname, "suffix.example.net"}));
  EXPECT_EQ(attributes[2].line, 6u);
  // "not a host" (line 7), 42 (line 8, not a string), "single" (line 9).
  ASSERT_EQ(testing::IssueLines(loaded), (std::vector<uint32_t>{7, 8, 9}));
  EXPECT_EQ(loaded.issues[0].path, TestData("hostname_list.json"));
  EXPECT_EQ(loaded.stats.skipped, 3u);
}

TEST(WarninglistTest, StringEntriesFollowHashOnlyMatchingAttributes) {
  testing::Loaded loaded = LoadPath(TestData("string_list.json"));
  ASSERT_TRUE(testing::OneEvent(loaded));
  const auto& attributes = loaded.events[0].attributes;
  ASSERT_GE(attributes.size(), 2u);
  EXPECT_EQ(attributes[0].indicator.type, IndicatorType::kMd5);
  EXPECT_EQ(attributes[1].indicator.type, IndicatorType::kSha1);
  // "3::" (ssdeep of empty input) must not become the IPv6 address 3::, and a domain has no
  // place in a list that only names hash types.
  for (const Attribute& a : attributes) {
    EXPECT_EQ(core::FamilyOf(a.indicator.type), core::MatchFamily::kHash) << a.indicator.value;
  }
  EXPECT_EQ(attributes.size() + loaded.stats.skipped, 4u);
  ASSERT_FALSE(loaded.issues.empty());
  EXPECT_EQ(loaded.issues.back().line, 7u);  // "evil.example"
}

TEST(WarninglistTest, RegexListIsSkippedWithOneIssue) {
  testing::Loaded loaded = LoadPath(TestData("regex_list.json"));
  ASSERT_TRUE(loaded.status.ok()) << loaded.status.ToString();
  EXPECT_TRUE(loaded.events.empty());
  ASSERT_EQ(testing::IssueLines(loaded), (std::vector<uint32_t>{0}));
  EXPECT_NE(loaded.issues[0].message.find("regex"), std::string::npos);
  EXPECT_EQ(loaded.stats.skipped, 3u);
}

TEST(WarninglistTest, RealStringListsOfDomainsAndHashes) {
  testing::Loaded google = LoadPath(SharedData("H_warninglists_fp/google/list.json"));
  EXPECT_EQ(google.attribute_count(),
            JsonListSize(SharedData("H_warninglists_fp/google/list.json")));
  for (const Attribute& a : google.events.at(0).attributes) {
    ASSERT_TRUE(a.indicator.type == IndicatorType::kDomain ||
                a.indicator.type == IndicatorType::kHostname)
        << a.indicator.value;
    ASSERT_NE(a.indicator.value.front(), '.');
  }
  testing::Loaded hashes =
      LoadPath(SharedData("H_warninglists_fp/common-ioc-false-positive/list.json"));
  EXPECT_EQ(hashes.attribute_count(), 69u);
  for (const Attribute& a : hashes.events.at(0).attributes) {
    EXPECT_EQ(core::FamilyOf(a.indicator.type), core::MatchFamily::kHash);
  }
}

TEST(WarninglistTest, SingleLabelTldsAreReportedNotCrashed) {
  const std::string path = SharedData("H_warninglists_fp/tlds/list.json");
  testing::Loaded loaded = LoadPath(path);
  ASSERT_TRUE(loaded.status.ok());
  EXPECT_EQ(loaded.stats.skipped + loaded.stats.attributes, JsonListSize(path));
  EXPECT_EQ(loaded.issues.size(), loaded.stats.skipped);
}

TEST(WarninglistTest, ForcedOnAMispEventIsInvalidArgument) {
  LoadOptions options;
  options.format = InputFormat::kWarninglist;
  testing::Loaded loaded = LoadPath(TestData("event_objects.json"), options);
  EXPECT_EQ(loaded.status.code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(loaded.events.empty());
}

}  // namespace
}  // namespace iocgrid::ingest
