#include "common/utf8.h"

#include <gtest/gtest.h>

#include <string>

namespace iocgrid {
namespace {

TEST(Utf8Test, AcceptsValidText) {
  EXPECT_TRUE(IsValidUtf8("plain ascii"));
  EXPECT_TRUE(IsValidUtf8("日本語のテキスト"));
  EXPECT_TRUE(IsValidUtf8("\xF0\x9F\x98\x80"));  // U+1F600
  EXPECT_TRUE(IsValidUtf8("\xF4\x8F\xBF\xBF"));  // U+10FFFF
}

TEST(Utf8Test, RejectsWhatIssue8Stored) {
  EXPECT_FALSE(IsValidUtf8("\xED\xA0\x80"));      // lone surrogate U+D800 encoded in UTF-8
  EXPECT_FALSE(IsValidUtf8("\xF5\x80\x80\x80"));  // F5 lead byte
  EXPECT_FALSE(IsValidUtf8("\xC0\xAF"));          // overlong '/'
  EXPECT_FALSE(IsValidUtf8("\xE0\x80\xAF"));      // overlong, 3 bytes
  EXPECT_FALSE(IsValidUtf8("\xF4\x90\x80\x80"));  // above U+10FFFF
  EXPECT_FALSE(IsValidUtf8("abc\xE3\x81"));       // truncated
  EXPECT_FALSE(IsValidUtf8("\x80"));              // stray continuation
}

TEST(Utf8Test, SanitizeReplacesEachInvalidByteAndCounts) {
  size_t replaced = 0;
  EXPECT_EQ(SanitizeUtf8("a\xF5z", &replaced), "a\xEF\xBF\xBDz");
  EXPECT_EQ(replaced, 1u);
  EXPECT_EQ(SanitizeUtf8("\xED\xA0\x80", &replaced), "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");
  EXPECT_EQ(replaced, 4u);
  EXPECT_EQ(SanitizeUtf8("日本", &replaced), "日本");
  EXPECT_EQ(replaced, 4u);
  EXPECT_TRUE(IsValidUtf8(SanitizeUtf8("\xC0\xAF\xE0\x80\xAF\xF4\x90\x80\x80 ok")));
}

TEST(Utf8Test, TruncateNeverCutsACharacter) {
  const std::string jp = "日本語";  // 3 bytes each
  EXPECT_EQ(TruncateUtf8(jp, 4), "日");
  EXPECT_EQ(TruncateUtf8(jp, 6), "日本");
  EXPECT_EQ(TruncateUtf8(jp, 100), jp);
  EXPECT_EQ(TruncateUtf8(jp, 2), "");
  EXPECT_EQ(TruncateUtf8("abcdef", 3), "abc");
}

}  // namespace
}  // namespace iocgrid
