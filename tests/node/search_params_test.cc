#include "node/internal/search_params.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <set>

namespace iocgrid::node {
namespace {

using json = nlohmann::json;
using V = std::vector<std::string>;
constexpr int64_t kNow = 1700000000;

TEST(SearchParamsTest, ValueFormsAsMispReadsThem) {
  auto p = ParseSearchParams(json{{"value", {"1.2.3.4", "!8.8.8.8", "evil.example"}}}, kNow);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->value.any, (V{"1.2.3.4", "evil.example"}));
  EXPECT_EQ(p->value.none, (V{"8.8.8.8"}));
  auto bars = ParseSearchParams(json{{"value", "a||b"}}, kNow);
  EXPECT_EQ(bars->value.any, (V{"a", "b"}));
  auto ands = ParseSearchParams(json{{"value", "a&&b&&!c"}}, kNow);
  EXPECT_EQ(ands->value.any, (V{"a", "b"}));
  EXPECT_EQ(ands->value.none, (V{"c"}));
  auto obj =
      ParseSearchParams(json{{"value", {{"OR", {"a"}}, {"AND", {"b"}}, {"NOT", {"c"}}}}}, kNow);
  std::set<std::string> any(obj->value.any.begin(), obj->value.any.end());
  EXPECT_EQ(any, (std::set<std::string>{"a", "b"}));  // MISP: AND behaves as OR for values
  EXPECT_EQ(obj->value.none, (V{"c"}));
}

TEST(SearchParamsTest, EmailTypesWidenToEmail) {
  auto p = ParseSearchParams(json{{"type", "email-src"}}, kNow);
  EXPECT_EQ(p->type.any, (V{"email-src", "email"}));
}

TEST(SearchParamsTest, LooseFlagsAndAlwaysSentZeros) {
  json body = {{"returnFormat", "json"},  {"withAttachments", 0}, {"includeEventTags", 1},
               {"includeEventUuid", "1"}, {"to_ids", "0"},        {"published", true}};
  auto p = ParseSearchParams(body, kNow);
  ASSERT_TRUE(p.ok());
  EXPECT_TRUE(p->include_event_tags);
  EXPECT_TRUE(p->include_event_uuid);
  EXPECT_EQ(p->to_ids, false);
  EXPECT_EQ(p->published, (std::vector<bool>{true}));
  auto exclude = ParseSearchParams(json{{"to_ids", "exclude"}}, kNow);
  EXPECT_EQ(exclude->to_ids, false);
}

TEST(SearchParamsTest, TimesAreRelativeAbsoluteOrRanges) {
  EXPECT_EQ(*ResolveTime("7d", kNow), kNow - 7 * 86400);
  EXPECT_EQ(*ResolveTime("12h", kNow), kNow - 12 * 3600);
  EXPECT_EQ(*ResolveTime("1600000000", kNow), 1600000000);
  EXPECT_EQ(*ResolveTime("2023-11-14", kNow), 1699920000);
  EXPECT_EQ(*ResolveTime("not a time", kNow), kNow + 1);         // matches nothing, as MISP
  EXPECT_FALSE(ResolveTime("12345678901234567890", kNow).ok());  // issue 8: was a stoll throw
  EXPECT_FALSE(ResolveTime("9999999999d", kNow).ok());
  auto p = ParseSearchParams(json{{"timestamp", {"1d", "2d"}}}, kNow);
  EXPECT_EQ(p->attribute_timestamp.from, kNow - 2 * 86400);
  EXPECT_EQ(p->attribute_timestamp.to, kNow - 86400);
}

TEST(SearchParamsTest, FromToConvertUnixTimeToDate) {
  auto p = ParseSearchParams(json{{"from", 1699920000}, {"to", "2024-01-31"}}, kNow);
  EXPECT_EQ(p->date_from, "2023-11-14");
  EXPECT_EQ(p->date_to, "2024-01-31");
}

TEST(SearchParamsTest, WrongTypesAreErrors) {
  EXPECT_FALSE(ParseSearchParams(json{{"value", {{"x", 1}}}}, kNow).ok());
  EXPECT_FALSE(ParseSearchParams(json{{"returnFormat", 5}}, kNow).ok());
  EXPECT_FALSE(ParseSearchParams(json::array(), kNow).ok());
  EXPECT_FALSE(ParseSearchParams(json{{"value", {{"OR", {{{"a", 1}}}}}}}, kNow).ok());
}

TEST(SearchParamsTest, UnknownKeysAreIgnoredAsMispDoes) {
  auto p = ParseSearchParams(json{{"value", "x"}, {"frobnicate", {1, 2}}}, kNow);
  EXPECT_TRUE(p.ok());
}

TEST(SearchParamsTest, LimitAndPage) {
  auto p = ParseSearchParams(json{{"limit", "100"}, {"page", 3}}, kNow);
  EXPECT_EQ(p->limit, 100u);
  EXPECT_EQ(p->page, 3u);
}

}  // namespace
}  // namespace iocgrid::node
