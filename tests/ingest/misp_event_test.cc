#include <gtest/gtest.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <string>

#include "ingest/loader.h"
#include "tests/ingest/test_util.h"

namespace iocgrid::ingest {
namespace {

using core::IndicatorType;
using testing::LoadPath;
using testing::SharedData;
using testing::TestData;

// Attributes (top-level and in objects) counted with nlohmann, for an independent figure.
size_t JsonAttributeCount(const std::string& path) {
  nlohmann::json doc = nlohmann::json::parse(testing::ReadAll(path), nullptr, false);
  if (doc.is_discarded()) return 0;
  const nlohmann::json& event = doc.contains("Event") ? doc["Event"] : doc;
  size_t n = event.value("Attribute", nlohmann::json::array()).size();
  for (const auto& object : event.value("Object", nlohmann::json::array())) {
    n += object.value("Attribute", nlohmann::json::array()).size();
  }
  return n;
}

const Attribute* FindValue(const Event& event, const std::string& value) {
  for (const Attribute& a : event.attributes) {
    if (a.indicator.value == value) return &a;
  }
  return nullptr;
}

TEST(MispEventTest, ReadsEventFieldsTagsAndObjects) {
  const std::string path = TestData("event_objects.json");
  testing::Loaded loaded = LoadPath(path);
  ASSERT_TRUE(testing::OneEvent(loaded, InputFormat::kMispEvent));
  const Event& event = loaded.events[0];
  EXPECT_EQ(event.uuid, "11111111-2222-4333-8444-555555555555");
  EXPECT_EQ(event.info, "Test event with objects");
  EXPECT_EQ(event.date, "2024-01-31");
  EXPECT_EQ(event.org, "Test Org");
  EXPECT_EQ(event.tags, (std::vector<std::string>{"tlp:white", "type:OSINT"}));
  EXPECT_EQ(event.timestamp, 1706700000);
  EXPECT_EQ(event.threat_level_id, 2);
  EXPECT_EQ(event.analysis, 1);
  EXPECT_EQ(event.distribution, 3);
  EXPECT_TRUE(event.published);
  EXPECT_EQ(event.source, path);

  // ip-dst, domain, malware-sample, attachment, and the 2 attributes of the live object.
  ASSERT_EQ(event.attributes.size(), 6u);
  const Attribute* ip = FindValue(event, "198.51.100.7");
  ASSERT_NE(ip, nullptr);
  EXPECT_EQ(ip->indicator.type, IndicatorType::kIpDst);
  EXPECT_TRUE(ip->to_ids);
  EXPECT_EQ(ip->category, "Network activity");
  EXPECT_EQ(ip->uuid, "a0000000-0000-4000-8000-000000000001");
  EXPECT_EQ(ip->comment, "c2");
  EXPECT_EQ(ip->timestamp, 1706700001);
  EXPECT_EQ(ip->first_seen, "2024-01-01T00:00:00.000000+00:00");
  EXPECT_EQ(ip->tags, (std::vector<std::string>{"kill-chain:c2"}));
  EXPECT_EQ(ip->line, 14u);  // the line of the attribute's "{"
  EXPECT_TRUE(ip->object_name.empty());

  const Attribute* domain = FindValue(event, "evil.example");
  ASSERT_NE(domain, nullptr);
  EXPECT_FALSE(domain->to_ids);
  EXPECT_EQ(domain->timestamp, 1706700002);

  const Attribute* sample = FindValue(event, "dropper.exe|b1946ac92492d2347c6235b4d2611184");
  ASSERT_NE(sample, nullptr);
  EXPECT_EQ(sample->indicator.type, IndicatorType::kMalwareSample);
  ASSERT_NE(FindValue(event, "screenshot.jpg"), nullptr);

  const Attribute* object_ip = FindValue(event, "203.0.113.9");
  ASSERT_NE(object_ip, nullptr);
  EXPECT_EQ(object_ip->object_name, "ip-port");
  EXPECT_EQ(object_ip->object_relation, "ip");
  const Attribute* port = FindValue(event, "8443");
  ASSERT_NE(port, nullptr);
  EXPECT_EQ(port->indicator.type, IndicatorType::kPort);
  EXPECT_EQ(port->object_relation, "dst-port");

  // Soft-deleted attributes and objects are dropped silently.
  EXPECT_EQ(FindValue(event, "http://deleted.example/x"), nullptr);
  EXPECT_EQ(FindValue(event, "b1946ac92492d2347c6235b4d2611184"), nullptr);

  // The unknown type (line 31) and the invalid IP (line 35) are issues with their lines.
  ASSERT_EQ(testing::IssueLines(loaded), (std::vector<uint32_t>{31, 35}));
  EXPECT_NE(loaded.issues[0].message.find("no-such-type"), std::string::npos);
  EXPECT_EQ(loaded.stats.skipped, 2u);
}

TEST(MispEventTest, NeverKeepsAttachmentData) {
  testing::Loaded loaded = LoadPath(TestData("event_objects.json"));
  ASSERT_EQ(loaded.events.size(), 1u);
  for (const Attribute& a : loaded.events[0].attributes) {
    EXPECT_EQ(a.indicator.value.find("BASE64"), std::string::npos);
    EXPECT_EQ(a.comment.find("BASE64"), std::string::npos);
    EXPECT_EQ(a.indicator.value.find("/9j/"), std::string::npos);
  }
}

TEST(MispEventTest, ReadsResponseWrapper) {
  testing::Loaded loaded = LoadPath(TestData("response_events.json"));
  ASSERT_TRUE(loaded.status.ok()) << loaded.status.ToString();
  ASSERT_EQ(loaded.events.size(), 2u);
  EXPECT_EQ(loaded.events[0].info, "first");
  EXPECT_EQ(loaded.events[0].attributes.at(0).indicator.value, "d41d8cd98f00b204e9800998ecf8427e");
  EXPECT_EQ(loaded.events[1].attributes.size(), 1u);
  EXPECT_EQ(loaded.events[1].attributes[0].indicator.type, IndicatorType::kHostname);
  // The short sha1 (line 6) and the string entry (line 7).
  ASSERT_EQ(testing::IssueLines(loaded), (std::vector<uint32_t>{6, 7}));
}

TEST(MispEventTest, ReadsListOfWrappedAndBareEvents) {
  testing::Loaded loaded = LoadPath(TestData("event_list.json"));
  ASSERT_TRUE(loaded.status.ok()) << loaded.status.ToString();
  ASSERT_EQ(loaded.events.size(), 2u);
  EXPECT_EQ(loaded.events[0].info, "wrapped");
  EXPECT_EQ(loaded.events[1].info, "bare");
  EXPECT_EQ(loaded.events[1].uuid, "22222222-0000-4000-8000-000000000002");
  ASSERT_EQ(loaded.events[1].attributes.size(), 1u);
  EXPECT_EQ(loaded.events[1].attributes[0].indicator.type, IndicatorType::kEmailSrc);
  EXPECT_EQ(loaded.events[1].attributes[0].line, 4u);
}

TEST(MispEventTest, TruncatedJsonIsInvalidArgumentAndEmitsNothing) {
  testing::Loaded loaded = LoadPath(TestData("truncated_event.json"));
  EXPECT_EQ(loaded.status.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(loaded.status.message().find("truncated_event.json"), std::string_view::npos);
  EXPECT_TRUE(loaded.events.empty());
}

TEST(MispEventTest, NonEventJsonIsInvalidArgument) {
  testing::Loaded loaded = LoadPath(SharedData("G_misp/types/describeTypes.json"));
  EXPECT_EQ(loaded.status.code(), StatusCode::kInvalidArgument);
  LoadOptions options;
  options.format = InputFormat::kMispEvent;  // "[1" would be detected as a plain list
  testing::Loaded scalar = testing::LoadText("x.json", "[1, 2]", options);
  EXPECT_TRUE(scalar.status.ok());
  EXPECT_EQ(scalar.issues.size(), 2u);
}

class RealMispEventTest : public ::testing::TestWithParam<std::string> {};

TEST_P(RealMispEventTest, AttributeCountsMatchTheJson) {
  const std::string path = SharedData(GetParam());
  testing::Loaded loaded = LoadPath(path);
  ASSERT_TRUE(testing::OneEvent(loaded, InputFormat::kMispEvent));
  EXPECT_FALSE(loaded.events[0].uuid.empty());
  EXPECT_FALSE(loaded.events[0].info.empty());
  EXPECT_EQ(loaded.stats.attributes + loaded.stats.skipped, JsonAttributeCount(path));
  EXPECT_EQ(loaded.issues.size(), loaded.stats.skipped);
  for (const LoadIssue& issue : loaded.issues) EXPECT_GT(issue.line, 0u) << issue.message;
}

INSTANTIATE_TEST_SUITE_P(
    SharedData, RealMispEventTest,
    ::testing::Values("G_misp/events/existing_event_sednit_bare.json",
                      "G_misp/feed_circl_osint_sample/57153590-f73c-49fa-be4b-4737950d210f.json",
                      "G_misp/feed_circl_osint_sample/57c4445b-c548-4654-af0b-4be3950d210f.json",
                      "G_misp/feed_circl_osint_sample/5a0a9aa9-23a4-4607-b6df-41a9950d210f.json",
                      "G_misp/feed_circl_osint_sample/5a0ac036-6fbc-4855-83af-422b950d210f.json",
                      "G_misp/feed_circl_osint_sample/5acc88e9-265c-4f22-9d2b-b702950d210f.json",
                      "G_misp/feed_misp_test_fixture/56bf399d-c46c-4fdb-a9cf-d9bb02de0b81.json"));

TEST(MispEventTest, SednitBareEventHasObjectAttributes) {
  testing::Loaded loaded = LoadPath(SharedData("G_misp/events/existing_event_sednit_bare.json"));
  ASSERT_EQ(loaded.events.size(), 1u);
  const Event& event = loaded.events[0];
  EXPECT_EQ(event.uuid, "5a3c2fcd-8328-42bb-a95e-4f4402de0b81");
  EXPECT_EQ(event.attributes.size(), 122u);  // the data README's figure
  const auto in_objects = std::count_if(event.attributes.begin(), event.attributes.end(),
                                        [](const Attribute& a) { return !a.object_name.empty(); });
  EXPECT_GT(in_objects, 0);
  EXPECT_NE(std::find(event.tags.begin(), event.tags.end(), "tlp:white"), event.tags.end());
}

TEST(MispEventTest, AttachmentEventKeepsFileNameOnly) {
  testing::Loaded loaded = LoadPath(
      SharedData("G_misp/feed_circl_osint_sample/5acc88e9-265c-4f22-9d2b-b702950d210f.json"));
  ASSERT_EQ(loaded.events.size(), 1u);
  size_t bytes = 0;
  for (const Attribute& a : loaded.events[0].attributes) {
    bytes += a.indicator.value.size() + a.comment.size();
    if (a.indicator.type == IndicatorType::kAttachment) {
      EXPECT_LT(a.indicator.value.size(), 200u) << "attachment data leaked into the value";
    }
  }
  EXPECT_LT(bytes, 20000u);  // the file is 225 KB, almost all of it base64 data
}

TEST(MispEventTest, FeedManifestIsSkippedWithoutError) {
  for (const char* manifest : {"G_misp/feed_circl_osint_sample/manifest.json",
                               "G_misp/feed_misp_test_fixture/manifest.json"}) {
    testing::Loaded loaded = LoadPath(SharedData(manifest));
    ASSERT_TRUE(loaded.status.ok()) << loaded.status.ToString();
    EXPECT_TRUE(loaded.events.empty());
    EXPECT_TRUE(loaded.issues.empty());
  }
}

TEST(MispEventTest, FeedHashesCsvIsSkippedWithAnInformationalIssue) {
  testing::Loaded loaded = LoadPath(SharedData("G_misp/feed_circl_osint_sample/hashes.csv"));
  ASSERT_TRUE(loaded.status.ok()) << loaded.status.ToString();
  EXPECT_TRUE(loaded.events.empty());
  ASSERT_EQ(loaded.issues.size(), 1u);
  EXPECT_NE(loaded.issues[0].message.find("hashes.csv"), std::string::npos);
  EXPECT_EQ(loaded.stats.skipped, 0u);
}

TEST(MispEventTest, WholeFeedFolderLoads) {
  Result<std::vector<std::string>> files =
      ExpandPaths({SharedData("G_misp/feed_circl_osint_sample")});
  ASSERT_TRUE(files.ok());
  ASSERT_EQ(files->size(), 7u);  // 5 events, hashes.csv, manifest.json
  size_t events = 0;
  for (const std::string& file : *files) {
    testing::Loaded loaded = LoadPath(file);
    ASSERT_TRUE(loaded.status.ok()) << file << ": " << loaded.status.ToString();
    events += loaded.events.size();
  }
  EXPECT_EQ(events, 5u);
}

}  // namespace
}  // namespace iocgrid::ingest
