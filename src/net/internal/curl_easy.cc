#include "net/internal/curl_easy.h"

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/ascii.h"

namespace iocgrid::net::internal {
namespace {

size_t OnBody(char* data, size_t size, size_t n, void* user) {
  auto* sink = static_cast<ResponseSink*>(user);
  size_t bytes = size * n;
  if (sink->response->body.size() + bytes > sink->cap) {
    sink->over_cap = true;
    return 0;  // aborts the transfer with CURLE_WRITE_ERROR
  }
  sink->response->body.append(data, bytes);
  return bytes;
}

size_t OnHeader(char* data, size_t size, size_t n, void* user) {
  auto* sink = static_cast<ResponseSink*>(user);
  std::string_view line(data, size * n);
  size_t colon = line.find(':');
  if (colon != std::string_view::npos) {
    std::string name(line.substr(0, colon));
    AsciiLowerInPlace(name);
    sink->response->headers.emplace_back(std::move(name), TrimAscii(line.substr(colon + 1)));
  } else if (line.rfind("HTTP/", 0) == 0) {
    sink->response->headers.clear();  // a new response (after 100 Continue)
  }
  return size * n;
}

}  // namespace

void SetRequestOptions(CURL* c, const ClientRequest& request, ResponseSink* sink) {
  curl_easy_setopt(c, CURLOPT_URL, request.url.c_str());
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, OnBody);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, sink);
  curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, OnHeader);
  curl_easy_setopt(c, CURLOPT_HEADERDATA, sink);
  curl_easy_setopt(c, CURLOPT_ACCEPT_ENCODING, "");  // the cap applies to the decoded bytes
  curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, request.verify_tls ? 1L : 0L);
  curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, request.verify_tls ? 2L : 0L);
  if (!request.ca_file.empty()) curl_easy_setopt(c, CURLOPT_CAINFO, request.ca_file.c_str());
  if (!request.client_cert_file.empty()) {
    curl_easy_setopt(c, CURLOPT_SSLCERT, request.client_cert_file.c_str());
  }
  if (!request.client_key_file.empty()) {
    curl_easy_setopt(c, CURLOPT_SSLKEY, request.client_key_file.c_str());
  }
  if (!request.proxy.empty()) curl_easy_setopt(c, CURLOPT_PROXY, request.proxy.c_str());
  if (request.method == "GET") {
    curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
  } else if (request.method == "HEAD") {
    curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
  } else {
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, request.method.c_str());
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, request.body.data());
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(request.body.size()));
  }
}

Status MakeHeaderList(const ClientRequest& request, bool no_expect, HeaderList* list) {
  std::vector<std::string> lines;
  lines.reserve(request.headers.size() + 1);
  for (const auto& [k, v] : request.headers) lines.push_back(k + ": " + v);
  if (no_expect) lines.emplace_back("Expect:");
  for (const std::string& line : lines) {
    curl_slist* next = curl_slist_append(list->get(), line.c_str());
    if (!next) return InternalError("curl_slist_append failed");
    (void)list->release();  // now owned by `next`
    list->reset(next);
  }
  return Status::Ok();
}

}  // namespace iocgrid::net::internal
