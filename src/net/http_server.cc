#include "net/http_server.h"

#include <sys/resource.h>

#include <array>
#include <atomic>
#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <functional>
#include <future>
#include <limits>
#include <list>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

#include "common/ascii.h"
#include "common/mutex.h"
#include "net/http_error.h"

namespace iocgrid::net {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

// One connection, as the budgets see it. Lives in its session's coroutine frame; touched only
// on the io thread (the server runs one), so the idle list needs no lock.
struct SessionCtl {
  std::string remote;
  std::function<void()> close;  // closes the socket, ending whatever the session awaits
  bool idle = false;
  bool busy = false;
  std::list<SessionCtl*>::iterator pos;
};

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
  // Budgets; io thread only. Declared before the io_context: the coroutine frames it destroys
  // still unlink themselves from these.
  std::list<SessionCtl*> idle_list;  // oldest first
  std::unordered_map<std::string, size_t> idle_by_ip;
  size_t busy = 0;
  size_t streams = 0;
  std::optional<asio::ssl::context> ssl;
  asio::io_context ioc;
  asio::thread_pool workers;
  tcp::acceptor acceptor;
  std::thread io_thread;
  uint16_t port = 0;

  std::atomic<size_t> in_flight{0};
  std::atomic<bool> stopping{false};

  Mutex mu;
  CondVar cv;
  bool stopped IOCGRID_GUARDED_BY(mu) = false;
};

namespace {

using Impl = HttpServer::Impl;

constexpr size_t kMaxStreams = 4096;
constexpr auto kLingerTime = std::chrono::seconds(2);
constexpr size_t kLingerBytes = 64 * 1024 * 1024;

void LogException(const char* where, const std::exception_ptr& e) {
  if (!e) return;
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& ex) {
    std::fprintf(stderr, "iocgrid http: %s: %s\n", where, ex.what());
  } catch (...) {
    std::fprintf(stderr, "iocgrid http: %s: unknown exception\n", where);
  }
}

void LeaveIdle(Impl* impl, SessionCtl* s) {
  if (!s->idle) return;
  s->idle = false;
  impl->idle_list.erase(s->pos);
  auto it = impl->idle_by_ip.find(s->remote);
  if (it != impl->idle_by_ip.end() && --it->second == 0) impl->idle_by_ip.erase(it);
}

void EnterIdle(Impl* impl, SessionCtl* s) {
  if (s->idle) return;
  s->idle = true;
  s->pos = impl->idle_list.insert(impl->idle_list.end(), s);
  ++impl->idle_by_ip[s->remote];
}

void LeaveBusy(Impl* impl, SessionCtl* s) {
  if (!s->busy) return;
  s->busy = false;
  --impl->busy;
}

// Closes the oldest idle connection (of `ip`, when given). Returns false when there is none.
bool EvictOldestIdle(Impl* impl, const std::string* ip) {
  for (SessionCtl* s : impl->idle_list) {
    if (ip != nullptr && s->remote != *ip) continue;
    LeaveIdle(impl, s);
    s->close();
    return true;
  }
  return false;
}

// Makes room for one more idle connection from `ip`.
void MakeIdleRoom(Impl* impl, const std::string& ip) {
  auto it = impl->idle_by_ip.find(ip);
  if (it != impl->idle_by_ip.end() && it->second >= impl->options.max_idle_per_ip) {
    EvictOldestIdle(impl, &ip);
  }
  while (impl->idle_list.size() >= impl->options.max_idle_connections &&
         EvictOldestIdle(impl, nullptr)) {
  }
}

// Keeps the session's bookkeeping right however its coroutine ends.
struct SessionGuard {
  Impl* impl;
  SessionCtl* ctl;
  ~SessionGuard() {
    LeaveIdle(impl, ctl);
    LeaveBusy(impl, ctl);
  }
};

Request RequestHead(const http::request_header<>& in, const std::string& remote) {
  Request r;
  r.method = std::string(in.method_string());
  r.target = std::string(in.target());
  std::string_view target = r.target;
  size_t q = target.find('?');
  r.path = PercentDecode(target.substr(0, q), /*plus_is_space=*/false);
  if (q != std::string_view::npos) r.query = std::string(target.substr(q + 1));
  for (const auto& field : in) {
    std::string name(field.name_string());
    AsciiLowerInPlace(name);
    r.headers.emplace_back(std::move(name), std::string(field.value()));
  }
  r.remote_address = remote;
  return r;
}

