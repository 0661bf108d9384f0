// Real members for federation tests: iocgrid nodes on loopback (store in a temp
// dir, the Node, an HttpServer), fronts that wrap a node with counting or
// failure switches, and misbehaving raw-socket servers (hang, reset, closed
// port).
#pragma once

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/event.h"
#include "core/indicator.h"
#include "federation/federation.h"
#include "net/http_server.h"
#include "node/node.h"
#include "tests/common/builders.h"
#include "tests/common/raw_http.h"
#include "tests/common/temp_dir.h"

namespace iocgrid::federation::testing {

using ::iocgrid::test::Ind;  // tests/common/builders.h

// A member's attribute: seen at `ts` (2024-03-01 by default), with a comment naming its value
// (the hits' context carries both).
inline core::Attribute Attr(std::string_view type, std::string_view value,
                            int64_t ts = 1709251200) {
  core::Attribute a = ::iocgrid::test::Attr(type, value);
  a.timestamp = ts;
  a.comment = "seen " + std::string(value);
  return a;
}

// The members' events: the Alliance's, of 2024-03-01, tagged tlp:amber.
inline core::Event MakeEvent(std::string uuid, std::string info,
                             std::vector<core::Attribute> attrs) {
  return ::iocgrid::test::MakeEvent(std::move(uuid), std::move(info), std::move(attrs),
                                    {"2024-03-01", "Alliance", 1709251200, {"tlp:amber"}});
}

// A real iocgrid node on 127.0.0.1:0. `front`, when set, sees every request
// first and may answer itself (return true) instead of the node.
class TestNode {
 public:
  using Front = std::function<bool(net::Request&, net::Response*)>;

  static std::unique_ptr<TestNode> Start(Front front = nullptr, node::NodeOptions options = {}) {
    auto n = std::unique_ptr<TestNode>(new TestNode());
    n->dir_ = ::iocgrid::test::MakeTempDir("iocgrid-fed");
    options.data_dir = n->dir_;
    options.max_concurrent_per_key = 1000;
    auto opened = node::Node::Open(options);
    EXPECT_TRUE(opened.ok()) << opened.status().ToString();
    if (!opened.ok()) return nullptr;
    n->node_ = std::move(*opened);
    auto user =
        n->node_->store().EnsureUser("portal@alliance.test", "Alliance", store::Role::kAdmin);
    EXPECT_TRUE(user.ok());
    auto key = n->node_->store().CreateKey(user->id, store::KeyOptions{});
    EXPECT_TRUE(key.ok());
    n->key_ = key->key;
    n->front_ = std::move(front);
    net::ServerOptions so;
    so.worker_threads = 4;
    TestNode* raw = n.get();
    auto server = net::HttpServer::Start(so, [raw](net::Request& r) {
      raw->requests_.fetch_add(1);
      {
        std::lock_guard<std::mutex> lock(raw->mu_);
        raw->bodies_.push_back(r.target + " " + r.body);  // target: path and query
      }
      net::Response resp;
      if (raw->front_ && raw->front_(r, &resp)) return resp;
      return raw->node_->Handle(r);
    });
    EXPECT_TRUE(server.ok()) << server.status().ToString();
    if (!server.ok()) return nullptr;
    n->server_ = std::move(*server);
    return n;
  }

