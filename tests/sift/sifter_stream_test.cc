// Sifter's streaming reader (BeginStream/WriteStream/EndStream, the portal's uploads): the same
// result as AddFile for the shared logs, plain and gzip, however the stream is cut into pieces;
// truncated and corrupt gzip say how far they got; a gzip bomb stops at its cap.
#include <gtest/gtest.h>
#include <zlib.h>

#include <fstream>
#include <sstream>
#include <string>

#include "sift/sifter.h"
#include "tests/common/gzip.h"
#include "tests/sift/sift_test_util.h"

namespace iocgrid::sift {
namespace {

const std::string kLogs = std::string(IOCGRID_SHARED_DATA_DIR) + "/E_logs/";

std::string Read(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Streams `data` in pieces of `piece` bytes; the status of EndStream (or the first error).
Status Stream(Sifter* s, const std::string& data, size_t piece, uint64_t cap = 0) {
  s->BeginStream("upload", cap);
  for (size_t at = 0; at < data.size(); at += piece) {
    IOCGRID_RETURN_IF_ERROR(s->WriteStream(std::string_view(data).substr(at, piece)));
  }
  return s->EndStream();
}

TEST(SifterStreamTest, SharedLogsGiveWhatAddFileGivesInAnyPieces) {
  for (const char* file :
       {"apache/secrepo_access-2018-12-15.log", "apache/elastic_examples_apache_logs.log.gz",
        "suricata/zeus_eve.json", "modsecurity/modsec_audit.log.gz"}) {
    Sifter whole{SiftOptions{}};
    ASSERT_TRUE(whole.AddFile(kLogs + file).ok()) << file;
    std::string data = Read(kLogs + file);
    for (size_t piece : {size_t{1}, size_t{7}, size_t{4096}, size_t{1} << 20}) {
      if (piece == 1 && data.size() > 300000) continue;  // byte by byte: the small ones only
      Sifter streamed{SiftOptions{}};
      ASSERT_TRUE(Stream(&streamed, data, piece).ok()) << file << " " << piece;
      EXPECT_EQ(testing::Dump(streamed), testing::Dump(whole)) << file << " " << piece;
      EXPECT_EQ(streamed.counts().lines, whole.counts().lines) << file;
      EXPECT_EQ(streamed.counts().alerts, whole.counts().alerts) << file;
      EXPECT_EQ(streamed.files()[0].format, whole.files()[0].format) << file;
      EXPECT_EQ(streamed.stream_bytes_in(), data.size());
    }
  }
}

TEST(SifterStreamTest, ConcatenatedGzipMembersAreOneLog) {
  std::string a = "1.2.3.4 - - [01/Mar/2024:10:00:00 +0000] \"GET / HTTP/1.1\" 200 1 \"-\" \"x\"\n";
  std::string b = "5.6.7.8 - - [01/Mar/2024:10:00:01 +0000] \"GET / HTTP/1.1\" 200 1 \"-\" \"x\"\n";
  Sifter s{SiftOptions{}};
  ASSERT_TRUE(
      Stream(&s, test::Gzip(a, Z_BEST_COMPRESSION) + test::Gzip(b, Z_BEST_COMPRESSION), 3).ok());
  EXPECT_EQ(s.counts().lines, 2u);
  EXPECT_EQ(s.observable_count(), 2u);
}

TEST(SifterStreamTest, TruncatedGzipSaysHowFarItGot) {
  std::string log;
  for (int i = 0; i < 20000; ++i) {
    log += "81.2.69." + std::to_string(i % 200) +
           " - - [01/Mar/2024:10:00:00 +0000] \"GET /x HTTP/1.1\" 200 1 \"-\" \"ua\"\n";
  }
  std::string gz = test::Gzip(log, Z_BEST_COMPRESSION).substr(0, 3000);
  Sifter s{SiftOptions{}};
  Status st = Stream(&s, gz, 1000);
  EXPECT_EQ(st.code(), StatusCode::kDataLoss);
  EXPECT_NE(st.message().find("truncated gzip stream after 3000 byte(s) received"),
            std::string_view::npos)
      << st.message();
  EXPECT_NE(st.message().find(std::to_string(s.counts().lines) + " line(s) read"),
            std::string_view::npos);
  EXPECT_GT(s.counts().lines, 0u) << "what was read stays counted";
  // Corrupt deflate data in the middle.
  std::string corrupt = test::Gzip(log, Z_BEST_COMPRESSION);
  for (size_t i = 50; i < 80; ++i) corrupt[i] = static_cast<char>(~corrupt[i]);
  Sifter c{SiftOptions{}};
  Status bad = Stream(&c, corrupt, 4096);
  EXPECT_EQ(bad.code(), StatusCode::kDataLoss);
  EXPECT_NE(bad.message().find("corrupt gzip data"), std::string_view::npos) << bad.message();
  EXPECT_EQ(c.WriteStream("more").code(), StatusCode::kDataLoss) << "the stream is over";
}

TEST(SifterStreamTest, AGzipBombStopsAtItsCap) {
  std::string zeros(16 << 20, '\n');  // 16 MiB of empty lines compress to ~16 KiB
  std::string gz = test::Gzip(zeros, Z_BEST_COMPRESSION);
  Sifter s{SiftOptions{}};
  Status st = Stream(&s, gz, 65536, 1 << 20);
  EXPECT_EQ(st.code(), StatusCode::kResourceExhausted) << st.ToString();
  EXPECT_NE(st.message().find("inflates to more than 1048576 bytes"), std::string_view::npos);
}

TEST(SifterStreamTest, EmptyOneByteAndUndetectableStreams) {
  Sifter empty{SiftOptions{}};
  EXPECT_TRUE(Stream(&empty, "", 10).ok());
  EXPECT_EQ(empty.counts().lines, 0u);
  Sifter one{SiftOptions{}};
  EXPECT_EQ(Stream(&one, "\x1f", 10).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(one.counts().lines, 1u);
  Sifter garbage{SiftOptions{}};
  Status st = Stream(&garbage, "hello\nworld\n", 5);
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(st.message().find("cannot tell the log format"), std::string_view::npos);
}

}  // namespace
}  // namespace iocgrid::sift
