// A file read by two threads (sifter_split.cc) gives exactly what one pass gives: the same
// observables in the same order with the same counters, counts, malformed examples (line numbers
// of the second half shifted), files and line groups. Checked on hand-made logs whose halves
// share clients, hold internal and invalid values, malformed, blank and over-long lines, alerts
// and lines with several observables, in each splittable format; and that other formats, gzip
// and annotations are read in one pass.
#include <gtest/gtest.h>
#include <zlib.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "sift/sifter.h"
#include "tests/common/gzip.h"
#include "tests/common/temp_dir.h"

namespace iocgrid::sift {
namespace {

std::string Ip(std::mt19937& rng, int clients) {
  const int c = static_cast<int>(rng() % static_cast<unsigned>(clients));
  return "81." + std::to_string(c / 250) + "." + std::to_string(c % 250) + ".7";
}

std::string CombinedLog(int lines) {
  std::mt19937 rng(7);
  std::string out;
  for (int i = 0; i < lines; ++i) {
    const int kind = static_cast<int>(rng() % 20);
    const std::string ts = "[15/Dec/2023:" + std::to_string(10 + i % 10) + ":0" +
                           std::to_string(i % 10) + ":00 +0100]";
    if (kind == 0) {
      out += "garbage line " + std::to_string(i) + "\n";  // malformed
    } else if (kind == 1) {
      out += "\n";  // blank
    } else if (kind == 2) {
      out += "10.1.2." + std::to_string(i % 200) + " - - " + ts +
             " \"GET / HTTP/1.1\" 200 1 \"-\" \"curl/8.4\"\n";
    } else if (kind == 3) {
      out += "unknown-" + std::to_string(i % 50) + " - - " + ts +
             " \"GET / HTTP/1.1\" 200 1 \"-\" \"curl/8.4\"\n";
    } else if (kind == 4) {
      // vhost + client + absolute URL: a line with several observables
      out += "shop" + std::to_string(i % 7) + ".example.com " + Ip(rng, 3000) + " - - " + ts +
             " \"GET http://evil" + std::to_string(i % 11) +
             ".example.net/x HTTP/1.1\" 200 1 \"-\" \"curl/8.4\"\n";
    } else if (kind == 5) {
      out += Ip(rng, 3000) + " - - " + ts + " \"GET /" + std::string(300, 'a') +
             " HTTP/1.1\" 200 1 \"-\" \"curl/8.4\"\n";
    } else {
      out += Ip(rng, 3000) + " - - " + ts +
             " \"GET /index.html HTTP/1.1\" 200 512 \"-\" \"curl/8.4\"\n";
    }
  }
  return out;
}

std::string EveLog(int lines) {
  std::mt19937 rng(11);
  std::string out;
  for (int i = 0; i < lines; ++i) {
    const std::string src = Ip(rng, 2000);
    if (i % 9 == 0) {
      out += "{\"timestamp\":\"2023-12-15T10:00:0" + std::to_string(i % 10) +
             ".000000+0000\",\"event_type\":\"alert\",\"src_ip\":\"" + src +
             "\",\"dest_ip\":\"192.168.1.2\",\"alert\":{\"signature\":\"x\"}}\n";
    } else if (i % 13 == 0) {
      out +=
          "{\"timestamp\":\"2023-12-15T10:00:00.000000+0000\",\"event_type\":\"dns\","
          "\"src_ip\":\"" +
          src + "\",\"dest_ip\":\"8.8.8.8\",\"dns\":{\"rrname\":\"host" + std::to_string(i % 17) +
          ".example.org\"}}\n";
    } else if (i % 31 == 0) {
      out += "{not json\n";
    } else {
      out +=
          "{\"timestamp\":\"2023-12-15T11:00:00.000000+0000\",\"event_type\":\"flow\","
          "\"src_ip\":\"" +
          src + "\",\"dest_ip\":\"" + Ip(rng, 50) + "\"}\n";
    }
  }
  return out;
}

// Everything a Sifter reports, as text.
std::string Describe(const Sifter& s) {
  std::string out;
  for (const Observable& o : s.observables()) {
    out += o.value + " " + std::string(core::TypeName(o.type)) + " " +
           std::to_string(static_cast<int>(o.field)) + " " + std::to_string(o.fields) + " " +
           std::to_string(o.lines) + " " + std::to_string(o.first_seen) + " " +
           std::to_string(o.last_seen) + " " + std::to_string(o.alerts) + "\n";
  }
  const SiftCounts& c = s.counts();
  out += "counts " + std::to_string(c.lines) + " " + std::to_string(c.parsed) + " " +
         std::to_string(c.malformed) + " " + std::to_string(c.cut) + " " +
         std::to_string(c.internal) + " " + std::to_string(c.invalid_values) + " " +
         std::to_string(c.alerts) + "\n";
  for (const MalformedLine& m : s.malformed_examples()) {
    out += "malformed " + std::to_string(m.line) + " " + m.reason + "\n";
  }
  for (const FileStats& f : s.files()) {
    out += "file " + std::string(LogFormatName(f.format)) + " " + std::to_string(f.lines) + " " +
           std::to_string(f.alerts) + "\n";
  }
  std::map<std::vector<uint32_t>, uint64_t> groups;
  EXPECT_TRUE(s.ForEachLineGroup([&](std::span<const uint32_t> ids, uint64_t n) {
                 groups[std::vector<uint32_t>(ids.begin(), ids.end())] += n;
               }).ok());
  for (const auto& [ids, n] : groups) {
    out += "group";
    for (uint32_t id : ids) out += " " + std::to_string(id);
    out += " x" + std::to_string(n) + "\n";
  }
  return out;
}

void ExpectSameAsOnePass(const std::string& log, LogFormat format) {
  test::TempDir dir;
  const std::string path = dir.path() + "/log";
  std::ofstream(path, std::ios::binary) << log;
  SiftOptions one;
  one.max_line_bytes = 200;  // the 300-byte paths are cut
  one.max_malformed_examples = 1000;
  Sifter serial(one);
  ASSERT_TRUE(serial.AddContent(path, log).ok());
  SiftOptions two = one;
  two.split_min_bytes = 1;
  Sifter split(two);
  ASSERT_TRUE(split.AddFile(path).ok());
  ASSERT_EQ(split.files().size(), 1u);
  EXPECT_TRUE(split.files()[0].split);
  EXPECT_EQ(split.files()[0].format, format);
  EXPECT_FALSE(serial.files()[0].split);
  EXPECT_EQ(Describe(split), Describe(serial));
  EXPECT_GT(serial.counts().malformed, 0u);
  EXPECT_GT(serial.observables().size(), 100u);
}

TEST(SifterSplitTest, CombinedLogSameAsOnePass) {
  const std::string log = CombinedLog(20000);
  ExpectSameAsOnePass(log, LogFormat::kCombined);
}

TEST(SifterSplitTest, EveLogSameAsOnePass) { ExpectSameAsOnePass(EveLog(20000), LogFormat::kEve); }

TEST(SifterSplitTest, OtherFormatsGzipAndAnnotationsReadInOnePass) {
  test::TempDir dir;
  const std::string zeek = dir.path() + "/conn.log";
  std::ofstream(zeek)
      << "#separator \\x09\n#fields\tts\tid.orig_h\tid.orig_p\tid.resp_h\n"
         "1702634400.0\t81.2.3.4\t5\t82.1.1.1\n1702634401.0\t81.2.3.5\t5\t82.1.1.1\n";
  SiftOptions options;
  options.split_min_bytes = 1;
  Sifter a(options);
  ASSERT_TRUE(a.AddFile(zeek).ok());
  EXPECT_FALSE(a.files()[0].split);
  EXPECT_EQ(a.files()[0].format, LogFormat::kZeek);

  const std::string gz = dir.path() + "/access.log.gz";
  std::ofstream(gz, std::ios::binary) << test::Gzip(CombinedLog(2000));
  Sifter b(options);
  ASSERT_TRUE(b.AddFile(gz).ok());
  EXPECT_FALSE(b.files()[0].split);
  EXPECT_EQ(b.counts().lines, 2000u);

  const std::string plain = dir.path() + "/access.log";
  std::ofstream(plain, std::ios::binary) << CombinedLog(2000);
  options.annotate = true;
  Sifter c(options);
  ASSERT_TRUE(c.AddFile(plain).ok());
  EXPECT_FALSE(c.files()[0].split);
  uint64_t replayed = 0;
  ASSERT_TRUE(c.ForEachLine([&](size_t, uint64_t line, std::span<const uint32_t>) {
                 EXPECT_EQ(line, ++replayed);
               }).ok());
  EXPECT_EQ(replayed, 2000u);
}

}  // namespace
}  // namespace iocgrid::sift
