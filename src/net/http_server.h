// HttpServer: the inbound HTTP(S) server (Boost.Beast on Asio, C++20 coroutines), with the
// limits a server facing other organizations needs: header and body caps, timeouts, connection
// budgets, and graceful shutdown that lets in-flight requests finish.
//
// Handlers run on a separate worker pool, so blocking work (SQLite) never stalls the network
// thread. The Beast types stay inside http_server.cc.
//
// Hostile clients (docs/hardening.md):
//   - A request is admitted on its headers (ServerOptions::admit, e.g. the API key) before its
//     body is read, so unauthenticated bodies cost nothing; a refused body is drained into a
//     fixed buffer for a moment (lingering close) and never stored.
//   - Connections that have not yet sent a complete request head ("idle": TLS handshake,
//     headers, keep-alive wait) have a short header timeout and their own budget
//     (max_idle_connections, max_idle_per_ip). When a budget is full the oldest idle
//     connection is closed to make room, so idle sockets (slowloris) never lock out clients
//     that send requests. max_connections caps busy connections; past it new ones get 503.
//   - Streamed request bodies (ServerOptions::stream_body, uploads) are read piece by piece into
//     a BodySink with backpressure: memory is one buffer per upload, the sink's own cap replaces
//     the body limit, a silent client is cut after stream_idle_timeout, and the sink runs on
//     the worker pool between reads, never parking a worker while the client is slow.
//   - Streamed responses (server-sent events) never park a worker: a producer that has
//     nothing yet returns an empty chunk and is called again after stream_poll.
//
// Thread-safety: Start/Stop from the owning thread; the handler is called concurrently from
// worker threads and must be thread-safe.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "common/result.h"
#include "net/http.h"

namespace iocgrid::net {

struct ServerOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 0;  // 0 = any free port (tests); see HttpServer::port()
  int worker_threads = 2;
  size_t header_limit_bytes = 16 * 1024;
  size_t body_limit_bytes = 64 * 1024 * 1024;
  std::chrono::milliseconds header_timeout{10000};  // TLS handshake + a whole request head
  std::chrono::milliseconds read_timeout{30000};    // a whole request body
  std::chrono::milliseconds write_timeout{60000};   // per write
  std::chrono::milliseconds idle_timeout{60000};    // keep-alive wait for the next request
  std::chrono::milliseconds stream_poll{100};       // a stream producer with nothing yet
  size_t max_connections = 512;                     // connections working on a request
  size_t max_idle_connections = 4096;               // connections without a complete request head
  size_t max_idle_per_ip = 256;                     // of those, from one address
  // Called on a worker thread once a request head is in, before its body is read (`head.body`
  // is empty). Returning a Response answers with it at once and closes the connection; the
  // body is never stored. `*body_limit` starts at body_limit_bytes and may be lowered per
  // request (e.g. per route or role).
  std::function<std::optional<Response>(const Request& head, size_t* body_limit)> admit;
  // Called on a worker thread after admit let a request through, before its body is read: may
  // take the body as a stream (net::BodySink, for uploads that must not be held in memory) or
  // refuse the request. Empty or returning an empty BodyStream: the body is read whole.
  std::function<BodyStream(const Request& head)> stream_body;
  // A streamed body: the longest the client may send nothing, and the longest it may take.
  std::chrono::milliseconds stream_idle_timeout{30000};
  std::chrono::milliseconds stream_timeout{std::chrono::hours(2)};
  // TLS: both set means HTTPS only.
  std::string tls_cert_file;
  std::string tls_key_file;
  std::string server_name = "iocgrid";
};

class HttpServer {
 public:
  // Binds, listens and starts serving. Errors: kInvalidArgument for bad options or TLS files,
  // kUnavailable when the address cannot be bound.
  static Result<std::unique_ptr<HttpServer>> Start(const ServerOptions& options, Handler handler);

  ~HttpServer();  // Stop(), if not done yet
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // The bound port (useful with port 0).
  uint16_t port() const;

  // Stops accepting, lets in-flight requests finish (up to `grace`), then closes everything.
  void Stop(std::chrono::milliseconds grace = std::chrono::milliseconds(10000));

  // Blocks until Stop() has completed (from another thread or a signal handler thread).
  void Wait();

  // Opaque to users; defined in http_server.cc.
  struct Impl;

 private:
  explicit HttpServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace iocgrid::net
