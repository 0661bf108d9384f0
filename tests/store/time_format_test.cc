#include "store/time_format.h"

#include "gtest/gtest.h"

namespace iocgrid::store {
namespace {

TEST(ParseIsoTimeTest, AcceptsMispForms) {
  EXPECT_EQ(ParseIsoTime("2024-01-31T12:00:00.000000+00:00").value(), 1706702400000000);
  EXPECT_EQ(ParseIsoTime("2024-01-31T12:00:00Z").value(), 1706702400000000);
  EXPECT_EQ(ParseIsoTime("2024-01-31 12:00:00").value(), 1706702400000000);
  EXPECT_EQ(ParseIsoTime("2024-01-31T14:00:00+02:00").value(), 1706702400000000);
  EXPECT_EQ(ParseIsoTime("2024-01-31T12:00:00.5Z").value(), 1706702400500000);
  EXPECT_EQ(ParseIsoTime("2024-01-31").value(), 1706659200000000);
  EXPECT_EQ(ParseIsoTime("1706702400").value(), 1706702400000000);
  EXPECT_EQ(ParseIsoTime("1969-12-31T23:59:59Z").value(), -1000000);
}

TEST(ParseIsoTimeTest, RejectsGarbage) {
  for (const char* bad : {"", "yesterday", "2024-13-01", "2024-01-31T25:00", "2024-01-31T12:00X",
                          "2024-01-31T12:00:00+2"}) {
    EXPECT_EQ(ParseIsoTime(bad).status().code(), StatusCode::kInvalidArgument) << bad;
  }
}

TEST(FormatIsoMicrosTest, RoundTripsWithMicroseconds) {
  EXPECT_EQ(FormatIsoMicros(1706702400123456), "2024-01-31T12:00:00.123456+00:00");
  EXPECT_EQ(FormatIsoMicros(-1), "1969-12-31T23:59:59.999999+00:00");
  EXPECT_EQ(ParseIsoTime(FormatIsoMicros(1706702400123456)).value(), 1706702400123456);
}

}  // namespace
}  // namespace iocgrid::store
