// The server against hostile clients, on real loopback sockets: bodies before authentication,
// idle connections (slowloris), event streams that would park workers.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <future>
#include <string>
#include <thread>
#include <vector>

#include "net/http_client.h"
#include "net/http_error.h"
#include "net/http_server.h"
#include "tests/common/raw_http.h"

namespace iocgrid::net {
namespace {

using namespace std::chrono_literals;

std::string Url(const HttpServer& s, const std::string& path) {
  return "http://127.0.0.1:" + std::to_string(s.port()) + path;
}

int Connect(uint16_t port) { return testutil::ConnectLoopback(port); }

using testutil::SendAll;

// True when the peer closed the connection within `timeout` (read returns 0 or a reset).
bool ClosedByPeer(int fd, std::chrono::seconds timeout) {
  timeval tv{static_cast<time_t>(timeout.count()), 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  char buf[256];
  ssize_t n = read(fd, buf, sizeof(buf));
  return n == 0 || (n < 0 && errno == ECONNRESET);
}

struct Counting {
  std::atomic<int> handled{0};
  std::atomic<size_t> largest_body{0};
};

TEST(HttpServerHostileTest, UnauthenticatedBodyIsRefusedOnItsHeaders) {
  Counting c;
  ServerOptions options;
  options.admit = [](const Request& head, size_t*) -> std::optional<Response> {
    if (head.Header("authorization") != "good") return ErrorResponse(403, "no key", head.path);
    return std::nullopt;
  };
  auto server = HttpServer::Start(options, [&](Request& r) {
    c.handled++;
    c.largest_body = std::max(c.largest_body.load(), r.body.size());
    return Response{};
  });
  ASSERT_TRUE(server.ok());
  // Announces 250 MB and sends a little: the answer comes on the headers alone.
  int fd = Connect((*server)->port());
  ASSERT_GE(fd, 0);
  SendAll(fd, "POST /events/add HTTP/1.1\r\nHost: x\r\nContent-Length: 262144000\r\n\r\n");
  SendAll(fd, std::string(65536, 'x'));
  std::string answer = testutil::ReadUntilClosed(fd, 5);
  close(fd);
  EXPECT_NE(answer.find("403 Forbidden"), std::string::npos) << answer;
  EXPECT_NE(answer.find("\"url\":\"/events/add\""), std::string::npos) << answer;
  EXPECT_EQ(c.handled.load(), 0);

  // With the key the body arrives whole.
  ClientRequest ok;
  ok.method = "POST";
  ok.url = Url(**server, "/p");
  ok.headers = {{"Authorization", "good"}};
  ok.body = std::string(100000, 'y');
  auto resp = Fetch(ok);
  ASSERT_TRUE(resp.ok()) << resp.status().ToString();
  EXPECT_EQ(resp->status, 200);
  EXPECT_EQ(c.largest_body.load(), 100000u);
}

TEST(HttpServerHostileTest, AdmitCanLowerTheBodyLimitAnd413NamesThePath) {
  ServerOptions options;
  options.admit = [](const Request&, size_t* limit) -> std::optional<Response> {
    *limit = 1000;
    return std::nullopt;
  };
  auto server = HttpServer::Start(options, [](Request&) { return Response{}; });
  ASSERT_TRUE(server.ok());
  ClientRequest req;
  req.method = "POST";
  req.url = Url(**server, "/attributes/restSearch");
  req.body = std::string(5000, 'x');
  auto resp = Fetch(req);
  ASSERT_TRUE(resp.ok()) << resp.status().ToString();
  EXPECT_EQ(resp->status, 413);
  EXPECT_NE(resp->body.find("\"url\":\"/attributes/restSearch\""), std::string::npos) << resp->body;
}

TEST(HttpServerHostileTest, GlobalBodyCap413NamesThePathToo) {
  ServerOptions options;
  options.body_limit_bytes = 1000;
  auto server = HttpServer::Start(options, [](Request&) { return Response{}; });
  ASSERT_TRUE(server.ok());
  int fd = Connect((*server)->port());
  SendAll(fd, "POST /grid/v1/match HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\n\r\n");
  std::string answer = testutil::ReadUntilClosed(fd, 5);
  close(fd);
  EXPECT_NE(answer.find("413"), std::string::npos) << answer;
  EXPECT_NE(answer.find("\"url\":\"/grid/v1/match\""), std::string::npos) << answer;
}

TEST(HttpServerHostileTest, TwoThousandIdleConnectionsDoNotLockOutRealClients) {
  auto server = HttpServer::Start(ServerOptions{}, [](Request& r) {
    Response resp;
    resp.body = "ok " + r.path;
    return resp;
  });
  ASSERT_TRUE(server.ok());
  std::vector<int> idle;
  for (int i = 0; i < 2000; ++i) {
    int fd = Connect((*server)->port());
    ASSERT_GE(fd, 0) << "connection " << i;
    if (i % 2 == 0) SendAll(fd, "GET / HTTP/1.1\r\nHost: x\r\n");  // half a request head
    idle.push_back(fd);
  }
  for (int i = 0; i < 20; ++i) {
    ClientRequest req;
    req.url = Url(**server, "/real/" + std::to_string(i));
    req.timeout = 10s;
    auto resp = Fetch(req);
    ASSERT_TRUE(resp.ok()) << resp.status().ToString();
    EXPECT_EQ(resp->status, 200) << resp->body;
    EXPECT_EQ(resp->body, "ok /real/" + std::to_string(i));
  }
  // The oldest idle connections were closed to make room (per-address budget).
  EXPECT_TRUE(ClosedByPeer(idle.front(), 2s));
  for (int fd : idle) close(fd);
}

TEST(HttpServerHostileTest, HeaderTimeoutClosesSlowHeads) {
  ServerOptions options;
  options.header_timeout = 300ms;
  auto server = HttpServer::Start(options, [](Request&) { return Response{}; });
  ASSERT_TRUE(server.ok());
  int fd = Connect((*server)->port());
  SendAll(fd, "GET / HTTP/1.1\r\n");
  std::this_thread::sleep_for(100ms);
  SendAll(fd, "X-A: 1\r\n");  // trickling does not extend the deadline
  std::this_thread::sleep_for(100ms);
  SendAll(fd, "X-B: 1\r\n");
  std::string answer = testutil::ReadUntilClosed(fd, 5);
  close(fd);
  EXPECT_TRUE(answer.empty()) << answer;
}

TEST(HttpServerHostileTest, OpenStreamsDoNotHoldWorkers) {
  ServerOptions options;
  options.worker_threads = 1;
  options.stream_poll = 20ms;
  std::atomic<bool> release{false};
  auto server = HttpServer::Start(options, [&](Request& r) {
    Response resp;
    if (r.path == "/events") {
      resp.content_type = "text/event-stream";
      resp.stream = [&release](std::string* chunk) {
        if (release.load()) {
          *chunk = "event: done\ndata: {}\n\n";
          return false;
        }
        return true;  // nothing yet
      };
      return resp;
    }
    resp.body = "api";
    return resp;
  });
  ASSERT_TRUE(server.ok());
  // 500 open event streams on raw sockets (a browser tab each).
  std::vector<int> streams;
  for (int i = 0; i < 500; ++i) {
    int fd = Connect((*server)->port());
    ASSERT_GE(fd, 0);
    SendAll(fd, "GET /events HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    streams.push_back(fd);
  }
  // Every stream gets its headers at once, though the one worker is shared by all of them.
  for (int fd : streams) {
    timeval tv{10, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    char buf[512];
    ssize_t n = read(fd, buf, sizeof(buf));
    ASSERT_GT(n, 0);
    EXPECT_NE(std::string(buf, static_cast<size_t>(n)).find("200 OK"), std::string::npos);
  }
  // One worker, 500 open streams: the API still answers.
  for (int i = 0; i < 5; ++i) {
    ClientRequest req;
    req.url = Url(**server, "/api");
    req.timeout = 10s;
    auto resp = Fetch(req);
    ASSERT_TRUE(resp.ok()) << resp.status().ToString();
    EXPECT_EQ(resp->body, "api");
  }
  release = true;
  for (int fd : streams) {
    std::string rest = testutil::ReadUntilClosed(fd, 10);
    EXPECT_NE(rest.find("event: done"), std::string::npos) << rest;
    close(fd);
  }
}

TEST(HttpServerHostileTest, PageRequestsWithBodiesCanBeRefusedByAdmit) {
  ServerOptions options;
  options.admit = [](const Request& head, size_t*) -> std::optional<Response> {
    if (head.method != "GET") return ErrorResponse(405, "Method Not Allowed", head.path);
    return std::nullopt;
  };
  auto server = HttpServer::Start(options, [](Request&) { return Response{}; });
  ASSERT_TRUE(server.ok());
  ClientRequest req;
  req.method = "PUT";
  req.url = Url(**server, "/index.html");
  req.body = std::string(3 * 1024 * 1024, 'x');
  auto resp = Fetch(req);
  ASSERT_TRUE(resp.ok()) << resp.status().ToString();
  EXPECT_EQ(resp->status, 405);
}

}  // namespace
}  // namespace iocgrid::net
