#include <gtest/gtest.h>

#include <string>

#include "ingest/loader.h"
#include "tests/ingest/test_util.h"

namespace iocgrid::ingest {
namespace {

using core::IndicatorType;
using testing::LoadPath;
using testing::SharedData;
using testing::TestData;

class RealCsvTest : public ::testing::TestWithParam<std::string> {};

TEST_P(RealCsvTest, EveryRowBecomesAnAttribute) {
  const std::string path = SharedData(GetParam());
  testing::Loaded loaded = LoadPath(path);
  ASSERT_TRUE(testing::OneEvent(loaded, InputFormat::kCsv));
  // Rows = content lines minus the header (these files have no quoted newlines).
  EXPECT_EQ(loaded.stats.attributes, testing::CountContentLines(path) - 1);
  EXPECT_TRUE(loaded.issues.empty()) << loaded.issues.front().message;
  const std::string name = path.substr(path.rfind('/') + 1);
  EXPECT_EQ(loaded.events[0].info, name);
  EXPECT_TRUE(loaded.events[0].uuid.empty());
  EXPECT_EQ(loaded.events[0].attributes.front().line, 2u);
}

INSTANTIATE_TEST_SUITE_P(SharedData, RealCsvTest,
                         ::testing::Values("C_member_anonymity/shadowwhisperer/Tunnels.csv",
                                           "D_member_honeypot/shadowwhisperer/Threats.csv",
                                           "D_member_honeypot/shadowwhisperer/Scanners.csv"));

TEST(CsvTest, KnownRowCountsFromTheDataReadme) {
  EXPECT_EQ(
      LoadPath(SharedData("C_member_anonymity/shadowwhisperer/Tunnels.csv")).attribute_count(),
      13139u);
  EXPECT_EQ(LoadPath(SharedData("D_member_honeypot/shadowwhisperer/Threats.csv")).attribute_count(),
            21506u);
}

TEST(CsvTest, ThreatsContextColumnsGoToFieldsAndComment) {
  testing::Loaded loaded = LoadPath(SharedData("D_member_honeypot/shadowwhisperer/Threats.csv"));
  ASSERT_EQ(loaded.events.size(), 1u);
  // 2.57.121.25,abuse,email,,[credential stuffing],2026-03-06,2026-05-31
  const Attribute& a = loaded.events[0].attributes.at(0);
  EXPECT_EQ(a.indicator, (core::Indicator{IndicatorType::kIpDst, "2.57.121.25"}));
  EXPECT_EQ(a.first_seen, "2026-03-06");
  EXPECT_EQ(a.last_seen, "2026-05-31");
  EXPECT_EQ(a.tags, (std::vector<std::string>{"credential stuffing"}));
  EXPECT_TRUE(a.category.empty());  // "abuse" is not a MISP category
  EXPECT_EQ(a.comment, "category=abuse; detail=email");
  EXPECT_TRUE(a.to_ids);  // ip-dst's MISP default
}

TEST(CsvTest, CompanyColumnBecomesComment) {
  testing::Loaded loaded = LoadPath(SharedData("C_member_anonymity/shadowwhisperer/Tunnels.csv"));
  ASSERT_EQ(loaded.events.size(), 1u);
  EXPECT_EQ(loaded.events[0].attributes.at(0).indicator.value, "45.61.187.248");
  EXPECT_EQ(loaded.events[0].attributes.at(0).comment, "company_name=Air VPN");
}

TEST(CsvTest, MispExportHeaderMapsEveryColumn) {
  testing::Loaded loaded = LoadPath(TestData("misp_export.csv"));
  ASSERT_TRUE(testing::OneEvent(loaded, InputFormat::kCsv));
  const auto& attributes = loaded.events[0].attributes;
  ASSERT_EQ(attributes.size(), 2u);
  EXPECT_EQ(attributes[0].uuid, "5b2e4b3c-0000-4000-8000-000000000001");
  EXPECT_EQ(attributes[0].category, "Network activity");
  EXPECT_EQ(attributes[0].comment, "c2, primary");  // event_id is MISP bookkeeping
  EXPECT_TRUE(attributes[0].to_ids);
  EXPECT_EQ(attributes[0].timestamp, 1706659200);  // date 20240131
  EXPECT_EQ(attributes[0].tags, (std::vector<std::string>{"tlp:white", "type:OSINT"}));
  EXPECT_EQ(attributes[1].indicator,
            (core::Indicator{IndicatorType::kMd5, "b1946ac92492d2347c6235b4d2611184"}));
  EXPECT_FALSE(attributes[1].to_ids);
  EXPECT_EQ(attributes[1].object_name, "file");
  EXPECT_EQ(attributes[1].object_relation, "md5");
  ASSERT_EQ(testing::IssueLines(loaded), (std::vector<uint32_t>{4}));
  EXPECT_NE(loaded.issues[0].message.find("999.1.1.1"), std::string::npos);
}

TEST(CsvTest, SemicolonDelimiterQuotesTypeAndTags) {
  testing::Loaded loaded = LoadPath(TestData("semicolon.csv"));
  ASSERT_TRUE(testing::OneEvent(loaded, InputFormat::kCsv));
  const auto& attributes = loaded.events[0].attributes;
  ASSERT_EQ(attributes.size(), 3u);
  EXPECT_EQ(attributes[0].indicator, (core::Indicator{IndicatorType::kDomain, "evil.example"}));
  EXPECT_EQ(attributes[0].comment, "company_name=ACME; Inc");
  EXPECT_EQ(attributes[0].tags, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(attributes[1].indicator.type, IndicatorType::kUrl);  // refanged
  EXPECT_EQ(attributes[1].indicator.value, "http://bad.example/x");
  EXPECT_EQ(attributes[2].indicator.type, IndicatorType::kIpDst);  // empty type: guessed
  EXPECT_EQ(attributes[2].line, 4u);
  ASSERT_EQ(testing::IssueLines(loaded), (std::vector<uint32_t>{5}));  // empty value
}

TEST(CsvTest, TabsMultilineQuotedFieldsAndLineNumbers) {
  testing::Loaded loaded = LoadPath(TestData("tabs.tsv"));
  ASSERT_TRUE(testing::OneEvent(loaded, InputFormat::kCsv));
  const auto& attributes = loaded.events[0].attributes;
  ASSERT_EQ(attributes.size(), 2u);
  EXPECT_EQ(attributes[0].comment, "category=botnet node; note=multi\nline note");
  EXPECT_EQ(attributes[0].first_seen, "2026-03-06");
  EXPECT_EQ(attributes[1].category, "Network activity");
  EXPECT_EQ(attributes[1].line, 5u);  // the quoted note spans lines 2-3
  ASSERT_EQ(testing::IssueLines(loaded), (std::vector<uint32_t>{4}));
}

TEST(CsvTest, ForcedCsvWithoutValueColumnIsInvalidArgument) {
  LoadOptions options;
  options.format = InputFormat::kCsv;
  testing::Loaded loaded = testing::LoadText("x.csv", "company,country\nacme,de\n", options);
  EXPECT_EQ(loaded.status.code(), StatusCode::kInvalidArgument);
}

TEST(CsvTest, UnterminatedQuoteIsAnIssueNotAnError) {
  testing::Loaded loaded =
      testing::LoadText("q.csv", "value,comment\n192.0.2.1,ok\n192.0.2.2,\"open\n192.0.2.3,x\n");
  ASSERT_TRUE(testing::OneEvent(loaded));
  EXPECT_EQ(loaded.events[0].attributes.size(), 1u);
  ASSERT_EQ(testing::IssueLines(loaded), (std::vector<uint32_t>{3}));
}

}  // namespace
}  // namespace iocgrid::ingest
