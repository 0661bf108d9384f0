// net::Dispatcher against real loopback servers: one completion per transfer,
// whatever happens.
#include "net/dispatcher.h"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <future>
#include <string>
#include <thread>
#include <vector>

#include "net/http_server.h"

namespace iocgrid::net {
namespace {

using namespace std::chrono_literals;

std::unique_ptr<HttpServer> StartServer() {
  ServerOptions so;
  so.worker_threads = 4;
  auto s = HttpServer::Start(so, [](Request& r) {
    Response resp;
    if (r.path == "/slow") std::this_thread::sleep_for(1500ms);
    if (r.path == "/big") {
      resp.body = std::string(1 << 20, 'x');
      return resp;
    }
    resp.body = "{\"method\":\"" + r.method + "\",\"len\":" + std::to_string(r.body.size()) +
                ",\"expect\":\"" + std::string(r.Header("expect")) + "\"}";
    return resp;
  });
  EXPECT_TRUE(s.ok());
  return s.ok() ? std::move(*s) : nullptr;
}

ClientRequest Req(const HttpServer& s, const std::string& path) {
  ClientRequest r;
  r.url = "http://127.0.0.1:" + std::to_string(s.port()) + path;
  r.timeout = 20s;
  return r;
}

Result<ClientResponse> Fetch1(Dispatcher& d, ClientRequest req) {
  std::promise<Result<ClientResponse>> p;
  d.Submit(std::move(req), [&p](Result<ClientResponse> r) { p.set_value(std::move(r)); });
  return p.get_future().get();
}

TEST(DispatcherTest, PostsLargeBodiesWithoutExpectContinue) {
  auto server = StartServer();
  auto d = Dispatcher::Start({});
  ASSERT_TRUE(d.ok());
  ClientRequest req = Req(*server, "/echo");
  req.method = "POST";
  req.body = std::string(3 << 20, 'a');
  auto r = Fetch1(**d, req);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "{\"method\":\"POST\",\"len\":3145728,\"expect\":\"\"}");
}

TEST(DispatcherTest, CapsTheResponseSize) {
  auto server = StartServer();
  auto d = Dispatcher::Start({});
  ASSERT_TRUE(d.ok());
  ClientRequest req = Req(*server, "/big");
  req.max_response_bytes = 1000;
  auto r = Fetch1(**d, req);
  EXPECT_EQ(r.status().code(), StatusCode::kResourceExhausted);
  EXPECT_NE(r.status().message().find("larger than 1000 bytes"), std::string::npos);
}

TEST(DispatcherTest, TimesOutAndReportsRefusedConnections) {
  auto server = StartServer();
  auto d = Dispatcher::Start({});
  ASSERT_TRUE(d.ok());
  ClientRequest slow = Req(*server, "/slow");
  slow.timeout = 100ms;
  EXPECT_EQ(Fetch1(**d, slow).status().code(), StatusCode::kDeadlineExceeded);
  ClientRequest none = slow;
  none.timeout = 0ms;
  EXPECT_EQ(Fetch1(**d, none).status().code(), StatusCode::kDeadlineExceeded);

  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  socklen_t len = sizeof(addr);
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  close(fd);
  ClientRequest refused;
  refused.url = "http://127.0.0.1:" + std::to_string(ntohs(addr.sin_port)) + "/";
  auto r = Fetch1(**d, refused);
  EXPECT_EQ(r.status().code(), StatusCode::kUnavailable);

  ClientRequest ftp;
  ftp.url = "ftp://127.0.0.1/";
  EXPECT_EQ(Fetch1(**d, ftp).status().code(), StatusCode::kInvalidArgument);
}

TEST(DispatcherTest, ManyConcurrentTransfersEachCompleteOnce) {
  auto server = StartServer();
  DispatcherOptions options;
  options.max_total_connections = 8;
  auto d = Dispatcher::Start(options);
  ASSERT_TRUE(d.ok());
  constexpr int kCount = 300;
  std::atomic<int> ok{0};
  std::atomic<int> calls{0};
  std::promise<void> all;
  for (int i = 0; i < kCount; ++i) {
    (*d)->Submit(Req(*server, "/n"), [&](Result<ClientResponse> r) {
      if (r.ok() && r->status == 200) ok.fetch_add(1);
      if (calls.fetch_add(1) + 1 == kCount) all.set_value();
    });
  }
  all.get_future().get();
  EXPECT_EQ(ok.load(), kCount);
  EXPECT_EQ((*d)->transfers_submitted(), static_cast<uint64_t>(kCount));
}

TEST(DispatcherTest, CancelAndShutdownCompleteOutstandingTransfers) {
  auto server = StartServer();
  auto d = Dispatcher::Start({});
  ASSERT_TRUE(d.ok());
  std::promise<Status> cancelled;
  auto id = (*d)->Submit(Req(*server, "/slow"), [&](Result<ClientResponse> r) {
    cancelled.set_value(r.ok() ? Status::Ok() : r.status());
  });
  (*d)->Cancel(id);
  Status c = cancelled.get_future().get();
  EXPECT_EQ(c.message(), "cancelled");
  (*d)->Cancel(id);  // a finished id: nothing happens

  std::atomic<int> stopped{0};
  (*d)->Submit(Req(*server, "/slow"), [&](Result<ClientResponse> r) {
    if (!r.ok() && r.status().message() == "dispatcher stopped") stopped.fetch_add(1);
  });
  std::this_thread::sleep_for(50ms);
  d->reset();
  EXPECT_EQ(stopped.load(), 1);
}

TEST(DispatcherTest, TasksAndTimersRunOnTheDispatcherThread) {
  auto d = Dispatcher::Start({});
  ASSERT_TRUE(d.ok());
  EXPECT_FALSE((*d)->OnDispatcherThread());
  std::promise<std::vector<int>> order;
  auto seen = std::make_shared<std::vector<int>>();
  Dispatcher* raw = d->get();
  raw->PostAt(std::chrono::steady_clock::now() + 100ms, [&, seen] {
    seen->push_back(2);
    order.set_value(*seen);
  });
  raw->Post([raw, seen] {
    EXPECT_TRUE(raw->OnDispatcherThread());
    seen->push_back(1);
  });
  EXPECT_EQ(order.get_future().get(), (std::vector<int>{1, 2}));
}

}  // namespace
}  // namespace iocgrid::net
