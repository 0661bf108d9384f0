#include "net/http_server.h"

#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <exception>
#include <future>
#include <mutex>
#include <optional>
#include <thread>
#include <utility>
#include <vector>

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include "net/http_error.h"

namespace iocgrid::net {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

struct HttpServer::Impl {
  Impl(ServerOptions opts, Handler h)
      : options(std::move(opts)),
        handler(std::move(h)),
        workers(static_cast<size_t>(std::max(1, options.worker_threads))),
        acceptor(ioc) {}

  // Declaration order is destruction order reversed: the io_context (and the coroutine frames
  // it still holds) goes before the TLS context its streams use.
  ServerOptions options;
  Handler handler;
  std::optional<asio::ssl::context> ssl;
  asio::io_context ioc;
  asio::thread_pool workers;
  tcp::acceptor acceptor;
  std::vector<std::thread> threads;
  uint16_t port = 0;

  std::atomic<size_t> connections{0};
  std::atomic<size_t> in_flight{0};
  std::atomic<bool> stopping{false};

  std::mutex mu;
  std::condition_variable cv;
  bool stopped = false;  // GUARDED_BY(mu)
};

namespace {

using Impl = HttpServer::Impl;

void LogException(const char* where, std::exception_ptr e) {
  if (!e) return;
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& ex) {
    std::fprintf(stderr, "iocgrid http: %s: %s\n", where, ex.what());
  } catch (...) {
    std::fprintf(stderr, "iocgrid http: %s: unknown exception\n", where);
  }
}

Request ToRequest(http::request<http::string_body>&& in, const std::string& remote) {
  Request r;
  r.method = std::string(in.method_string());
  r.target = std::string(in.target());
  std::string_view target = r.target;
  size_t q = target.find('?');
  r.path = PercentDecode(target.substr(0, q), /*plus_is_space=*/false);
  if (q != std::string_view::npos) r.query = std::string(target.substr(q + 1));
  for (const auto& field : in) {
    std::string name(field.name_string());
    for (char& c : name) c = (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
    r.headers.emplace_back(std::move(name), std::string(field.value()));
  }
  r.body = std::move(in.body());
  r.remote_address = remote;
  return r;
}

asio::awaitable<Response> RunHandler(Impl* impl, Request request) {
  try {
    co_return impl->handler(request);
  } catch (...) {
    LogException("handler", std::current_exception());
    co_return ErrorResponse(500, "An Internal Error Has Occurred.", request.path);
  }
}

struct Chunk {
  std::string data;
  bool more = false;
};

asio::awaitable<Chunk> ProduceChunk(Response* response) {
  Chunk c;
  try {
    c.more = response->stream(&c.data);
  } catch (...) {
    LogException("stream", std::current_exception());
    c.more = false;
  }
  co_return c;
}

template <class Stream>
asio::awaitable<void> WriteResponse(Impl* impl, Stream& stream, Response& response,
                                    bool head, bool keep_alive, beast::error_code& ec) {
  auto& lowest = beast::get_lowest_layer(stream);
  auto status = static_cast<http::status>(response.status);
  if (response.stream && !head) {
    http::response<http::empty_body> res{status, 11};
    res.set(http::field::server, impl->options.server_name);
    res.set(http::field::content_type, response.content_type);
    for (const auto& [k, v] : response.headers) res.set(k, v);
    res.keep_alive(keep_alive);
    res.chunked(true);
    http::response_serializer<http::empty_body> sr{res};
    lowest.expires_after(impl->options.write_timeout);
    co_await http::async_write_header(stream, sr, asio::redirect_error(asio::use_awaitable, ec));
    if (ec) co_return;
    for (;;) {
      Chunk chunk = co_await asio::co_spawn(impl->workers, ProduceChunk(&response),
                                            asio::use_awaitable);
      if (!chunk.data.empty()) {
        lowest.expires_after(impl->options.write_timeout);
        co_await asio::async_write(stream, http::make_chunk(asio::buffer(chunk.data)),
                                   asio::redirect_error(asio::use_awaitable, ec));
        if (ec) co_return;
      }
      if (!chunk.more) break;
    }
    lowest.expires_after(impl->options.write_timeout);
    co_await asio::async_write(stream, http::make_chunk_last(),
                               asio::redirect_error(asio::use_awaitable, ec));
    co_return;
  }
  http::response<http::string_body> res{status, 11};
  res.set(http::field::server, impl->options.server_name);
  res.set(http::field::content_type, response.content_type);
  for (const auto& [k, v] : response.headers) res.set(k, v);
  res.keep_alive(keep_alive);
  if (head) {
    res.content_length(response.body.size());
  } else {
    res.body() = std::move(response.body);
    res.prepare_payload();
  }
  lowest.expires_after(impl->options.write_timeout);
  if (head) {
    http::response_serializer<http::string_body> sr{res};
    co_await http::async_write_header(stream, sr, asio::redirect_error(asio::use_awaitable, ec));
  } else {
    co_await http::async_write(stream, res, asio::redirect_error(asio::use_awaitable, ec));
  }
}

template <class Stream>
asio::awaitable<void> WriteError(Impl* impl, Stream& stream, int status, std::string message) {
  Response r = ErrorResponse(status, message, "/");
  beast::error_code ec;
  co_await WriteResponse(impl, stream, r, false, false, ec);
}

template <class Stream>
asio::awaitable<void> ServeRequests(Impl* impl, Stream& stream, std::string remote) {
  beast::flat_buffer buffer;
  auto& lowest = beast::get_lowest_layer(stream);
  bool first = true;
  for (;;) {
    http::request_parser<http::string_body> parser;
    parser.header_limit(static_cast<uint32_t>(impl->options.header_limit_bytes));
    parser.body_limit(impl->options.body_limit_bytes);
    beast::error_code ec;
    lowest.expires_after(first ? impl->options.read_timeout : impl->options.idle_timeout);
    first = false;
    co_await http::async_read_header(stream, buffer, parser,
                                     asio::redirect_error(asio::use_awaitable, ec));
    if (ec == http::error::header_limit) {
      co_await WriteError(impl, stream, 431, "Request header fields too large.");
      co_return;
    }
    if (ec == http::error::body_limit) {
      co_await WriteError(impl, stream, 413, "Request body too large.");
      co_return;
    }
    if (ec == http::error::end_of_stream || ec == asio::error::eof || ec == beast::error::timeout ||
        ec == asio::error::operation_aborted || ec == asio::error::connection_reset) {
      co_return;
    }
    if (ec) {
      co_await WriteError(impl, stream, 400, "Malformed HTTP request.");
      co_return;
    }
    if (parser.get()[http::field::expect] == "100-continue") {
      http::response<http::empty_body> cont{http::status::continue_, 11};
      lowest.expires_after(impl->options.write_timeout);
      co_await http::async_write(stream, cont, asio::redirect_error(asio::use_awaitable, ec));
      if (ec) co_return;
    }
    lowest.expires_after(impl->options.read_timeout);
    co_await http::async_read(stream, buffer, parser, asio::redirect_error(asio::use_awaitable, ec));
    if (ec == http::error::body_limit) {
      co_await WriteError(impl, stream, 413, "Request body too large.");
      co_return;
    }
    if (ec) co_return;

    impl->in_flight.fetch_add(1);
    auto message = parser.release();
    bool keep_alive = message.keep_alive() && !impl->stopping.load();
    bool head = message.method() == http::verb::head;
    Request request = ToRequest(std::move(message), remote);
    Response response =
        co_await asio::co_spawn(impl->workers, RunHandler(impl, std::move(request)),
                                asio::use_awaitable);
    keep_alive = keep_alive && !impl->stopping.load();
    co_await WriteResponse(impl, stream, response, head, keep_alive, ec);
    impl->in_flight.fetch_sub(1);
    {
      std::lock_guard<std::mutex> lock(impl->mu);
      impl->cv.notify_all();
    }
    if (ec || !keep_alive) co_return;
  }
}

asio::awaitable<void> PlainSession(Impl* impl, tcp::socket socket, std::string remote) {
  beast::tcp_stream stream(std::move(socket));
  co_await ServeRequests(impl, stream, remote);
  beast::error_code ec;
  stream.socket().shutdown(tcp::socket::shutdown_send, ec);
  impl->connections.fetch_sub(1);
}

asio::awaitable<void> TlsSession(Impl* impl, tcp::socket socket, std::string remote) {
  beast::ssl_stream<beast::tcp_stream> stream(beast::tcp_stream(std::move(socket)), *impl->ssl);
  beast::error_code ec;
  beast::get_lowest_layer(stream).expires_after(impl->options.read_timeout);
  co_await stream.async_handshake(asio::ssl::stream_base::server,
                                  asio::redirect_error(asio::use_awaitable, ec));
  if (!ec) {
    co_await ServeRequests(impl, stream, remote);
    beast::get_lowest_layer(stream).expires_after(std::chrono::seconds(2));
    co_await stream.async_shutdown(asio::redirect_error(asio::use_awaitable, ec));
  }
  impl->connections.fetch_sub(1);
}

asio::awaitable<void> RejectSession(Impl* impl, tcp::socket socket) {
  beast::tcp_stream stream(std::move(socket));
  co_await WriteError(impl, stream, 429, "Too many connections; retry later.");
  beast::error_code ec;
  stream.socket().shutdown(tcp::socket::shutdown_send, ec);
}

void OnSessionDone(std::exception_ptr e) { LogException("session", e); }

asio::awaitable<void> Listen(Impl* impl) {
  for (;;) {
    beast::error_code ec;
    tcp::socket socket =
        co_await impl->acceptor.async_accept(asio::redirect_error(asio::use_awaitable, ec));
    if (impl->stopping.load() || ec == asio::error::operation_aborted) co_return;
    if (ec) {
      // EMFILE and the like: back off a little instead of spinning.
      asio::steady_timer timer(impl->ioc, std::chrono::milliseconds(20));
      co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
      continue;
    }
    // Small responses and the last chunk of a stream must not wait ~40 ms for the peer's
    // delayed ACK (Nagle): answers here are latency-bound.
    socket.set_option(tcp::no_delay(true), ec);
    std::string remote;
    auto endpoint = socket.remote_endpoint(ec);
    if (!ec) remote = endpoint.address().to_string();
    if (impl->connections.load() >= impl->options.max_connections) {
      asio::co_spawn(impl->ioc, RejectSession(impl, std::move(socket)), OnSessionDone);
      continue;
    }
    impl->connections.fetch_add(1);
    if (impl->ssl) {
      asio::co_spawn(impl->ioc, TlsSession(impl, std::move(socket), std::move(remote)),
                     OnSessionDone);
    } else {
      asio::co_spawn(impl->ioc, PlainSession(impl, std::move(socket), std::move(remote)),
                     OnSessionDone);
    }
  }
}

}  // namespace

HttpServer::HttpServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

HttpServer::~HttpServer() { Stop(std::chrono::milliseconds(2000)); }

Result<std::unique_ptr<HttpServer>> HttpServer::Start(const ServerOptions& options,
                                                      Handler handler) {
  if (options.tls_cert_file.empty() != options.tls_key_file.empty()) {
    return InvalidArgumentError("TLS needs both a certificate and a key file");
  }
  auto impl = std::make_unique<Impl>(options, std::move(handler));
  beast::error_code ec;
  if (!options.tls_cert_file.empty()) {
    impl->ssl.emplace(asio::ssl::context::tls_server);
    impl->ssl->set_options(asio::ssl::context::default_workarounds |
                           asio::ssl::context::no_sslv2 | asio::ssl::context::no_sslv3 |
                           asio::ssl::context::no_tlsv1 | asio::ssl::context::no_tlsv1_1);
    impl->ssl->use_certificate_chain_file(options.tls_cert_file, ec);
    if (ec) {
      return InvalidArgumentError("cannot load TLS certificate " + options.tls_cert_file + ": " +
                                  ec.message());
    }
    impl->ssl->use_private_key_file(options.tls_key_file, asio::ssl::context::pem, ec);
    if (ec) {
      return InvalidArgumentError("cannot load TLS key " + options.tls_key_file + ": " +
                                  ec.message());
    }
  }
  auto address = asio::ip::make_address(options.host, ec);
  if (ec) return InvalidArgumentError("invalid listen address '" + options.host + "'");
  tcp::endpoint endpoint(address, options.port);
  impl->acceptor.open(endpoint.protocol(), ec);
  if (!ec) impl->acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) impl->acceptor.bind(endpoint, ec);
  if (!ec) impl->acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    return UnavailableError("cannot listen on " + options.host + ":" +
                            std::to_string(options.port) + ": " + ec.message());
  }
  impl->port = impl->acceptor.local_endpoint().port();
  Impl* raw = impl.get();
  asio::co_spawn(raw->ioc, Listen(raw), OnSessionDone);
  for (int i = 0; i < std::max(1, options.io_threads); ++i) {
    raw->threads.emplace_back([raw] {
      try {
        raw->ioc.run();
      } catch (...) {
        LogException("io thread", std::current_exception());
      }
    });
  }
  return std::unique_ptr<HttpServer>(new HttpServer(std::move(impl)));
}

