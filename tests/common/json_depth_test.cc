#include "common/json_depth.h"

#include <gtest/gtest.h>

#include <string>

namespace iocgrid {
namespace {

TEST(JsonDepthTest, AcceptsOrdinaryNesting) {
  EXPECT_TRUE(CheckJsonDepth(R"({"a":[{"b":[1,2]}]})").ok());
  std::string at_limit = std::string(64, '[') + std::string(64, ']');
  EXPECT_TRUE(CheckJsonDepth(at_limit).ok());
}

TEST(JsonDepthTest, RefusesDeepNestingWithoutRecursing) {
  std::string deep;
  for (int i = 0; i < 30000; ++i) deep += "{\"value\":";
  deep += "1";
  deep += std::string(30000, '}');
  Status st = CheckJsonDepth(deep);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(std::string(st.message()).find("64"), std::string::npos);
  EXPECT_FALSE(CheckJsonDepth(std::string(65, '[')).ok());
}

TEST(JsonDepthTest, BracketsInsideStringsDoNotCount) {
  std::string s = "[\"" + std::string(1000, '[') + "\\\"" + std::string(1000, '{') + "\"]";
  EXPECT_TRUE(CheckJsonDepth(s).ok());
}

}  // namespace
}  // namespace iocgrid
