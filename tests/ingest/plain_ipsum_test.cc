#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "ingest/loader.h"
#include "tests/ingest/test_util.h"

namespace iocgrid::ingest {
namespace {

using core::IndicatorType;
using testing::LoadPath;
using testing::SharedData;
using testing::TestData;

class RealPlainListTest : public ::testing::TestWithParam<std::string> {};

TEST_P(RealPlainListTest, EveryLineBecomesAnAttribute) {
  const std::string path = SharedData(GetParam());
  testing::Loaded loaded = LoadPath(path);
  ASSERT_TRUE(testing::OneEvent(loaded, InputFormat::kPlain));
  EXPECT_EQ(loaded.stats.attributes, testing::CountContentLines(path));
  EXPECT_TRUE(loaded.issues.empty()) << loaded.issues.front().message;
}

INSTANTIATE_TEST_SUITE_P(
    SharedData, RealPlainListTest,
    ::testing::Values("C_member_anonymity/tor/tor-nodes.lst",
                      "C_member_anonymity/tor/tor-exit-nodes.lst",
                      "C_member_anonymity/proxies/proxy-list-raw.txt",
                      "D_member_honeypot/sequoia/Unauthorized_Access_Blocklist.txt",
                      "D_member_honeypot/shadowwhisperer/Probes",
                      "D_member_honeypot/shadowwhisperer/Threats_Unclassified",
                      "D_member_honeypot/ipsum/levels_3.txt"));

TEST(PlainListTest, TorNodesMixIpv4AndIpv6) {
  testing::Loaded loaded = LoadPath(SharedData("C_member_anonymity/tor/tor-nodes.lst"));
  ASSERT_EQ(loaded.events.size(), 1u);
  EXPECT_EQ(loaded.events[0].attributes.size(), 8054u);
  size_t v6 = 0;
  for (const Attribute& a : loaded.events[0].attributes) {
    ASSERT_EQ(a.indicator.type, IndicatorType::kIpDst);
    if (a.indicator.value.find(':') != std::string::npos) ++v6;
  }
  EXPECT_EQ(v6, 2423u);  // the data README's breakdown
}

TEST(PlainListTest, ProxyListPreambleBecomesIssues) {
  testing::Loaded loaded = LoadPath(SharedData("C_member_anonymity/proxies/proxy-list.txt"));
  ASSERT_TRUE(testing::OneEvent(loaded, InputFormat::kPlain));
  EXPECT_EQ(loaded.events[0].attributes.size(), 400u);
  const Attribute& first = loaded.events[0].attributes[0];
  EXPECT_EQ(first.indicator, (core::Indicator{IndicatorType::kIpDstPort, "170.239.207.241|999"}));
  EXPECT_EQ(first.comment, "CO-N-S! +");
  EXPECT_EQ(first.line, 7u);
  // Five preamble lines and the trailing "Free open HTTP/HTTPS(SSL) proxy list" line.
  ASSERT_EQ(loaded.issues.size(), 6u);
  EXPECT_EQ(loaded.issues[0].line, 1u);
  EXPECT_NE(loaded.issues[0].message.find("Proxy list"), std::string::npos);
  EXPECT_EQ(loaded.issues[4].line, 5u);
  EXPECT_EQ(loaded.stats.skipped, 6u);
}

TEST(PlainListTest, CommentsDefangingPortsAndJunk) {
  testing::Loaded loaded = LoadPath(TestData("plain_mixed.txt"));
  ASSERT_TRUE(testing::OneEvent(loaded, InputFormat::kPlain));
  EXPECT_EQ(loaded.events[0].info, "plain_mixed.txt");
  const auto& attributes = loaded.events[0].attributes;
  ASSERT_EQ(attributes.size(), 7u);
  EXPECT_EQ(attributes[0].indicator, (core::Indicator{IndicatorType::kIpDst, "192.0.2.1"}));
  EXPECT_EQ(attributes[0].line, 4u);
  EXPECT_EQ(attributes[1].indicator.value, "192.0.2.2");
  EXPECT_TRUE(attributes[1].comment.empty());
  EXPECT_EQ(attributes[2].indicator,
            (core::Indicator{IndicatorType::kUrl, "http://evil.example/path"}));
  EXPECT_EQ(attributes[3].indicator, (core::Indicator{IndicatorType::kIpDst, "1.2.3.4"}));
  EXPECT_EQ(attributes[4].indicator.type, IndicatorType::kIpDstPort);
  EXPECT_EQ(attributes[5].indicator.type, IndicatorType::kMd5);
  // "This is not an indicator": the first token "This" is no indicator.
  ASSERT_EQ(testing::IssueLines(loaded), (std::vector<uint32_t>{10}));
  EXPECT_EQ(attributes[6].indicator, (core::Indicator{IndicatorType::kDomain, "evil.example"}));
}

TEST(IpsumTest, CountsBecomeSightingsAndComments) {
  testing::Loaded loaded = LoadPath(TestData("ipsum_small.txt"));
  ASSERT_TRUE(testing::OneEvent(loaded, InputFormat::kIpsum));
  const auto& attributes = loaded.events[0].attributes;
  ASSERT_EQ(attributes.size(), 2u);
  EXPECT_EQ(attributes[0].sighting_count, 10u);
  EXPECT_EQ(attributes[0].comment, "listed by 10 blacklists");
  EXPECT_EQ(attributes[0].line, 4u);
  EXPECT_EQ(attributes[1].comment, "listed by 1 blacklist");
  ASSERT_EQ(testing::IssueLines(loaded), (std::vector<uint32_t>{6, 7}));
}

TEST(IpsumTest, GzipFile) {
  testing::Loaded loaded = LoadPath(SharedData("D_member_honeypot/ipsum/ipsum.txt.gz"));
#ifdef IOCGRID_HAVE_ZLIB
  ASSERT_TRUE(loaded.status.ok()) << loaded.status.ToString();
  EXPECT_EQ(loaded.stats.format, InputFormat::kIpsum);
  EXPECT_EQ(loaded.attribute_count(), 120430u);  // the data README's count
  EXPECT_TRUE(loaded.issues.empty());
  uint64_t at_least_3 = 0;
  for (const Attribute& a : loaded.events.at(0).attributes) at_least_3 += a.sighting_count >= 3;
  // levels/3.txt of the same snapshot lists the IPs on 3 or more blacklists.
  EXPECT_EQ(at_least_3,
            testing::CountContentLines(SharedData("D_member_honeypot/ipsum/levels_3.txt")));
#else
  EXPECT_EQ(loaded.status.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(loaded.status.message().find("decompress first"), std::string_view::npos);
#endif
}

// A list read in parts (as `iocgrid match` reads data files): every line arrives once and in
// order, with its comment and number, whether the receiver keeps each part's array (the next
// part then gets a new one) or only reads it (the array is reused). Plain values, values with
// comments, blank and comment lines are mixed so that both the plain-line path and the general
// one run.
TEST(PlainListTest, PartsHoldEveryLineWhetherTheReceiverKeepsTheArrayOrNot) {
  const std::string content =
      "198.51.100.7\n"
      "# a comment line\n"
      "evil.example.com\n"
      "\n"
      "203.0.113.9 # seen twice\n"
      "D41D8CD98F00B204E9800998ECF8427E\n"
      "  192.0.2.1  \n"
      "bad-site.org\r\n"
      "10.1.2.0/24 office\n";
  struct Row {
    core::Indicator indicator;
    std::string comment;
    uint32_t line;
    bool operator==(const Row&) const = default;
  };
  const std::vector<Row> expected = {
      {{IndicatorType::kIpDst, "198.51.100.7"}, "", 1},
      {{IndicatorType::kHostname, "evil.example.com"}, "", 3},
      {{IndicatorType::kIpDst, "203.0.113.9"}, "", 5},
      {{IndicatorType::kMd5, "d41d8cd98f00b204e9800998ecf8427e"}, "", 6},
      {{IndicatorType::kIpDst, "192.0.2.1"}, "", 7},
      {{IndicatorType::kDomain, "bad-site.org"}, "", 8},
      {{IndicatorType::kIpDst, "10.1.2.0/24"}, "office", 9},
  };
  LoadOptions options;
  options.max_attributes_per_event = 2;
  for (const bool keep : {false, true}) {
    std::vector<Row> rows;
    std::vector<Event> kept;
    size_t parts = 0;
    Result<LoadStats> stats = LoadContent(
        "list.txt", content, options,
        [&](Event&& event) {
          ++parts;
          for (const Attribute& a : event.attributes) {
            rows.push_back({a.indicator, a.comment, a.line});
          }
          if (keep) kept.push_back(std::move(event));
        },
        [](const LoadIssue&) {});
    ASSERT_TRUE(stats.ok()) << stats.status().ToString();
    EXPECT_EQ(rows, expected) << "receiver keeps the parts: " << keep;
    EXPECT_EQ(parts, 4u);
    EXPECT_EQ(stats->attributes, expected.size());
    if (keep) {
      ASSERT_EQ(kept.size(), 4u);
      EXPECT_EQ(kept[0].attributes.at(1).indicator.value, "evil.example.com");
      EXPECT_EQ(kept[3].attributes.at(0).indicator.value, "10.1.2.0/24");
    }
  }
}

TEST(LoadFileTest, MissingFileIsNotFound) {
  testing::Loaded loaded = LoadPath(TestData("no-such-file.txt"));
  EXPECT_EQ(loaded.status.code(), StatusCode::kNotFound);
}

TEST(LoadFileTest, DirectoryIsInvalidArgument) {
  testing::Loaded loaded = LoadPath(TestData(""));
  EXPECT_EQ(loaded.status.code(), StatusCode::kInvalidArgument);
}

TEST(LoadFileTest, SizeCapIsResourceExhausted) {
  LoadOptions options;
  options.max_file_bytes = 1000;
  testing::Loaded loaded = LoadPath(SharedData("C_member_anonymity/tor/tor-nodes.lst"), options);
  EXPECT_EQ(loaded.status.code(), StatusCode::kResourceExhausted);
  testing::Loaded in_memory = testing::LoadText("x", std::string(2000, 'a'), options);
  EXPECT_EQ(in_memory.status.code(), StatusCode::kResourceExhausted);
}

TEST(LoadFileTest, EmptyContentIsAnEmptyPlainList) {
  testing::Loaded loaded = testing::LoadText("empty.txt", "");
  ASSERT_TRUE(loaded.status.ok());
  EXPECT_EQ(loaded.stats.format, InputFormat::kPlain);
  EXPECT_EQ(loaded.attribute_count(), 0u);
}

}  // namespace
}  // namespace iocgrid::ingest
