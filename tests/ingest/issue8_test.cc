// Issue 8: member data files nested 30,000 levels deep get a clear error, never a crash, in
// every JSON importer (MISP events and feeds, warninglists, STIX), detected or named.
#include <gtest/gtest.h>

#include <string>

#include "common/utf8.h"
#include "tests/ingest/test_util.h"

namespace iocgrid::ingest {
namespace {

using testing::LoadText;

std::string Deep(const std::string& prefix, int levels, const std::string& suffix) {
  return prefix + std::string(static_cast<size_t>(levels), '[') +
         std::string(static_cast<size_t>(levels), ']') + suffix;
}

TEST(Issue8ImportTest, DeeplyNestedJsonIsRefusedByEveryImporter) {
  struct Case {
    InputFormat format;
    std::string name;
    std::string content;
  };
  const Case cases[] = {
      {InputFormat::kMispEvent, "event.json",
       Deep("{\"Event\":{\"info\":\"x\",\"Attribute\":", 30000, "}}")},
      {InputFormat::kMispEvent, "feed.json", Deep("{\"response\":", 30000, "}")},
      {InputFormat::kWarninglist, "list.json",
       Deep("{\"name\":\"n\",\"type\":\"string\",\"list\":", 30000, "}")},
      {InputFormat::kStix, "bundle.json", Deep("{\"type\":\"bundle\",\"objects\":", 30000, "}")},
      {InputFormat::kAuto, "auto.json", Deep("{\"Event\":{\"Object\":", 30000, "}}")},
  };
  for (const Case& c : cases) {
    LoadOptions options;
    options.format = c.format;
    auto loaded = LoadText(c.name, c.content, options);
    EXPECT_FALSE(loaded.status.ok()) << c.name;
    EXPECT_NE(loaded.status.message().find("deeper than 64"), std::string_view::npos)
        << c.name << ": " << loaded.status.ToString();
  }
}

bool AllValidUtf8(const testing::Loaded& loaded) {
  for (const Event& e : loaded.events) {
    if (!IsValidUtf8(e.info)) return false;
    for (const Attribute& a : e.attributes) {
      if (!IsValidUtf8(a.indicator.value) || !IsValidUtf8(a.comment)) return false;
    }
  }
  return true;
}

// One stored invalid string knocked the member out of every search hitting it (the portal's
// simdjson refused the line): invalid UTF-8 is replaced at import and counted.
TEST(Issue8ImportTest, InvalidUtf8IsReplacedAndCounted) {
  const std::string csv =
      "domain,comment\n"
      "evil.example,lone surrogate \xED\xA0\x80 here\n"
      "bad.example,F5 lead \xF5 byte\n"
      "worse.example,overlong \xC0\xAF slash\n";
  auto loaded = LoadText("members.csv", csv);
  ASSERT_TRUE(loaded.status.ok()) << loaded.status.ToString();
  ASSERT_EQ(loaded.attribute_count(), 3u);
  EXPECT_TRUE(AllValidUtf8(loaded));
  EXPECT_EQ(loaded.stats.invalid_utf8, 6u);  // 3 + 1 + 2 bytes
  EXPECT_NE(loaded.events[0].attributes[1].comment.find("\xEF\xBF\xBD"), std::string::npos);

  const std::string misp =
      "{\"Event\":{\"info\":\"bad \xF5 info\",\"Attribute\":[{\"type\":\"domain\","
      "\"value\":\"evil.example\",\"comment\":\"\xED\xBF\xBF\"}]}}";
  auto event = LoadText("event.json", misp);
  ASSERT_TRUE(testing::OneEvent(event));
  EXPECT_TRUE(AllValidUtf8(event));
  EXPECT_EQ(event.stats.invalid_utf8, 4u);
}

// Defanged member data was stored as written, so the refanged query never matched it.
TEST(Issue8ImportTest, DefangedNetworkValuesAreStoredRefanged) {
  auto csv = LoadText("feed.csv",
                      "type,value\nurl,hxxp://bad.example/login\nip-dst,198.51.100[.]7\n"
                      "text,keep[.]as written\n");
  ASSERT_TRUE(csv.status.ok()) << csv.status.ToString();
  ASSERT_EQ(csv.attribute_count(), 3u);
  const auto& attrs = csv.events[0].attributes;
  EXPECT_EQ(attrs[0].indicator.value, "http://bad.example/login");
  EXPECT_EQ(attrs[1].indicator.value, "198.51.100.7");
  EXPECT_EQ(attrs[2].indicator.value, "keep[.]as written");  // free text is data, not defanged

  auto plain = LoadText("domains.txt", "evil[.]example\nhxxp://bad[.]example/x\n");
  ASSERT_TRUE(plain.status.ok()) << plain.status.ToString();
  ASSERT_EQ(plain.attribute_count(), 2u);
  EXPECT_EQ(plain.events[0].attributes[0].indicator.value, "evil.example");
  EXPECT_EQ(plain.events[0].attributes[1].indicator.value, "http://bad.example/x");
}

}  // namespace
}  // namespace iocgrid::ingest