asio::awaitable<Response> RunHandler(Impl* impl, Request* request) {
  try {
    co_return impl->handler(*request);
  } catch (...) {
    LogException("handler", std::current_exception());
    co_return ErrorResponse(500, "An Internal Error Has Occurred.", request->path);
  }
}

// What admission decided: answer at once (verdict), stream the body into a sink, or neither.
struct Admission {
  std::optional<Response> verdict;
  std::unique_ptr<BodySink> sink;
};

asio::awaitable<Admission> RunAdmit(Impl* impl, const Request* head, size_t* body_limit) {
  Admission a;
  try {
    if (impl->options.admit) a.verdict = impl->options.admit(*head, body_limit);
    if (!a.verdict && impl->options.stream_body) {
      BodyStream s = impl->options.stream_body(*head);
      a.verdict = std::move(s.refusal);
      if (!a.verdict) a.sink = std::move(s.sink);
    }
  } catch (...) {
    LogException("admit", std::current_exception());
    a.sink.reset();
    a.verdict = ErrorResponse(500, "An Internal Error Has Occurred.", head->path);
  }
  co_return a;
}

asio::awaitable<Status> RunSinkWrite(BodySink* sink, std::string_view piece) {
  try {
    co_return sink->Write(piece);
  } catch (...) {
    LogException("body sink", std::current_exception());
    co_return InternalError("the upload's reader failed");
  }
}

