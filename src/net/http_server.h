// HttpServer: the inbound HTTP(S) server (Boost.Beast on Asio, C++20 coroutines), with the
// limits a server facing other organizations needs: header and body caps, per-read/write
// timeouts, a connection cap, and graceful shutdown that lets in-flight requests finish.
//
// Handlers run on a separate worker pool, so blocking work (SQLite) never stalls the network
// threads. The Beast types stay inside http_server.cc.
//
// Thread-safety: Start/Stop from the owning thread; the handler is called concurrently from
// worker threads and must be thread-safe.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "common/result.h"
#include "net/http.h"

namespace iocgrid::net {

struct ServerOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 0;  // 0 = any free port (tests); see HttpServer::port()
  int io_threads = 1;
  int worker_threads = 2;
  size_t header_limit_bytes = 16 * 1024;
  size_t body_limit_bytes = 64 * 1024 * 1024;
  std::chrono::milliseconds read_timeout{30000};   // per read of headers or body
  std::chrono::milliseconds write_timeout{60000};  // per write
  std::chrono::milliseconds idle_timeout{60000};   // keep-alive wait for the next request
  size_t max_connections = 512;
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
