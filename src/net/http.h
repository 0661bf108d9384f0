// The project's own HTTP request/response types: what handlers see, independent of Beast
// (STYLE.md section 8). Header names are lower-case.
//
// Thread-safety: plain values. A Response's stream producer is called from one thread at a time.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

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
};

using Handler = std::function<Response(Request& request)>;

// Decodes %XX escapes (and '+' as space when `plus_is_space`). Invalid escapes stay as they are.
std::string PercentDecode(std::string_view s, bool plus_is_space);

}  // namespace iocgrid::net
