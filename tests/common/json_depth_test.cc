#include "common/json_depth.h"

#include <gtest/gtest.h>

#include <string>

namespace iocgrid {
namespace {

std::string Nested(int levels, char open, char close) {
  return std::string(static_cast<size_t>(levels), open) +
         std::string(static_cast<size_t>(levels), close);
}

TEST(JsonDepthTest, AcceptsUpToTheLimit) {
  EXPECT_TRUE(CheckJsonDepth(Nested(64, '[', ']'), 64).ok());
  EXPECT_TRUE(CheckJsonDepth("\"just a string\"", 0).ok());
}

TEST(JsonDepthTest, RefusesDeeperNestingWithoutRecursing) {
  // issue 8: 15,000 and 30,000 levels overflowed the stack in recursive parsers.
  Status st = CheckJsonDepth(Nested(30000, '[', ']'), 64);
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(st.message().find("deeper than 64"), std::string_view::npos);
  std::string objects;
  for (int i = 0; i < 30000; ++i) objects += "{\"a\":";
  EXPECT_FALSE(CheckJsonDepth(objects, 64).ok());
}

TEST(JsonDepthTest, IgnoresBracketsAndEscapedQuotesInsideStrings) {
  EXPECT_TRUE(CheckJsonDepth("[\"[[[[[[[[\\\"[[[[[\"]", 1).ok());
  EXPECT_FALSE(CheckJsonDepth("[\"\\\\\",[[]]]", 2).ok());
}

TEST(JsonDepthTest, CountsScalarsIncludingKeys) {
  JsonShape s = ScanJsonShape(R"({"value":["1.2.3.4", 5, true, null, -2.5e3], "x": "a,b"})");
  EXPECT_EQ(s.max_depth, 2);
  EXPECT_EQ(s.scalars, 8u);
}

}  // namespace
}  // namespace iocgrid
