#include "common/ascii.h"

#include <gtest/gtest.h>

namespace iocgrid {
namespace {

TEST(AsciiTest, HexValueOfEitherCaseAndNothingElse) {
  EXPECT_EQ(AsciiHexValue('0'), 0);
  EXPECT_EQ(AsciiHexValue('9'), 9);
  EXPECT_EQ(AsciiHexValue('a'), 10);
  EXPECT_EQ(AsciiHexValue('F'), 15);
  for (char c : {'g', 'G', '/', ':', '@', '`', ' ', '\0', '\xff'}) {
    EXPECT_EQ(AsciiHexValue(c), -1) << static_cast<int>(c);
  }
}

TEST(AsciiTest, CaseAndTrimTouchOnlyAscii) {
  EXPECT_EQ(AsciiLower("X-MISP-Auth \xC3\x89"), "x-misp-auth \xC3\x89");  // É's bytes unchanged
  EXPECT_EQ(TrimAscii(" \t value\r\n"), "value");
  EXPECT_EQ(TrimAscii(" \t a b \r\n"), "a b");  // inner spaces stay
  EXPECT_EQ(TrimAscii(""), "");
  EXPECT_EQ(TrimAscii("   "), "");
  EXPECT_EQ(TrimAscii("\xC2\xA0x"), "\xC2\xA0x");  // a UTF-8 no-break space is not ASCII space
  EXPECT_TRUE(EqualsIgnoreAsciiCase("NoT", "not"));
  EXPECT_FALSE(EqualsIgnoreAsciiCase("not", "nott"));
}

}  // namespace
}  // namespace iocgrid
