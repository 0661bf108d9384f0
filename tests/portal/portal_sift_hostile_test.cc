// POST /api/v1/sifts against hostile and careless uploads, over real loopback HTTP into the real
// server and portal: unauthenticated bodies, caps, truncated gzip, garbage, long lines, silence,
// wrong types and parameters, and the memory a large streamed upload costs.
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <random>

#include "tests/common/raw_http.h"
#include "tests/portal/sift_test_util.h"

namespace iocgrid::portal {
namespace {

using testutil::SendAll;

json ErrorBody(const std::string& answer) {
  size_t at = answer.find("\r\n\r\n");
  return json::parse(at == std::string::npos ? "" : answer.substr(at + 4), nullptr, false);
}

// Combined lines from `clients` distinct clients, generated on the fly; with `internal_share`
// of 10, nine in ten clients are private addresses (parsed and counted, never searched).
class LogGenerator {
 public:
  explicit LogGenerator(uint32_t clients, uint32_t internal_share = 0)
      : clients_(clients), internal_share_(internal_share) {}
  std::string Next(size_t bytes) {
    std::string out;
    out.reserve(bytes + 512);
    while (out.size() < bytes) {
      uint32_t c = n_++ % clients_;
      bool internal = internal_share_ != 0 && c % internal_share_ != 0;
      out +=
          Combined(std::string(internal ? "10." : "185.") + std::to_string(100 + c / 65536 % 100) +
                       "." + std::to_string(c / 256 % 256) + "." + std::to_string(c % 256),
                   "/catalog/item-" + std::to_string(n_) + "?ref=sift-memory-test",
                   "Mozilla/5.0 (sift memory test)");
    }
    return out;
  }