  ~TestNode() {
    server_.reset();
    node_.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  void Import(const std::vector<core::Event>& events) {
    auto r = node_->store().ImportEvents(events, store::ImportOptions{});
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    ASSERT_TRUE(node_->RefreshIndex().ok());
  }

  MemberConfig Config(std::string name, MemberKind kind = MemberKind::kIocgrid) const {
    MemberConfig c;
    c.name = std::move(name);
    c.kind = kind;
    c.url = "http://127.0.0.1:" + std::to_string(server_->port());
    c.key = key_;
    c.timeout = std::chrono::milliseconds(30000);
    return c;
  }

  uint64_t requests() const { return requests_.load(); }
  void ResetCounts() {
    requests_ = 0;
    std::lock_guard<std::mutex> lock(mu_);
    bodies_.clear();
  }
  std::vector<std::string> bodies() const {
    std::lock_guard<std::mutex> lock(mu_);
    return bodies_;
  }
  node::Node& node() { return *node_; }
  const std::string& dir() const { return dir_; }
  uint16_t port() const { return server_->port(); }

 private:
  TestNode() = default;
  std::string dir_;
  std::unique_ptr<node::Node> node_;
  std::unique_ptr<net::HttpServer> server_;
  std::string key_;
  Front front_;
  std::atomic<uint64_t> requests_{0};
  mutable std::mutex mu_;
  std::vector<std::string> bodies_;
};

// A server built on net::HttpServer that answers every request with `handler`.
class HandlerServer {
 public:
  explicit HandlerServer(net::Handler handler) {
    net::ServerOptions so;
    so.worker_threads = 4;
    auto server = net::HttpServer::Start(so, [this, h = std::move(handler)](net::Request& r) {
      requests_.fetch_add(1);
      return h(r);
    });
    EXPECT_TRUE(server.ok());
    if (server.ok()) server_ = std::move(*server);
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(server_->port()); }
  uint64_t requests() const { return requests_.load(); }

 private:
  std::atomic<uint64_t> requests_{0};
  std::unique_ptr<net::HttpServer> server_;
};

// A raw TCP server that misbehaves: kHang accepts and reads but never answers;
// kReset reads the request then closes with SO_LINGER 0 (an RST).
class RawServer {
 public:
  enum class Mode { kHang, kReset };

