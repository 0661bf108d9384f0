#include "common/status.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "common/result.h"

namespace iocgrid {
namespace {

TEST(StatusTest, DefaultIsOkAndEmpty) {
  Status s;
  EXPECT_TRUE(s.ok());
  EXPECT_EQ(s.code(), StatusCode::kOk);
  EXPECT_EQ(s.message(), "");
  EXPECT_EQ(s.ToString(), "OK");
}

TEST(StatusTest, ErrorCarriesCodeAndMessage) {
  Status s = InvalidArgumentError("bad octet");
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(s.ToString(), "InvalidArgument: bad octet");
}

TEST(StatusTest, WithContextPrefixesMessageAndKeepsOk) {
  EXPECT_EQ(NotFoundError("x").WithContext("feed a.json line 3").message(),
            "feed a.json line 3: x");
  EXPECT_TRUE(Status().WithContext("ctx").ok());
}

TEST(StatusTest, CopyIsDeep) {
  Status a = InternalError("a");
  Status b = a;
  EXPECT_EQ(a, b);
  a = Status();
  EXPECT_FALSE(b.ok());
  EXPECT_EQ(b.message(), "a");
}

Result<int> Half(int x) {
  if (x % 2 != 0) return InvalidArgumentError("odd");
  return x / 2;
}

Result<int> Quarter(int x) {
  IOCGRID_ASSIGN_OR_RETURN(int h, Half(x));
  IOCGRID_ASSIGN_OR_RETURN(int q, Half(h));
  return q;
}

Status CheckEven(int x) {
  IOCGRID_RETURN_IF_ERROR(Half(x).status());
  return Status();
}

TEST(ResultTest, ValueAndErrorPropagate) {
  EXPECT_EQ(Quarter(8).value(), 2);
  EXPECT_EQ(Quarter(6).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(*Half(4), 2);
  EXPECT_EQ(Half(3).value_or(-1), -1);
  EXPECT_TRUE(CheckEven(2).ok());
  EXPECT_FALSE(CheckEven(3).ok());
}

TEST(ResultTest, HoldsMoveOnlyValues) {
  Result<std::unique_ptr<std::string>> r(std::make_unique<std::string>("x"));
  ASSERT_TRUE(r.ok());
  std::unique_ptr<std::string> p = std::move(r).value();
  EXPECT_EQ(*p, "x");
}

}  // namespace
}  // namespace iocgrid