 private:
  uint32_t clients_;
  uint32_t internal_share_;
  uint64_t n_ = 0;
};

TEST_F(PortalSiftTest, UnauthenticatedHugeUploadIsRefusedBeforeItsBody) {
  long before = test::PeakRssKib();
  std::string head =
      "POST /api/v1/sifts HTTP/1.1\r\nHost: x\r\nContent-Type: application/octet-stream\r\n"
      "Content-Length: 524288000\r\n\r\n";
  int fd = testutil::ConnectLoopback(server_->port());
  ASSERT_GE(fd, 0);
  SendAll(fd, head);
  // Keep sending 32 MiB of the announced 500 MiB; the answer is already there.
  std::string mib(1 << 20, 'A');
  for (int i = 0; i < 32; ++i) SendAll(fd, mib);
  std::string answer = testutil::ReadUntilClosed(fd, 20);
  close(fd);
  EXPECT_NE(answer.find("403 Forbidden"), std::string::npos) << answer.substr(0, 300);
  EXPECT_EQ(ErrorBody(answer).value("url", ""), "/api/v1/sifts");
  // The same with chunked transfer encoding (no length announced).
  std::string chunked = testutil::RawExchange(
      server_->port(),
      "POST /api/v1/sifts HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n100000\r\n" +
          std::string(1 << 20, 'B'));
  EXPECT_NE(chunked.find("403 Forbidden"), std::string::npos) << chunked.substr(0, 300);
  EXPECT_LT(test::PeakRssKib() - before, 32 * 1024) << "the unauthenticated body was buffered";
  EXPECT_TRUE(json::parse(Call("GET", "/api/v1/sifts").body).empty());
}

TEST_F(PortalSiftTest, UploadOverTheCapIs413) {
  configure_ = [](PortalConfig& c) { c.max_sift_upload_bytes = 1 << 20; };
  OpenPortal();
  // Announced: refused on the head.
  std::string head = "POST /api/v1/sifts HTTP/1.1\r\nHost: x\r\nAuthorization: " + analyst_key_ +
                     "\r\nContent-Length: 3145728\r\n\r\n";
  std::string announced = testutil::RawExchange(server_->port(), head + std::string(4096, 'x'));
  EXPECT_NE(announced.find("413"), std::string::npos) << announced.substr(0, 300);
  json e = ErrorBody(announced);
  EXPECT_NE(e.value("message", "").find("1 MiB"), std::string::npos) << e.dump();
  EXPECT_EQ(e.value("url", ""), "/api/v1/sifts");
  EXPECT_TRUE(e.contains("name"));
  // Chunked, no length: cut when the cap is passed.
  LogGenerator gen(100);
  std::string body = gen.Next(3 << 20);
  std::string chunked = "POST /api/v1/sifts HTTP/1.1\r\nHost: x\r\nAuthorization: " + analyst_key_ +
                        "\r\nTransfer-Encoding: chunked\r\n\r\n";
  for (size_t at = 0; at < body.size(); at += 65536) {
    std::string piece = body.substr(at, 65536);
    char size[32];
    std::snprintf(size, sizeof size, "%zx\r\n", piece.size());
    chunked += size + piece + "\r\n";
  }
  chunked += "0\r\n\r\n";
  std::string cut = testutil::RawExchange(server_->port(), chunked);
  EXPECT_NE(cut.find("413"), std::string::npos) << cut.substr(0, 300);
  EXPECT_NE(ErrorBody(cut).value("message", "").find("max_sift_upload_mb"), std::string::npos);
  EXPECT_TRUE(json::parse(Call("GET", "/api/v1/sifts").body).empty());
  // Under the cap, the same portal takes it.
  EXPECT_EQ(Upload("", gen.Next(100000)).status, 201);
}

TEST_F(PortalSiftTest, TruncatedGzipIs400SayingHowFarItGot) {
  LogGenerator gen(50);
  std::string gz = Gzip(gen.Next(400000));
  auto r = Upload("", gz.substr(0, gz.size() / 2), "application/gzip");
  EXPECT_EQ(r.status, 400) << r.body;
  std::string message = json::parse(r.body).value("message", "");
  EXPECT_NE(message.find("truncated gzip"), std::string::npos) << message;
  EXPECT_NE(message.find(std::to_string(gz.size() / 2) + " byte(s) received"), std::string::npos)
      << message;
  EXPECT_NE(message.find("line(s) read"), std::string::npos) << message;
  // Corrupt data inside the stream.
  std::string corrupt = gz;
  for (size_t i = 100; i < 200; ++i) corrupt[i] = static_cast<char>(corrupt[i] ^ 0x5a);
  auto c = Upload("", corrupt, "application/gzip");
  EXPECT_EQ(c.status, 400) << c.body;
  EXPECT_NE(c.body.find("gzip"), std::string::npos) << c.body;
  EXPECT_TRUE(json::parse(Call("GET", "/api/v1/sifts").body).empty());
}

TEST_F(PortalSiftTest, BinaryGarbageAndInvalidUtf8) {
  std::mt19937 rng(9);
  std::string garbage(3 << 20, '\0');
  for (char& c : garbage) c = static_cast<char>(rng());
  // Refused within its first MiB (the format cannot be told, or nothing parses as the one
  // guessed), not read to its end.
  auto r = Upload("", garbage, "application/octet-stream");
  EXPECT_EQ(r.status, 400) << r.body.substr(0, 300);
  EXPECT_NE(r.body.find("first"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("?format="), std::string::npos) << r.body;
  // Small garbage under a forced format: no line parses, so no sift.
  auto forced = Upload("?format=combined", garbage.substr(0, 100000));
  EXPECT_EQ(forced.status, 400) << forced.body;
  EXPECT_NE(forced.body.find("parses as a combined log"), std::string::npos) << forced.body;
  EXPECT_TRUE(json::parse(Call("GET", "/api/v1/sifts").body).empty());
  // Invalid UTF-8 in a user agent and a path: parsed, counted, nothing breaks.
  std::string log = Combined("185.220.101.7", "/\xff\xfe\xc0\xaf", "bad \xc3\x28 agent") +
                    Combined("91.203.5.77", "/ok");
  json report = SiftOf(log);
  EXPECT_EQ(report["summary"]["parsed"], 2);
  EXPECT_EQ(report["summary"]["observables"], 2);
}

TEST_F(PortalSiftTest, LinesOver64KiBAreCutAndCounted) {
  std::string log =
      Combined("185.220.101.7", "/" + std::string(100000, 'a')) + Combined("91.203.5.77", "/short");
  json r = SiftOf(log);
  EXPECT_EQ(r["summary"]["cut"], 1) << r.dump();
  EXPECT_EQ(r["summary"]["lines"], 2);
  EXPECT_EQ(Classes(r)["91.203.5.77"], "threat");
}

TEST_F(PortalSiftTest, AnEmptyBodyIs400) {
  auto r = Upload("", "");
  EXPECT_EQ(r.status, 400) << r.body;
  EXPECT_NE(r.body.find("empty"), std::string::npos) << r.body;
}

TEST_F(PortalSiftTest, AClientThatStopsSendingIsCutAfterTheIdleTimeout) {
  configure_server_ = [](net::ServerOptions& o) { o.stream_idle_timeout = 1s; };
  OpenPortal();
  LogGenerator gen(10);
  int fd = testutil::ConnectLoopback(server_->port());
  ASSERT_GE(fd, 0);
  SendAll(fd, "POST /api/v1/sifts HTTP/1.1\r\nHost: x\r\nAuthorization: " + analyst_key_ +
                  "\r\nContent-Length: 10000000\r\n\r\n" + gen.Next(300000));
  // The upload is listed while it is open (polled: on a loaded machine the server may take a
  // while to read the head; the idle timeout only counts once the body stops).
  bool listed = false;
  for (int i = 0; i < 200 && !listed; ++i) {
    listed = !json::parse(Call("GET", "/api/v1/sifts").body).empty();
    if (!listed) std::this_thread::sleep_for(10ms);
  }
  EXPECT_TRUE(listed);
  // Then the silent client's connection is closed (a timed-out socket cannot be answered).
  auto start = std::chrono::steady_clock::now();
  std::string answer = testutil::ReadUntilClosed(fd, 20);
  close(fd);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 15s);
  EXPECT_EQ(answer.find("201"), std::string::npos) << answer.substr(0, 300);
  // Nothing is kept, and the upload's slot is given back: the server drops the upload right
  // after closing the socket, so allow it a moment.
  bool dropped = false;
  for (int i = 0; i < 200 && !dropped; ++i) {
    dropped = json::parse(Call("GET", "/api/v1/sifts").body).empty();
    if (!dropped) std::this_thread::sleep_for(10ms);
  }
  EXPECT_TRUE(dropped);
  EXPECT_EQ(Upload("", gen.Next(1000)).status, 201);
}

TEST_F(PortalSiftTest, WrongContentTypesAre415) {
  for (std::string type :
       {"multipart/form-data; boundary=x", "application/x-www-form-urlencoded", "image/png"}) {
    auto r = Upload("", Combined("185.220.101.7", "/"), type);
    EXPECT_EQ(r.status, 415) << type << " " << r.body;
    EXPECT_NE(r.body.find("Content-Type"), std::string::npos) << r.body;
  }
  net::ClientRequest req;
  req.method = "POST";
  req.url = Url("/api/v1/sifts");
  req.body = "x";
  req.headers = {
      {"Authorization", analyst_key_}, {"Content-Type", "text/plain"}, {"Content-Encoding", "br"}};
  auto br = net::Fetch(req);
  ASSERT_TRUE(br.ok());
  EXPECT_EQ(br->status, 415) << br->body;
}

TEST_F(PortalSiftTest, BadQueryParametersAre400NamingThem) {
  struct Case {
    std::string query;
    std::string named;
  };
  for (const Case& c : std::vector<Case>{{"?colour=red", "colour"},
                                         {"?format=combined&verbose=1", "verbose"},
                                         {"?format=xml", "format"},
                                         {"?format=eve&format=json", "format"},
                                         {"?fields=client,elbow", "fields"},
                                         {"?relations=near", "relations"},
                                         {"?members=nobody", "nobody"},
                                         {"?shared=yes", "shared"},
                                         {"?since=yesterday", "since"},
                                         {"?tlp=purple", "tlp"},
                                         {"?label=", "label"},
                                         {"?json_field=elbow=x", "json_field"}}) {
    auto r = Upload(c.query, Combined("185.220.101.7", "/"));
    EXPECT_EQ(r.status, 400) << c.query << " " << r.body;
    json e = json::parse(r.body, nullptr, false);
    ASSERT_TRUE(e.is_object()) << r.body;
    EXPECT_NE(e.value("message", "").find(c.named), std::string::npos) << r.body;
    EXPECT_EQ(e.value("url", ""), "/api/v1/sifts");
  }
  EXPECT_TRUE(json::parse(Call("GET", "/api/v1/sifts").body).empty());
}

TEST_F(PortalSiftTest, MoreDistinctObservablesThanASearchTakesIs413) {
  configure_ = [](PortalConfig& c) { c.max_indicators = 100; };
  OpenPortal();
  LogGenerator gen(1000);
  auto r = Upload("", gen.Next(1 << 20));
  EXPECT_EQ(r.status, 413) << r.body;
  EXPECT_NE(r.body.find("max_indicators"), std::string::npos) << r.body;
}

// A 200 MB log sent in 1 MiB pieces: the portal parses it as it arrives, so its memory grows
// with the distinct clients (20,000 here, 2,000 of them public and searched), not with the
// upload.
TEST_F(PortalSiftTest, A200MegabyteUploadKeepsMemoryBounded) {
  constexpr size_t kTotal = 200u << 20;
  LogGenerator gen(20000, 10);
  long before = test::PeakRssKib();
  int fd = testutil::ConnectLoopback(server_->port());
  ASSERT_GE(fd, 0);
  SendAll(fd, "POST /api/v1/sifts?label=big HTTP/1.1\r\nHost: x\r\nAuthorization: " + analyst_key_ +
                  "\r\nConnection: close\r\nTransfer-Encoding: chunked\r\n\r\n");
  size_t sent = 0;
  while (sent < kTotal) {
    std::string piece = gen.Next(1 << 20);
    char size[32];
    std::snprintf(size, sizeof size, "%zx\r\n", piece.size());
    SendAll(fd, size);
    SendAll(fd, piece);
    SendAll(fd, "\r\n");
    sent += piece.size();
  }
  SendAll(fd, "0\r\n\r\n");
  std::string answer = testutil::ReadUntilClosed(fd, 120);
  close(fd);
  ASSERT_NE(answer.find("201 Created"), std::string::npos) << answer.substr(0, 400);
  json created = ErrorBody(answer);
  json r = WaitForSift(created.value("id", ""));
  long growth_mb = (test::PeakRssKib() - before) / 1024;
  std::printf("[ sift memory ] %zu MB streamed: peak RSS grew by %ld MB\n", sent >> 20, growth_mb);
  RecordProperty("upload_mb", static_cast<int>(sent >> 20));
  RecordProperty("rss_growth_mb", static_cast<int>(growth_mb));
  EXPECT_LT(growth_mb, 64) << "memory grew with the upload, not with its distinct clients";
  EXPECT_EQ(r["status"], "done");
  EXPECT_EQ(r["summary"]["observables"], 2000);
  EXPECT_EQ(r["summary"]["internal"], 18000);
  EXPECT_GT(r["summary"]["lines"].get<uint64_t>(), 1000000u);
}

}  // namespace
}  // namespace iocgrid::portal
