#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "ingest/loader.h"
#include "tests/ingest/test_util.h"

namespace iocgrid::ingest {
namespace {

using testing::SharedData;

TEST(InputFormatTest, NamesRoundTrip) {
  for (InputFormat format :
       {InputFormat::kAuto, InputFormat::kWarninglist, InputFormat::kMispEvent, InputFormat::kCsv,
        InputFormat::kPlain, InputFormat::kIpsum, InputFormat::kStix}) {
    InputFormat parsed = InputFormat::kAuto;
    ASSERT_TRUE(ParseInputFormat(InputFormatName(format), &parsed)) << InputFormatName(format);
    EXPECT_EQ(parsed, format);
  }
}

TEST(InputFormatTest, AcceptsAliases) {
  InputFormat parsed = InputFormat::kAuto;
  EXPECT_TRUE(ParseInputFormat("json", &parsed));
  EXPECT_EQ(parsed, InputFormat::kMispEvent);
  EXPECT_TRUE(ParseInputFormat("TSV", &parsed));
  EXPECT_EQ(parsed, InputFormat::kCsv);
  EXPECT_TRUE(ParseInputFormat("list", &parsed));
  EXPECT_EQ(parsed, InputFormat::kPlain);
  EXPECT_TRUE(ParseInputFormat("stix2", &parsed));
  EXPECT_EQ(parsed, InputFormat::kStix);
  EXPECT_FALSE(ParseInputFormat("openioc", &parsed));
}

TEST(DetectFormatTest, JsonShapes) {
  EXPECT_EQ(DetectFormat("x", R"({"name": "n", "type": "cidr", "list": ["1.2.3.4"]})"),
            InputFormat::kWarninglist);
  // Sorted warninglists: "description" and "list" come first; a prefix is enough.
  EXPECT_EQ(DetectFormat("x", "{\n  \"description\": \"d\",\n  \"list\": [\n    \"1.2"),
            InputFormat::kWarninglist);
  EXPECT_EQ(DetectFormat("x", R"({"Event": {"info": "i", "list": []}})"), InputFormat::kMispEvent);
  EXPECT_EQ(DetectFormat("x", R"({"response": []})"), InputFormat::kMispEvent);
  EXPECT_EQ(DetectFormat("x", "  [ {\"Event\": {}} ]"), InputFormat::kMispEvent);
  EXPECT_EQ(DetectFormat("x", "\xEF\xBB\xBF{\"info\": \"bom\"}"), InputFormat::kMispEvent);
}

TEST(DetectFormatTest, TextShapes) {
  EXPECT_EQ(DetectFormat("x", "# IPsum\n#\n1.2.3.4\t10\n"), InputFormat::kIpsum);
  EXPECT_EQ(DetectFormat("x", "ip,company\n1.2.3.4,acme\n"), InputFormat::kCsv);
  EXPECT_EQ(DetectFormat("x", "Value\tType\n1.2.3.4\tip-dst\n"), InputFormat::kCsv);
  EXPECT_EQ(DetectFormat("x", "domain\nevil.example\n"), InputFormat::kCsv);
  EXPECT_EQ(DetectFormat("x", "1.2.3.4\n5.6.7.8\n"), InputFormat::kPlain);
  EXPECT_EQ(DetectFormat("x", "[2001:db8::1]:443\n"), InputFormat::kPlain);
  EXPECT_EQ(DetectFormat("numbers.json", "[1, 2]"), InputFormat::kMispEvent);
  EXPECT_EQ(DetectFormat("x", "1.2.3.4,80\n"), InputFormat::kPlain);
  EXPECT_EQ(DetectFormat("x", ""), InputFormat::kPlain);
}

TEST(DetectFormatTest, RealFiles) {
  const struct {
    const char* path;
    InputFormat format;
  } kCases[] = {
      {"C_member_anonymity/misp-warninglists/vpn-ipv4/list.json", InputFormat::kWarninglist},
      {"H_warninglists_fp/tranco10k/list.json", InputFormat::kWarninglist},
      {"G_misp/events/existing_event_sednit_bare.json", InputFormat::kMispEvent},
      {"G_misp/feed_misp_test_fixture/56bf399d-c46c-4fdb-a9cf-d9bb02de0b81.json",
       InputFormat::kMispEvent},
      {"C_member_anonymity/shadowwhisperer/Tunnels.csv", InputFormat::kCsv},
      {"D_member_honeypot/shadowwhisperer/Threats.csv", InputFormat::kCsv},
      {"A_query_blacktech/blacktech_iocs.csv", InputFormat::kCsv},
      {"C_member_anonymity/proxies/proxy-list.txt", InputFormat::kPlain},
      {"C_member_anonymity/tor/tor-nodes.lst", InputFormat::kPlain},
      {"D_member_honeypot/shadowwhisperer/Probes", InputFormat::kPlain},
  };
  for (const auto& c : kCases) {
    const std::string content = testing::ReadAll(SharedData(c.path));
    EXPECT_EQ(DetectFormat(c.path, content), c.format) << c.path;
    // The first 4 KB are enough.
    EXPECT_EQ(DetectFormat(c.path, std::string_view(content).substr(0, 4096)), c.format) << c.path;
  }
}

TEST(DetectFormatTest, GzipIpsum) {
  const std::string content = testing::ReadAll(SharedData("D_member_honeypot/ipsum/ipsum.txt.gz"));
#ifdef IOCGRID_HAVE_ZLIB
  EXPECT_EQ(DetectFormat("ipsum.txt.gz", content), InputFormat::kIpsum);
#else
  EXPECT_EQ(DetectFormat("ipsum.txt.gz", content), InputFormat::kAuto);
#endif
}

TEST(DetectFormatTest, OverrideWins) {
  LoadOptions options;
  options.format = InputFormat::kPlain;
  testing::Loaded loaded = testing::LoadText("x.csv", "ip,company\n1.2.3.4,acme\n", options);
  ASSERT_TRUE(loaded.status.ok());
  EXPECT_EQ(loaded.stats.format, InputFormat::kPlain);
  // As a plain list both lines are junk ("ip,company", "1.2.3.4,acme").
  EXPECT_EQ(loaded.stats.skipped, 2u);
}

// Truncated and mis-typed input must come back as issues or an error Status, never a crash.
TEST(LoadContentTest, PrefixesOfEveryFixtureInEveryFormatNeverCrash) {
  size_t loads = 0;
  for (const auto& entry :
       std::filesystem::directory_iterator(std::string(IOCGRID_TEST_DATA_DIR) + "/ingest")) {
    const std::string content = testing::ReadAll(entry.path().string());
    for (size_t length = 0; length <= content.size(); length += 1 + length / 4) {
      for (InputFormat format :
           {InputFormat::kAuto, InputFormat::kWarninglist, InputFormat::kMispEvent,
            InputFormat::kCsv, InputFormat::kPlain, InputFormat::kIpsum, InputFormat::kStix}) {
        LoadOptions options;
        options.format = format;
        testing::Loaded loaded = testing::LoadText("prefix", content.substr(0, length), options);
        if (loaded.status.ok()) {
          EXPECT_EQ(loaded.stats.attributes, loaded.attribute_count());
        } else {
          EXPECT_NE(loaded.status.code(), StatusCode::kInternal) << loaded.status.ToString();
        }
        ++loads;
      }
    }
  }
  EXPECT_GT(loads, 500u);
}

}  // namespace
}  // namespace iocgrid::ingest