uint16_t HttpServer::port() const { return impl_->port; }

void HttpServer::Stop(std::chrono::milliseconds grace) {
  if (!impl_) return;
  {
    std::lock_guard<std::mutex> lock(impl_->mu);
    if (impl_->stopped) return;
  }
  impl_->stopping.store(true);
  // Close the listening socket on its own thread and wait for it, so that no connection is
  // accepted (or left waiting in the backlog) once Stop() has begun.
  std::promise<void> closed;
  asio::post(impl_->ioc, [impl = impl_.get(), &closed] {
    beast::error_code ec;
    impl->acceptor.close(ec);
    closed.set_value();
  });
  closed.get_future().wait_for(grace);
  {
    // Let in-flight requests finish and write their responses.
    std::unique_lock<std::mutex> lock(impl_->mu);
    impl_->cv.wait_for(lock, grace, [this] { return impl_->in_flight.load() == 0; });
  }
  impl_->ioc.stop();
  for (auto& t : impl_->threads) {
    if (t.joinable()) t.join();
  }
  impl_->workers.stop();
  impl_->workers.join();
  std::lock_guard<std::mutex> lock(impl_->mu);
  impl_->stopped = true;
  impl_->cv.notify_all();
}

void HttpServer::Wait() {
  std::unique_lock<std::mutex> lock(impl_->mu);
  impl_->cv.wait(lock, [this] { return impl_->stopped; });
}

}  // namespace iocgrid::net
