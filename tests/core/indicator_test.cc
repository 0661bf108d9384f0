#include "core/indicator.h"

#include <gtest/gtest.h>

#include <fstream>
#include <string>
#include <vector>

namespace iocgrid::core {
namespace {

std::vector<std::vector<std::string>> ReadTsv(const std::string& path) {
  std::ifstream in(path);
  EXPECT_TRUE(in.good()) << path;
  std::vector<std::vector<std::string>> rows;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::vector<std::string> cols;
    size_t start = 0;
    while (true) {
      size_t tab = line.find('\t', start);
      cols.push_back(
          line.substr(start, tab == std::string::npos ? std::string::npos : tab - start));
      if (tab == std::string::npos) break;
      start = tab + 1;
    }
    rows.push_back(cols);
  }
  return rows;
}

// Golden table: tests/data/core/normalize.tsv (type, input, expected value or !error).
TEST(ParseIndicatorTest, NormalizesPerTypeAsInGoldenTable) {
  auto rows = ReadTsv(IOCGRID_TEST_DATA_DIR "/core/normalize.tsv");
  ASSERT_GT(rows.size(), 90u);
  for (const auto& row : rows) {
    ASSERT_EQ(row.size(), 3u) << row[0];
    auto type = TypeFromName(row[0]);
    ASSERT_TRUE(type.has_value()) << row[0];
    auto got = ParseIndicator(*type, row[1]);
    if (row[2][0] == '!') {
      ASSERT_FALSE(got.ok()) << row[0] << " '" << row[1] << "' -> " << (got.ok() ? got->value : "");
      EXPECT_EQ(got.status().code(), StatusCode::kInvalidArgument);
      EXPECT_NE(got.status().message().find(row[2].substr(1)), std::string_view::npos)
          << row[0] << " '" << row[1] << "': " << got.status().message();
      EXPECT_EQ(got.status().message().rfind(row[0], 0), 0u) << "message names the type";
    } else {
      ASSERT_TRUE(got.ok()) << row[0] << " '" << row[1] << "': " << got.status().message();
      EXPECT_EQ(got->value, row[2]) << row[0] << " '" << row[1] << "'";
      EXPECT_EQ(got->type, *type);
      // Normalization is idempotent.
      auto again = ParseIndicator(*type, got->value);
      ASSERT_TRUE(again.ok()) << got->value;
      EXPECT_EQ(again->value, got->value);
    }
  }
}

// Golden table: tests/data/core/guess.tsv (input, expected type, expected value or !error).
TEST(GuessIndicatorTest, GuessesTypesAsInGoldenTable) {
  auto rows = ReadTsv(IOCGRID_TEST_DATA_DIR "/core/guess.tsv");
  ASSERT_GT(rows.size(), 45u);
  for (const auto& row : rows) {
    auto got = GuessIndicator(row[0]);
    if (row.size() == 2) {
      ASSERT_FALSE(got.ok()) << "'" << row[0] << "' -> " << (got.ok() ? got->value : "");
      EXPECT_NE(got.status().message().find(row[1].substr(1)), std::string_view::npos)
          << got.status().message();
      continue;
    }
    ASSERT_EQ(row.size(), 3u) << row[0];
    ASSERT_TRUE(got.ok()) << "'" << row[0] << "': " << got.status().message();
    EXPECT_EQ(TypeName(got->type), row[1]) << "'" << row[0] << "'";
    EXPECT_EQ(got->value, row[2]) << "'" << row[0] << "'";
  }
}

TEST(ParseIndicatorTest, AcceptsTypeNamesAndAliases) {
  auto a = ParseIndicator("ip-port", "172.104.109.217:8080");
  ASSERT_TRUE(a.ok()) << a.status().message();
  EXPECT_EQ(a->type, IndicatorType::kIpDstPort);
  EXPECT_EQ(a->value, "172.104.109.217|8080");
  auto b = ParseIndicator("hash", "D41D8CD98F00B204E9800998ECF8427E");
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->type, IndicatorType::kMd5);
  EXPECT_FALSE(ParseIndicator("no-such-type", "x").ok());
}

TEST(RefangTest, UndoesCommonDefangingAndReportsIt) {
  bool changed = false;
  EXPECT_EQ(Refang("hxxps://evil[.]example[/]a", &changed), "https://evil.example/a");
  EXPECT_TRUE(changed);
  EXPECT_EQ(Refang("evil.example", &changed), "evil.example");
  EXPECT_FALSE(changed);
  EXPECT_EQ(Refang("a[AT]b[DOT]example"), "a@b.example");
  EXPECT_EQ(Refang("meow://x(.)example"), "http://x.example");
  EXPECT_EQ(Refang("h[tt]ps://x.example"), "https://x.example");
  // "hxxp" inside a value that is not a scheme stays.
  EXPECT_EQ(Refang("hxxpfoo.example"), "hxxpfoo.example");
}

TEST(ComponentsTest, SplitsCompositesIntoTypedHalves) {
  Indicator di{IndicatorType::kDomainIp, "evil.example|1.2.3.4"};
  Component c[2];
  ASSERT_EQ(Components(di, c), 2);
  EXPECT_EQ(c[0].family, MatchFamily::kHost);
  EXPECT_EQ(c[0].value, "evil.example");
  EXPECT_EQ(c[1].family, MatchFamily::kIp);
  EXPECT_EQ(c[1].value, "1.2.3.4");
  Indicator fm{IndicatorType::kFilenameMd5, "a|b.exe|d41d8cd98f00b204e9800998ecf8427e"};
  ASSERT_EQ(Components(fm, c), 2);
  EXPECT_EQ(c[0].value, "a|b.exe");
  EXPECT_EQ(c[1].family, MatchFamily::kHash);
  Indicator ip{IndicatorType::kIpSrc, "1.2.3.4"};
  ASSERT_EQ(Components(ip, c), 1);
  EXPECT_EQ(c[0].family, MatchFamily::kIp);
}

TEST(UrlHostTest, ExtractsHostWithoutPortOrBrackets) {
  EXPECT_EQ(UrlHost("http://evil.example:8080/a"), "evil.example");
  EXPECT_EQ(UrlHost("https://user@1.2.3.4/x"), "1.2.3.4");
  EXPECT_EQ(UrlHost("http://[2001:db8::1]:80/"), "2001:db8::1");
  EXPECT_EQ(UrlHost("evil.example/gate.php"), "evil.example");
  EXPECT_EQ(UrlHost("http://evil.example?q=1"), "evil.example");
}

TEST(NormalizeDomainTest, LowercasesAndStripsTrailingDot) {
  EXPECT_EQ(NormalizeDomain("WWW.Example.COM.").value(), "www.example.com");
  EXPECT_EQ(NormalizeDomain("exa mple.com").status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace iocgrid::core
