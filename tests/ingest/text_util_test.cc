#include "ingest/internal/text_util.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace iocgrid::ingest::internal {
namespace {

TEST(StripTrailingCommentTest, CutsHashAfterWhitespaceOnly) {
  EXPECT_EQ(StripTrailingComment("1.2.3.4   # note"), "1.2.3.4");
  EXPECT_EQ(StripTrailingComment("http://a.example/#frag"), "http://a.example/#frag");
  EXPECT_EQ(StripTrailingComment("Proxy list (#400) x"), "Proxy list (#400) x");
}

TEST(LineCursorTest, HandlesCrlfAndFinalLineWithoutNewline) {
  LineCursor cursor("a\r\nb\n\nc");
  std::string_view line;
  uint32_t number = 0;
  std::vector<std::pair<std::string, uint32_t>> seen;
  while (cursor.Next(&line, &number)) seen.emplace_back(std::string(line), number);
  ASSERT_EQ(seen.size(), 4u);
  EXPECT_EQ(seen[0], (std::pair<std::string, uint32_t>{"a", 1}));
  EXPECT_EQ(seen[2], (std::pair<std::string, uint32_t>{"", 3}));
  EXPECT_EQ(seen[3], (std::pair<std::string, uint32_t>{"c", 4}));
}

TEST(LineIndexTest, MapsOffsetsToOneBasedLines) {
  LineIndex index("ab\ncd\n\nef");
  EXPECT_EQ(index.LineOf(0), 1u);
  EXPECT_EQ(index.LineOf(2), 1u);  // the newline itself belongs to its line
  EXPECT_EQ(index.LineOf(3), 2u);
  EXPECT_EQ(index.LineOf(6), 3u);
  EXPECT_EQ(index.LineOf(7), 4u);
}

TEST(CsvReaderTest, ReadsQuotedFieldsWithDelimitersQuotesAndNewlines) {
  CsvReader reader("a,\"b,c\",\"say \"\"hi\"\"\"\n\"multi\nline\",x\r\n\n# comment\nlast", ',');
  std::vector<std::string> fields;
  uint32_t line = 0;
  std::string error;
  ASSERT_TRUE(reader.Next(&fields, &line, &error));
  EXPECT_EQ(fields, (std::vector<std::string>{"a", "b,c", "say \"hi\""}));
  EXPECT_EQ(line, 1u);
  ASSERT_TRUE(reader.Next(&fields, &line, &error));
  EXPECT_EQ(fields, (std::vector<std::string>{"multi\nline", "x"}));
  EXPECT_EQ(line, 2u);
  ASSERT_TRUE(reader.Next(&fields, &line, &error));
  EXPECT_EQ(fields, (std::vector<std::string>{"last"}));
  EXPECT_EQ(line, 6u);
  EXPECT_TRUE(error.empty());
  EXPECT_FALSE(reader.Next(&fields, &line, &error));
}

TEST(CsvReaderTest, ReportsUnterminatedQuote) {
  CsvReader reader("a,b\n1,\"open\n2,3\n", ',');
  std::vector<std::string> fields;
  uint32_t line = 0;
  std::string error;
  ASSERT_TRUE(reader.Next(&fields, &line, &error));
  ASSERT_TRUE(reader.Next(&fields, &line, &error));
  EXPECT_EQ(line, 2u);
  EXPECT_EQ(error, "unterminated quoted field");
  EXPECT_FALSE(reader.Next(&fields, &line, &error));
}

TEST(DetectDelimiterTest, PicksTheMostFrequentOutsideQuotes) {
  EXPECT_EQ(DetectDelimiter("ip,company"), ',');
  EXPECT_EQ(DetectDelimiter("ip\tcount\tnote"), '\t');
  EXPECT_EQ(DetectDelimiter("value;type;\"a,b,c\""), ';');
  EXPECT_EQ(DetectDelimiter("value"), 0);
}

TEST(ResolveCsvHeaderTest, FindsValueAndContextColumns) {
  CsvColumns columns;
  ASSERT_TRUE(ResolveCsvHeader({"IP", "category", "detail", "tags", "first_seen"}, &columns));
  EXPECT_EQ(columns.value, 0);
  EXPECT_EQ(columns.type, -1);
  EXPECT_EQ(columns.value_column_type, core::IndicatorType::kIpDst);
  EXPECT_EQ(columns.category, 1);
  EXPECT_EQ(columns.tags, 3);
  EXPECT_EQ(columns.first_seen, 4);

  ASSERT_TRUE(ResolveCsvHeader({"type", "value", "group"}, &columns));
  EXPECT_EQ(columns.value, 1);
  EXPECT_EQ(columns.type, 0);

  ASSERT_TRUE(ResolveCsvHeader({"ioc", "note"}, &columns));
  EXPECT_FALSE(columns.value_column_type.has_value());  // guessed per value

  EXPECT_FALSE(ResolveCsvHeader({"company", "country"}, &columns));
}

TEST(LooksLikeCsvHeaderTest, NeedsAValueColumn) {
  char delimiter = 0;
  EXPECT_TRUE(LooksLikeCsvHeader("ip,company_name", &delimiter));
  EXPECT_EQ(delimiter, ',');
  EXPECT_TRUE(LooksLikeCsvHeader("\xEF\xBB\xBFValue\tType", &delimiter));
  EXPECT_EQ(delimiter, '\t');
  EXPECT_TRUE(LooksLikeCsvHeader("domain", &delimiter));
  EXPECT_FALSE(LooksLikeCsvHeader("1.2.3.4,80", &delimiter));
  EXPECT_FALSE(LooksLikeCsvHeader("Proxy list (#400) updated at Fri, 24 Mar 23", &delimiter));
}

TEST(SplitTagsTest, AcceptsBracketsSemicolonsAndCommas) {
  EXPECT_EQ(SplitTags("[credential stuffing]"), (std::vector<std::string>{"credential stuffing"}));
  EXPECT_EQ(SplitTags("[a, b]"), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(SplitTags("a;b; c"), (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(SplitTags("tlp:white,type:OSINT"),
            (std::vector<std::string>{"tlp:white", "type:OSINT"}));
  EXPECT_TRUE(SplitTags(" [] ").empty());
}

TEST(ParseDateTest, AcceptsIsoAndCompactDates) {
  EXPECT_EQ(ParseDate("2019-09-10 14:31:43"), "2019-09-10");
  EXPECT_EQ(ParseDate("2024-01-31T00:00:00Z"), "2024-01-31");
  EXPECT_EQ(ParseDate("20240131"), "2024-01-31");
  EXPECT_FALSE(ParseDate("2024-13-01").has_value());
  EXPECT_FALSE(ParseDate("yesterday").has_value());
  EXPECT_EQ(DateToUnixSeconds("1970-01-01"), 0);
  EXPECT_EQ(DateToUnixSeconds("2024-01-31"), 1706659200);
}

TEST(CanonicalCategoryTest, KnowsTheSixteenMispCategories) {
  EXPECT_EQ(CanonicalCategory("network activity"), "Network activity");
  EXPECT_EQ(CanonicalCategory("botnet node"), "");
}

}  // namespace
}  // namespace iocgrid::ingest::internal
