// libFuzzer target for HTTP request heads (issue 8): bytes through Boost.Beast's
// request_parser with the limits net::HttpServer sets (ServerOptions' header and body caps), then
// into a net::Request as http_server.cc's ToRequest builds it (PercentDecode of the path, the
// raw query, lower-case header names), then Request::QueryParam / Header and Router::Dispatch
// over routes shaped like the node's and the portal's.
// Properties: no crash, no exception, no hang; Dispatch answers 200 (a route), 404 or 405, and
// its error bodies are valid JSON (invalid UTF-8 in the path included); a route's {id} parameter
// is the matching path segment.
#include <boost/beast/core/error.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "fuzz/fuzz_checks.h"
#include "net/http.h"
#include "net/http_server.h"
#include "net/router.h"

namespace {

using namespace iocgrid;
namespace http = boost::beast::http;

net::Response Ok(net::Request& request) {
  net::Response r;
  auto id = request.params.find("id");
  if (id != request.params.end() && request.path.find(id->second) == std::string::npos) {
    fuzz::Fail("route parameter not in the path", id->second);
  }
  r.body = "{}";
  return r;
}

const net::Router& Routes() {
  static const net::Router router = [] {
    net::Router r;
    r.Add({"GET", "HEAD"}, "/servers/getVersion", Ok);
    r.Add({"POST"}, "/attributes/restSearch", Ok);
    r.Add({"GET", "HEAD"}, "/events/view/{id}", Ok);
    r.Add({"POST", "PUT"}, "/events/edit/{id}", Ok);
    r.Add({"POST", "DELETE"}, "/attributes/delete/{id}", Ok);
    r.Add({"POST"}, "/grid/v1/match", Ok);
    r.Add({"GET"}, "/api/v1/searches/{id}/events", Ok);
    r.Add({"DELETE"}, "/api/v1/searches/{id}", Ok);
    return r;
  }();
  return router;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const net::ServerOptions limits;
  http::request_parser<http::string_body> parser;
  parser.header_limit(static_cast<uint32_t>(limits.header_limit_bytes));
  parser.body_limit(limits.body_limit_bytes);
  parser.eager(true);
  boost::beast::error_code ec;
  size_t used = 0;
  while (used < size && !parser.is_done()) {
    size_t n = parser.put(boost::asio::const_buffer(data + used, size - used), ec);
    if (ec || n == 0) break;
    used += n;
  }
  // The client closed after these bytes (Beast requires some bytes before an end of file).
  if (!ec && !parser.is_done() && parser.got_some()) parser.put_eof(ec);
  if (ec || !parser.is_done()) return 0;

  // As http_server.cc ToRequest.
  auto message = parser.release();
  net::Request request;
  request.method = std::string(message.method_string());
  request.target = std::string(message.target());
  std::string_view target = request.target;
  size_t q = target.find('?');
  request.path = net::PercentDecode(target.substr(0, q), /*plus_is_space=*/false);
  if (q != std::string_view::npos) request.query = std::string(target.substr(q + 1));
  for (const auto& field : message) {
    std::string name(field.name_string());
    for (char& c : name) c = (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
    request.headers.emplace_back(std::move(name), std::string(field.value()));
  }
  request.body = std::move(message.body());

  for (std::string_view name : {"since", "relations", "limit", "page", "q", ""}) {
    (void)request.QueryParam(name);
  }
  (void)request.Header("authorization");
  (void)request.Header("content-type");
  net::Response response = Routes().Dispatch(request);
  if (response.status != 200 && response.status != 404 && response.status != 405) {
    fuzz::Fail("Dispatch status", std::to_string(response.status));
  }
  if (!nlohmann::json::accept(response.body))
    fuzz::Fail("Dispatch body is not JSON", response.body);
  return 0;
}
