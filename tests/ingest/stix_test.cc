#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

#include "ingest/loader.h"

namespace iocgrid::ingest {
namespace {

const std::string kBundle = std::string(IOCGRID_TEST_DATA_DIR) + "/ingest/bundle.stix.json";

struct Loaded {
  LoadStats stats;
  std::vector<Event> events;
  std::vector<LoadIssue> issues;
};

Loaded Load(const std::string& path, InputFormat format = InputFormat::kAuto) {
  Loaded out;
  LoadOptions options;
  options.format = format;
  auto stats = LoadFile(
      path, options, [&](Event&& e) { out.events.push_back(std::move(e)); },
      [&](const LoadIssue& i) { out.issues.push_back(i); });
  EXPECT_TRUE(stats.ok()) << stats.status().ToString();
  if (stats.ok()) out.stats = *stats;
  return out;
}

TEST(StixBundleTest, IsDetected) {
  EXPECT_EQ(Load(kBundle).stats.format, InputFormat::kStix);
  InputFormat f;
  ASSERT_TRUE(ParseInputFormat("stix", &f));
  EXPECT_EQ(f, InputFormat::kStix);
  EXPECT_EQ(InputFormatName(InputFormat::kStix), "stix");
}

TEST(StixBundleTest, SimpleComparisonsBecomeAttributes) {
  Loaded l = Load(kBundle);
  ASSERT_EQ(l.events.size(), 1u);
  const Event& e = l.events[0];
  EXPECT_EQ(e.uuid, "5d0092c5-5f74-4287-9642-33f4c354e56d");
  std::set<std::string> got;
  for (const auto& a : e.attributes)
    got.insert(std::string(core::TypeName(a.indicator.type)) + " " + a.indicator.value);
  EXPECT_EQ(got, (std::set<std::string>{
                     "ip-dst 198.51.100.7",
                     "sha256 e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
                     "md5 d41d8cd98f00b204e9800998ecf8427e",
                     "domain evil.example",
                     "url http://evil.example/gate.php",
                     "ip-dst 2001:db8::/32",
                 }));
  for (const auto& a : e.attributes) {
    EXPECT_TRUE(a.to_ids);
    EXPECT_EQ(a.first_seen, "2024-01-01T00:00:00Z");
    if (a.indicator.value == "198.51.100.7") {
      EXPECT_EQ(a.uuid,
                "8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f");  // one comparison: the indicator's id
      EXPECT_EQ(a.comment, "C2 server");
      EXPECT_EQ(a.tags, std::vector<std::string>{"malicious-activity"});
    }
    if (a.indicator.value == "d41d8cd98f00b204e9800998ecf8427e") {
      EXPECT_TRUE(a.uuid.empty());  // shared by two comparisons: the store derives one each
      EXPECT_EQ(a.tags, std::vector<std::string>{"trojan"});
    }
  }
}

TEST(StixBundleTest, UnsupportedPatternsAreReportedAndSkipped) {
  Loaded l = Load(kBundle);
  EXPECT_EQ(l.stats.skipped, 2u);  // the LIKE pattern and the YARA pattern
  bool like = false, yara = false, others = false;
  for (const auto& i : l.issues) {
    like |= i.message.find("only '=' comparisons") != std::string::npos;
    yara |= i.message.find("pattern_type 'yara'") != std::string::npos;
    others |= i.message.find("not indicators") != std::string::npos;
  }
  EXPECT_TRUE(like && yara && others);
}

TEST(StixBundleTest, NotABundleIsAnError) {
  LoadOptions options;
  options.format = InputFormat::kStix;
  auto r = LoadContent(
      "x.json", "{\"type\": \"indicator\"}", options, [](Event&&) {}, [](const LoadIssue&) {});
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace iocgrid::ingest
