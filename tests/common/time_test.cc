#include "common/time.h"

#include <gtest/gtest.h>

namespace iocgrid {
namespace {

TEST(TimeTest, ParsesIsoDatesAndDateTimes) {
  EXPECT_EQ(*ParseIsoDateTime("1970-01-01"), 0);
  EXPECT_EQ(*ParseIsoDateTime("2024-02-29"), 1709164800);
  EXPECT_EQ(*ParseIsoDateTime("2024-02-29T01:02:03Z"), 1709164800 + 3723);
  EXPECT_EQ(*ParseIsoDateTime("2024-02-29 01:02:03"), 1709164800 + 3723);
  EXPECT_EQ(*ParseIsoDateTime("2024-02-29T09:00:00+09:00"), 1709164800);
  EXPECT_EQ(*ParseIsoDateTime("2024-02-29T09:00:00.123+0900"), 1709164800);
  EXPECT_EQ(FormatIsoDateTime(1709164800 + 3723), "2024-02-29T01:02:03Z");
  EXPECT_EQ(FormatIsoDate(0), "1970-01-01");
}

TEST(TimeTest, DayNumbersAndCivilDatesRoundTrip) {
  EXPECT_EQ(DaysFromCivil(1970, 1, 1), 0);
  EXPECT_EQ(DaysFromCivil(2024, 1, 31), 19753);
  EXPECT_EQ(DaysFromCivil(1969, 12, 31), -1);
  for (int64_t days = -800000; days < 3000000; days += 997) {
    int64_t y = 0;
    unsigned m = 0, d = 0;
    CivilFromDays(days, &y, &m, &d);
    ASSERT_EQ(DaysFromCivil(y, m, d), days);
  }
}

TEST(TimeTest, FormattedDateTimesParseBackToTheSameSecond) {
  EXPECT_EQ(FormatIsoDateTime(0), "1970-01-01T00:00:00Z");
  EXPECT_EQ(FormatIsoDateTime(253402300799), "9999-12-31T23:59:59Z");
  EXPECT_EQ(FormatIsoDateTime(-1), "1969-12-31T23:59:59Z");
  for (int64_t t = 0; t < 253402300799; t += 7777777 + t / 1000) {
    Result<int64_t> back = ParseIsoDateTime(FormatIsoDateTime(t));
    ASSERT_TRUE(back.ok()) << t;
    EXPECT_EQ(*back, t);
  }
}

TEST(TimeTest, RefusesWhatIsNotADate) {
  for (const char* bad :
       {"yesterday", "2024-13-45", "2023-02-29", "2024-1-01", "d", "", "2024-01-01T25:00",
        "2024-01-01X", "2024-01-01T10:00:00+9", "99999999999999999999", "1969-12-31"}) {
    EXPECT_FALSE(ParseIsoDateTime(bad).ok()) << bad;
  }
}

TEST(TimeTest, DaysAgoIsStrict) {
  EXPECT_EQ(*ParseDaysAgo("30d", 100 * 86400), 70 * 86400);
  for (const char* bad : {"d", "-5d", "+5d", "0d", "36501d", "5", "5 d", "99999999999999999999d"}) {
    EXPECT_FALSE(ParseDaysAgo(bad, 0).ok()) << bad;
  }
}

TEST(TimeTest, DurationsAreStrictAndBounded) {
  EXPECT_EQ(*ParseDuration("30s"), 30);
  EXPECT_EQ(*ParseDuration("15m"), 900);
  EXPECT_EQ(*ParseDuration("1h"), 3600);
  EXPECT_EQ(*ParseDuration("7d"), 7 * 86400);
  EXPECT_EQ(*ParseDuration("2w"), 14 * 86400);
  EXPECT_EQ(*ParseDuration("366d"), 366 * 86400);
  for (const char* bad : {"", "s", "0s", "-5m", "+5m", "5", "5 m", "5M", "367d", "53w", "1.5h",
                          "99999999999999999999s", "1y"}) {
    EXPECT_FALSE(ParseDuration(bad).ok()) << bad;
  }
}

TEST(ClockTest, ManualClockStandsStillAndCopiesShareItsTime) {
  Clock clock = Clock::Manual(1'700'000'000);
  const Clock copy = clock;  // what a component keeps
  EXPECT_TRUE(copy.is_manual());
  EXPECT_EQ(copy.Now(), 1'700'000'000);
  clock.Advance(90);
  EXPECT_EQ(copy.Now(), 1'700'000'090);
  clock.Set(1'600'000'000);  // may go back, as a wall clock can
  EXPECT_EQ(copy.Now(), 1'600'000'000);
}

TEST(ClockTest, DefaultIsTheSystemClock) {
  const Clock clock;
  EXPECT_FALSE(clock.is_manual());
  const int64_t before = UnixNow();
  const int64_t now = clock.Now();
  EXPECT_GE(now, before);
  EXPECT_LE(now, UnixNow());
}

}  // namespace
}  // namespace iocgrid