// Takes the sink so that it is destroyed here, on the worker, after Finish.
asio::awaitable<Response> RunSinkFinish(std::unique_ptr<BodySink> sink, const Request* head,
                                        Status status) {
  try {
    co_return sink->Finish(*head, std::move(status));
  } catch (...) {
    LogException("body sink", std::current_exception());
    co_return ErrorResponse(500, "An Internal Error Has Occurred.", head->path);
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

// What a stream's `wake` function reaches: the poll timer of a running stream, cancelled on the
// io thread. `ready` covers a wake that comes between the producer's call and the wait.
struct StreamWaker {
  explicit StreamWaker(asio::io_context& ioc) : poll(ioc) {}
  asio::steady_timer poll;  // io thread only
  std::atomic<bool> ready{false};
  Mutex mu;
  bool alive IOCGRID_GUARDED_BY(mu) = true;

  void Wake() {
    ready.store(true);
    MutexLock lock(mu);
    if (!alive) return;
    asio::post(poll.get_executor(), [this] { poll.cancel(); });
  }
  // Called by the stream when it ends (or its frame is destroyed): later wakes do nothing.
  void End() {
    MutexLock lock(mu);
    alive = false;
  }
};

template <class Stream>
asio::awaitable<void> WriteResponse(Impl* impl, Stream& stream, Response& response, bool head,
                                    bool keep_alive, beast::error_code& ec) {
  auto& lowest = beast::get_lowest_layer(stream);
  auto status = static_cast<http::status>(response.status);
  if (response.stream && !head) {
    if (impl->streams >= kMaxStreams) {
      Response busy = ErrorResponse(503, "Too many open streams; retry later.", "/");
      response = std::move(busy);
      response.headers.emplace_back("Retry-After", "5");
    }
  }
  if (response.stream && !head) {
    ++impl->streams;
    struct StreamCount {
      Impl* impl;
      ~StreamCount() { --impl->streams; }
    } count{impl};
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
    // The waker outlives this frame while a wake may still hold it; End() below (also run
    // when the frame is destroyed at shutdown) turns later wakes into nothing.
    auto waker = std::make_shared<StreamWaker>(impl->ioc);
    struct EndWaker {
      StreamWaker* w;
      ~EndWaker() { w->End(); }
    } end_waker{waker.get()};
    if (response.stream_wake) response.stream_wake([waker] { waker->Wake(); });
    for (;;) {
      Chunk chunk =
          co_await asio::co_spawn(impl->workers, ProduceChunk(&response), asio::use_awaitable);
      if (!chunk.data.empty()) {
        lowest.expires_after(impl->options.write_timeout);
        co_await asio::async_write(stream, http::make_chunk(asio::buffer(chunk.data)),
                                   asio::redirect_error(asio::use_awaitable, ec));
        if (ec) co_return;
      }
      if (!chunk.more || impl->stopping.load()) break;
      if (chunk.data.empty() && !waker->ready.exchange(false)) {
        // Nothing yet: wait here, on the io thread, not on a worker, until the producer's
        // source wakes the stream or stream_poll has passed.
        waker->poll.expires_after(impl->options.stream_poll);
        co_await waker->poll.async_wait(asio::redirect_error(asio::use_awaitable, ec));
        if (ec && ec != asio::error::operation_aborted) co_return;
        waker->ready.store(false);
      }
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

// After answering a request whose body was not read: reads and drops what the client still
// sends, for a moment, so that closing does not reset the connection before the client has
// read the answer (nginx's lingering close). Memory stays one small buffer.
template <class Stream>
asio::awaitable<void> Linger(Impl* impl, Stream& stream, SessionCtl* ctl) {
  EnterIdle(impl, ctl);  // evictable while it drains
  auto& lowest = beast::get_lowest_layer(stream);
  lowest.expires_after(kLingerTime);
  std::array<char, 16384> buf;
  size_t total = 0;
  beast::error_code ec;
  while (total < kLingerBytes) {
    size_t n = co_await stream.async_read_some(asio::buffer(buf),
                                               asio::redirect_error(asio::use_awaitable, ec));
    if (ec) break;
    total += n;
  }
}

template <class Stream>
asio::awaitable<void> WriteError(Impl* impl, Stream& stream, int status, std::string message,
                                 const std::string& path) {
  Response r = ErrorResponse(status, message, path.empty() ? "/" : path);
  if (status == 429 || status == 503) r.headers.emplace_back("Retry-After", "1");
  beast::error_code ec;
  co_await WriteResponse(impl, stream, r, false, false, ec);
}

std::string TargetPath(const http::request_header<>& h) {
  std::string_view target = h.target();
  return PercentDecode(target.substr(0, target.find('?')), false);
}

// Why reading a streamed body stopped, from the read's error.
Status BodyReadError(Impl* impl, const beast::error_code& ec, uint64_t received, uint64_t max,
                     bool past_deadline) {
  std::string at = " after " + std::to_string(received) + " byte(s) of the body";
  if (ec == http::error::body_limit) {
    return ResourceExhaustedError("the body is larger than " + std::to_string(max) + " bytes");
  }
  if (ec == beast::error::timeout) {
    if (past_deadline) {
      return Status(StatusCode::kDeadlineExceeded,
                    "the upload took longer than " +
                        std::to_string(std::chrono::duration_cast<std::chrono::seconds>(
                                           impl->options.stream_timeout)
                                           .count()) +
                        " s" + at);
    }
    return Status(StatusCode::kDeadlineExceeded,
                  "the client sent nothing for " +
                      std::to_string(impl->options.stream_idle_timeout.count()) + " ms" + at);
  }
  if (ec == http::error::partial_message || ec == http::error::end_of_stream ||
      ec == asio::error::eof || ec == asio::error::connection_reset ||
      ec == asio::error::operation_aborted || ec == asio::error::bad_descriptor) {
    return DataLossError("the connection closed" + at);
  }
  return InvalidArgumentError("malformed body (" + ec.message() + ")" + at);
}

constexpr size_t kStreamPieceBytes = 256 * 1024;

// Reads a body into `sink` piece by piece: one buffer, the sink's cap, an idle timeout per read
// and a deadline for the whole body. The sink runs on the worker pool between reads.
template <class Stream>
asio::awaitable<Status> StreamBody(Impl* impl, Stream& stream, beast::flat_buffer& buffer,
                                   http::request_parser<http::buffer_body>& parser,
                                   BodySink* sink) {
  auto& lowest = beast::get_lowest_layer(stream);
  std::vector<char> piece(kStreamPieceBytes);
  const auto deadline = std::chrono::steady_clock::now() + impl->options.stream_timeout;
  uint64_t received = 0;
  beast::error_code ec;
  Status status;
  while (status.ok() && !parser.is_done()) {
    size_t filled = 0;
    while (filled < piece.size() / 2 && !parser.is_done()) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (impl->stopping.load()) {
        status = UnavailableError("the server is shutting down");
        break;
      }
      parser.get().body().data = piece.data() + filled;
      parser.get().body().size = piece.size() - filled;
      lowest.expires_after(std::max(std::chrono::milliseconds(1),
                                    std::min(impl->options.stream_idle_timeout, left)));
      co_await http::async_read_some(stream, buffer, parser,
                                     asio::redirect_error(asio::use_awaitable, ec));
      filled = piece.size() - parser.get().body().size;
      if (ec == http::error::need_buffer) ec = {};
      if (ec) {
        status = BodyReadError(impl, ec, received + filled, sink->max_bytes(),
                               std::chrono::steady_clock::now() >= deadline);
        break;
      }
    }
    if (filled == 0) continue;
    received += filled;
    // What arrived before an error still counts: the sink can say how far the upload got.
    Status written = co_await asio::co_spawn(
        impl->workers, RunSinkWrite(sink, std::string_view(piece.data(), filled)),
        asio::use_awaitable);
    if (status.ok()) status = written;
  }
  co_return status;
}

// A request whose body goes into a sink; its Finish answers. Returns whether the connection
// may serve another request.
template <class Stream>
asio::awaitable<bool> ServeStreamed(Impl* impl, Stream& stream, beast::flat_buffer& buffer,
                                    http::request_parser<http::string_body>& head_parser,
                                    Request* request, std::unique_ptr<BodySink> sink,
                                    SessionCtl* ctl) {
  impl->in_flight.fetch_add(1);
  auto& lowest = beast::get_lowest_layer(stream);
  beast::error_code ec;
  http::request_parser<http::buffer_body> parser(std::move(head_parser));
  parser.body_limit(sink->max_bytes());
  Status status;
  if (auto length = parser.content_length(); length && *length > sink->max_bytes()) {
    status = ResourceExhaustedError("the body is larger than " + std::to_string(sink->max_bytes()) +
                                    " bytes");
  } else if (parser.get()[http::field::expect] == "100-continue") {
    http::response<http::empty_body> cont{http::status::continue_, 11};
    lowest.expires_after(impl->options.write_timeout);
    co_await http::async_write(stream, cont, asio::redirect_error(asio::use_awaitable, ec));
    if (ec) status = DataLossError("the connection closed before the body");
  }
  if (status.ok()) status = co_await StreamBody(impl, stream, buffer, parser, sink.get());
  const bool complete = status.ok() && parser.is_done();
  Response response = co_await asio::co_spawn(
      impl->workers, RunSinkFinish(std::move(sink), request, status), asio::use_awaitable);
  bool keep_alive = complete && parser.get().keep_alive() && !impl->stopping.load();
  co_await WriteResponse(impl, stream, response, false, keep_alive, ec);
  LeaveBusy(impl, ctl);
  impl->in_flight.fetch_sub(1);
  {
    MutexLock lock(impl->mu);
    impl->cv.SignalAll();
  }
  if (!complete && !ec) co_await Linger(impl, stream, ctl);
  co_return keep_alive && !ec;
}

// A request whose body is read whole (up to `body_limit`); the handler answers. Returns whether
// the connection may serve another request.
template <class Stream>
asio::awaitable<bool> ServeBuffered(Impl* impl, Stream& stream, beast::flat_buffer& buffer,
                                    http::request_parser<http::string_body>& parser,
                                    Request* request, size_t body_limit, SessionCtl* ctl) {
  auto& lowest = beast::get_lowest_layer(stream);
  beast::error_code ec;
  if (auto length = parser.content_length(); length && *length > body_limit) {
    co_await WriteError(impl, stream, 413, "Request body too large.", request->path);
    co_await Linger(impl, stream, ctl);
    co_return false;
  }
  parser.body_limit(body_limit);
  if (parser.get()[http::field::expect] == "100-continue") {
    http::response<http::empty_body> cont{http::status::continue_, 11};
    lowest.expires_after(impl->options.write_timeout);
    co_await http::async_write(stream, cont, asio::redirect_error(asio::use_awaitable, ec));
    if (ec) co_return false;
  }
  lowest.expires_after(impl->options.read_timeout);
  co_await http::async_read(stream, buffer, parser, asio::redirect_error(asio::use_awaitable, ec));
  if (ec == http::error::body_limit) {
    co_await WriteError(impl, stream, 413, "Request body too large.", request->path);
    co_await Linger(impl, stream, ctl);
    co_return false;
  }
  if (ec) co_return false;
  request->body = std::move(parser.get().body());

  impl->in_flight.fetch_add(1);
  bool keep_alive = parser.get().keep_alive() && !impl->stopping.load();
  bool head = parser.get().method() == http::verb::head;
  Response response =
      co_await asio::co_spawn(impl->workers, RunHandler(impl, request), asio::use_awaitable);
  keep_alive = keep_alive && !impl->stopping.load();
  if (response.stream && !head) LeaveBusy(impl, ctl);  // streams have their own budget
  co_await WriteResponse(impl, stream, response, head, keep_alive, ec);
  LeaveBusy(impl, ctl);
  impl->in_flight.fetch_sub(1);
  {
    MutexLock lock(impl->mu);
    impl->cv.SignalAll();
  }
  co_return keep_alive && !ec;
}

template <class Stream>
asio::awaitable<void> ServeRequests(Impl* impl, Stream& stream, SessionCtl* ctl) {
  beast::flat_buffer buffer;
  bool first = true;
  for (;;) {
    http::request_parser<http::string_body> parser;
    parser.header_limit(static_cast<uint32_t>(impl->options.header_limit_bytes));
    // The body cap is applied after admission (an unauthenticated client learns nothing of
    // it); nothing of the body is read before then.
    parser.body_limit(std::numeric_limits<std::uint64_t>::max());
    beast::error_code ec;
    EnterIdle(impl, ctl);
    beast::get_lowest_layer(stream).expires_after(first ? impl->options.header_timeout
                                                        : impl->options.idle_timeout);
    first = false;
    co_await http::async_read_header(stream, buffer, parser,
                                     asio::redirect_error(asio::use_awaitable, ec));
    LeaveIdle(impl, ctl);
    if (ec == http::error::header_limit) {
      co_await WriteError(impl, stream, 431, "Request header fields too large.", "/");
      co_return;
    }
    if (ec == http::error::body_limit) {
      co_await WriteError(impl, stream, 413, "Request body too large.", TargetPath(parser.get()));
      co_await Linger(impl, stream, ctl);
      co_return;
    }
    if (ec == http::error::end_of_stream || ec == asio::error::eof || ec == beast::error::timeout ||
        ec == asio::error::operation_aborted || ec == asio::error::connection_reset ||
        ec == asio::error::bad_descriptor) {
      co_return;
    }
    if (ec) {
      co_await WriteError(impl, stream, 400, "Malformed HTTP request.", "/");
      co_return;
    }
    if (impl->busy >= impl->options.max_connections) {
      co_await WriteError(impl, stream, 429, "Too many requests in progress; retry later.",
                          TargetPath(parser.get()));
      co_return;
    }
    ctl->busy = true;
    ++impl->busy;

    Request request = RequestHead(parser.get(), ctl->remote);
    size_t body_limit = impl->options.body_limit_bytes;
    Admission admission;
    if (impl->options.admit || impl->options.stream_body) {
      admission = co_await asio::co_spawn(impl->workers, RunAdmit(impl, &request, &body_limit),
                                          asio::use_awaitable);
    }
    if (admission.verdict) {
      co_await WriteResponse(impl, stream, *admission.verdict, false, false, ec);
      if (!parser.is_done()) co_await Linger(impl, stream, ctl);
      co_return;
    }
    // (No co_await inside ?: with GCC 12: STYLE.md section 8.)
    bool again = false;
    if (admission.sink) {
      again = co_await ServeStreamed(impl, stream, buffer, parser, &request,
                                     std::move(admission.sink), ctl);
    } else {
      again = co_await ServeBuffered(impl, stream, buffer, parser, &request, body_limit, ctl);
    }
    if (!again) co_return;
  }
}

asio::awaitable<void> PlainSession(Impl* impl, tcp::socket socket, std::string remote) {
  beast::tcp_stream stream(std::move(socket));
  SessionCtl ctl;
  ctl.remote = std::move(remote);
  ctl.close = [&stream] {
    beast::error_code ec;
    stream.socket().close(ec);
  };
  SessionGuard guard{impl, &ctl};
  co_await ServeRequests(impl, stream, &ctl);
  beast::error_code ec;
  stream.socket().shutdown(tcp::socket::shutdown_send, ec);
}

asio::awaitable<void> TlsSession(Impl* impl, tcp::socket socket, std::string remote) {
  beast::ssl_stream<beast::tcp_stream> stream(beast::tcp_stream(std::move(socket)), *impl->ssl);
  SessionCtl ctl;
  ctl.remote = std::move(remote);
  ctl.close = [&stream] {
    beast::error_code ec;
    beast::get_lowest_layer(stream).socket().close(ec);
  };
  SessionGuard guard{impl, &ctl};
  EnterIdle(impl, &ctl);
  beast::error_code ec;
  beast::get_lowest_layer(stream).expires_after(impl->options.header_timeout);
  co_await stream.async_handshake(asio::ssl::stream_base::server,
                                  asio::redirect_error(asio::use_awaitable, ec));
  if (!ec) {
    co_await ServeRequests(impl, stream, &ctl);
    beast::get_lowest_layer(stream).expires_after(std::chrono::seconds(2));
    co_await stream.async_shutdown(asio::redirect_error(asio::use_awaitable, ec));
  }
}

void OnSessionDone(const std::exception_ptr& e) { LogException("session", e); }

asio::awaitable<void> Listen(Impl* impl) {
  for (;;) {
    beast::error_code ec;
    tcp::socket socket =
        co_await impl->acceptor.async_accept(asio::redirect_error(asio::use_awaitable, ec));
    if (impl->stopping.load() || ec == asio::error::operation_aborted) co_return;
    if (ec) {
      // EMFILE and the like: free a descriptor held by an idle connection, and back off a
      // little instead of spinning.
      EvictOldestIdle(impl, nullptr);
      asio::steady_timer timer(impl->ioc, std::chrono::milliseconds(20));
      co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
      continue;
    }
    // Small responses and the last chunk of a stream must not wait ~40 ms for the peer's
    // delayed ACK (Nagle): answers here are latency-bound.
    socket.set_option(tcp::no_delay(true), ec);
    std::string remote;
    auto endpoint = socket.remote_endpoint(ec);
    if (ec) continue;  // already gone
    remote = endpoint.address().to_string();
    MakeIdleRoom(impl, remote);
    if (impl->ssl) {
      asio::co_spawn(impl->ioc, TlsSession(impl, std::move(socket), std::move(remote)),
                     OnSessionDone);
    } else {
      asio::co_spawn(impl->ioc, PlainSession(impl, std::move(socket), std::move(remote)),
                     OnSessionDone);
    }
  }
}

// Idle connections are budgeted in the server, not by the process's descriptor limit: raise
// the soft limit to the hard one (as nginx's worker_rlimit_nofile does).
void RaiseDescriptorLimit() {
  rlimit lim{};
  if (getrlimit(RLIMIT_NOFILE, &lim) == 0 && lim.rlim_cur < lim.rlim_max) {
    lim.rlim_cur = lim.rlim_max;
    setrlimit(RLIMIT_NOFILE, &lim);
  }
}

}  // namespace

HttpServer::HttpServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

HttpServer::~HttpServer() {
  // Stop() throws only when the system cannot post to the io_context or join a thread
  // (std::system_error). Nothing sane is left to do then: say why, and end as an escaping
  // exception would (std::terminate), with a line in the log.
  try {
    Stop(std::chrono::milliseconds(2000));
  } catch (...) {
    LogException("stop", std::current_exception());
    std::abort();
  }
}

Result<std::unique_ptr<HttpServer>> HttpServer::Start(const ServerOptions& options,
                                                      Handler handler) {
  if (options.tls_cert_file.empty() != options.tls_key_file.empty()) {
    return InvalidArgumentError("TLS needs both a certificate and a key file");
  }
  auto impl = std::make_unique<Impl>(options, std::move(handler));
  beast::error_code ec;
  if (!options.tls_cert_file.empty()) {
    impl->ssl.emplace(asio::ssl::context::tls_server);
    impl->ssl->set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                           asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 |
                           asio::ssl::context::no_tlsv1_1);
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
  RaiseDescriptorLimit();
  Impl* raw = impl.get();
  asio::co_spawn(raw->ioc, Listen(raw), OnSessionDone);
  // One io thread: sessions and their budgets share it without locks; handlers, admission
  // and stream producers run on the worker pool.
  raw->io_thread = std::thread([raw] {
    try {
      raw->ioc.run();
    } catch (...) {
      LogException("io thread", std::current_exception());
    }
  });
  return std::unique_ptr<HttpServer>(new HttpServer(std::move(impl)));
}

uint16_t HttpServer::port() const { return impl_->port; }

void HttpServer::Stop(std::chrono::milliseconds grace) {
  if (!impl_) return;
  {
    MutexLock lock(impl_->mu);
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
    MutexLock lock(impl_->mu);
    auto deadline = std::chrono::steady_clock::now() + grace;
    while (impl_->in_flight.load() != 0 && std::chrono::steady_clock::now() < deadline) {
      impl_->cv.WaitFor(impl_->mu, deadline - std::chrono::steady_clock::now());
    }
  }
  impl_->ioc.stop();
  if (impl_->io_thread.joinable()) impl_->io_thread.join();
  impl_->workers.stop();
  impl_->workers.join();
  MutexLock lock(impl_->mu);
  impl_->stopped = true;
  impl_->cv.SignalAll();
}

void HttpServer::Wait() {
  MutexLock lock(impl_->mu);
  while (!impl_->stopped) impl_->cv.Wait(impl_->mu);
}

}  // namespace iocgrid::net
