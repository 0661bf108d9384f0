#include "net/http_server.h"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <future>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "net/http_client.h"
#include "net/http_error.h"
#include "tests/common/temp_dir.h"

namespace iocgrid::net {
namespace {

using namespace std::chrono_literals;

std::string Url(const HttpServer& s, const std::string& path, const char* scheme = "http") {
  return std::string(scheme) + "://127.0.0.1:" + std::to_string(s.port()) + path;
}

Response Echo(Request& r) {
  if (r.path == "/slow") std::this_thread::sleep_for(500ms);
  if (r.path == "/stream") {
    auto n = std::make_shared<int>(0);
    Response resp;
    resp.content_type = "application/x-ndjson";
    resp.stream = [n](std::string* chunk) {
      *chunk = "{\"n\":" + std::to_string((*n)++) + "}\n";
      return *n < 1000;
    };
    return resp;
  }
  if (r.path == "/throw") throw std::runtime_error("boom");
  Response resp;
  resp.body = r.method + " " + r.path + " " + std::to_string(r.body.size()) + " " +
              std::string(r.Header("x-test"));
  return resp;
}

std::unique_ptr<HttpServer> StartServer(ServerOptions options = {}) {
  auto server = HttpServer::Start(options, Echo);
  EXPECT_TRUE(server.ok()) << server.status().ToString();
  return std::move(server).value();
}

TEST(HttpServerTest, ServesRequestsOnAnEphemeralLoopbackPort) {
  auto server = StartServer();
  ASSERT_NE(server->port(), 0);
  ClientRequest req;
  req.url = Url(*server, "/hello");
  req.headers = {{"X-Test", "yes"}};
  auto resp = Fetch(req);
  ASSERT_TRUE(resp.ok()) << resp.status().ToString();
  EXPECT_EQ(resp->status, 200);
  EXPECT_EQ(resp->body, "GET /hello 0 yes");
}

TEST(HttpServerTest, PostBodyArrivesWhole) {
  auto server = StartServer();
  ClientRequest req;
  req.method = "POST";
  req.url = Url(*server, "/p");
  req.body = std::string(3 * 1024 * 1024, 'x');  // large enough for Expect: 100-continue
  auto resp = Fetch(req);
  ASSERT_TRUE(resp.ok()) << resp.status().ToString();
  EXPECT_EQ(resp->body, "POST /p 3145728 ");
}

TEST(HttpServerTest, OversizedBodyGets413WithMispBody) {
  ServerOptions options;
  options.body_limit_bytes = 1000;
  auto server = StartServer(options);
  ClientRequest req;
  req.method = "POST";
  req.url = Url(*server, "/p");
  req.body = std::string(5000, 'x');
  auto resp = Fetch(req);
  ASSERT_TRUE(resp.ok()) << resp.status().ToString();
  EXPECT_EQ(resp->status, 413);
  EXPECT_NE(resp->body.find("\"message\":\"Request body too large.\""), std::string::npos);
}

TEST(HttpServerTest, OversizedHeadersGet431) {
  ServerOptions options;
  options.header_limit_bytes = 512;
  auto server = StartServer(options);
  ClientRequest req;
  req.url = Url(*server, "/h");
  req.headers = {{"X-Big", std::string(2000, 'a')}};
  auto resp = Fetch(req);
  ASSERT_TRUE(resp.ok()) << resp.status().ToString();
  EXPECT_EQ(resp->status, 431);
}

TEST(HttpServerTest, HandlerExceptionBecomes500) {
  auto server = StartServer();
  ClientRequest req;
  req.url = Url(*server, "/throw");
  auto resp = Fetch(req);
  ASSERT_TRUE(resp.ok());
  EXPECT_EQ(resp->status, 500);
  EXPECT_NE(resp->body.find("An Internal Error Has Occurred."), std::string::npos);
}

TEST(HttpServerTest, StreamsChunkedResponses) {
  auto server = StartServer();
  ClientRequest req;
  req.url = Url(*server, "/stream");
  auto resp = Fetch(req);
  ASSERT_TRUE(resp.ok());
  EXPECT_EQ(resp->Header("transfer-encoding"), "chunked");
  size_t lines = 0;
  for (char c : resp->body) lines += c == '\n';
  EXPECT_EQ(lines, 1000u);
  EXPECT_NE(resp->body.find("{\"n\":999}\n"), std::string::npos);
}

// A stream whose producer has nothing yet waits for its source's wake, not for the poll: with
// a one-hour poll, ten events produced on another thread still arrive (the client would
// otherwise time out), and a wake after the stream ended does nothing.
TEST(HttpServerTest, AStreamWakesWhenItsSourceHasData) {
  struct Source {
    std::mutex mu;
    std::vector<std::string> pending;
    bool finished = false;
    std::function<void()> wake;
  };
  auto source = std::make_shared<Source>();
  ServerOptions options;
  options.stream_poll = std::chrono::hours(1);
  auto server = HttpServer::Start(options, [source](Request&) {
    Response resp;
    resp.content_type = "text/event-stream";
    resp.stream_wake = [source](std::function<void()> wake) {
      std::lock_guard<std::mutex> lock(source->mu);
      source->wake = std::move(wake);
    };
    resp.stream = [source](std::string* chunk) {
      std::lock_guard<std::mutex> lock(source->mu);
      for (const std::string& e : source->pending) *chunk += e;
      source->pending.clear();
      return !source->finished;
    };
    return resp;
  });
  ASSERT_TRUE(server.ok());
  std::thread producer([source] {
    for (int i = 0; i < 10; ++i) {
      std::this_thread::sleep_for(20ms);
      std::function<void()> wake;
      {
        std::lock_guard<std::mutex> lock(source->mu);
        source->pending.push_back("data: " + std::to_string(i) + "\n\n");
        source->finished = i == 9;
        wake = source->wake;
      }
      if (wake) wake();
    }
  });
  ClientRequest req;
  req.url = Url(**server, "/events");
  req.timeout = 20s;
  auto resp = Fetch(req);
  producer.join();
  ASSERT_TRUE(resp.ok()) << resp.status().ToString();
  EXPECT_NE(resp->body.find("data: 0\n\n"), std::string::npos) << resp->body;
  EXPECT_NE(resp->body.find("data: 9\n\n"), std::string::npos) << resp->body;
  std::function<void()> late;
  {
    std::lock_guard<std::mutex> lock(source->mu);
    late = source->wake;
  }
  ASSERT_TRUE(late);
  late();  // the stream is over: nothing happens
  (*server)->Stop();
  late();  // nor once the server has stopped
}

TEST(HttpServerTest, HeadSendsLengthWithoutBody) {
  auto server = StartServer();
  ClientRequest req;
  req.method = "HEAD";
  req.url = Url(*server, "/x");
  auto resp = Fetch(req);
  ASSERT_TRUE(resp.ok()) << resp.status().ToString();
  EXPECT_EQ(resp->status, 200);
  EXPECT_TRUE(resp->body.empty());
  EXPECT_EQ(resp->Header("content-length"), "10");  // "HEAD /x 0 "
}

TEST(HttpServerTest, IdleClientIsDisconnectedAfterReadTimeout) {
  ServerOptions options;
  options.header_timeout = 200ms;
  auto server = StartServer(options);
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(server->port());
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  const char partial[] = "GET / HTTP/1.1\r\nHost: x\r\n";  // never finishes its headers
  ASSERT_GT(write(fd, partial, sizeof(partial) - 1), 0);
  char buf[256];
  timeval tv{5, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  ssize_t n = read(fd, buf, sizeof(buf));
  EXPECT_EQ(n, 0) << "server should close the connection";
  close(fd);
}

TEST(HttpServerTest, ConnectionCapRejectsWith429) {
  ServerOptions options;
  options.max_connections = 1;
  auto server = StartServer(options);
  // Hold one connection open with a slow request, then try a second.
  auto slow = std::async(std::launch::async, [&] {
    ClientRequest req;
    req.url = Url(*server, "/slow");
    return Fetch(req);
  });
  std::this_thread::sleep_for(150ms);
  ClientRequest req;
  req.url = Url(*server, "/x");
  auto resp = Fetch(req);
  ASSERT_TRUE(resp.ok()) << resp.status().ToString();
  EXPECT_EQ(resp->status, 429);
  ASSERT_TRUE(slow.get().ok());
}

TEST(HttpServerTest, StopLetsInFlightRequestsFinish) {
  auto server = StartServer();
  auto slow = std::async(std::launch::async, [&] {
    ClientRequest req;
    req.url = Url(*server, "/slow");
    return Fetch(req);
  });
  std::this_thread::sleep_for(150ms);
  server->Stop(5s);
  auto resp = slow.get();
  ASSERT_TRUE(resp.ok()) << resp.status().ToString();
  EXPECT_EQ(resp->status, 200);
  // And nothing is accepted afterwards.
  ClientRequest req;
  req.url = "http://127.0.0.1:" + std::to_string(server->port()) + "/x";
  req.timeout = 2s;
  EXPECT_FALSE(Fetch(req).ok());
}

TEST(HttpServerTest, ServesHttpsWithGivenCertificate) {
  test::TempDir temp("iocgrid-tls");
  std::filesystem::path dir = temp.path();
  std::string cert = (dir / "cert.pem").string(), key = (dir / "key.pem").string();
  std::string cmd =
      "openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=127.0.0.1 "
      "-addext subjectAltName=IP:127.0.0.1 -keyout " +
      key + " -out " + cert + " >/dev/null 2>&1";
  ASSERT_EQ(std::system(cmd.c_str()), 0) << "openssl is needed for this test";
  ServerOptions options;
  options.tls_cert_file = cert;
  options.tls_key_file = key;
  auto server = StartServer(options);
  ClientRequest req;
  req.url = Url(*server, "/tls", "https");
  req.ca_file = cert;
  auto resp = Fetch(req);
  ASSERT_TRUE(resp.ok()) << resp.status().ToString();
  EXPECT_EQ(resp->body, "GET /tls 0 ");
  // Verification stays on: without the CA the handshake fails.
  ClientRequest untrusted;
  untrusted.url = req.url;
  EXPECT_EQ(Fetch(untrusted).status().code(), StatusCode::kUnavailable);
}

TEST(HttpServerTest, StartFailsClearlyOnBadTlsFiles) {
  ServerOptions options;
  options.tls_cert_file = "/nonexistent/cert.pem";
  options.tls_key_file = "/nonexistent/key.pem";
  auto server = HttpServer::Start(options, Echo);
  ASSERT_FALSE(server.ok());
  EXPECT_NE(server.status().message().find("cert.pem"), std::string_view::npos);
}

TEST(HttpClientTest, ResponseOverCapIsResourceExhausted) {
  auto server = StartServer();
  ClientRequest req;
  req.url = Url(*server, "/stream");
  req.max_response_bytes = 100;
  EXPECT_EQ(Fetch(req).status().code(), StatusCode::kResourceExhausted);
}

TEST(HttpClientTest, RefusedConnectionIsUnavailable) {
  auto server = StartServer();
  uint16_t port = server->port();
  server->Stop();
  ClientRequest req;
  req.url = "http://127.0.0.1:" + std::to_string(port) + "/";
  EXPECT_EQ(Fetch(req).status().code(), StatusCode::kUnavailable);
}

}  // namespace
}  // namespace iocgrid::net
