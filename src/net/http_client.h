// HttpClient: blocking outbound HTTP(S) through libcurl, for the CLI and tests. The portal's
// concurrent fan-out uses the curl multi Dispatcher (federation issue) with the same options.
//
// Every request has a deadline covering DNS + connect + TLS + transfer, and a response size cap
// (STYLE.md principle 4). TLS verification is on unless explicitly turned off.
//
// Thread-safety: Fetch may be called from any thread; call GlobalInit() once first (main()).
#pragma once

#include <chrono>
#include <cstddef>
#include <string>
#include <utility>
#include <vector>

#include "common/result.h"

namespace iocgrid::net {

// curl_global_init; idempotent and thread-safe (call_once). main() calls it before threads.
void GlobalInit();

struct ClientRequest {
  std::string method = "GET";
  std::string url;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::chrono::milliseconds timeout{30000};
  std::chrono::milliseconds connect_timeout{10000};
  bool verify_tls = true;
  std::string ca_file;           // custom CA bundle (PEM)
  std::string client_cert_file;  // client certificate (PEM)
  std::string client_key_file;
  std::string proxy;  // e.g. http://proxy:3128
  size_t max_response_bytes = 256 * 1024 * 1024;
};

struct ClientResponse {
  int status = 0;
  std::vector<std::pair<std::string, std::string>> headers;  // names lower-case
  std::string body;

  std::string Header(const std::string& lower_name) const;
};

// Errors: kDeadlineExceeded (timeout), kUnavailable (cannot connect, reset, TLS failure),
// kResourceExhausted (response over the cap), kInvalidArgument (bad URL). An HTTP error status
// is not an error here: it is in ClientResponse::status.
Result<ClientResponse> Fetch(const ClientRequest& request);

}  // namespace iocgrid::net
