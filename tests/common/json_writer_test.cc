#include "common/json_writer.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

namespace iocgrid {
namespace {

std::string Written(std::string_view value) {
  std::string out;
  JsonWriter w(&out);
  w.String(value);
  return out;
}

TEST(JsonWriterTest, PlainTextIsCopiedAsItIs) {
  EXPECT_EQ(Written(""), "\"\"");
  EXPECT_EQ(Written("203.0.113.9"), "\"203.0.113.9\"");
  EXPECT_EQ(Written("http://evil.example/a?b=c&d=e ~ {}[]"),
            "\"http://evil.example/a?b=c&d=e ~ {}[]\"");
}

TEST(JsonWriterTest, EscapesAtEveryPositionOfARun) {
  // Escapes first, last, alone and between plain runs, so that a run copied at once never
  // swallows or repeats a byte around an escape.
  EXPECT_EQ(Written("\"a"), "\"\\\"a\"");
  EXPECT_EQ(Written("a\\"), "\"a\\\\\"");
  EXPECT_EQ(Written("\n"), "\"\\n\"");
  EXPECT_EQ(Written("ab\tcd\r\nef\"gh\\ij"), "\"ab\\tcd\\r\\nef\\\"gh\\\\ij\"");
  EXPECT_EQ(Written(std::string("x\0y", 3)), "\"x\\u0000y\"");
  EXPECT_EQ(Written("\x1f\x01z"), "\"\\u001f\\u0001z\"");
  EXPECT_EQ(Written("del\x7f!"), "\"del\x7f!\"");  // DEL needs no escape in JSON
}

TEST(JsonWriterTest, Utf8IsKeptAndInvalidBytesAreReplaced) {
  EXPECT_EQ(Written("攻撃者 ip 198.51.100.7"), "\"攻撃者 ip 198.51.100.7\"");
  EXPECT_EQ(Written("a\xFF"
                    "b"),
            "\"a\xEF\xBF\xBD"
            "b\"");
  EXPECT_EQ(Written("\xED\xA0\x80x"), "\"\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBDx\"");
}

TEST(JsonWriterTest, EveryByteValueRoundTripsThroughAJsonParser) {
  // All 128 ASCII values between plain runs: the parser must read back exactly the input.
  std::string input;
  for (int c = 0; c < 128; ++c) {
    input += "run";
    input += static_cast<char>(c);
  }
  const std::string written = Written(input);
  const nlohmann::json parsed = nlohmann::json::parse(written);
  EXPECT_EQ(parsed.get<std::string>(), input);
}

TEST(JsonWriterTest, ObjectsSeparateTheirFields) {
  std::string out;
  JsonWriter w(&out);
  w.BeginObject();
  w.Field("value", "a\"b");
  w.FieldInt("lines", -3);
  w.Key("hits");
  w.BeginArray();
  w.String("x");
  w.String("y");
  w.EndArray();
  w.EndObject();
  EXPECT_EQ(out, R"({"value":"a\"b","lines":-3,"hits":["x","y"]})");
}

}  // namespace
}  // namespace iocgrid
