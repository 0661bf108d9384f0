#include "ingest/query_reader.h"

#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <string>

#include "tests/ingest/test_util.h"

namespace iocgrid::ingest {
namespace {

using core::IndicatorType;
using testing::SharedData;
using testing::TestData;

TEST(ReadQueryFileTest, BlacktechCsvParsesEveryRow) {
  const std::string path = SharedData("A_query_blacktech/blacktech_iocs.csv");
  Result<QueryFile> file = ReadQueryFile(path);
  ASSERT_TRUE(file.ok()) << file.status().ToString();
  EXPECT_TRUE(file->issues.empty()) << file->issues.front().message;
  ASSERT_EQ(file->items.size(), 474u);

  // Expected types from the file's own type column, read independently.
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);  // header
  std::map<std::string, size_t> by_column;
  while (std::getline(in, line)) ++by_column[line.substr(0, line.find(','))];
  std::map<IndicatorType, size_t> by_type;
  for (const QueryItem& item : file->items) ++by_type[item.indicator.type];
  EXPECT_EQ(by_type[IndicatorType::kMd5], by_column["md5"]);
  EXPECT_EQ(by_type[IndicatorType::kSha256], by_column["sha256"]);
  EXPECT_EQ(by_type[IndicatorType::kIpDstPort], by_column["ip-port"]);
  EXPECT_EQ(by_type[IndicatorType::kUrl], by_column["url"] + by_column["url-noscheme"]);
  EXPECT_EQ(by_type[IndicatorType::kDomain] + by_type[IndicatorType::kHostname],
            by_column["domain"]);
  EXPECT_EQ(by_type[IndicatorType::kMd5], 381u);  // the data README's figures
  EXPECT_EQ(by_type[IndicatorType::kSha256], 31u);
  EXPECT_EQ(by_type[IndicatorType::kIpDstPort], 5u);

  // Row 2: md5 with "first_seen=2019-09-10 14:31:43" in its context column.
  EXPECT_EQ(file->items[0].line, 2u);
  EXPECT_EQ(file->items[0].raw, "7823375b1a90865b8c5729ff65d76822");
  EXPECT_EQ(file->items[0].date, "2019-09-10");
  for (const QueryItem& item : file->items) {
    if (item.indicator.type == IndicatorType::kIpDstPort) {
      EXPECT_NE(item.indicator.value.find('|'), std::string::npos) << item.indicator.value;
    }
  }
}

TEST(ParseQueriesTest, TypedCsvWithAliasesAndDates) {
  QueryFile file = ParseQueries("q.csv", testing::ReadAll(TestData("queries_typed.csv")));
  ASSERT_EQ(file.items.size(), 6u);
  EXPECT_EQ(file.items[0].indicator,
            (core::Indicator{IndicatorType::kIpDstPort, "198.51.100.5|443"}));
  EXPECT_EQ(file.items[0].date, "2020-02-03");
  EXPECT_EQ(file.items[1].indicator.type, IndicatorType::kUrl);
  EXPECT_EQ(file.items[1].indicator.value.find("evil.example/path"),
            file.items[1].indicator.value.size() - std::string("evil.example/path").size());
  EXPECT_EQ(file.items[1].date, "2019-09-10");
  EXPECT_EQ(file.items[2].indicator.type, IndicatorType::kUrl);
  EXPECT_NE(file.items[2].indicator.value.find("103.40.112.228"), std::string::npos);
  EXPECT_EQ(file.items[3].raw, "/index.htmld?flag=");
  EXPECT_EQ(file.items[4].indicator,
            (core::Indicator{IndicatorType::kMd5, "d41d8cd98f00b204e9800998ecf8427e"}));
  EXPECT_EQ(file.items[4].date, "2018-01-01");
  // An unknown type falls back to guessing.
  EXPECT_EQ(file.items[5].indicator, (core::Indicator{IndicatorType::kIpDst, "203.0.113.4"}));
  EXPECT_EQ(file.items[5].line, 7u);
  ASSERT_EQ(file.issues.size(), 1u);
  EXPECT_EQ(file.issues[0].line, 8u);
  EXPECT_EQ(file.issues[0].path, "q.csv");
}

TEST(ParseQueriesTest, DefangedPlainList) {
  Result<QueryFile> file = ReadQueryFile(TestData("queries_defanged.txt"));
  ASSERT_TRUE(file.ok()) << file.status().ToString();
  ASSERT_EQ(file->items.size(), 7u);
  EXPECT_EQ(file->items[0].raw, "hxxp://evil[.]example/a");
  EXPECT_EQ(file->items[0].indicator,
            (core::Indicator{IndicatorType::kUrl, "http://evil.example/a"}));
  EXPECT_EQ(file->items[0].line, 2u);
  EXPECT_EQ(file->items[1].indicator, (core::Indicator{IndicatorType::kIpDst, "1.2.3.4"}));
  EXPECT_EQ(file->items[2].indicator, (core::Indicator{IndicatorType::kDomain, "evil.example"}));
  EXPECT_EQ(file->items[3].indicator.type, IndicatorType::kUrl);
  EXPECT_EQ(file->items[4].indicator.type, IndicatorType::kMd5);
  EXPECT_EQ(file->items[5].indicator, (core::Indicator{IndicatorType::kIpDstPort, "1.2.3.4|8080"}));
  EXPECT_EQ(file->items[6].indicator.type, IndicatorType::kVulnerability);
  ASSERT_EQ(file->issues.size(), 1u);
  EXPECT_EQ(file->issues[0].line, 8u);
  EXPECT_TRUE(file->items[0].date.empty());
}

TEST(ParseQueriesTest, EmptyAndCommentOnly) {
  EXPECT_TRUE(ParseQueries("e", "").items.empty());
  QueryFile file = ParseQueries("c", "# only\n\n   \n; also\n");
  EXPECT_TRUE(file.items.empty());
  EXPECT_TRUE(file.issues.empty());
}

TEST(ReadQueryFileTest, MissingFileIsNotFound) {
  Result<QueryFile> file = ReadQueryFile(TestData("nope.txt"));
  ASSERT_FALSE(file.ok());
  EXPECT_EQ(file.status().code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace iocgrid::ingest