  explicit RawServer(Mode mode) : mode_(mode) {
    fd_ = testutil::ListenLoopback(&port_);
    EXPECT_GE(fd_, 0);
    thread_ = std::thread([this] { Run(); });
  }
  ~RawServer() {
    stop_ = true;
    thread_.join();
    for (int c : held_) close(c);
    close(fd_);
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  int accepted() const { return accepted_.load(); }

 private:
  void Run() {
    while (!stop_) {
      std::vector<pollfd> fds;
      fds.push_back({fd_, POLLIN, 0});
      for (int c : held_) fds.push_back({c, POLLIN, 0});
      if (poll(fds.data(), fds.size(), 50) <= 0) continue;
      if (fds[0].revents & POLLIN) {
        int c = accept(fd_, nullptr, nullptr);
        if (c >= 0) {
          accepted_.fetch_add(1);
          held_.push_back(c);
        }
      }
      for (size_t i = 1; i < fds.size(); ++i) {
        if (!(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
        char buf[65536];
        ssize_t n = read(fds[i].fd, buf, sizeof(buf));
        if (n <= 0 || mode_ == Mode::kReset) {
          // Reset mode: the request has arrived; answer it with an RST.
          if (n > 0) {
            linger lg{1, 0};
            setsockopt(fds[i].fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
          }
          close(fds[i].fd);
          std::erase(held_, fds[i].fd);
        }
        // Hang mode: read and keep the connection open, never answering.
      }
    }
  }

  Mode mode_;
  int fd_ = -1;
  uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> accepted_{0};
  std::vector<int> held_;  // server thread only (and the destructor after join)
  std::thread thread_;
};

// A TCP relay on loopback in front of `upstream_port` that records every byte it forwards,
// both ways: what an eavesdropper between the portal and a member sees.
class RecordingRelay {
 public:
  explicit RecordingRelay(uint16_t upstream_port) : upstream_port_(upstream_port) {
    fd_ = testutil::ListenLoopback(&port_);
    EXPECT_GE(fd_, 0);
    thread_ = std::thread([this] { Run(); });
  }
  ~RecordingRelay() {
    stop_ = true;
    thread_.join();
    for (auto [a, b] : pairs_) {
      close(a);
      close(b);
    }
    close(fd_);
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  // Everything forwarded so far, both directions.
  std::string recorded() const {
    std::lock_guard<std::mutex> lock(mu_);
    return recorded_;
  }
  void Clear() {
    std::lock_guard<std::mutex> lock(mu_);
    recorded_.clear();
  }

 private:
  void Run() {
    while (!stop_) {
      std::vector<pollfd> fds{{fd_, POLLIN, 0}};
      for (auto [a, b] : pairs_) {
        fds.push_back({a, POLLIN, 0});
        fds.push_back({b, POLLIN, 0});
      }
      if (poll(fds.data(), fds.size(), 50) <= 0) continue;
      if (fds[0].revents & POLLIN) Accept();
      std::vector<std::pair<int, int>> closed;
      for (size_t i = 1; i < fds.size(); ++i) {
        if (!(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
        const auto& pair = pairs_[(i - 1) / 2];
        const int from = fds[i].fd;
        const int to = from == pair.first ? pair.second : pair.first;
        char buf[65536];
        ssize_t n = read(from, buf, sizeof(buf));
        if (n <= 0 || !WriteAll(to, buf, static_cast<size_t>(n))) {
          closed.push_back(pair);
          continue;
        }
        std::lock_guard<std::mutex> lock(mu_);
        recorded_.append(buf, static_cast<size_t>(n));
      }
      for (auto pair : closed) {
        if (std::find(pairs_.begin(), pairs_.end(), pair) == pairs_.end()) continue;
        close(pair.first);
        close(pair.second);
        std::erase(pairs_, pair);
      }
    }
  }
  void Accept() {
    int client = accept(fd_, nullptr, nullptr);
    if (client < 0) return;
    int upstream = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(upstream_port_);
    if (connect(upstream, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
      close(client);
      close(upstream);
      return;
    }
    pairs_.emplace_back(client, upstream);
  }
  static bool WriteAll(int fd, const char* data, size_t n) {
    while (n > 0) {
      ssize_t w = write(fd, data, n);
      if (w <= 0) return false;
      data += w;
      n -= static_cast<size_t>(w);
    }
    return true;
  }

  uint16_t upstream_port_;
  int fd_ = -1;
  uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::vector<std::pair<int, int>> pairs_;  // relay thread only: (client, upstream)
  mutable std::mutex mu_;
  std::string recorded_;
  std::thread thread_;
};

// A loopback port with nothing listening (bound, then closed).
inline std::string ClosedPortUrl() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  socklen_t len = sizeof(addr);
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  close(fd);
  return "http://127.0.0.1:" + std::to_string(ntohs(addr.sin_port));
}

// Runs one search to the end and returns the replies by member.
struct SearchOutcome {
  std::map<std::string, MemberReply> replies;
  std::vector<std::pair<std::string, MemberStatus>> statuses;
  int done_calls = 0;
};

inline SearchOutcome RunSearch(Federation& fed, SearchRequest request) {
  if (request.deadline == std::chrono::steady_clock::time_point{}) {
    request.deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  }
  auto out = std::make_shared<SearchOutcome>();
  auto mu = std::make_shared<std::mutex>();
  SearchCallbacks cb;
  cb.on_status = [out, mu](const std::string& m, MemberStatus s) {
    std::lock_guard<std::mutex> lock(*mu);
    out->statuses.emplace_back(m, s);
  };
  cb.on_reply = [out, mu](MemberReply r) {
    std::lock_guard<std::mutex> lock(*mu);
    EXPECT_EQ(out->replies.count(r.member), 0u) << "second reply from " << r.member;
    std::string name = r.member;
    out->replies[name] = std::move(r);
  };
  cb.on_done = [out, mu] {
    std::lock_guard<std::mutex> lock(*mu);
    ++out->done_calls;
  };
  auto handle = fed.Search(std::move(request), cb);
  handle->Wait();
  std::lock_guard<std::mutex> lock(*mu);
  return *out;
}

}  // namespace iocgrid::federation::testing
