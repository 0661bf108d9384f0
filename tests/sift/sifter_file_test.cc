// Sifting real files: the shared logs (Apache, ModSecurity, Suricata EVE; ../shared/data), gzip
// input, truncated gzip and unreadable files.
#include <gtest/gtest.h>
#include <zlib.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "sift/sifter.h"
#include "tests/common/temp_dir.h"
#include "tests/sift/sift_test_util.h"

namespace iocgrid::sift {
namespace {

const std::string kLogs = std::string(IOCGRID_SHARED_DATA_DIR) + "/E_logs/";

size_t CountField(const Sifter& s, Field f) {
  size_t n = 0;
  for (const Observable& o : s.observables()) n += (o.fields & FieldBit(f)) != 0;
  return n;
}

TEST(SharedLogsTest, SecrepoApacheCombined) {
  Sifter s{SiftOptions{}};
  ASSERT_TRUE(s.AddFile(kLogs + "apache/secrepo_access-2018-12-15.log").ok());
  EXPECT_EQ(s.files()[0].format, LogFormat::kCombined);
  EXPECT_EQ(s.counts().lines, 4961u);
  EXPECT_EQ(s.counts().malformed, 0u);
  // awk '{print $1}' | sort -u: 332 addresses, none of them internal (data/README.md).
  EXPECT_EQ(CountField(s, Field::kClient), 332u);
  const Observable* o = testing::Find(s, "77.75.78.160");
  ASSERT_NE(o, nullptr);
  EXPECT_EQ(testing::Iso(o->first_seen), "2018-12-15T10:18:31Z");
}

TEST(SharedLogsTest, ElasticApacheGzip) {
  Sifter s{SiftOptions{}};
  ASSERT_TRUE(s.AddFile(kLogs + "apache/elastic_examples_apache_logs.log.gz").ok());
  EXPECT_EQ(s.counts().malformed, 0u);
  EXPECT_EQ(CountField(s, Field::kClient), 1753u);
  EXPECT_EQ(s.counts().lines, 10000u);  // zcat | wc -l
}

TEST(SharedLogsTest, SuricataEveIsAllInternalButTheDnsName) {
  Sifter s{SiftOptions{}};
  ASSERT_TRUE(s.AddFile(kLogs + "suricata/zeus_eve.json").ok());
  EXPECT_EQ(s.files()[0].format, LogFormat::kEve);
  EXPECT_EQ(s.counts().lines, 869u);
  EXPECT_EQ(s.counts().malformed, 0u);
  EXPECT_EQ(s.counts().alerts, 656u);  // event_type "alert"
  // 14 addresses: RFC 1918, multicast, fe80::/10 and ff02::/16 - all internal.
  EXPECT_EQ(s.counts().internal, 14u);
  EXPECT_EQ(testing::Dump(s), "www.wireshark.org hostname dns 1 0\n");
}

TEST(SharedLogsTest, ModsecurityNativeGzip) {
  Sifter s{SiftOptions{}};
  ASSERT_TRUE(s.AddFile(kLogs + "modsecurity/modsec_audit.log.gz").ok());
  EXPECT_EQ(s.files()[0].format, LogFormat::kModsec);
  EXPECT_EQ(s.counts().malformed, 0u);
  EXPECT_EQ(s.counts().alerts, 295u);    // every transaction has H "Message:" lines
  EXPECT_TRUE(s.observables().empty());  // 192.168.x clients and hosts only
  // 3 client addresses; the server 192.168.210.12 (also in the Host headers) is one of them.
  EXPECT_EQ(s.counts().internal, 3u);
}

class SifterFileTest : public ::testing::Test {
 protected:
  std::string Path(const std::string& name) const { return dir_.Path(name); }
  test::TempDir dir_{"iocgrid-sift"};
};

std::string Lines(int n) {
  std::string text;
  for (int i = 0; i < n; ++i) {
    text += "81.2.69." + std::to_string(i % 200 + 1) +
            " - - [10/Oct/2023:13:55:36 +0000] \"GET / HTTP/1.1\" 200 1 \"-\" \"x\"\n";
  }
  return text;
}

void WriteGzip(const std::string& path, const std::string& text) {
  gzFile gz = gzopen(path.c_str(), "wb");
  ASSERT_NE(gz, nullptr);
  gzwrite(gz, text.data(), static_cast<unsigned>(text.size()));
  gzclose(gz);
}

TEST_F(SifterFileTest, MissingFileIsNotFound) {
  Sifter s{SiftOptions{}};
  Status st = s.AddFile(Path("nope.log"));
  EXPECT_EQ(st.code(), StatusCode::kNotFound);
  EXPECT_NE(st.message().find("nope.log"), std::string_view::npos);
}

TEST_F(SifterFileTest, TruncatedGzipSaysHowFarItGot) {
  std::string text = Lines(20000);
  WriteGzip(Path("a.log.gz"), text);
  std::string whole;
  {
    std::ifstream in(Path("a.log.gz"), std::ios::binary);
    whole.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  {
    std::ofstream out(Path("cut.log.gz"), std::ios::binary);
    out.write(whole.data(), static_cast<std::streamsize>(whole.size() / 2));
  }
  Sifter s{SiftOptions{}};
  ASSERT_TRUE(s.AddFile(Path("a.log.gz")).ok());
  EXPECT_EQ(s.counts().lines, 20000u);
  Sifter t{SiftOptions{}};
  Status st = t.AddFile(Path("cut.log.gz"));
  EXPECT_EQ(st.code(), StatusCode::kDataLoss);
  EXPECT_NE(st.message().find("truncated gzip"), std::string_view::npos) << st.message();
  EXPECT_NE(st.message().find("line(s)"), std::string_view::npos) << st.message();
  EXPECT_GT(t.counts().lines, 0u);
  EXPECT_LT(t.counts().lines, 20000u);
}

TEST_F(SifterFileTest, UndetectableFormatIsAnError) {
  std::ofstream(Path("x.txt")) << "hello\nworld\n";
  Sifter s{SiftOptions{}};
  EXPECT_EQ(s.AddFile(Path("x.txt")).code(), StatusCode::kInvalidArgument);
}

TEST_F(SifterFileTest, DirectoryIsAReadError) {
  Sifter s{SiftOptions{}};
  EXPECT_FALSE(s.AddFile(dir_.path()).ok());
}

}  // namespace
}  // namespace iocgrid::sift
