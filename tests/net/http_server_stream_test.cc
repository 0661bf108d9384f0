// Streamed request bodies (ServerOptions::stream_body, net::BodySink) on real loopback sockets:
// pieces arrive in order and bounded, the sink's Finish answers, chunked bodies, caps, refusals
// on the head, silence, and keep-alive after a streamed request.
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <string>
#include <thread>

#include "net/http_client.h"
#include "net/http_error.h"
#include "net/http_server.h"
#include "tests/common/raw_http.h"

namespace iocgrid::net {
namespace {

using namespace std::chrono_literals;

// What the sinks saw, across requests.
struct Seen {
  std::mutex mu;
  std::string body;
  size_t pieces = 0;
  size_t largest = 0;
  std::string finish_status;
  std::atomic<int> destroyed_unfinished{0};
};

class RecordingSink final : public BodySink {
 public:
  RecordingSink(Seen* seen, uint64_t max) : BodySink(max), seen_(seen) {}
  ~RecordingSink() override {
    if (!finished_) seen_->destroyed_unfinished++;
  }
  Status Write(std::string_view piece) override {
    std::lock_guard<std::mutex> lock(seen_->mu);
    seen_->body.append(piece);
    ++seen_->pieces;
    seen_->largest = std::max(seen_->largest, piece.size());
    if (piece.find("STOP") != std::string_view::npos) return InvalidArgumentError("told to stop");
    return Status::Ok();
  }
  Response Finish(const Request& head, Status status) override {
    finished_ = true;
    std::lock_guard<std::mutex> lock(seen_->mu);
    seen_->finish_status = status.ok() ? "ok" : std::string(status.message());
    if (!status.ok()) return ErrorResponse(status, head.path);
    Response r;
    r.status = 201;
    r.body = std::to_string(seen_->body.size());
    return r;
  }

