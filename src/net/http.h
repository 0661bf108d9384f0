// The project's own HTTP request/response types: what handlers see, independent of Beast
// (STYLE.md section 8). Header names are lower-case.
//
// Thread-safety: plain values. A Response's stream producer is called from one thread at a time.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"

namespace iocgrid::net {

struct Request {
  std::string method;  // "GET", "POST", ...
  std::string target;  // as received: path and query
  std::string path;    // percent-decoded path without the query
  std::string query;   // raw query string without '?'
  std::vector<std::pair<std::string, std::string>> headers;  // names lower-case
  std::string body;
  std::string remote_address;
  // Path parameters filled by the Router ("{id}" -> params["id"]).
  std::map<std::string, std::string, std::less<>> params;

  // The first header with this (lower-case) name, or empty.
  std::string_view Header(std::string_view name) const;
  // The decoded value of a query parameter, or empty.
  std::string QueryParam(std::string_view name) const;
};

struct Response {
  int status = 200;
  std::string content_type = "application/json; charset=UTF-8";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
  // When set, the body is sent chunked: the producer is called until it returns false, each
  // call appending the next piece to *chunk (an empty chunk with true means "call again").
  // It runs on a worker thread and may block. Everything it captures must stay valid until it
  // returns false.
  std::function<bool(std::string* chunk)> stream;
  // Optional, with `stream`: called once before the producer's first call with a `wake`
  // function that the producer's source calls (from any thread, as often as it likes) when
  // new data is ready. The server then calls the producer again at once instead of after
  // ServerOptions::stream_poll, so an event reaches the client without the poll's delay.
  // `wake` stays safe to call after the stream ended; it does nothing then.
  std::function<void(std::function<void()> wake)> stream_wake;
};

using Handler = std::function<Response(Request& request)>;

// A request body taken piece by piece as it arrives instead of whole (an upload that must not be
// held in memory; ServerOptions::stream_body asks for one). The server reads the next piece only
// after Write returns, so a slow sink slows the client down (backpressure) and the server holds
// one buffer, however large the body. Write and Finish run on worker threads, one call at a time
// and in order (each call happens-before the next); the sink never runs on the network thread.
class BodySink {
 public:
  explicit BodySink(uint64_t max_bytes) : max_bytes_(max_bytes) {}
  virtual ~BodySink() = default;
  BodySink(const BodySink&) = delete;
  BodySink& operator=(const BodySink&) = delete;

  // The most body bytes this sink takes (it replaces ServerOptions::body_limit_bytes). A
  // Content-Length above it is refused before any body byte is read.
  uint64_t max_bytes() const { return max_bytes_; }

  // Takes the next piece of the body (never empty). A non-OK status stops the upload: nothing
  // more is read and Finish gets that status.
  virtual Status Write(std::string_view piece) = 0;

  // Called once, last: with OK when the whole body was written, else with why it stopped: the
  // error Write returned; kResourceExhausted when the body went past max_bytes(); kDeadlineExceeded
  // when the client sent nothing for ServerOptions::stream_idle_timeout or took longer than
  // stream_timeout in all; kDataLoss when the connection closed before the body was complete;
  // kInvalidArgument for a malformed body (bad chunked encoding); kUnavailable when the server is
  // stopping. Its response is sent when the client is still there (after an error, the server
  // then drains what the client still sends for a moment and closes). A sink destroyed without
  // Finish (the server stopped hard) must clean up in its destructor.
  virtual Response Finish(const Request& head, Status status) = 0;

 private:
  uint64_t max_bytes_;
};

// What ServerOptions::stream_body decides for a request admit let through: stream its body
// into `sink`, answer at once with `refusal` (the body is never read), or neither (the body is
// read whole and the handler answers, as for any request).
struct BodyStream {
  std::unique_ptr<BodySink> sink;
  std::optional<Response> refusal;
};

// Decodes %XX escapes (and '+' as space when `plus_is_space`). Invalid escapes stay as they are.
std::string PercentDecode(std::string_view s, bool plus_is_space);

// The name=value items of a raw query string (without '?'), both percent-decoded ('+' as
// space), in order; empty items are skipped and a missing '=' gives an empty value.
std::vector<std::pair<std::string, std::string>> QueryItems(std::string_view query);

}  // namespace iocgrid::net
