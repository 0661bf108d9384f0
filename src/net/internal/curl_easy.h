// What the blocking client (Fetch) and the Dispatcher share about a libcurl easy handle: the
// handle owners, where the answer goes (capped body, headers) and the options a ClientRequest
// sets. Timeouts stay with each caller (the Dispatcher bounds the connect time by the total).
#pragma once

#include <curl/curl.h>

#include <cstddef>
#include <memory>

#include "common/status.h"
#include "net/http_client.h"

namespace iocgrid::net::internal {

struct EasyDeleter {
  void operator()(CURL* c) const { curl_easy_cleanup(c); }
};
struct SlistDeleter {
  void operator()(curl_slist* l) const { curl_slist_free_all(l); }
};
using EasyHandle = std::unique_ptr<CURL, EasyDeleter>;
using HeaderList = std::unique_ptr<curl_slist, SlistDeleter>;

// Where a transfer's answer goes: the body up to `cap` bytes (beyond it over_cap is set and the
// transfer stops with CURLE_WRITE_ERROR) and the headers, names lowercased.
struct ResponseSink {
  ClientResponse* response = nullptr;
  size_t cap = 0;
  bool over_cap = false;
};

// Sets `c` up for `request`, its answer into `sink`: URL (http and https only, no redirects),
// TLS, proxy, method and body, decoded content. Not the timeouts or the headers.
void SetRequestOptions(CURL* c, const ClientRequest& request, ResponseSink* sink);

// The request's headers as a curl list in *list, with "Expect:" (no 100-continue wait) when
// `no_expect`. Errors: kInternal when curl cannot allocate.
Status MakeHeaderList(const ClientRequest& request, bool no_expect, HeaderList* list);

}  // namespace iocgrid::net::internal