 private:
  Seen* seen_;
  bool finished_ = false;
};

std::unique_ptr<HttpServer> StartStreaming(Seen* seen, uint64_t max,
                                           std::chrono::milliseconds idle = 30000ms) {
  ServerOptions options;
  options.body_limit_bytes = 1024;  // a buffered body is small; the stream's cap is the sink's
  options.stream_idle_timeout = idle;
  options.stream_body = [seen, max](const Request& head) {
    BodyStream s;
    if (head.path == "/refuse") {
      s.refusal = ErrorResponse(400, "refused on the head", head.path);
    } else if (head.path == "/upload") {
      s.sink = std::make_unique<RecordingSink>(seen, max);
    }
    return s;
  };
  auto server = HttpServer::Start(options, [](Request& r) {
    Response resp;
    resp.body = "handled " + std::to_string(r.body.size());
    return resp;
  });
  EXPECT_TRUE(server.ok());
  return std::move(server).value();
}

std::string Post(const HttpServer& s, const std::string& path, const std::string& body) {
  ClientRequest req;
  req.method = "POST";
  req.url = "http://127.0.0.1:" + std::to_string(s.port()) + path;
  req.body = body;
  auto r = Fetch(req);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? std::to_string(r->status) + " " + r->body : "";
}

TEST(HttpServerStreamTest, BodyArrivesInBoundedPiecesInOrder) {
  Seen seen;
  auto server = StartStreaming(&seen, 64 << 20);
  std::string body;
  for (int i = 0; body.size() < (5 << 20); ++i) body += "line " + std::to_string(i) + "\n";
  EXPECT_EQ(Post(*server, "/upload", body), "201 " + std::to_string(body.size()));
  EXPECT_EQ(seen.body, body);
  EXPECT_GT(seen.pieces, 10u);
  EXPECT_LE(seen.largest, 256u * 1024);
  EXPECT_EQ(seen.finish_status, "ok");
  // Other routes still read their (small) bodies whole.
  EXPECT_EQ(Post(*server, "/other", "abc"), "200 handled 3");
}

TEST(HttpServerStreamTest, ChunkedBodiesAndKeepAlive) {
  Seen seen;
  auto server = StartStreaming(&seen, 1 << 20);
  std::string req =
      "POST /upload HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n"
      "6\r\n world\r\n0\r\n\r\n"
      "GET /after HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
  std::string answer = testutil::RawExchange(server->port(), req);
  EXPECT_EQ(seen.body, "hello world");
  EXPECT_NE(answer.find("201 Created"), std::string::npos) << answer;
  EXPECT_NE(answer.find("handled 0"), std::string::npos) << "the connection served again";
}

TEST(HttpServerStreamTest, TheSinksCapReplacesTheBodyLimit) {
  Seen seen;
  auto server = StartStreaming(&seen, 100000);
  // Over the (small) buffered limit but under the sink's cap: streamed.
  EXPECT_EQ(Post(*server, "/upload", std::string(50000, 'a')), "201 50000");
  // Announced over the cap: refused before the body, and Finish says why.
  std::string announced = testutil::RawExchange(
      server->port(), "POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 200000\r\n\r\n" +
                          std::string(1000, 'b'));
  EXPECT_NE(announced.find("429"), std::string::npos) << announced;  // kResourceExhausted
  EXPECT_NE(seen.finish_status.find("larger than 100000"), std::string::npos);
  EXPECT_EQ(seen.body.size(), 50000u) << "nothing of the refused body reached the sink";
  // Chunked past the cap: cut there.
  std::string chunked = "POST /upload HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n";
  for (int i = 0; i < 30; ++i) chunked += "2710\r\n" + std::string(10000, 'c') + "\r\n";
  chunked += "0\r\n\r\n";
  std::string cut = testutil::RawExchange(server->port(), chunked);
  EXPECT_NE(cut.find("larger than 100000"), std::string::npos) << cut.substr(0, 300);
  EXPECT_LE(seen.body.size(), 50000u + 100000u);
}

TEST(HttpServerStreamTest, RefusalOnTheHeadAndAWriteErrorStopTheUpload) {
  Seen seen;
  auto server = StartStreaming(&seen, 64 << 20);
  EXPECT_EQ(Post(*server, "/refuse", std::string(10000, 'a')).substr(0, 3), "400");
  EXPECT_TRUE(seen.body.empty());
  std::string body = std::string(300000, 'a') + "STOP" + std::string(3 << 20, 'z');
  std::string r = Post(*server, "/upload", body);
  EXPECT_EQ(r.substr(0, 3), "400") << r;
  EXPECT_NE(r.find("told to stop"), std::string::npos) << r;
  EXPECT_LT(seen.body.size(), body.size()) << "reading stopped at the error";
}

TEST(HttpServerStreamTest, ASilentClientIsCutAndTheSinkFinishes) {
  Seen seen;
  auto server = StartStreaming(&seen, 64 << 20, 500ms);
  int fd = testutil::ConnectLoopback(server->port());
  ASSERT_GE(fd, 0);
  std::string head = "POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\n\r\nabc";
  ASSERT_EQ(send(fd, head.data(), head.size(), MSG_NOSIGNAL), static_cast<ssize_t>(head.size()));
  timeval tv{10, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  std::string answer;
  char buf[4096];
  ssize_t n;
  while ((n = read(fd, buf, sizeof buf)) > 0) answer.append(buf, static_cast<size_t>(n));
  close(fd);
  // Beast closes a timed-out socket: no answer, but the sink is told why.
  EXPECT_EQ(answer.find("201"), std::string::npos) << answer;
  for (int i = 0; i < 200; ++i) {
    {
      std::lock_guard<std::mutex> lock(seen.mu);
      if (!seen.finish_status.empty()) break;
    }
    std::this_thread::sleep_for(10ms);
  }
  std::lock_guard<std::mutex> lock(seen.mu);
  EXPECT_NE(seen.finish_status.find("sent nothing"), std::string::npos) << seen.finish_status;
  EXPECT_EQ(seen.body, "abc") << "what arrived before the silence was written";
}

TEST(HttpServerStreamTest, AClientThatHangsUpMidBodyFinishesWithDataLoss) {
  Seen seen;
  auto server = StartStreaming(&seen, 64 << 20);
  int fd = testutil::ConnectLoopback(server->port());
  ASSERT_GE(fd, 0);
  std::string head = "POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\n\r\n" +
                     std::string(5000, 'q');
  ASSERT_EQ(send(fd, head.data(), head.size(), MSG_NOSIGNAL), static_cast<ssize_t>(head.size()));
  close(fd);
  for (int i = 0; i < 200; ++i) {
    {
      std::lock_guard<std::mutex> lock(seen.mu);
      if (!seen.finish_status.empty()) break;
    }
    std::this_thread::sleep_for(10ms);
  }
  std::lock_guard<std::mutex> lock(seen.mu);
  EXPECT_NE(seen.finish_status.find("connection closed after 5000"), std::string::npos)
      << seen.finish_status;
  EXPECT_EQ(seen.destroyed_unfinished.load(), 0);
}

}  // namespace
}  // namespace iocgrid::net
